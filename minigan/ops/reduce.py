"""Reductions over axes: sum, mean, max.

A reduction's gradient is the upstream gradient spread back over the reduced axes:
sum copies it to every element, mean copies it divided by the count, and max sends
it only to the elements that were the maximum (split evenly between ties, as torch.amax).
"""
import math

import numpy as np

from ..autograd import Function
from ..backend import xp_of
from .shape import BroadcastTo, Reshape


def normalize_axes(axis, ndim):
    """`axis` (None, int or tuple, negatives allowed) as a sorted tuple of non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    axes = (axis,) if isinstance(axis, int) else tuple(axis)
    for a in axes:
        if not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(f"axis {a} is out of range for a tensor with {ndim} dimensions")
    return tuple(sorted({a % max(ndim, 1) for a in axes})) if ndim else ()


def expand_reduced(grad_out, shape, axes):
    """The Tensor grad_out with the reduced axes reinserted as size 1, then broadcast to
    `shape` (a view, no copy)."""
    if grad_out.ndim != len(shape):
        kept = [1 if i in axes else n for i, n in enumerate(shape)]  # reduced axes as size 1
        grad_out = Reshape.apply(grad_out, shape=kept)
    return BroadcastTo.apply(grad_out, shape=shape)


class Sum(Function):
    """out = sum of a over `axes`."""

    def forward(self, a, axes=(), keepdims=False):
        self.a_shape, self.axes = a.shape, axes
        return a.sum(axis=axes, keepdims=keepdims)

    def backward(self, grad_out):
        return (expand_reduced(grad_out, self.a_shape, self.axes),)


class Mean(Function):
    """out = sum of a over `axes` / count."""

    def forward(self, a, axes=(), keepdims=False):
        self.a_shape, self.axes = a.shape, axes
        self.count = math.prod(a.shape[axis] for axis in axes)
        if self.count == 0:  # the mean of nothing is nan, as in PyTorch (and without the
            with np.errstate(invalid="ignore"):  # warning NumPy's mean gives): 0 / 0
                return a.sum(axis=axes, keepdims=keepdims) / self.count
        return a.mean(axis=axes, keepdims=keepdims)

    def backward(self, grad_out):
        # each element gets an equal share; an empty a has no element to share with
        share = grad_out / self.count if self.count else grad_out * 0
        return (expand_reduced(share, self.a_shape, self.axes),)


class Max(Function):
    """out = max of a over `axes`; the gradient goes to the maxima, split among ties."""

    def forward(self, a, axes=(), keepdims=False):
        out = a.max(axis=axes, keepdims=True)
        self.axes = axes
        self.save_for_backward(a == out)  # a bool mask of where the maxima are
        return out if keepdims else out.reshape([n for i, n in enumerate(out.shape) if i not in axes])

    def backward(self, grad_out):
        from .elementwise import Mul  # (elementwise.py imports this file)

        is_max, = self.saved
        ties = is_max._data.sum(axis=self.axes, keepdims=True, dtype=grad_out.dtype)
        # Mul itself, not `*`: the bool mask is not cast to a float array first
        return (Mul.apply(is_max, expand_reduced(grad_out, is_max.shape, self.axes)) / ties,)
