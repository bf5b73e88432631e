"""Reductions as Tensor methods: sum, mean, max, any, all, as torch.Tensor's.

PyTorch's argument names (dim=, keepdim=) and NumPy's (axis=, keepdims=) are both
accepted. t.max(dim) returns PyTorch's (values, indices) pair; the gradient of the values
goes to the maxima, split between ties (as torch.amax; torch.max(dim) picks one).
"""
import collections

import numpy as np

from .. import backend
from .. import tensor as core  # (tensor.py builds Tensor on this file: core.Tensor at call time)
from ..ops import reduce as red
from ..validators import is_int


class ReductionMethods:
    """The reductions of Tensor (a base class of it)."""

    # PyTorch's names dim= and keepdim=; NumPy's axis= and keepdims= stay accepted.
    def _axes(self, name, axis, keepdims, names=("dim", "keepdim")):
        """Check a reduction's arguments (named as the caller named them); the axes as
        red.normalize_axes returns them."""
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        if axis is not None and not all(is_int(a) for a in items):
            raise TypeError(f"{name}: {names[0]} must be None, an int or a tuple of ints, "
                            f"got {axis!r}")
        if not isinstance(keepdims, (bool, np.bool_)):
            raise TypeError(f"{name}: {names[1]} must be True or False, got {keepdims!r}")
        return red.normalize_axes(None if axis is None else tuple(int(a) for a in items),
                                  self.ndim)

    def sum(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        dim, keepdim, names = reduction_args("sum", dim, keepdim, axis, keepdims)
        axes = self._axes("sum", core.all_if_empty(dim), keepdim, names)
        if dtype is not None:
            return self.to(dtype).sum(dim, keepdim)
        if self.dtype.kind in "biu":  # summed as int64, as PyTorch (NumPy gives uint8 uint64)
            total = self._data.sum(axis=axes, keepdims=keepdim, dtype=np.int64)
            return core.Tensor(backend.as_array(total, backend.xp_of(self._data)))
        return red.Sum.apply(self, axes=axes, keepdims=keepdim)

    def mean(self, dim=None, keepdim=False, *, axis=None, keepdims=None, dtype=None):
        dim, keepdim, names = reduction_args("mean", dim, keepdim, axis, keepdims)
        if dtype is not None:
            return self.to(dtype).mean(dim, keepdim)
        if self.dtype.kind != "f":  # PyTorch, too, will not guess a mean's dtype
            raise TypeError(f"mean(): the input must be a floating-point tensor, got dtype "
                            f"{self.dtype}; convert it first, e.g. t.float().mean()")
        axes = self._axes("mean", core.all_if_empty(dim), keepdim, names)
        return red.Mean.apply(self, axes=axes, keepdims=keepdim)

    def any(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Whether any element (over `dim`) is non-zero, as a bool tensor (as torch.any)."""
        dim, keepdim, names = reduction_args("any", dim, keepdim, axis, keepdims)
        axes = self._axes("any", dim, keepdim, names)
        xp = backend.xp_of(self._data)
        return core.Tensor(backend.as_array(xp.any(self._data, axis=axes, keepdims=keepdim), xp))

    def all(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """Whether every element (over `dim`) is non-zero, as a bool tensor (as torch.all)."""
        dim, keepdim, names = reduction_args("all", dim, keepdim, axis, keepdims)
        axes = self._axes("all", dim, keepdim, names)
        xp = backend.xp_of(self._data)
        return core.Tensor(backend.as_array(xp.all(self._data, axis=axes, keepdims=keepdim), xp))

    def max(self, dim=None, keepdim=False, *, axis=None, keepdims=None):
        """The largest element; with dim= (PyTorch's form) a (values, indices) pair along
        that one dimension, as torch.max; with axis= (NumPy's) the values over those axes."""
        if dim is not None:
            if axis is not None:
                raise TypeError("max: give dim or axis, not both")
            return max_along(self, dim, keepdim if keepdims is None else keepdims)
        keepdim = keepdim if keepdims is None else keepdims
        axes = self._axes("max", axis, keepdim, ("axis", "keepdims"))
        if any(self.shape[a] == 0 for a in axes):  # a max of nothing has no value
            raise ValueError(f"max: cannot reduce a tensor of shape {self.shape} over an empty "
                             f"dimension (axis={axis})")
        return red.Max.apply(self, axes=axes, keepdims=keepdim)


def reduction_args(name, dim, keepdim, axis, keepdims):
    """(dim, keepdim) from PyTorch's names or NumPy's (not both), and the names used (for
    the messages)."""
    names = ("axis" if axis is not None else "dim", "keepdims" if keepdims is not None
             else "keepdim")
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: give dim or axis, not both")
        dim = axis
    if keepdims is not None:
        keepdim = keepdims
    if isinstance(dim, (tuple, list)) and len(dim) == 0:
        dim = None  # sum(dim=()) reduces every dimension, as in PyTorch
    return dim, keepdim, names


MaxResult = collections.namedtuple("max", ["values", "indices"])  # as torch.return_types.max


def max_along(t, dim, keepdim):
    """torch.max(t, dim): the largest values along `dim` and where they are (the first)."""
    dim = core.check_dim("max", dim, t.shape)
    if t.ndim and t.shape[dim] == 0:
        raise IndexError(f"max(): cannot reduce over dimension {dim} of size 0 (shape "
                         f"{t.shape})")
    values = red.Max.apply(t, axes=(dim,) if t.ndim else (), keepdims=keepdim)
    xp = backend.xp_of(t._data)
    indices = backend.as_array(xp.argmax(t._data, axis=dim if t.ndim else None), xp)
    if keepdim and t.ndim:
        indices = xp.expand_dims(indices, dim)
    return MaxResult(values, core.Tensor(indices.astype(np.int64)))
