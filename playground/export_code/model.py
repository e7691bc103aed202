"""The exported script's model, loss, penalty, optimizer and schedule: the modules the playground builds
for the run's model text, in the order it registers them (so torch.manual_seed gives the same first
weights), and the torch.optim objects optim.py makes."""

from __future__ import annotations

import textwrap

from playground import datasets, families
from playground.config import TrainConfig
from playground.shapes import Step, plan


def has_conv(config: TrainConfig) -> bool:
    """Whether the model has a convolution (the playground then trains it channels-last on the CPU); a
    family's own network (not a stack of spec layers) is a convolutional one."""
    return _family_code(config) is not None or any(s.module == "Conv2d" for s in _steps(config))


def _family_code(config: TrainConfig) -> str | None:
    """make_model() as the model's family writes it, for a network that is not a stack of spec layers."""
    meta = datasets.info(config.dataset)
    return families.family_of(config.model).model_code(config.model, config.input_shape, meta.num_classes)


def _steps(config: TrainConfig) -> list[Step]:
    meta = datasets.info(config.dataset)
    return plan(config.model, config.input_shape, meta.num_classes)


def _shape(shape: tuple[int, ...]) -> str:
    return "[N, " + ", ".join(map(str, shape)) + "]"


def model_code(config: TrainConfig) -> str:
    """def make_model(), and for a ResNet the module that resizes its inputs."""
    meta = datasets.info(config.dataset)
    if (code := _family_code(config)) is not None:
        return code
    lines = []
    for step in _steps(config):
        note = ""
        if step.classifier:
            note = f"  # {_shape(step.out_shape)}: " + ("the predicted value" if meta.is_regression else "one score per class")
        elif step.out_shape != step.in_shape:
            note = f"  # {_shape(step.out_shape)}"
        lines.append(f"        nn.{step.label},{note}")  # the module as PyTorch constructs it (shapes.Step)
    inputs = _shape(config.input_shape)
    outputs = "one output (a real value)" if meta.is_regression else f"{meta.num_classes} classes"
    doc = (
        f"{config.model or '(a single linear layer)'}: inputs {inputs}, {outputs}. The playground's modules in its order, "
        'so that torch.manual_seed(SEED) gives the same first weights."""'
    )
    doc = textwrap.fill(doc, 110, initial_indent='    """', subsequent_indent="    ")
    return "def make_model():\n" + doc + "\n    return nn.Sequential(\n" + "\n".join(lines) + "\n    )\n"


def loss_code(config: TrainConfig) -> str:
    """def loss_fn(logits, y, reduction): the playground's optim.Loss for this run."""
    meta = datasets.info(config.dataset)
    head = 'def loss_fn(logits, y, reduction="mean"):\n'
    if meta.is_regression:
        return head + (
            '    """Squared error of the one output [N, 1] against the real target y [N] ("none": one per point)."""\n'
            "    return F.mse_loss(logits[:, 0], y, reduction=reduction)\n"
        )
    if config.loss == "cross-entropy":
        smoothing = ", label_smoothing=LABEL_SMOOTHING" if config.label_smoothing else ""
        return head + (
            '    """Cross-entropy of the softmax output: logits [N, classes], labels [N] ("none": one loss per image)."""\n'
            f"    return F.cross_entropy(logits, y{smoothing}, reduction=reduction)\n"
        )
    smooth = "    target = target * (1 - LABEL_SMOOTHING) + LABEL_SMOOTHING / NUM_CLASSES\n" if config.label_smoothing else ""
    return head + (
        '    """Squared error between the softmax output and the one-hot target, averaged over the classes."""\n'
        "    target = F.one_hot(y, NUM_CLASSES).float()\n" + smooth + "    per_image = F.mse_loss(logits.softmax(dim=1), target, "
        'reduction="none").mean(dim=1)\n'
        '    return per_image if reduction == "none" else per_image.mean()\n'
    )


def penalty_code(config: TrainConfig) -> str:
    """def penalty(weights), or "" without a regularisation."""
    if config.reg == "none":
        return ""
    if config.reg == "l1":
        doc, expr = "L1: rate x sum |w|", "REG_RATE * sum(w.abs().sum() for w in weights)"
    else:
        doc, expr = "L2: rate x sum w²/2", "REG_RATE / 2 * sum(w.square().sum() for w in weights)"
    return (
        "def penalty(weights):\n"
        f'    """{doc} over the weights of the linear and conv layers (biases and batch-norm scales left out),\n'
        '    added to the loss the optimizer sees; the loss reported leaves it out."""\n'
        f"    return {expr}\n"
    )


def optimizer_code(config: TrainConfig) -> str:
    """The lines of main() that make the optimizer and the schedule (indented for main)."""
    args = ["model.parameters()", "lr=LR"]
    if config.optimizer in ("sgd", "rmsprop") and config.momentum:
        args.append(f"momentum={config.momentum!r}")
    if config.nesterov:
        args.append("nesterov=True")
    if config.weight_decay or config.optimizer == "adamw":  # AdamW's default decay is 0.01, the playground's 0
        args.append(f"weight_decay={config.weight_decay!r}")
    name = {"sgd": "SGD", "adam": "Adam", "adamw": "AdamW", "rmsprop": "RMSprop"}[config.optimizer]
    lines = []
    if config.optimizer != "rmsprop":
        lines.append('    fused = True if device.type in ("cpu", "cuda") else None  # torch\'s one-call kernel, as the playground uses')
        args.append("fused=fused")
    lines.append(f"    optimizer = torch.optim.{name}({', '.join(args)})")
    schedule = {
        "step": f"torch.optim.lr_scheduler.StepLR(optimizer, step_size={config.step_size}, gamma={config.gamma!r})",
        "exponential": f"torch.optim.lr_scheduler.ExponentialLR(optimizer, gamma={config.gamma!r})",
        "cosine": "torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=EPOCHS)",
    }
    if config.scheduler in schedule:
        lines.append(f"    scheduler = {schedule[config.scheduler]}  # stepped after every epoch")
    return "\n".join(lines) + "\n"
