"""The exported script's train and test functions and its main(): train.py's loop written out for one
run, with its seeding (weights, batch order, augmentation), its running tally, its evaluation and its
end-of-run rules (divergence, early stopping)."""

from __future__ import annotations

from playground import datasets, diagnosis
from playground.config import TrainConfig
from playground.export_code.data import reads_files
from playground.export_code.inputs import transform_args
from playground.export_code.model import has_conv, optimizer_code

TRAIN = '''
def train(model, x, y, transform, optimizer, order_generator$weights_arg):
    """One epoch over the training split x [N, ...], y [N]: (mean loss over the images, accuracy, the first
    batch's loss), or None if the loss became inf or nan (the run diverged)."""
    model.train()
    # The playground's batches: slices of a shuffled index into the training tensor, which is on the
    # device already (a DataLoader would be about 4x slower); the order has a generator of its own.
    order = torch.randperm(len(x), generator=order_generator).to(x.device)
    $tally
    for i in range(0, len(order), BATCH_SIZE):
        idx = order[i : i + BATCH_SIZE]
        xb, yb = transform(x[idx]$training), y[idx]
        $forward
        loss = loss_fn(logits, yb)
        optimizer.zero_grad(set_to_none=True)
        $backward
        if not math.isfinite(loss.item()):
            return None
        first = loss.item() if first is None else first
        optimizer.step()
        loss_sum += loss.detach() * len(yb)  # summed on the device: the epoch's loss is a mean over images$correct
    return (loss_sum / len(x)).item(), $train_accuracy, first


@torch.no_grad()
def test(model, x, y, transform):
    """(mean loss, accuracy) on x, y in eval mode (dropout off, batch norm's running statistics)."""
    model.eval()
    $test_tally
    for i in range(0, len(x), EVAL_BATCH_SIZE):
        xb, yb = transform(x[i : i + EVAL_BATCH_SIZE]), y[i : i + EVAL_BATCH_SIZE]
        $forward
        loss_sum = loss_sum + loss_fn(logits, yb, reduction="none").sum()$test_correct
    n = max(len(x), 1)
    return (loss_sum / n).item(), $test_accuracy


def blown_up(train_loss, first_loss):
    """The playground's divergence rule: a training loss above $blowup x max($start_name, the first batch's loss)."""
    return not train_loss <= $blowup * max($start, first_loss)
'''


FORWARD_BF16 = """with torch.autocast(xb.device.type, dtype=torch.bfloat16):  # the run's bfloat16 matrix products
            logits = model(xb).float()  # the loss in float32"""


def train_test_code(config: TrainConfig) -> str:
    """def train(...), def test(...) and def blown_up(...)."""
    from string import Template

    meta = datasets.info(config.dataset)
    reg = config.reg != "none"
    classify = not meta.is_regression
    backward = (
        "(loss + penalty(weights)).backward()  # the penalty is in the gradient, not in the loss reported" if reg else "loss.backward()"
    )
    return (
        Template(TRAIN)
        .substitute(
            weights_arg=", weights" if reg else "",
            tally="loss_sum, correct, first = torch.zeros((), device=x.device), torch.zeros((), device=x.device), None"
            if classify
            else "loss_sum, first = torch.zeros((), device=x.device), None",
            test_tally="loss_sum, correct = torch.zeros(()), torch.zeros(())" if classify else "loss_sum = torch.zeros(())",
            training=", training=True" if config.augment else "",
            backward=backward,
            forward=FORWARD_BF16 if config.bf16 else "logits = model(xb)",
            correct="\n        correct += (logits.argmax(1) == yb).sum()" if classify else "",
            train_accuracy="(correct / len(x)).item()" if classify else "None",
            test_correct="\n        correct = correct + (logits.argmax(1) == yb).sum()" if classify else "",
            test_accuracy="(correct / n).item()" if classify else "None  # a real target: no accuracy",
            blowup=diagnosis.BLOWUP,
            start="math.log(NUM_CLASSES)" if classify else "1.0",
            start_name="ln(classes)" if classify else "1",
        )
        .lstrip("\n")
    )


def _data_lines(config: TrainConfig) -> list[str]:
    """main()'s lines from loading the data to the splits on the device."""
    meta = datasets.info(config.dataset)
    lift = (lambda v: f"features({v})") if meta.is_toy and config.toy_features != "x1,x2" else (lambda v: v)
    lines = [
        "    with contextlib.redirect_stdout(sys.stderr):  # a download's messages are not results\n"
        "        x_train, y_train, x_test, y_test = load_data(args.data)"
        if reads_files(config)
        else "    x_train, y_train, x_test, y_test = load_data()",
        "    pool = min(TRAIN_LIMIT, len(x_train)) if TRAIN_LIMIT else len(x_train)  # the first TRAIN_LIMIT training examples",
        f"    x_all, y_all = {lift('x_train[:pool]')}, y_train[:pool]",
        "    n_test = TEST_LIMIT or len(x_test)",
        f"    x_test, y_test = {lift('x_test[:n_test]')}.to(device), y_test[:n_test].to(device)",
    ]  # fmt: skip
    if not config.val_split:
        return [*lines, "    x_train, y_train = x_all.to(device), y_all.to(device)"]
    return [
        *lines,
        "    # Validation: a share of the pool drawn with its own seed, held out of training (both kept in order)",
        "    perm = torch.randperm(pool, generator=torch.Generator().manual_seed(VAL_SEED))",
        "    n_val = round(pool * VAL_SPLIT)",
        "    train_idx, val_idx = perm[n_val:].sort().values, perm[:n_val].sort().values",
        "    x_train, y_train = x_all[train_idx].to(device), y_all[train_idx].to(device)",
        "    x_val, y_val = x_all[val_idx].to(device), y_all[val_idx].to(device)",
    ]


