"""The embedding projector's maths: many numbers per image -> two, by PCA or t-SNE (scikit-learn).

PCA keeps the two directions of largest variance (a linear map: distances along them are real).
t-SNE places images so that near neighbours stay near (Maaten & Hinton, 2008): clusters are
meaningful, distances between far clusters and cluster sizes are not. As scikit-learn's guide
advises, features of more than PCA_FIRST dimensions are first reduced to PCA_FIRST by PCA.
Both use a fixed random_state: the same run gives the same picture every time.

t-SNE runs in one OpenMP thread: PyTorch's and scikit-learn's OpenMP runtimes (two libgomp copies)
fight over the cores once PyTorch has run, which made 2,000 images 2-3 times slower with two threads
than with one on a 2-core machine, and a 60-image t-SNE take from 0.2 s to 8 s. The projector's two
t-SNEs (pixels and features) run at once in two threads instead (its Cython code releases the GIL;
the OpenMP limit is per thread).
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from threadpoolctl import threadpool_limits

from playground.errors import PlaygroundError

MAX_POINTS = 2000  # test images projected: t-SNE on 2,000 takes seconds on a laptop
PCA_FIRST = 50
PERPLEXITY = 30.0  # scikit-learn's default; fewer images get (n - 1) / 3
SEED = 0
METHODS = ("PCA", "t-SNE")


def _check(features: np.ndarray, at_least: int, method: str) -> None:
    if len(features) < at_least:
        raise PlaygroundError(f"{method} needs at least {at_least} test images; this run has {len(features)}: use a larger test set")


def pca_2d(features: np.ndarray) -> np.ndarray:
    """[n, d] -> [n, 2]: the coordinates along the two principal components."""
    _check(features, 3, "PCA")
    return PCA(n_components=2, random_state=SEED).fit_transform(features)


def tsne_2d(features: np.ndarray) -> np.ndarray:
    """[n, d] -> [n, 2] by t-SNE (initialised by PCA, perplexity 30 or less for few images)."""
    _check(features, 5, "t-SNE")
    n, d = features.shape
    if d > PCA_FIRST:
        features = PCA(n_components=min(PCA_FIRST, n), random_state=SEED).fit_transform(features)
    perplexity = min(PERPLEXITY, (n - 1) / 3)
    with threadpool_limits(1, user_api="openmp"):
        return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=SEED).fit_transform(features)


def project(features: np.ndarray, method: str) -> np.ndarray:
    if method not in METHODS:
        raise PlaygroundError(f"projection '{method}' is not known: choose {' or '.join(METHODS)}")
    return (pca_2d if method == "PCA" else tsne_2d)(np.asarray(features, dtype=np.float64))


def project_both(before: np.ndarray, after: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray]:
    """The projector's two projections (raw pixels, penultimate features), computed side by side."""
    with ThreadPoolExecutor(2) as pool:
        a, b = pool.map(lambda features: project(features, method), (before, after))
    return a, b
