"""Tensor: one array (numpy on "cpu", cupy on "cuda") plus what autograd needs.

A Tensor made by an op remembers that op (`_ctx`, a Function), and the op remembers
where each input's gradient goes: the op that computed that input, or the input itself
if it is a leaf (`fn.parents`). Ops and leaves form the graph. `backward()` (the walk is
in autograd.py) orders it so that every node comes after all nodes computed from it, then
walks it from the output back, asking each op for the gradients of its inputs and summing
the gradients that meet at a node used more than once (the multivariate chain rule).
First read minigan/textbook/backward.py: the same walk without the memory care, tested equal.
"""
import math

import numpy as np

from . import autograd, backend, dtypes
from .ops import cast
from .ops import elementwise as ew
from .ops import matmul as mm
from .ops import shape as sh
from .tensor_api import devices
from .tensor_api.inplace import InPlaceMethods
from .tensor_api.methods import TorchMethods
from .tensor_api.reductions import ReductionMethods
from .validators import (check_dim, check_matmul_dtypes, check_matmul_shapes,
                         check_not_bool, is_int, summary)

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


class Size(tuple):
    """A shape, as torch.Size: what Tensor.size() returns. A tuple; its one difference is
    that a legacy constructor reads it as sizes, not as data (FloatTensor(x.size()))."""

    def numel(self):
        return math.prod(self)

    def __repr__(self):
        return f"minigan.Size({list(self)})"


