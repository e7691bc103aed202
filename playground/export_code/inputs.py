"""The exported script's inputs: what turns stored inputs into what the model sees (normalisation, and
augmentation of training batches), written as playground.augment computes it, draw for draw."""

from __future__ import annotations

import textwrap

from playground import datasets
from playground.config import TrainConfig
from playground.errors import PlaygroundError

# Each augmentation's function, as augment.Augmenter writes it (same random draws, in the same order).
AUGMENT_FUNCTIONS = {
    "flip": '''
def flip(x, g):
    """Each image flipped left-right with probability 1/2."""
    flipped = rand(len(x), g, x.device) < 0.5
    return torch.where(flipped.view(-1, 1, 1, 1), x.flip(-1), x)
''',
    "crop": '''
def crop(x, g):
    """Each image zero-padded by 1/8 of its side, then cropped back to its size at a random place."""
    N, C, H, W = x.shape
    p = max(1, round(H / 8))
    padded = F.pad(x, (p, p, p, p))
    top = (rand(N, g, x.device) * (2 * p + 1)).long()
    left = (rand(N, g, x.device) * (2 * p + 1)).long()
    # Image n is padded[n, :, top[n]:top[n]+H, left[n]:left[n]+W], for the whole batch by index arithmetic
    rows = (top.view(-1, 1) + torch.arange(H, device=x.device)).view(N, 1, H, 1)
    cols = (left.view(-1, 1) + torch.arange(W, device=x.device)).view(N, 1, 1, W)
    n = torch.arange(N, device=x.device).view(N, 1, 1, 1)
    c = torch.arange(C, device=x.device).view(1, -1, 1, 1)
    return padded[n, c, rows, cols]
''',
    "resized-crop": '''
def resized_crop(x, g):
    """A random crop of 60-100% of each image's area, aspect ratio 3/4 to 4/3, resized back (bilinear)."""
    N = len(x)
    area = 0.6 + 0.4 * rand(N, g, x.device)
    ratio = torch.exp(math.log(3 / 4) + (math.log(4 / 3) - math.log(3 / 4)) * rand(N, g, x.device))
    w = torch.sqrt(area * ratio).clamp(max=1.0)  # the share of the width kept
    h = torch.sqrt(area / ratio).clamp(max=1.0)
    tx = (1 - w) * (2 * rand(N, g, x.device) - 1)  # the crop's centre, in [-1, 1] coordinates
    ty = (1 - h) * (2 * rand(N, g, x.device) - 1)
    zero = torch.zeros_like(w)
    theta = torch.stack([torch.stack([w, zero, tx], 1), torch.stack([zero, h, ty], 1)], 1)  # [N, 2, 3]
    return affine(x, theta)
''',
    "rotate": '''
def rotate(x, g):
    """Each image turned by a random angle within ±15 degrees (counter-clockwise as torchvision's rotate)."""
    H, W = x.shape[-2:]
    angle = torch.deg2rad((2 * rand(len(x), g, x.device) - 1) * 15.0)
    cos, sin, zero = torch.cos(angle), torch.sin(angle), torch.zeros_like(angle)
    # [N, 2, 3] in affine_grid's [-1, 1] coordinates, corrected for the aspect ratio
    theta = torch.stack([torch.stack([cos, -sin * H / W, zero], 1), torch.stack([sin * W / H, cos, zero], 1)], 1)
    return affine(x, theta)
''',
    "color": '''
def color(x, g):
    """Colour jitter: brightness, contrast and saturation, each x a random factor in [0.8, 1.2]."""
    b, c, s = (0.8 + 0.4 * rand(len(x), g, x.device).view(-1, 1, 1, 1) for _ in range(3))
    x = (x * b).clamp(0, 1)
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    x = ((x - grey.mean(dim=(2, 3), keepdim=True)) * c + grey.mean(dim=(2, 3), keepdim=True)).clamp(0, 1)
    grey = (0.299 * x[:, 0] + 0.587 * x[:, 1] + 0.114 * x[:, 2]).unsqueeze(1)
    return ((x - grey) * s + grey).clamp(0, 1)
''',
}

