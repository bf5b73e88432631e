"""Tensor: one array (numpy on "cpu", cupy on "cuda") plus what autograd needs.

A Tensor made by an op remembers that op (`_ctx`, a Function), and the op remembers
where each input's gradient goes: the op that computed that input, or the input itself
if it is a leaf (`fn.parents`). Ops and leaves form the graph. `backward()` orders it so
that every node comes after all nodes computed from it, then walks it from the output
back, asking each op for the gradients of its inputs and summing the gradients that
meet at a node used more than once (the multivariate chain rule).
First read minigan/textbook/backward.py: the same walk without the memory care, tested equal.
"""
import math
import numbers

import numpy as np

from . import autograd, backend
from .ops import elementwise as ew
from .ops import matmul as mm
from .ops import reduce as red
from .ops import shape as sh

float32, float64 = np.float32, np.float64  # minigan.float32 is numpy's: one dtype system
NUMERIC_KINDS = "biuf"  # the dtypes a tensor may hold: bool, signed and unsigned ints, floats


def resolve_dtype(dtype):
    """None, a numpy dtype or type, or a name such as "float32", as a numpy dtype."""
    if dtype is None:
        return None
    if isinstance(dtype, Tensor):
        return dtype.dtype
    try:
        return np.dtype(dtype)
    except TypeError:
        raise TypeError(f"unknown dtype {dtype!r}: expected e.g. 'float32' or 'float64'") from None


def is_int(value):
    """A Python or NumPy integer, but not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value):
    """A real number (np.float32 too), not a bool, neither NaN nor infinite (nor an int too
    large to be a float)."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return False
    try:
        return math.isfinite(value)
    except OverflowError:  # math.isfinite(10 ** 400)
        return False


def check_dim(name, dim, shape):
    """A dimension of a tensor of `shape` (negatives count from the end) as an int >= 0.

    IndexError when out of range, as PyTorch's "Dimension out of range"; a 0-d tensor
    accepts 0 and -1, as in PyTorch."""
    if not is_int(dim):
        raise TypeError(f"{name}: a dimension must be an int, got {dim!r}")
    if not -max(len(shape), 1) <= dim < max(len(shape), 1):
        raise IndexError(f"{name}: dimension {dim} is out of range for a tensor of shape {shape}")
    return int(dim) % max(len(shape), 1)


