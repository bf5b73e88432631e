"""Upsample and F.interpolate for images (N, C, H, W), as torch.nn's: modes "nearest" and
"bilinear".

Both pick, for each output row (and column) dst, a position src in the input:
  nearest:  src = floor(dst * scale), the row copied;
  bilinear: src = (dst + 0.5) * scale - 0.5 (or dst * (in - 1) / (out - 1) with
            align_corners=True), the two rows around it mixed by their distances,
with scale = in / out, or 1 / scale_factor where a scale factor is given (PyTorch's rule).
Rows then columns are gathered with recorded indexing and products, so the gradient (each
input pixel gets the gradients of the outputs it fed, weighted) comes from autograd. An
integer nearest scale is a broadcast view, reshaped: no gather at all.
"""
import math
import numbers

import numpy as np

from .. import backend, validators
from ..tensor import Tensor
from ..validators import is_int
from .contracts import contract, number, tensor
from .module import Module

MODES = ("nearest", "bilinear")


def _output_size(size, scale_factor, in_size):
    """The (OH, OW) asked for, and the scales (in / out per axis) the indices use."""
    if size is not None:
        out = tuple(size) if isinstance(size, (tuple, list)) else (size, size)
        if len(out) != 2 or not all(is_int(n) and n > 0 for n in out):
            raise ValueError(f"interpolate: size must be a positive int or a pair of them, "
                             f"got {size!r}")
        return tuple(int(n) for n in out), tuple(i / o for i, o in zip(in_size, out))
    factors = tuple(scale_factor) if isinstance(scale_factor, (tuple, list)) else \
        (scale_factor, scale_factor)
    if len(factors) != 2 or not all(isinstance(f, numbers.Real) and f > 0 and math.isfinite(f)
                                    for f in factors):
        raise ValueError(f"interpolate: scale_factor must be a positive number or a pair of "
                         f"them, got {scale_factor!r}")
    out = tuple(int(math.floor(i * f)) for i, f in zip(in_size, factors))
    if min(out) < 1:
        raise ValueError(f"interpolate: the output would be {out} for an input of {in_size}")
    return out, tuple(1.0 / f for f in factors)


def _gather(x, axis, index):
    """x's rows (axis 2) or columns (axis 3) at `index` (a host int array): a recorded copy."""
    key = [slice(None)] * 4
    key[axis] = backend.to_device(index, x.device)
    return x[tuple(key)]


def _nearest(x, axis, out_size, scale):
    in_size = x.shape[axis]
    index = np.minimum(np.floor(np.arange(out_size) * scale).astype(np.int64), in_size - 1)
    return _gather(x, axis, index)


def _bilinear(x, axis, out_size, scale, align_corners):
    in_size = x.shape[axis]
    dst = np.arange(out_size, dtype=np.float64)
    if align_corners:
        src = dst * ((in_size - 1) / (out_size - 1) if out_size > 1 else 0.0)
    else:
        src = np.maximum((dst + 0.5) * scale - 0.5, 0.0)
    low = np.minimum(np.floor(src).astype(np.int64), in_size - 1)
    high = np.minimum(low + 1, in_size - 1)
    weight_high = (src - low).astype(x.dtype)  # the distance from the lower row
    shape = [1, 1, 1, 1]
    shape[axis] = out_size  # weights broadcast along the other axes
    w_high = Tensor(backend.to_device(weight_high.reshape(shape), x.device))
    w_low = Tensor(backend.to_device((1 - weight_high).reshape(shape), x.device))
    return _gather(x, axis, low) * w_low + _gather(x, axis, high) * w_high


def exactly_one_size(args):
    if (args["size"] is None) == (args["scale_factor"] is None):
        return "give exactly one of size and scale_factor"


def align_corners_only_when_interpolating(args):
    if args["mode"] == "nearest" and args["align_corners"] is not None:
        return ("align_corners option can only be set with the interpolating modes: "
                "linear | bilinear | bicubic | trilinear")  # (PyTorch's message)


@contract(input=tensor("N C H W"), mode=number(validators.supported, choices=MODES),
          rules=[exactly_one_size, align_corners_only_when_interpolating])
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None):
    """input (N, C, H, W) resized to `size` or by `scale_factor`, as
    torch.nn.functional.interpolate (modes "nearest" and "bilinear")."""
    (oh, ow), (sh, sw) = _output_size(size, scale_factor, input.shape[2:])
    n, c, h, w = input.shape
    if mode == "nearest":
        if oh % h == 0 and ow % w == 0 and sh == h / oh and sw == w / ow:
            # an integer factor: each pixel repeated (oh // h) x (ow // w) times, as a view
            # (N, C, H, 1, W, 1) broadcast to (N, C, H, sh, W, sw), then merged
            spread = input.reshape(n, c, h, 1, w, 1).expand(n, c, h, oh // h, w, ow // w)
            return spread.reshape(n, c, oh, ow)
        return _nearest(_nearest(input, 2, oh, sh), 3, ow, sw)
    rows = _bilinear(input, 2, oh, sh, bool(align_corners))
    return _bilinear(rows, 3, ow, sw, bool(align_corners))


class Upsample(Module):
    """As torch.nn.Upsample(size=None, scale_factor=None, mode="nearest", align_corners=None)."""

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None):
        super().__init__()
        validators.supported("Upsample", "mode", mode, MODES)
        self.size, self.scale_factor = size, scale_factor
        self.mode, self.align_corners = mode, align_corners

    def forward(self, x):
        return interpolate(x, self.size, self.scale_factor, self.mode, self.align_corners)

    def extra_repr(self):
        if self.size is not None:
            return f"size={self.size}, mode='{self.mode}'"
        factor = self.scale_factor
        factor = float(factor) if isinstance(factor, numbers.Real) else factor  # as PyTorch
        return f"scale_factor={factor}, mode='{self.mode}'"
