"""Making tensors: from data, filled with zeros or ones, or drawn at random.

As in PyTorch, floating-point data defaults to float32, and random draws come from
the seeded generator of the device they are made on (`minigan.manual_seed`).
"""
import numpy as np

from . import backend
from .tensor import Tensor, resolve_dtype

DEFAULT_DTYPE = np.dtype(np.float32)


def _finish(array, requires_grad):
    t = Tensor(array)
    return t.requires_grad_() if requires_grad else t


def _check_shape(name, shape):
    """`*shape` given as ints or as one tuple, each a non-negative int."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    for n in shape:
        if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
            raise ValueError(f"{name}: shape {shape} must be non-negative integers")
    return tuple(int(n) for n in shape)


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (as torch.tensor).

    Python floats become float32, arrays keep their dtype unless `dtype` is given.
    """
    device = backend.check_device(device if device is not None else
                                  (data.device if isinstance(data, Tensor) else None))
    if isinstance(data, Tensor):
        data = data.data
    given = type(data).__name__  # named in the error below, before data becomes an array
    dtype = resolve_dtype(dtype)
    if dtype is None and not hasattr(data, "dtype"):
        array = np.asarray(data)
        dtype = DEFAULT_DTYPE if array.dtype == np.float64 else array.dtype
        data = array
    if backend.is_cupy(data) or device == "cuda":
        xp = backend.xp_for(device)
        array = xp.array(backend.to_device(data, device), dtype=dtype, copy=True)
    else:
        array = np.array(data, dtype=dtype, copy=True)
    if array.dtype == object:
        raise TypeError(f"tensor: cannot make a tensor from {given} data")
    return _finish(array, requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.xp_for(device)
    array = xp.zeros(_check_shape("zeros", shape), dtype=resolve_dtype(dtype) or DEFAULT_DTYPE)
    return _finish(array, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.xp_for(device)
    array = xp.ones(_check_shape("ones", shape), dtype=resolve_dtype(dtype) or DEFAULT_DTYPE)
    return _finish(array, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal draws, from `generator` or the device's default one."""
    generator = generator or backend.default_generator(device)
    array = generator.normal(_check_shape("randn", shape), resolve_dtype(dtype) or DEFAULT_DTYPE)
    return _finish(array, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform draws in [0, 1), from `generator` or the device's default one."""
    generator = generator or backend.default_generator(device)
    array = generator.uniform(_check_shape("rand", shape), resolve_dtype(dtype) or DEFAULT_DTYPE)
    return _finish(array, requires_grad)