class Tensor:
    """An n-dimensional array that can record the operations applied to it."""

    __array_ufunc__ = None  # numpy_array + tensor calls Tensor.__radd__, not numpy's loop
    __hash__ = object.__hash__  # == compares elementwise, so hash by identity

    def __init__(self, data, requires_grad=False):
        self._data = data  # the raw numpy or cupy array (Tensor.data)
        self._version = 0  # how many times it was modified in place (see Tensor.data)
        self.grad = None  # a Tensor of the same shape after backward(), for leaves
        self.requires_grad = requires_grad
        self._ctx = None  # the Function that produced this tensor; None for a leaf

    # -- attributes --------------------------------------------------------------------
    shape = property(lambda self: self.data.shape)
    ndim = property(lambda self: self.data.ndim)
    dtype = property(lambda self: self.data.dtype)
    device = property(lambda self: backend.device_of(self.data))
    is_leaf = property(lambda self: self._ctx is None)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def numel(self):
        return self.data.size

    def __len__(self):
        return len(self.data)

    def __repr__(self):
        extra = "" if self.device == "cpu" else ", device='cuda'"
        extra += ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({np.array2string(self.numpy(), separator=', ')}{extra})"

    # -- autograd ----------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf), weighted by `grad`, into every leaf's .grad (the walk
        is autograd.backward). create_graph=True records the backward pass, so that the
        gradients can be differentiated again; retain_graph defaults to create_graph."""
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # The version counter: saved tensors remember it, and backward refuses to use a tensor
    # modified in place since (an optimizer's step, or `t.data = ...`, which `p.data -= g`
    # also is), as PyTorch does.
    @property
    def data(self):
        return self._data

    @data.setter
    def data(self, array):
        self._data = array
        self._version += 1

    def detach(self):
        """The same data, cut from the graph (no copy)."""
        return Tensor(self.data)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    # -- host and device -----------------------------------------------------------------
    def numpy(self):
        """The values as a host numpy.ndarray (shares memory on the CPU)."""
        return backend.asnumpy(self.data)

    def item(self):
        if self.data.size != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a number, "
                             f"got shape {self.shape}")
        return self.data.item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def to(self, device):
        """This tensor on `device` ("cpu" or "cuda"); itself if already there."""
        device = backend.check_device(device)
        return self if device == self.device else sh.ToDevice.apply(self, device=device)

    # -- shape -------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if not all(is_int(n) for n in shape):
            raise TypeError(f"reshape: the shape must be ints, got {shape}")
        shape = tuple(int(n) for n in shape)
        known = math.prod(n for n in shape if n != -1)
        size = self.data.size
        unknown = -1 in shape
        if min(shape, default=0) < -1 or shape.count(-1) > 1 or \
                (unknown and (known == 0 or size % known)) or (not unknown and known != size):
            raise ValueError(f"reshape: cannot view a tensor of shape {self.shape} "
                             f"({size} elements) as shape {shape}")
        return sh.Reshape.apply(self, shape=shape)

    view = reshape

    def flatten(self, start_dim=0):
        return self.reshape(*self.shape[:start_dim], -1)

    def permute(self, *dims):
        given = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        dims = tuple(check_dim("permute", d, self.shape) for d in given)
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {given} is not a permutation of the {self.ndim} "
                             f"dimensions of a tensor of shape {self.shape}")
        return sh.Permute.apply(self, dims=dims)

    def transpose(self, dim0, dim1):
        """Swap two dimensions (as torch.Tensor.transpose)."""
        dim0, dim1 = (check_dim("transpose", d, self.shape) for d in (dim0, dim1))
        if self.ndim == 0:  # PyTorch lets a 0-d tensor "swap" dimension 0 with itself
            return self.permute()
        dims = list(range(self.ndim))
        dims[dim0], dims[dim1] = dims[dim1], dims[dim0]
        return self.permute(*dims)

    def __getitem__(self, index):
        if isinstance(index, tuple):
            index = tuple(i.data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index.data
        return sh.GetItem.apply(self, index=index)

    # -- reductions --------------------------------------------------------------------
    def _axes(self, name, axis, keepdims):
        """Check a reduction's arguments; the axes as red.normalize_axes returns them."""
        items = axis if isinstance(axis, (tuple, list)) else (axis,)
        if axis is not None and not all(is_int(a) for a in items):
            raise TypeError(f"{name}: axis must be None, an int or a tuple of ints, got {axis!r}")
        if not isinstance(keepdims, (bool, np.bool_)):
            raise TypeError(f"{name}: keepdims must be True or False, got {keepdims!r}")
        return red.normalize_axes(None if axis is None else tuple(int(a) for a in items),
                                  self.ndim)

    def sum(self, axis=None, keepdims=False):
        return red.Sum.apply(self, axes=self._axes("sum", axis, keepdims), keepdims=keepdims)

    def mean(self, axis=None, keepdims=False):
        return red.Mean.apply(self, axes=self._axes("mean", axis, keepdims), keepdims=keepdims)

    def max(self, axis=None, keepdims=False):
        axes = self._axes("max", axis, keepdims)
        if any(self.shape[a] == 0 for a in axes):  # a max of nothing has no value
            raise ValueError(f"max: cannot reduce a tensor of shape {self.shape} over an empty "
                             f"dimension (axis={axis})")
        return red.Max.apply(self, axes=axes, keepdims=keepdims)

    # -- elementwise -------------------------------------------------------------------
    def exp(self):
        return ew.Exp.apply(self._as_float())

    def log(self):
        return ew.Log.apply(self._as_float())

    def _as_float(self):
        """Self, or for a bool or integer tensor its values as float32, as PyTorch promotes
        them for exp and log (such tensors never carry a gradient)."""
        return self if self.dtype.kind == "f" else Tensor(self.data.astype(float32))

    def _operand(self, other):
        """A Python number or array as a Tensor beside self (same device, float dtype kept)."""
        if isinstance(other, Tensor):
            return other
        xp = backend.xp_of(self.data)
        if isinstance(other, (bool, int, float)):
            float_self = self.dtype.kind == "f"
            dtype = self.dtype if float_self else (float32 if isinstance(other, float) else None)
            return Tensor(xp.asarray(other, dtype=dtype))
        array = other if isinstance(other, (xp.ndarray, np.ndarray)) else xp.asarray(other)
        if array.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"cannot combine a tensor with {type(other).__name__} "
                            f"{summary(other)} (dtype {array.dtype}): use numbers, arrays "
                            f"of numbers or tensors")
        # a raw array is a constant, like a number: it joins self on self's device
        return Tensor(backend.to_device(array, self.device))

    def __add__(self, other):
        return ew.Add.apply(self, self._operand(other))

    def __radd__(self, other):
        return ew.Add.apply(self._operand(other), self)

    def __sub__(self, other):
        return ew.Sub.apply(self, self._operand(other))

    def __rsub__(self, other):
        return ew.Sub.apply(self._operand(other), self)

    def __mul__(self, other):
        return ew.Mul.apply(self, self._operand(other))

    def __rmul__(self, other):
        return ew.Mul.apply(self._operand(other), self)

    def __truediv__(self, other):
        return ew.Div.apply(self, self._operand(other))

    def __rtruediv__(self, other):
        return ew.Div.apply(self._operand(other), self)

    def __pow__(self, other):
        return ew.Pow.apply(self, self._operand(other))

    def __rpow__(self, other):
        return ew.Pow.apply(self._operand(other), self)

    def __neg__(self):
        return ew.Neg.apply(self)

    def __matmul__(self, other):
        other = self._operand(other)
        check_matmul_shapes("matmul", self.shape, other.shape)
        return mm.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        other = self._operand(other)
        check_matmul_shapes("matmul", other.shape, self.shape)
        return mm.MatMul.apply(other, self)

    # -- comparisons: no gradient, a bool tensor -----------------------------------------
    def _compare(self, other, op):
        try:
            other = self._operand(other)
        except TypeError:  # Python then says "'<' not supported", or == falls back to `is`
            return NotImplemented
        return Tensor(op(self.data, other.data))

    def __lt__(self, other):
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other):
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other):
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other):
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other):
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other):
        return self._compare(other, lambda a, b: a != b)


