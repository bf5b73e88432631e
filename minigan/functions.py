"""Functions beside the Tensor methods, as torch's: minigan.sum(x), minigan.full(...), ...

PyTorch code writes `torch.mean(x)` as often as `x.mean()`; these functions are the methods
(or nn.functional's ops) called as functions, and the creation functions that take a
shape or another tensor (full, full_like, zeros_like, randn_like, arange, ...). Each
follows PyTorch's argument names and dtypes; none is a new op.
"""
import math
import numbers

import numpy as np

from . import backend
from .creation import RANDOM_DTYPES, _check_dtype, _check_shape, _finish, rand, randn, tensor
from .nn import functional as F
from .ops.elementwise import where as _where
from .tensor import Tensor, cat, resolve_dtype


def _tensor_arg(name, x):
    if not isinstance(x, Tensor):
        raise TypeError(f"minigan.{name}: expected a minigan.Tensor, got {type(x).__name__}")
    return x


# -- the methods as functions ---------------------------------------------------------------
def sum(input, dim=None, keepdim=False, *, dtype=None):  # noqa: A001 - torch's name
    return _tensor_arg("sum", input).sum(dim, keepdim, dtype=dtype)


def mean(input, dim=None, keepdim=False, *, dtype=None):
    return _tensor_arg("mean", input).mean(dim, keepdim, dtype=dtype)


def max(input, dim=None, keepdim=False):  # noqa: A001
    return _tensor_arg("max", input).max(dim, keepdim)


