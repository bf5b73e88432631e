"""The rest of torch.Tensor's method surface that PyTorch code uses, built from minigan's ops.

Shape methods (squeeze, unsqueeze, expand, repeat, contiguous, clone), the norms and the
standard deviation, clamp, sqrt and abs, device and dtype conversions (cpu, cuda, type,
long, ...). Each is a few recorded Tensor operations, so each is differentiable (to any
order) without a Function of its own; views (squeeze, unsqueeze, expand) share their
base's version counter, as in PyTorch (Tensor._view_of).
"""
import collections
import math
import numbers

import numpy as np

from . import backend
from . import tensor as core  # (tensor.py builds Tensor on this file: use core.Tensor at call time)
from .ops import shape as sh
from .ops.copy import Clone
from .ops.elementwise import where


def dims_of(name, dim, ndim):
    """dim as a tuple of dimensions >= 0 (an int, a tuple, or None for all)."""
    if dim is None:
        return tuple(range(ndim))
    items = dim if isinstance(dim, (tuple, list)) else (dim,)
    return tuple(core.check_dim(name, d, (1,) * ndim) for d in items)


class TorchMethods:
    """Methods of Tensor beyond the core in tensor.py (a base class of it)."""

    # -- shape -------------------------------------------------------------------------
    def squeeze(self, dim=None):
        """Drop dimensions of size 1 (all, or `dim` if it has size 1), as a view."""
        if dim is None:
            keep = [n for n in self.shape if n != 1]
        else:
            drop = dims_of("squeeze", dim, self.ndim)
            keep = [n for i, n in enumerate(self.shape) if not (i in drop and n == 1)]
        return self.reshape(*keep)

    def unsqueeze(self, dim):
        """A dimension of size 1 inserted at `dim` (-1: at the end), as a view."""
        dim = core.check_dim("unsqueeze", dim, (1,) * (self.ndim + 1))
        return self.reshape(*self.shape[:dim], 1, *self.shape[dim:])

    def view_as(self, other):
        return self.view(*other.shape)

    def expand(self, *sizes):
        """A broadcast view to `sizes` (-1 keeps a dimension), as torch.Tensor.expand."""
        sizes = tuple(sizes[0]) if len(sizes) == 1 and isinstance(sizes[0], (tuple, list)) \
            else sizes
        if len(sizes) < self.ndim:
            raise RuntimeError(f"expand: the number of sizes provided ({len(sizes)}) must be "
                               f"greater or equal to the number of dimensions in the tensor "
                               f"({self.ndim})")
        lead = len(sizes) - self.ndim
        shape = tuple(self.shape[i - lead] if n == -1 and i >= lead else n
                      for i, n in enumerate(sizes))
        for i, n in enumerate(self.shape):
            if n != 1 and n != shape[lead + i]:
                raise RuntimeError(f"expand: the expanded size of the tensor ({shape[lead + i]}) "
                                   f"must match the existing size ({n}) at non-singleton "
                                   f"dimension {lead + i}. Target sizes: {list(sizes)}. "
                                   f"Tensor sizes: {list(self.shape)}")
        if min(shape, default=0) < 0:
            raise RuntimeError(f"expand: invalid target sizes {list(sizes)}")
        if shape == self.shape:
            return self
        return sh.BroadcastTo.apply(self, shape=shape)._view_of(self)

    def expand_as(self, other):
        return self.expand(*other.shape)

    def repeat(self, *repeats):
        """The tensor tiled `repeats` times along each dimension (as torch.Tensor.repeat;
        extra leading repeats add dimensions): a copy."""
        repeats = tuple(repeats[0]) if len(repeats) == 1 and isinstance(repeats[0], (tuple, list)) \
            else repeats
        if len(repeats) < self.ndim:
            raise RuntimeError("repeat: number of dimensions of repeat dims can not be smaller "
                               "than number of dimensions of tensor")
        shape = (1,) * (len(repeats) - self.ndim) + self.shape
        # (1, a, 1, b) -> expand (r1, a, r2, b) -> reshape (r1 a, r2 b): copies laid side by side
        spread = [n for size in shape for n in (1, size)]
        tiled = [n for r, size in zip(repeats, shape) for n in (r, size)]
        out = self.reshape(*spread).expand(*tiled)
        return Clone.apply(out).reshape(*(r * size for r, size in zip(repeats, shape)))

    def contiguous(self):
        """Itself if its elements are laid out in order in memory, else a copy that is."""
        return self if self._data.flags.c_contiguous else self.clone()

    def clone(self):
        """A copy with its own storage, differentiable (as torch.Tensor.clone)."""
        return Clone.apply(self)

    # -- elementwise -------------------------------------------------------------------
    def pow(self, exponent):
        return self ** exponent

    def sqrt(self):
        return self._as_float() ** 0.5

    def abs(self):
        """|x|; its gradient is sign(x), 0 at 0, as PyTorch's."""
        sign = core.Tensor(backend.xp_of(self._data).sign(self._data))
        return self * sign

    def neg(self):
        return -self

    def tanh(self):
        from .nn.functional import tanh  # noqa: PLC0415 - nn is built on this file

        return tanh(self)

    def sigmoid(self):
        from .nn.functional import sigmoid  # noqa: PLC0415

        return sigmoid(self)

    def relu(self):
        from .nn.functional import relu  # noqa: PLC0415

        return relu(self)

    def clamp(self, min=None, max=None):
        """Each element limited to [min, max]; the gradient passes where min <= x <= max,
        as PyTorch's."""
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        for bound in (min, max):
            if bound is not None and not isinstance(bound, (numbers.Real, core.Tensor)):
                raise TypeError(f"clamp: bounds must be numbers or tensors, got "
                                f"{type(bound).__name__}")
        xp = backend.xp_of(self._data)
        low = None if min is None else (min._data if isinstance(min, core.Tensor) else min)
        high = None if max is None else (max._data if isinstance(max, core.Tensor) else max)
        inside = xp.ones(self.shape, dtype=bool)
        if low is not None:
            inside &= self._data >= low
        if high is not None:
            inside &= self._data <= high
        limited = xp.clip(self._data, low, high)
        if limited.dtype != self.dtype and self.dtype.kind == "f":
            limited = limited.astype(self.dtype)
        if limited.dtype != self.dtype:  # an integer tensor clamped with float bounds
            return core.Tensor(limited)
        return where(inside, self, core.Tensor(limited))

    clip = clamp

    # -- reductions --------------------------------------------------------------------
    def var(self, dim=None, unbiased=None, keepdim=False, correction=None):
        """The variance over `dim`, with Bessel's correction by default (as torch.var)."""
        correction = bessel("var", unbiased, correction)
        dims = dims_of("var", dim, self.ndim)
        count = math.prod(self.shape[d] for d in dims)
        centred = self - self.mean(dim=dims, keepdim=True)
        total = (centred * centred).sum(dim=dims, keepdim=keepdim)
        return total / (count - correction) if count - correction > 0 else total * math.nan

    def std(self, dim=None, unbiased=None, keepdim=False, correction=None):
        """The standard deviation over `dim`, sqrt of var (as torch.std)."""
        return self.var(dim, unbiased, keepdim, correction) ** 0.5

    def norm(self, p="fro", dim=None, keepdim=False):
        """The p-norm over `dim` (all elements by default): p = 2 (or "fro"), 1, inf, or
        any positive number. As PyTorch's, the 2-norm of a zero vector has gradient 0."""
        if self.dtype.kind != "f":
            raise RuntimeError(f"norm: expected a floating-point tensor, got {self.dtype}")
        dims = dims_of("norm", dim, self.ndim)
        if p in ("fro", 2, 2.0):
            squares = (self * self).sum(dim=dims, keepdim=keepdim)
            zero = squares._data == 0
            safe = where(zero, 1.0, squares)  # sqrt'(0) is infinite: keep 0 out of the power
            return where(zero, 0.0, safe ** 0.5)
        if p in (math.inf, float("inf")):
            return self.abs().amax(dim=dims, keepdim=keepdim)
        if not (isinstance(p, numbers.Real) and p > 0):
            raise ValueError(f"norm: p must be 'fro', inf or a number > 0, got {p!r}")
        if p == 1:
            return self.abs().sum(dim=dims, keepdim=keepdim)
        return (self.abs() ** p).sum(dim=dims, keepdim=keepdim) ** (1.0 / p)

    def amax(self, dim=None, keepdim=False):
        return self.max(axis=dims_of("amax", dim, self.ndim), keepdims=keepdim)

    def argmax(self, dim=None, keepdim=False):
        """The index of the largest element (of the flattened tensor, or along `dim`)."""
        xp = backend.xp_of(self._data)
        if dim is None:
            return core.Tensor(backend.as_array(xp.argmax(self._data), xp).astype(np.int64))
        dim = core.check_dim("argmax", dim, self.shape)
        return core.Tensor(backend.as_array(xp.argmax(self._data, axis=dim), xp).astype(
            np.int64)).reshape(*(1 if keepdim and i == dim else n
                                 for i, n in enumerate(self.shape) if keepdim or i != dim))

    def min(self, dim=None, keepdim=False):
        """The smallest element; with dim, a (values, indices) pair, as torch.min."""
        if self.dtype.kind in "bu":  # -x would wrap around: computed as int64 (no gradient)
            low = self.to(np.int64).min(dim, keepdim)
            return low.to(self.dtype) if dim is None else \
                MinResult(low.values.to(self.dtype), low.indices)
        if dim is None:
            return -(-self).max()
        values, indices = (-self).max(dim, keepdim)  # the smallest is the largest of -x
        return MinResult(-values, indices)

    def t(self):
        """The transpose of a matrix (as torch.Tensor.t; a vector is its own)."""
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is "
                               f"{self.ndim}D")
        return self.transpose(0, 1) if self.ndim == 2 else self

    # -- comparisons as methods (bool tensors, no gradient) --------------------------------
    def eq(self, other):
        return self == other

    def ne(self, other):
        return self != other

    def lt(self, other):
        return self < other

    def le(self, other):
        return self <= other

    def gt(self, other):
        return self > other

    def ge(self, other):
        return self >= other

    # -- new tensors like this one (its dtype and device) ---------------------------------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False):
        from .creation import tensor  # noqa: PLC0415 - creation.py imports tensor.py

        return tensor(data, dtype=self.dtype if dtype is None else dtype,
                      device=self.device if device is None else device,
                      requires_grad=requires_grad)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False):
        from .functions import full  # noqa: PLC0415 - functions.py imports tensor.py

        return full(size, fill_value, dtype=self.dtype if dtype is None else dtype,
                    device=self.device if device is None else device,
                    requires_grad=requires_grad)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return self.new_full(size, 0, dtype, device, requires_grad)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False):
        size = tuple(size[0]) if len(size) == 1 and isinstance(size[0], (tuple, list)) else size
        return self.new_full(size, 1, dtype, device, requires_grad)

    # -- devices and dtypes --------------------------------------------------------------
    is_cuda = property(lambda self: self.device == "cuda")
    # PyTorch's other accelerators, which minigan never runs on (pytorch/examples' dcgan
    # asks `input.is_cuda or input.is_xpu`)
    is_xpu = is_mps = property(lambda self: False)

    def cpu(self):
        return self.to("cpu")

    def cuda(self, device=None):
        return self.to("cuda" if device is None else device)

    def long(self):
        return self.to(np.int64)

    def int(self):
        return self.to(np.int32)

    def bool(self):
        return self.to(np.bool_)

    def type(self, dtype=None):
        """With no argument, the legacy type name ("minigan.FloatTensor"); with a legacy type
        (minigan.FloatTensor, "torch.cuda.LongTensor") or a dtype, this tensor converted to it
        (as torch.Tensor.type)."""
        from . import legacy  # noqa: PLC0415 - legacy.py builds on Tensor

        if dtype is None:
            return legacy.type_name(self)
        dtype, device = legacy.dtype_and_device(dtype, self.device)
        return self.to(device, dtype)

    def type_as(self, other):
        return self.to(other.device, other.dtype)

    def tolist(self):
        return self.numpy().tolist()


MinResult = collections.namedtuple("min", ["values", "indices"])  # as torch.return_types.min


def bessel(name, unbiased, correction):
    """The correction subtracted from the count: 1 by default, 0 with unbiased=False."""
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: give unbiased or correction, not both")
    if correction is not None:
        return correction
    return 0 if unbiased is False else 1