class Tensor(ReductionMethods, TorchMethods, InPlaceMethods):
    """An n-dimensional array that can record the operations applied to it.

    The core is here; the rest of torch.Tensor's methods are in tensor_api/: reductions.py
    (sum, mean, max, ...), methods.py (squeeze, expand, norm, std, type, ...) and
    inplace.py (fill_, mul_, clamp_, ...)."""

    __array_ufunc__ = None  # numpy_array + tensor calls Tensor.__radd__, not numpy's loop
    __hash__ = object.__hash__  # == compares elementwise, so hash by identity

    def __init__(self, data, requires_grad=False):
        if type(data) is not np.ndarray and not isinstance(data, np.generic) \
                and not backend.is_cupy(data):  # (the common case first: one type check)
            data = legacy_data(data)  # Tensor([1., 2.]), as torch.Tensor's constructor
        self._data = data  # the raw numpy or cupy array (Tensor.data is a Tensor on it)
        # [how many times the storage was modified in place]: one list shared by the views
        # of one storage and by detach(), so a change through any of them is seen by all
        self._version_counter = [0]
        self.grad = None  # a Tensor of the same shape after backward(), for leaves
        self.requires_grad = requires_grad
        self._ctx = None  # the Function that produced this tensor; None for a leaf

    # -- attributes --------------------------------------------------------------------
    # (read _data, not the data property: these run a few times per op)
    shape = property(lambda self: self._data.shape)
    ndim = property(lambda self: self._data.ndim)
    dtype = property(lambda self: self._data.dtype)
    device = property(lambda self: backend.device_of(self._data))
    is_leaf = property(lambda self: self._ctx is None)
    T = property(lambda self: self.permute(*reversed(range(self.ndim))))

    def numel(self):
        return self._data.size

    def dim(self):
        return self._data.ndim

    def size(self, dim=None):
        """The shape as a tuple, or its length along `dim` (as torch.Tensor.size)."""
        if dim is None:
            return Size(self._data.shape)
        if self.ndim == 0:  # as PyTorch: check_dim would let a 0-d tensor have dimension 0
            raise IndexError(f"size: dimension specified as {dim} but tensor has no dimensions")
        return self._data.shape[check_dim("size", dim, self._data.shape)]

    def __len__(self):
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return len(self._data)

    def __bool__(self):
        """The truth of a one-element tensor (`if loss < 0.5:`), as in PyTorch; more or fewer
        elements are ambiguous (`assert a == b` must not pass because a is non-empty)."""
        if self._data.size != 1:
            what = "no values" if self._data.size == 0 else "more than one value"
            raise RuntimeError(f"Boolean value of Tensor with {what} is ambiguous (shape "
                               f"{self.shape}); use .any() or .all()")
        return bool(self._data.item())

    def __repr__(self):
        extra = "" if self.device == "cpu" else ", device='cuda'"
        if self.dtype not in (float32, np.int64, np.bool_):  # as PyTorch, the others named
            extra += f", dtype={self.dtype}"
        extra += ", requires_grad=True" if self.requires_grad else ""
        return f"tensor({np.array2string(self.numpy(), separator=', ')}{extra})"

    # -- autograd ----------------------------------------------------------------------
    def backward(self, grad=None, retain_graph=None, create_graph=False):
        """Accumulate d(self)/d(leaf), weighted by `grad`, into every leaf's .grad (the walk
        is autograd.backward). create_graph=True records the backward pass, so that the
        gradients can be differentiated again; retain_graph defaults to create_graph."""
        autograd.backward(self, grad, retain_graph=retain_graph, create_graph=create_graph)

    # The version counter: saved tensors remember it, and backward refuses to use a tensor
    # modified in place since (an in-place method, an optimizer's step, load_state_dict,
    # `t.data = ...`), as PyTorch does. Views and detach() share their base's counter.
    _base = None  # for a view (reshape, slice, permute, ...): the tensor it views, as PyTorch

    @property
    def _version(self):
        return self._version_counter[0]

    @_version.setter
    def _version(self, value):
        self._version_counter[0] = value

    def _view_of(self, base):
        """Mark self as a view of `base` if it shares base's memory (reshape and slicing
        give views, advanced indexing copies): one version counter, as PyTorch's views."""
        if backend.xp_of(self._data).may_share_memory(self._data, base._data):
            self._version_counter = base._version_counter
            self._base = base if base._base is None else base._base
        return self

    @property
    def data(self):
        """As PyTorch's: a Tensor on the same storage, cut from the graph, with its own
        version counter (writes through it, such as `p.data.clamp_(-c, c)`, are not seen by
        autograd)."""
        return Tensor(self._data)

    @data.setter
    def data(self, value):
        """`t.data = other` makes t hold other's storage (shapes and dtypes may change). Unlike
        PyTorch, which would silently use the new values in a pending backward, minigan
        counts this as an in-place change (a backward through the old values then raises)."""
        if not isinstance(value, Tensor):
            raise TypeError(f"Tensor.data: assign a Tensor, got {type(value).__name__}")
        self._data = value._data
        self._version += 1

    def detach(self):
        """The same storage, cut from the graph (no copy), sharing this tensor's version
        counter: an in-place change through either is seen by a graph that saved the other."""
        out = Tensor(self._data)
        out._version_counter = self._version_counter
        return out

    def requires_grad_(self, requires_grad=True):
        """Set requires_grad in place, as torch.Tensor.requires_grad_ (leaves only)."""
        if self._ctx is not None and not requires_grad:
            raise RuntimeError("you can only change requires_grad flags of leaf variables. If "
                               "you want to use a computed variable in a subgraph that doesn't "
                               "require differentiation use var_no_grad = var.detach().")
        if requires_grad and self.dtype.kind not in "fc":
            raise TypeError(f"only floating-point tensors can require grad, got dtype {self.dtype}")
        self.requires_grad = requires_grad
        return self

    def __array__(self, dtype=None, copy=None):
        """np.asarray(t) on a CPU tensor, as PyTorch allows (a GPU tensor must come back
        with .cpu() first)."""
        if self.device != "cpu":
            raise TypeError("can't convert cuda tensor to numpy. Use Tensor.cpu() to copy "
                            "the tensor to host memory first.")
        array = self._data if dtype is None else self._data.astype(dtype, copy=False)
        return array.copy() if copy and array is self._data else array

    # -- host and device -----------------------------------------------------------------
    def numpy(self):
        """The values as a host numpy.ndarray (shares memory on the CPU)."""
        return backend.asnumpy(self._data)

    def item(self):
        if self._data.size != 1:
            raise ValueError(f"item(): only a one-element tensor converts to a number, "
                             f"got shape {self.shape}")
        return self._data.item()

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def to(self, device=None, dtype=None, non_blocking=False, copy=False):
        """This tensor on `device` ("cpu", "cuda" or a minigan.device) and in `dtype`, as
        torch.Tensor.to: `t.to("cuda")`, `t.to(minigan.float64)`, `t.to("cuda", "float64")`,
        `t.to(other)` (other's device and dtype); itself if nothing changes (unless
        copy=True). Both are differentiable: the gradient comes back to this tensor's device
        and dtype. non_blocking is accepted and has no effect."""
        if isinstance(device, Tensor):
            device, dtype = device.device, device.dtype if dtype is None else dtype
        elif dtype is None and device is not None and not is_device_name(device):
            device, dtype = None, device  # t.to(minigan.float64), as torch's t.to(dtype)
        out = self
        if dtype is not None:
            dtype = resolve_dtype(dtype)
            if dtype not in dtypes.SUPPORTED:
                raise TypeError(f"to: dtype {dtype} is not supported: expected one of "
                                f"{', '.join(d.name for d in dtypes.SUPPORTED)}")
            out = as_dtype(out, dtype)
        if device is not None:
            device = backend.check_device(device)
            out = out if device == out.device else sh.ToDevice.apply(out, device=device)
        return out.clone() if copy and out is self else out

    def float(self):
        """This tensor as float32 (as torch.Tensor.float)."""
        return as_dtype(self, np.dtype(np.float32))

    def double(self):
        """This tensor as float64 (as torch.Tensor.double)."""
        return as_dtype(self, np.dtype(np.float64))

    # -- shape -------------------------------------------------------------------------
    def reshape(self, *shape):
        shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
        if not all(is_int(n) for n in shape):
            raise TypeError(f"reshape: the shape must be ints, got {shape}")
        shape = tuple(int(n) for n in shape)
        known = math.prod(n for n in shape if n != -1)
        size = self._data.size
        unknown = -1 in shape
        if min(shape, default=0) < -1 or shape.count(-1) > 1 or \
                (unknown and (known == 0 or size % known)) or (not unknown and known != size):
            raise ValueError(f"reshape: cannot view a tensor of shape {self.shape} "
                             f"({size} elements) as shape {shape}")
        return sh.Reshape.apply(self, shape=shape)._view_of(self)  # a view where NumPy can

    view = reshape

    def flatten(self, start_dim=0):
        return self.reshape(*self.shape[:start_dim], -1)

    def permute(self, *dims):
        given = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        dims = tuple(check_dim("permute", d, self.shape) for d in given)
        if sorted(dims) != list(range(self.ndim)):
            raise ValueError(f"permute: {given} is not a permutation of the {self.ndim} "
                             f"dimensions of a tensor of shape {self.shape}")
        return sh.Permute.apply(self, dims=dims)._view_of(self)

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
            index = tuple(i._data if isinstance(i, Tensor) else i for i in index)
        elif isinstance(index, Tensor):
            index = index._data
        if sh.is_basic_index(index):  # ints and slices: a view of self, as in PyTorch
            items = index if isinstance(index, tuple) else (index,)
            if Ellipsis not in items:  # (w[0] of a vector: a 0-d view, not a NumPy scalar)
                index = items + (Ellipsis,)
            return sh.GetItem.apply(self, index=index)._view_of(self)
        return sh.GetItem.apply(self, index=index)

    # -- elementwise -------------------------------------------------------------------
    def exp(self):
        return ew.Exp.apply(self._as_float())

    def log(self):
        return ew.Log.apply(self._as_float())

    def _as_float(self):
        """Self, or for a bool or integer tensor its values as float32, as PyTorch promotes
        them for exp and log (such tensors never carry a gradient)."""
        return as_dtype(self, dtypes.float_dtype(self.dtype))

    def _operand(self, other, dtype=None):
        """other (a Tensor, a Python or NumPy number, an array) as a Tensor beside self: a
        number in `dtype` (by default the dtype promotion gives it beside self), an array as
        it is on self's device."""
        if isinstance(other, Tensor):
            return other
        xp = backend.xp_of(self._data)
        if dtypes.number_dtype(other) is not None:
            dtype = dtypes.result_type(self, other) if dtype is None else dtype
            if isinstance(other, int) and not -2 ** 63 <= other < 2 ** 63:
                raise OverflowError(f"the integer {other} does not fit in 64 bits")
            if dtype.kind == "f":
                return Tensor(xp.asarray(other, dtype=dtype))
            # via an int64 array, an integer wraps into a narrower dtype (uint8 + 300 adds
            # 44), as in PyTorch; NumPy would refuse it
            return Tensor(xp.asarray(other).astype(dtype))
        array = other if isinstance(other, (xp.ndarray, np.ndarray)) else xp.asarray(other)
        if array.dtype.kind not in NUMERIC_KINDS:
            raise TypeError(f"cannot combine a tensor with {type(other).__name__} "
                            f"{summary(other)} (dtype {array.dtype}): use numbers, arrays "
                            f"of numbers or tensors")
        # a raw array is a constant, like a number: it joins self on self's device
        return Tensor(backend.to_device(array, self.device))

    def _common_dtype(self, other, float_op=False):
        """The dtype of an op on self and other (a Tensor, number or array): PyTorch's
        promotion (dtypes.result_type); for a float op (true division) an integer or bool
        result becomes float32."""
        if isinstance(other, Tensor) and other.dtype == self.dtype:
            dtype = self.dtype  # the common case, decided without the promotion rule
        elif isinstance(other, (int, float)) and self.dtype.kind == "f":
            dtype = self.dtype  # a Python number never changes a float tensor's dtype
        else:
            dtype = dtypes.result_type(self, other)
        return dtypes.float_dtype(dtype) if float_op else dtype

    def _binary(self, op, other, reflected=False, float_op=False):
        """op on (self, other), or on (other, self) if reflected, in their common dtype.

        Both operands are cast to that dtype first (a number is made in it), so the op
        computes in one dtype; casts are recorded like any op, so each gradient comes back
        in its operand's own dtype."""
        if type(other) is Tensor and other._data.dtype == self._data.dtype and \
                (not float_op or self._data.dtype.kind == "f"):  # the common case:
            return op.apply(other, self) if reflected else op.apply(self, other)  # no casts
        dtype = self._common_dtype(other, float_op)
        a, b = as_dtype(self, dtype), as_dtype(self._operand(other, dtype), dtype)
        return op.apply(b, a) if reflected else op.apply(a, b)

    def __add__(self, other):
        return self._binary(ew.Add, other)

    def __radd__(self, other):
        return self._binary(ew.Add, other, reflected=True)

    def __sub__(self, other):
        return self._binary(ew.Sub, other)

    def __rsub__(self, other):
        return self._binary(ew.Sub, other, reflected=True)

    def __mul__(self, other):
        return self._binary(ew.Mul, other)

    def __rmul__(self, other):
        return self._binary(ew.Mul, other, reflected=True)

    def __truediv__(self, other):
        return self._binary(ew.Div, other, float_op=True)

    def __rtruediv__(self, other):
        return self._binary(ew.Div, other, reflected=True, float_op=True)

    def __pow__(self, other):
        check_not_bool("pow", self._common_dtype(other))
        return self._binary(ew.Pow, other)

    def __rpow__(self, other):
        check_not_bool("pow", self._common_dtype(other))
        return self._binary(ew.Pow, other, reflected=True)

    def __neg__(self):
        check_not_bool("neg", self.dtype, hint="; to invert a mask use mask == 0")
        return ew.Neg.apply(self)

    def __matmul__(self, other):
        other = self._operand(other)
        check_matmul_shapes("matmul", self.shape, other.shape)
        check_matmul_dtypes(self.dtype, other.dtype)
        return mm.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        other = self._operand(other)
        check_matmul_shapes("matmul", other.shape, self.shape)
        check_matmul_dtypes(other.dtype, self.dtype)
        return mm.MatMul.apply(other, self)

    # -- comparisons: no gradient, a bool tensor -----------------------------------------
    def _compare(self, other, op):
        try:  # compared in the promoted dtype, as PyTorch compares
            dtype = self._common_dtype(other)
            other = self._operand(other, dtype)
        except TypeError:  # Python then says "'<' not supported", or == falls back to `is`
            return NotImplemented
        return Tensor(op(self._data.astype(dtype, copy=False),
                         other._data.astype(dtype, copy=False)))

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


