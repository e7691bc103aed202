"""ZCA whitening, fitted on the training split only (Bell & Sejnowski 1997; Krizhevsky 2009).

Each input is flattened to D values (D = C*H*W for images on the unit scale [0, 1], the features for
toy points). With X [N, D] the centred training inputs:
    mu     = mean of the training inputs                      [D]
    Sigma  = X^T X / N                                        [D, D], float64, summed in chunks
    Sigma  = U diag(S) U^T                                    (torch.linalg.eigh: S ascending, >= 0)
    W      = U diag(1 / sqrt(S + eps)) U^T                    [D, D], symmetric
    x     -> (x - mu) W
PCA whitening would stop at (x - mu) U diag(1 / sqrt(S + eps)); rotating back with U^T (ZCA) gives
the whitened input closest to the original, so an image still looks like an image: the correlation
between neighbouring pixels is removed and edges are left. eps keeps the directions of tiny
variance (pixel noise) from being blown up by 1/sqrt(S).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from playground.errors import PlaygroundError

MAX_D = 4096  # Sigma and U are D x D: 3072 (CIFAR-10) takes 75 MB in float64


@dataclass
class Eig:
    """The costly part, fitted once: the eigendecomposition of the training inputs' covariance.
    A whitening for any eps is then cheap (the Data page's epsilon widget)."""

    mu: torch.Tensor  # [D] mean of the training inputs, unit scale, float64
    U: torch.Tensor  # [D, D] eigenvectors of Sigma, one per column, float64
    S: torch.Tensor  # [D] eigenvalues of Sigma, ascending, >= 0, float64
    n: int  # training inputs it was fitted on

    def W(self, eps: float) -> torch.Tensor:
        """U diag(1/sqrt(S + eps)) U^T [D, D]: the product scales column j of U by 1/sqrt(S_j + eps)."""
        _check(eps)
        return (self.U * (self.S + eps).rsqrt()) @ self.U.T

    def whitened(self, eps: float) -> float:
        """The share of the training variance in the directions whose variance S is above eps: whitened,
        their variance S / (S + eps) is between 1/2 and 1; the others' is below 1/2 (damped)."""
        return float(self.S[eps < self.S].sum() / self.S.sum().clamp_min(1e-300))


@dataclass
class ZCA:
    mu: torch.Tensor  # [D] mean of the training inputs, unit scale, float32
    W: torch.Tensor  # [D, D] the whitening matrix, symmetric, float32
    eps: float
    n: int  # training inputs it was fitted on

    def __call__(self, x_unit: torch.Tensor) -> torch.Tensor:
        """[N, ...] unit-scale inputs -> whitened, same shape, on x's device."""
        if self.W.device != x_unit.device:  # moved once (37 MB for D = 3072), not per batch
            self.mu, self.W = self.mu.to(x_unit.device), self.W.to(x_unit.device)
        return ((x_unit.flatten(1) - self.mu) @ self.W).view(x_unit.shape)


def _check(eps: float) -> None:
    if not eps > 0:  # settings.check says the same for a config; this guards direct calls (nan too)
        raise PlaygroundError(f"zca_epsilon = {eps!r} is not allowed: zca_epsilon must be a number above 0")


def _on(device: torch.device) -> torch.device:
    return torch.device("cpu") if device.type == "mps" else device  # MPS has no float64


def decompose(x_train: torch.Tensor, chunk: int = 4096) -> Eig:
    """Sigma's eigendecomposition for x_train [N, ...] (uint8 images or float points), on its device.
    Two passes in chunks of [chunk, D] float64 (100 MB for D = 3072): the mean, then X^T X."""
    N, D = len(x_train), x_train[0].numel() if len(x_train) else 0
    if N < 2:
        raise PlaygroundError("ZCA whitening needs at least 2 training inputs to estimate a covariance")
    if D > MAX_D:
        raise PlaygroundError(f"ZCA whitening needs a D x D covariance: D = {D:,} values per input is above {MAX_D:,}; use standardize")
    device = _on(x_train.device)
    chunks = [(i, min(i + chunk, N)) for i in range(0, N, chunk)]
    scale = 255.0 if x_train.dtype == torch.uint8 else 1.0  # images to the unit scale, as augment.unit

    def flat(a: int, b: int) -> torch.Tensor:  # inputs a..b as [B, D] float64
        return x_train[a:b].to(device).flatten(1).double() / scale

    mu = sum(flat(a, b).sum(0) for a, b in chunks) / N  # [D]
    Sigma = torch.zeros(D, D, dtype=torch.float64, device=device)
    for a, b in chunks:
        X = flat(a, b) - mu  # [B, D] centred
        Sigma.addmm_(X.T, X)
    Sigma /= N
    S, U = torch.linalg.eigh(Sigma)  # Sigma = U diag(S) U^T, S ascending
    return Eig(mu, U, S.clamp_min(0), N)  # round-off makes the smallest S slightly negative


def fit(x_train: torch.Tensor, eps: float, chunk: int = 4096) -> ZCA:
    """The whitening of x_train [N, ...], fitted on x_train alone; it stays on x_train's device."""
    eig = decompose(x_train, chunk)
    return ZCA(eig.mu.float().to(x_train.device), eig.W(eps).float().to(x_train.device), eps, eig.n)


def preview(eig: Eig, x: torch.Tensor, eps: float) -> torch.Tensor:
    """uint8 images [N, C, H, W] -> their whitened copies as uint8 for display, each rescaled on its
    own so that its smallest value is 0 and its largest 255 (whitened values have no fixed range)."""
    _check(eps)
    U, s = eig.U, (eig.S + eps).rsqrt()
    z = (((x.flatten(1).to(U.device).double() / 255 - eig.mu) @ U) * s) @ U.T  # [N, D]: two [N, D] x [D, D] products, not W's D^3
    lo, hi = z.min(1, keepdim=True).values, z.max(1, keepdim=True).values
    return ((z - lo) / (hi - lo).clamp_min(1e-12) * 255).round().to(torch.uint8).view(x.shape).cpu()