RAND = '''
def rand(n, g, device):
    """n uniform numbers from the augmentation's own generator g, on the batch's device."""
    return torch.rand(n, generator=g, device=g.device).to(device)
'''

AFFINE = '''
def affine(x, theta):
    """Images [N, C, H, W] moved by one affine map each, theta [N, 2, 3]; zeros where nothing maps."""
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
'''

STANDARDIZE = '''
def standardize_stats(x_train, chunk=4096):
    """The mean and std of each {what} over the training split only (never the validation or test
    data), summed in float64 over chunks (60,000 images fit without a float copy): shapes {shape}."""
    dims = {dims}
    n, s, ss = 0, 0.0, 0.0
    for i in range(0, len(x_train), chunk):
        x = {unit}.double()
        s = s + x.sum(dim=dims)
        ss = ss + (x * x).sum(dim=dims)
        n += x.numel() // x.shape[1]
    mean = s / n
    std = (ss / n - mean * mean).clamp_min(1e-12).sqrt()
    return mean.float().view{view}, std.float().view{view}
'''


ZCA = '''
def zca_fit(x_train, eps, chunk=4096):
    """ZCA whitening fitted on the training split only: mu [D] and W [D, D] (D = the values of one
    input). With X [N, D] the centred training inputs in float64, Sigma = X^T X / N = U diag(S) U^T
    and W = U diag(1 / sqrt(S + eps)) U^T: the whitened inputs (x - mu) W still look like inputs."""
    N = len(x_train)
    device = torch.device("cpu") if x_train.device.type == "mps" else x_train.device  # MPS has no float64
    chunks = [(i, min(i + chunk, N)) for i in range(0, N, chunk)]

    def flat(a, b):  # inputs a..b as [B, D] float64{scale_note}
        return x_train[a:b].to(device).flatten(1).double(){scale}

    mu = sum(flat(a, b).sum(0) for a, b in chunks) / N
    Sigma = torch.zeros(mu.numel(), mu.numel(), dtype=torch.float64, device=device)
    for a, b in chunks:
        X = flat(a, b) - mu  # [B, D] centred
        Sigma.addmm_(X.T, X)
    Sigma /= N
    S, U = torch.linalg.eigh(Sigma)  # S ascending
    S = S.clamp_min(0)  # round-off makes the smallest ones slightly negative
    W = (U * (S + eps).rsqrt()) @ U.T  # scales column j of U by 1 / sqrt(S_j + eps)
    return mu.float().to(x_train.device), W.float().to(x_train.device)
'''
NORMALIZATIONS = ("scale", "standardize", "none", "zca")  # those the script can write
FITTED = ("standardize", "zca")  # fitted on the training split when the script starts


def normalization(config: TrainConfig) -> str:
    """The run's normalisation, or PlaygroundError for one this exporter cannot write."""
    if config.normalize not in NORMALIZATIONS:
        raise PlaygroundError(
            f"export as code does not know the normalisation '{config.normalize}' yet: "
            f"choose {', '.join(NORMALIZATIONS[:-1])} or {NORMALIZATIONS[-1]} to export this run as code"
        )
    return config.normalize