def as_dtype(t, dtype):
    """Tensor t in `dtype`: itself if already so, else a cast (differentiable)."""
    return t if t.dtype == dtype else cast.Cast.apply(t, dtype=dtype)


def is_device_name(value):
    """True for "cpu", "cuda", "cuda:N" (and for any string that is not a dtype's name, so
    that a wrong device name gets the device error)."""
    if isinstance(value, devices.device):
        return True
    if not isinstance(value, str):
        return False
    try:
        np.dtype(value)
    except TypeError:
        return True
    return False


def legacy_data(data):
    """The array of minigan.Tensor(data) for data that is not an array: a list or tuple
    of numbers as float32, as torch.Tensor([1, 2]) does."""
    if not isinstance(data, (list, tuple)):
        raise TypeError(f"Tensor(data): data must be an array or a list of numbers, got "
                        f"{type(data).__name__}; use minigan.tensor(data) for a tensor of a "
                        f"number or with a dtype, minigan.zeros(*shape) for a shape")
    from .creation import tensor  # noqa: PLC0415 - creation.py imports this file
    return tensor(data, dtype=np.float32)._data


def all_if_empty(axis):
    """sum's and mean's axis: an empty tuple or list means every dimension, as PyTorch's
    dim=() (NumPy's axis=() reduces none)."""
    return None if isinstance(axis, (tuple, list)) and not axis else axis


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
    dtype = dtypes.result_type(*tensors)  # mixed dtypes promote, as in torch.cat
    return sh.Cat.apply(*(as_dtype(t, dtype) for t in tensors), axis=dim)