def summary(value, width=40):
    """repr(value), cut to `width` characters for an error message."""
    text = repr(value)
    return text if len(text) <= width else text[:width - 3] + "..."


def check_matmul_shapes(name, a_shape, b_shape):
    """A clear error for a @ b whose inner dimensions differ (instead of numpy's message)."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(f"{name}: both operands need at least 1 dimension, "
                         f"got shapes {a_shape} and {b_shape}")
    k_a = a_shape[-1]
    k_b = b_shape[0] if len(b_shape) == 1 else b_shape[-2]
    if k_a != k_b:
        raise ValueError(f"{name}: shapes {a_shape} and {b_shape} do not match: the last "
                         f"dimension of the first ({k_a}) must equal the "
                         f"{'only' if len(b_shape) == 1 else 'second-to-last'} "
                         f"dimension of the second ({k_b})")
    try:
        np.broadcast_shapes(a_shape[:-2], b_shape[:-2])
    except ValueError:
        raise ValueError(f"{name}: the batch dimensions of shapes {a_shape} and {b_shape} "
                         f"do not broadcast") from None


def cat(tensors, dim=0):
    """Join tensors along `dim` (as torch.cat); all other dimensions must match."""
    tensors = list(tensors)
    if not tensors:
        raise ValueError("cat: expected a non-empty list of tensors")
    for t in tensors:
        if not isinstance(t, Tensor):
            raise TypeError(f"cat: expected minigan.Tensors, got {type(t).__name__}")
    first = tensors[0].shape
    if not first:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated")
    dim = check_dim("cat", dim, first)
    for t in tensors[1:]:
        if t.ndim != len(first) or any(a != b for i, (a, b) in enumerate(zip(t.shape, first))
                                       if i != dim):
            raise ValueError(f"cat: shapes {first} and {t.shape} differ outside dimension {dim}")
    return sh.Cat.apply(*tensors, axis=dim)
