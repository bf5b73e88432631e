"""torchvision.utils.make_grid / save_image: tile a batch of images, write it as a PNG.

As torchvision: images are floats in [0, 1] (normalize=True first maps [min, max], or
value_range, onto [0, 1]); make_grid puts nrow images per row with `padding` pixels of
pad_value between them, repeating a gray channel into three. save_image writes the grid
through minigan's image writer (minigan/store/images.py: atomic, pillow).
"""
import math

import numpy as np

from ...store import images
from ...tensor import Tensor


def _as_batch(tensor):
    """A (N, C, H, W) float array from a Tensor, an array or a list of (C, H, W) images."""
    if isinstance(tensor, (list, tuple)):
        array = np.stack([_host(t) for t in tensor])
    else:
        array = _host(tensor)
    if array.ndim == 2:
        array = array[None]                                                # (1, H, W)
    if array.ndim == 3:
        array = array[None]                                                # (1, C, H, W)
    if array.ndim != 4:
        raise ValueError(f"make_grid: expected images (N, C, H, W), got shape {array.shape}")
    return array.astype(np.float32, copy=True)


def _host(t):
    return t.detach().numpy() if isinstance(t, Tensor) else np.asarray(t)


def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False,
              pad_value=0.0, **kwargs):
    """One image (C, H', W') tiling the batch, as torchvision.utils.make_grid."""
    if "range" in kwargs:  # torchvision's old name for value_range
        value_range = kwargs.pop("range")
    if kwargs:
        raise TypeError(f"make_grid() got an unexpected keyword argument '{next(iter(kwargs))}'")
    x = _as_batch(tensor)
    if x.shape[1] == 1:
        x = np.repeat(x, 3, axis=1)                                        # gray -> RGB
    if normalize:
        for part in (x if scale_each else [x]):  # each image, or the whole batch
            low, high = value_range if value_range is not None else (part.min(), part.max())
            np.clip(part, low, high, out=part)
            part -= low
            part /= max(high - low, 1e-5)
    if len(x) == 1:
        return Tensor(x[0])
    n, c, h, w = x.shape
    cols = min(nrow, n)
    rows = math.ceil(n / cols)
    grid = np.full((c, rows * (h + padding) + padding, cols * (w + padding) + padding),
                   pad_value, np.float32)
    for i, image in enumerate(x):
        top, left = (i // cols) * (h + padding) + padding, (i % cols) * (w + padding) + padding
        grid[:, top:top + h, left:left + w] = image
    return Tensor(grid)


def save_image(tensor, fp, format=None, **kwargs):
    """Write make_grid(tensor, **kwargs) as a PNG at fp (pixels round(255 * x), clipped)."""
    grid = make_grid(tensor, **kwargs).numpy()                             # (C, H, W) in [0, 1]
    images.save_image_grid(grid[None] * 2 - 1, fp, nrow=1, padding=0)  # its range is [-1, 1]