def inputs_code(config: TrainConfig, channels_last: bool) -> str:
    """The augmentation functions the run uses, the standardisation statistics, and the Transform."""
    meta = datasets.info(config.dataset)
    names = [n for n in config.augment.split(",") if n]
    parts = []
    if names:
        parts.append(RAND)
        if {"resized-crop", "rotate"} & set(names):
            parts.append(AFFINE)
        parts += [AUGMENT_FUNCTIONS[n] for n in names]
        calls = "\n".join(f"    x = {n.replace('-', '_')}(x, g)" for n in names)
        parts.append(f'def augment(x, g):\n    """{", ".join(names)}: each image with its own random draw."""\n{calls}\n    return x\n')
    if normalization(config) == "zca":
        images = not meta.is_toy
        parts.append(ZCA.format(scale=" / 255.0" if images else "", scale_note=", on the unit scale [0, 1]" if images else ""))
    if normalization(config) == "standardize":
        images = not meta.is_toy
        parts.append(
            STANDARDIZE.format(
                what="channel" if images else "input feature",
                shape="[1, C, 1, 1]" if images else "[1, F]",
                dims="(0, 2, 3)" if images else "(0,)",
                unit="x_train[i : i + chunk].float().div_(255)" if images else "x_train[i : i + chunk].float()",
                view="(1, -1, 1, 1)" if images else "(1, -1)",
            )
        )
    parts.append(_transform(config, names, channels_last))
    return "\n\n\n".join(p.strip("\n") for p in parts) + "\n"


def transform_args(config: TrainConfig, channels_last: bool) -> list[str] | None:
    """What main() passes to Transform(...), or None when the transform is a plain function (nothing fitted,
    drawn or switched at run time)."""
    args = ["x_train"]
    args += ["augment_generator"] if config.augment else []
    args += ["channels_last"] if channels_last else []
    return args if len(args) > 1 or normalization(config) in FITTED else None


def _transform(config: TrainConfig, augment: list[str], channels_last: bool) -> str:
    """class Transform (or def transform): stored inputs -> the model's inputs, as the playground's Training.prep."""
    images = not datasets.info(config.dataset).is_toy
    mode = normalization(config)
    doc = ["uint8 images to floats in [0, 1]"] if images else ["the points' features"]
    doc += ["augmented (training batches only)"] if augment else []
    doc += {
        "standardize": ["standardised with the training split's mean and std"],
        "zca": ["ZCA-whitened (fitted on the training split)"],
        "none": ["times 255 (normalisation none: the raw 0-255 values)"] if images else [],
        "scale": [],
    }[mode]
    text = "Stored inputs -> what the model sees: " + ", ".join(doc) + ("" if images or mode in FITTED else ", as they are")
    doc_line = textwrap.fill(text + '."""', 100, initial_indent='    """', subsequent_indent="    ")
    args = transform_args(config, channels_last)
    if args is None:
        unit = "x.float().div_(255)" if images else "x"
        return "\n\ndef transform(x):\n" + doc_line + "\n" + f"    return {unit}{' * 255' if mode == 'none' and images else ''}\n"
    init = ["        self.generator = augment_generator"] if augment else []
    init += ["        self.mean, self.std = standardize_stats(x_train)"] if mode == "standardize" else []
    init += ["        self.mu, self.W = zca_fit(x_train, ZCA_EPSILON)"] if mode == "zca" else []
    init += ["        self.channels_last = channels_last"] if channels_last else []
    body = ["        x = x.float().div_(255)  # [N, C, H, W] in [0, 1]"] if images else []
    if augment:
        body += ["        if training:", "            x = augment(x, self.generator)"]
    if mode == "standardize":
        body += ["        x = (x - self.mean) / self.std"]
    elif mode == "zca":
        body += ["        x = ((x.flatten(1) - self.mu) @ self.W).view(x.shape)  # [N, D] whitened, back to the input's shape"]
    elif mode == "none" and images:
        body += ["        x = x * 255"]
    if channels_last:
        body += ["        return x.contiguous(memory_format=torch.channels_last) if self.channels_last else x"]
    else:
        body += ["        return x"]
    return (
        "\n\nclass Transform:\n" + doc_line + "\n\n"
        f"    def __init__(self, {', '.join(args)}):\n" + "\n".join(init) + "\n\n"
        f"    def __call__(self, {'x, training=False' if augment else 'x'}):\n" + "\n".join(body) + "\n"
    )