def _model_lines(config: TrainConfig) -> list[str]:
    """main()'s lines from the transform to the optimizer: the seeds, in the playground's order."""
    conv = has_conv(config)
    lines = []
    if conv:
        lines.append('    channels_last = device.type == "cpu"  # convolutions on the CPU: about 1.4x faster (the playground\'s choice)')
    if config.augment:
        lines.append("    augment_generator = torch.Generator(device=device).manual_seed(SEED + 1)  # augmentation's own draws")
    args = transform_args(config, conv)
    if args is not None:
        lines.append(f"    transform = Transform({', '.join(args)})")
    lines += [
        "    torch.manual_seed(SEED)  # the first weights, and dropout's masks",
        "    order_generator = torch.Generator().manual_seed(SEED)  # the batch order, apart from the weights",
        "    model = make_model().to(device)",
    ]
    if conv:
        lines += ["    if channels_last:", "        model = model.to(memory_format=torch.channels_last)"]
    if config.reg != "none":
        lines.append("    weights = [p for p in model.parameters() if p.ndim >= 2]  # what the penalty applies to")
    return [*lines, optimizer_code(config).rstrip("\n")]


def _epoch_lines(config: TrainConfig) -> list[str]:
    """The body of main()'s loop over the epochs."""
    meta = datasets.info(config.dataset)
    weights = ", weights" if config.reg != "none" else ""
    lines = [
        '        lr = optimizer.param_groups[0]["lr"]',
        f"        result = train(model, x_train, y_train, transform, optimizer, order_generator{weights})",
        "        if result is None:",
        '            print(f"epoch {epoch}: the loss became inf or nan: the run diverged; lower the learning rate", file=out)',
        "            break",
        "        train_loss, train_accuracy, first = result",
        "        first_loss = first if first_loss is None else first_loss",
        "        test_loss, test_accuracy = test(model, x_test, y_test, transform)",
        "        row = {",
        *(f'            "{k}": {k},' for k in ("epoch", "train_loss", "train_accuracy", "test_loss", "test_accuracy", "lr")),
        "        }",
    ]
    if config.val_split:
        lines += [
            "        val_loss, val_accuracy = test(model, x_val, y_val, transform) if len(x_val) else (None, None)",
            '        row |= {"val_loss": val_loss, "val_accuracy": val_accuracy}',
        ]
    train = "train loss {train_loss:.4f}" + ("" if meta.is_regression else ", accuracy {train_accuracy:.1%}")
    test = " | test loss {test_loss:.4f}" + ("" if meta.is_regression else ", accuracy {test_accuracy:.1%}")
    lines += ["        history.append(row)", "        if not args.json:", "            print("]
    lines += [f'                f"Epoch {{epoch}}: {train}",', f'                f"{test}",']
    if config.val_split:
        val = " | validation loss {val_loss:.4f}" + ("" if meta.is_regression else ", accuracy {val_accuracy:.1%}")
        lines.append(f'                f"{val}" if len(x_val) else "",')
    lines += ['                sep="",', "            )"]
    if config.scheduler != "none":
        lines.append("        scheduler.step()")
    lines += [
        "        if not math.isfinite(test_loss) or blown_up(train_loss, first_loss):",
        '            print(f"epoch {epoch}: the loss blew up: the run diverged; lower the learning rate", file=out)',
        "            break",
    ]
    return lines + (_early_stopping_lines() if config.early_stopping else [])


def _early_stopping_lines() -> list[str]:
    return [
        "        if len(x_val):  # early stopping: keep the weights of the epoch with the lowest validation loss",
        "            if best is None or val_loss < best[0]:",
        "                best, waited = (val_loss, epoch, copy.deepcopy(model.state_dict())), 0",
        "            else:",
        "                waited += 1",
        "            if waited >= PATIENCE:",
        '                print(f"early stopping after epoch {epoch}: no better validation loss for {waited} epoch(s)", file=out)',
        "                break",
        "    if best is not None:",
        "        model.load_state_dict(best[2])",
        '        print(f"kept the weights of epoch {best[1]}, the lowest validation loss", file=out)',
    ]


def main_code(config: TrainConfig) -> str:
    """def main(): arguments, data, model, optimizer, the epochs, the output."""
    meta = datasets.info(config.dataset)
    head = [
        "def main():",
        "    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])",
        '    parser.add_argument("--json", action="store_true", help="print the per-epoch metrics as one JSON list")',
    ]
    if reads_files(config):
        head.append('    parser.add_argument("--data", type=Path, default=default_data_dir(), help="the datasets\' folder")')
    device = "default_device()" if config.device == "auto" else f'"{config.device}"'
    head += [
        f'    parser.add_argument("--device", default={device}, help="cpu, cuda or mps (default: %(default)s)")',
        "    args = parser.parse_args()",
        "    device = torch.device(args.device)",
        "    out = sys.stderr if args.json else sys.stdout  # with --json, stdout holds the JSON alone",
    ]
    if meta.is_toy:
        head.append("    torch.set_num_threads(1)  # a toy run's tensors are too small to share out (the playground's choice)")
    loop = ["    history, first_loss = [], None"] + (["    best, waited = None, 0"] if config.early_stopping else [])
    loop.append("    for epoch in range(1, EPOCHS + 1):")
    tail = ["    if args.json:", "        print(json.dumps(history, indent=2))"]
    lines = [*head, "", *_data_lines(config), "", *_model_lines(config), "", *loop, *_epoch_lines(config), *tail]
    return "\n".join(lines) + "\n"
