"""Making tensors: from data, filled with zeros or ones, or drawn at random.

As in PyTorch, floating-point data defaults to float32, and random draws come from
the seeded generator of the device they are made on (`minigan.manual_seed`).
"""
import contextlib
import math
import sys
import threading

import numpy as np

from . import backend
from .dtypes import DEFAULT_DTYPE, infer_dtype
from .tensor import NUMERIC_KINDS, Tensor, resolve_dtype
from .validators import is_int

RANDOM_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))  # what the generators draw


def _finish(array, requires_grad):
    t = Tensor(array)
    return t.requires_grad_() if requires_grad else t


class ElementLimitError(MemoryError):
    """More elements were asked for inside element_limit() than it allows."""


_limit = threading.local()  # .left: elements still allowed in this thread (None: no limit)


@contextlib.contextmanager
def element_limit(n):
    """Inside this block, zeros/ones/randn/rand may make at most n elements in all (this
    thread); asking for more raises ElementLimitError before any memory is taken.
    store/checkpoint.py builds a file's models this way, bounded by the weights the file holds."""
    previous = getattr(_limit, "left", None)
    _limit.left = n
    try:
        yield
    finally:
        _limit.left = previous


def _check_shape(name, shape):
    """`*shape` given as ints or as one tuple, each a non-negative int."""
    shape = tuple(shape[0]) if len(shape) == 1 and isinstance(shape[0], (tuple, list)) else shape
    for n in shape:
        if not is_int(n) or n < 0:
            raise ValueError(f"{name}: shape {shape} must be non-negative integers")
    shape = tuple(int(n) for n in shape)
    if math.prod(shape) * 8 > sys.maxsize:  # 8: the largest itemsize minigan uses
        raise ValueError(f"{name}: shape {shape} has more elements than an array can hold")
    left = getattr(_limit, "left", None)
    if left is not None:
        _limit.left = left - math.prod(shape)
        if _limit.left < 0:
            raise ElementLimitError(f"{name}: shape {shape} goes beyond the element limit")
    return shape


def _check_dtype(name, dtype, allowed=None):
    """The dtype to make (float32 by default): a number type, or one of `allowed`."""
    dtype = resolve_dtype(dtype) or DEFAULT_DTYPE
    if allowed is not None and dtype not in allowed:
        raise TypeError(f"{name}: dtype must be float32 or float64, got {dtype}")
    if dtype.kind not in NUMERIC_KINDS:
        raise TypeError(f"{name}: dtype {dtype} is not supported: minigan tensors hold "
                        f"floats, integers or bools")
    return dtype


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of `data` (as torch.tensor).

    Python floats become float32, ints int64; arrays and NumPy scalars keep their dtype
    unless `dtype` is given; a list mixing them takes the dtype they promote to
    (dtypes.infer_dtype), as in PyTorch.
    """
    device = backend.check_device(device if device is not None else
                                  (data.device if isinstance(data, Tensor) else None))
    if isinstance(data, Tensor):
        data = data._data
    given = type(data).__name__  # named in the errors below, before data becomes an array
    dtype = resolve_dtype(dtype)
    try:
        if dtype is None and not hasattr(data, "dtype"):
            array = np.asarray(data)
            inferred = infer_dtype(data) if isinstance(data, (list, tuple)) and \
                array.dtype.kind in NUMERIC_KINDS else None
            dtype = inferred or (DEFAULT_DTYPE if array.dtype == np.float64 else array.dtype)
            data = array
        if backend.is_cupy(data) or device == "cuda":
            xp = backend.xp_for(device)
            array = xp.array(backend.to_device(data, device), dtype=dtype, copy=True)
        else:
            array = np.array(data, dtype=dtype, copy=True)
    except (ValueError, OverflowError) as err:  # ragged lists, "abc" as float, 1000 as int8
        raise ValueError(f"tensor: cannot make a tensor from {given} data: {err}") from None
    except TypeError as err:  # None as an int
        raise TypeError(f"tensor: cannot make a tensor from {given} data: {err}") from None
    if array.dtype.kind not in NUMERIC_KINDS:
        what = ("objects that are not numbers, or integers beyond 64 bits" if array.dtype == object
                else f"dtype {array.dtype}")
        raise TypeError(f"tensor: cannot make a tensor from {given} data ({what}): minigan "
                        f"tensors hold floats, integers or bools")
    return _finish(array, requires_grad)


def zeros(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.xp_for(device)
    array = xp.zeros(_check_shape("zeros", shape), dtype=_check_dtype("zeros", dtype))
    return _finish(array, requires_grad)


def ones(*shape, dtype=None, device=None, requires_grad=False):
    xp = backend.xp_for(device)
    array = xp.ones(_check_shape("ones", shape), dtype=_check_dtype("ones", dtype))
    return _finish(array, requires_grad)


def randn(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Standard normal draws, from `generator` or the device's default one."""
    shape, dtype = _check_shape("randn", shape), _check_dtype("randn", dtype, RANDOM_DTYPES)
    generator = generator or backend.default_generator(device)
    array = generator.normal(shape, dtype)
    return _finish(array, requires_grad)


def rand(*shape, dtype=None, device=None, requires_grad=False, generator=None):
    """Uniform draws in [0, 1), from `generator` or the device's default one."""
    shape, dtype = _check_shape("rand", shape), _check_dtype("rand", dtype, RANDOM_DTYPES)
    generator = generator or backend.default_generator(device)
    array = generator.uniform(shape, dtype)
    return _finish(array, requires_grad)