def std(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _tensor_arg("std", input).std(dim, unbiased, keepdim, correction)


def var(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _tensor_arg("var", input).var(dim, unbiased, keepdim, correction)


def norm(input, p="fro", dim=None, keepdim=False):
    return _tensor_arg("norm", input).norm(p, dim, keepdim)


def exp(input):
    return _tensor_arg("exp", input).exp()


def log(input):
    return _tensor_arg("log", input).log()


def sqrt(input):
    return _tensor_arg("sqrt", input).sqrt()


def abs(input):  # noqa: A001
    return _tensor_arg("abs", input).abs()


def pow(input, exponent):  # noqa: A001
    return input ** exponent  # (a number ** a Tensor works too: Tensor.__rpow__)


def clamp(input, min=None, max=None):  # noqa: A002
    return _tensor_arg("clamp", input).clamp(min, max)


clip = clamp


def argmax(input, dim=None, keepdim=False):
    return _tensor_arg("argmax", input).argmax(dim, keepdim)


tanh, sigmoid, relu = F.tanh, F.sigmoid, F.relu


def add(input, other, *, alpha=1):
    """input + alpha * other (as torch.add)."""
    return input + (other if alpha == 1 else other * alpha)


def sub(input, other, *, alpha=1):
    return input - (other if alpha == 1 else other * alpha)


def mul(input, other):
    return input * other


def div(input, other):
    return input / other


def matmul(input, other):
    return input @ other


def mm(input, mat2):
    """The product of two matrices (2-D only, as torch.mm)."""
    if _tensor_arg("mm", input).ndim != 2 or _tensor_arg("mm", mat2).ndim != 2:
        raise RuntimeError(f"mm: expected two matrices, got shapes {input.shape} and "
                           f"{mat2.shape}")
    return input @ mat2


def where(condition, input, other):
    """input where condition holds, else other (as torch.where; either may be a number)."""
    return _where(condition, input, other)


# -- shape ------------------------------------------------------------------------------
def reshape(input, shape):
    return _tensor_arg("reshape", input).reshape(shape)


def flatten(input, start_dim=0):
    return _tensor_arg("flatten", input).flatten(start_dim)


def squeeze(input, dim=None):
    return _tensor_arg("squeeze", input).squeeze(dim)


def unsqueeze(input, dim):
    return _tensor_arg("unsqueeze", input).unsqueeze(dim)


def transpose(input, dim0, dim1):
    return _tensor_arg("transpose", input).transpose(dim0, dim1)


def permute(input, dims):
    return _tensor_arg("permute", input).permute(dims)


def stack(tensors, dim=0):
    """The tensors (all of one shape) joined along a new dimension `dim` (as torch.stack)."""
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shapes = {_tensor_arg("stack", t).shape for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack expects each tensor to be equal size, got shapes "
                           f"{sorted(shapes)}")
    return cat([t.unsqueeze(dim) for t in tensors], dim)


def numel(input):
    return _tensor_arg("numel", input).numel()


def is_tensor(obj):
    return isinstance(obj, Tensor)


# -- making tensors ----------------------------------------------------------------------
def from_numpy(array):
    """A tensor sharing the NumPy array's memory, in its dtype (as torch.from_numpy)."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected a numpy.ndarray, got {type(array).__name__}")
    return Tensor(array)


def _fill_dtype(value, dtype):
    """full's dtype: the given one, or the value's as PyTorch infers it (bool, int64,
    float32)."""
    if dtype is not None:
        return resolve_dtype(dtype)
    if isinstance(value, (bool, np.bool_)):
        return np.dtype(np.bool_)
    if isinstance(value, numbers.Integral):
        return np.dtype(np.int64)
    return np.dtype(np.float32)


def full(size, fill_value, *, dtype=None, device=None, requires_grad=False):
    """A tensor of shape `size` holding `fill_value` everywhere (as torch.full)."""
    shape = _check_shape("full", tuple(size) if isinstance(size, (tuple, list)) else (size,))
    dtype = _check_dtype("full", _fill_dtype(fill_value, dtype))
    return _finish(backend.xp_for(device).full(shape, fill_value, dtype=dtype), requires_grad)


def _like(name, input, dtype, device):
    """The shape, dtype and device of a *_like function's result."""
    _tensor_arg(name, input)
    return input.shape, (input.dtype if dtype is None else resolve_dtype(dtype)), \
        (input.device if device is None else device)


def full_like(input, fill_value, *, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like("full_like", input, dtype, device)
    return full(shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def zeros_like(input, *, dtype=None, device=None, requires_grad=False):
    return full_like(input, 0, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(input, *, dtype=None, device=None, requires_grad=False):
    return full_like(input, 1, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    """As torch.empty, but zeros: minigan never hands out uninitialised memory."""
    from .creation import zeros  # noqa: PLC0415

    return zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(input, *, dtype=None, device=None, requires_grad=False):
    return zeros_like(input, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(input, *, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like("randn_like", input, dtype, device)
    return randn(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def rand_like(input, *, dtype=None, device=None, requires_grad=False):
    shape, dtype, device = _like("rand_like", input, dtype, device)
    return rand(*shape, dtype=dtype, device=device, requires_grad=requires_grad)


def randint(low, high=None, size=None, *, dtype=None, device=None, generator=None):
    """Integers drawn uniformly from [low, high) (as torch.randint; randint(high, size)
    draws from [0, high)), int64 by default."""
    if size is None:
        low, high, size = 0, low, high
    shape = _check_shape("randint", tuple(size))
    if not low < high:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    generator = generator or backend.default_generator(device)
    values = generator.integers(low, high, shape)
    return Tensor(values if dtype is None else values.astype(resolve_dtype(dtype)))


def arange(start, end=None, step=1, *, dtype=None, device=None, requires_grad=False):
    """start, start + step, ... below end (as torch.arange): int64 when every bound is an
    integer, else float32."""
    if end is None:
        start, end = 0, start
    if dtype is None:
        whole = all(isinstance(v, numbers.Integral) for v in (start, end, step))
        dtype = np.int64 if whole else np.float32
    if step == 0 or not math.isfinite(float(start)) or not math.isfinite(float(end)):
        raise RuntimeError(f"arange: step must be nonzero and the bounds finite, got "
                           f"{start}, {end}, {step}")
    values = np.arange(start, end, step, dtype=np.float64 if np.dtype(dtype).kind == "f"
                       else np.int64).astype(dtype)
    return tensor(values, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, dtype=None, device=None, requires_grad=False):
    values = np.linspace(start, end, steps)
    return tensor(values, dtype=dtype or np.float32, device=device, requires_grad=requires_grad)


def eye(n, m=None, *, dtype=None, device=None, requires_grad=False):
    return tensor(np.eye(n, m), dtype=dtype or np.float32, device=device,
                  requires_grad=requires_grad)


def normal(mean, std, size, *, generator=None, dtype=None, device=None):
    """Draws from N(mean, std^2) of shape `size` (numbers for mean and std)."""
    if dtype is not None and resolve_dtype(dtype) not in RANDOM_DTYPES:
        raise TypeError(f"normal: dtype must be float32 or float64, got {dtype}")
    return randn(*size, dtype=dtype, device=device, generator=generator) * std + mean


def set_default_dtype(dtype):
    """Only float32 is minigan's default (as PyTorch's); float64 must be asked for."""
    if resolve_dtype(dtype) != np.float32:
        raise NotImplementedError("minigan's default dtype is float32 and cannot be changed; "
                                  "pass dtype= or call .double()")
