"""Saliency maps: which pixels a class score depends on, computed with Captum.

    Grad-CAM           the last Conv2d's maps weighted by the mean gradient of the class score over
                       each map, summed, negatives dropped, resized to the image (Selvaraju et al.,
                       2017): where the network looked, at the resolution of its last conv layer
    input gradient     |d score / d pixel|, the largest over the colour channels (Simonyan et al.,
                       2014): which pixels would change the score most if nudged
    gradient x input   d score / d pixel * pixel, summed over the channels (signed): each pixel's
                       first-order contribution to the score; 0 where the input is 0

The score is the class's logit (the output before the softmax); the pixels are the model's input,
normalised as in training. Grad-CAM needs a convolutional layer; toy 2D points have no pixels.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from playground.errors import PlaygroundError

GRAD_CAM, INPUT_GRADIENT, GRADIENT_X_INPUT = "Grad-CAM", "Input gradient", "Gradient × input"
METHODS = (GRAD_CAM, INPUT_GRADIENT, GRADIENT_X_INPUT)
SIGNED = {GRAD_CAM: False, INPUT_GRADIENT: False, GRADIENT_X_INPUT: True}
NOT_IMAGES = (
    "saliency maps are drawn over images; toy 2D points are two numbers, not pixels: the Toy 2D page shows what the network does with them"
)


def last_conv(model: nn.Module) -> nn.Conv2d | None:
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if convs else None


def methods_for(model: nn.Module, input_shape: tuple[int, ...]) -> tuple[str, ...]:
    """The methods that apply: Grad-CAM for a network with a Conv2d, the gradients for all."""
    if len(input_shape) != 3:
        raise PlaygroundError(NOT_IMAGES)
    return METHODS if last_conv(model) is not None else (INPUT_GRADIENT, GRADIENT_X_INPUT)


def attribution(model: nn.Module, x: torch.Tensor, target: int, method: str) -> np.ndarray:
    """One map [H, W] for one prepared image x [1, C, H, W] and the class `target`."""
    from captum.attr import InputXGradient, LayerAttribution, LayerGradCam, Saliency

    if x.ndim != 4:
        raise PlaygroundError(NOT_IMAGES)
    x = x.detach().clone().requires_grad_(True)
    if method == GRAD_CAM:
        layer = last_conv(model)
        if layer is None:
            raise PlaygroundError("Grad-CAM needs a convolutional layer and this model has none (an MLP): use the input gradient")
        cam = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
        return LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), "bilinear")[0, 0].detach().numpy()
    if method == INPUT_GRADIENT:
        return Saliency(model).attribute(x, target=target, abs=True)[0].amax(dim=0).detach().numpy()
    if method == GRADIENT_X_INPUT:
        return InputXGradient(model).attribute(x, target=target)[0].sum(dim=0).detach().numpy()
    raise PlaygroundError(f"saliency method '{method}' is not known: choose from {', '.join(METHODS)}")


OUTLIER_PERCENTILE = 99.0  # the map is scaled to this percentile of |value| (Captum's visualiser cuts 2%)
OPACITY = 0.7  # of the colour where the map is strongest; where it is 0 the image shows through


def overlay(image: np.ndarray, heat: np.ndarray, signed: bool) -> np.ndarray:
    """A map [H, W] drawn over a uint8 image [C, H, W] -> uint8 RGB [H, W, 3]: colour (jet; red
    positive and blue negative for a signed map) whose opacity grows with |value|."""
    from matplotlib import colormaps

    base = np.repeat(image, 3, axis=0) if image.shape[0] == 1 else image
    base = base.transpose(1, 2, 0).astype(np.float64) / 255
    scale = np.percentile(np.abs(heat), OUTLIER_PERCENTILE)
    v = np.clip(heat / scale, -1, 1) if scale > 0 else np.zeros_like(heat, dtype=np.float64)
    colour = colormaps["RdBu_r"]((v + 1) / 2)[..., :3] if signed else colormaps["jet"](v)[..., :3]
    alpha = OPACITY * np.abs(v)[..., None]
    return np.round((1 - alpha) * base * 255 + alpha * colour * 255).astype(np.uint8)
