"""The stand-in's device array: a NumPy array behind a wall, as a CuPy array is.

`ndarray` holds a numpy array in `_a` and lets nothing reach it implicitly:
`numpy.asarray(x)` raises CuPy's TypeError (from `__array__`), a NumPy function called on
it raises too (`__array_function__`; real CuPy forwards the functions it implements, the
stand-in is stricter because minigan dispatches through `xp_of`), and an operation mixing
it with a host `numpy.ndarray` raises CuPy's "Unsupported type". NumPy scalars and Python
numbers mix freely, as on CuPy. Results are device arrays, never NumPy scalars: a
reduction returns a 0-d array, as CuPy's do. The only ways to the host are `get()` and
`cupy.asnumpy`, and what CuPy builds on them (`float()`, `bool()`, `.item()`, ...): each is
a counted device-to-host copy (see _transfers.py).
"""
import numbers

import numpy

from ._transfers import record

_SCALARS = (numbers.Number, numpy.generic)
_IMPLICIT = ("Implicit conversion to a NumPy array is not allowed. "
             "Please use `.get()` to construct a NumPy array explicitly.")


def unsupported(value):
    return TypeError(f"Unsupported type {type(value)}")


def wrap(value):
    """NumPy results as device arrays: arrays wrapped, NumPy scalars as 0-d arrays."""
    if isinstance(value, numpy.ndarray):
        return ndarray._of(value)
    if isinstance(value, numpy.generic):
        return ndarray._of(numpy.asarray(value))
    if isinstance(value, tuple):
        return tuple(wrap(v) for v in value)
    if isinstance(value, list):
        return [wrap(v) for v in value]
    return value


def unwrap(value, host=None):
    """The numpy arrays behind device arrays, through lists and tuples. A host array is
    refused (host=None) or copied to the device and counted (host = what is copying)."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, numpy.ndarray):
        if host is None:
            raise unsupported(value)
        record("host_to_device", host)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(unwrap(v, host) for v in value)
    return value


def operand(value):
    """An argument of an elementwise operation: a device array or a scalar, as CuPy takes."""
    if isinstance(value, ndarray):
        return value._a
    if isinstance(value, _SCALARS):
        return value
    raise unsupported(value)


def _index(key):
    """An index: device arrays unwrapped; host arrays and lists copied to the device; a
    boolean mask makes CuPy read the number of selected entries back (a counted copy)."""
    parts = key if isinstance(key, tuple) else (key,)
    out = []
    for part in parts:
        if isinstance(part, ndarray):
            if part.dtype == bool:
                record("device_to_host", "boolean mask index (the selected count)")
            part = part._a
        elif isinstance(part, (numpy.ndarray, list)):
            record("host_to_device", "host array as an index")
            part = numpy.asarray(part)
        out.append(part)
    return tuple(out) if isinstance(key, tuple) else out[0]


class ufunc:
    """A NumPy ufunc on device arrays (cupy.add, cupy.exp, ...)."""

    def __init__(self, np_ufunc):
        self._u = np_ufunc
        self.__name__ = np_ufunc.__name__
        self.nin, self.nout = np_ufunc.nin, np_ufunc.nout

    def __repr__(self):
        return f"<ufunc '{self.__name__}'>"

    def __call__(self, *args, out=None, **kwargs):
        arrays = [operand(a) for a in args]
        if out is None:
            return wrap(self._u(*arrays, **kwargs))
        outs = out if isinstance(out, tuple) else (out,)
        for o in outs:
            if not isinstance(o, ndarray):
                raise TypeError(f"output must be a cupy.ndarray, got {type(o)}")
        self._u(*arrays, out=tuple(o._a for o in outs), **kwargs)
        return out

    def reduce(self, array, axis=0, dtype=None, out=None, keepdims=False):
        result = self._u.reduce(operand(array), axis=axis, dtype=dtype, keepdims=keepdims)
        return _into(out, result)

    def accumulate(self, array, axis=0, dtype=None, out=None):
        return _into(out, self._u.accumulate(operand(array), axis=axis, dtype=dtype))

    def outer(self, a, b, **kwargs):
        return wrap(self._u.outer(operand(a), operand(b), **kwargs))

    def at(self, a, indices, b=None):
        """Unbuffered a[indices] op= b, repeated indices applied each time (CuPy 13)."""
        if not isinstance(a, ndarray):
            raise TypeError(f"ufunc.at needs a cupy.ndarray, got {type(a)}")
        args = () if b is None else (operand(b),)
        self._u.at(a._a, _index(indices), *args)


def _into(out, result):
    """result, or result written into `out` (which must be a device array) and out."""
    if out is None:
        return wrap(result)
    if not isinstance(out, ndarray):
        raise TypeError(f"output must be a cupy.ndarray, got {type(out)}")
    out._a[...] = result
    return out


def _binary(name, reflected=False):
    def method(self, other):
        if not isinstance(other, (ndarray, numpy.ndarray, list, tuple) + _SCALARS):
            return NotImplemented  # e.g. a minigan Tensor: its reflected operator runs
        fn = UFUNCS[name]
        return fn(other, self) if reflected else fn(self, other)
    return method


def _inplace(name):
    def method(self, other):
        UFUNCS[name](self, other, out=self)
        return self
    return method


def _unary(name):
    return lambda self: UFUNCS[name](self)


def _method(name, syncs=False):
    """An ndarray method run on the numpy array, its arguments and results on the device."""
    def method(self, *args, **kwargs):
        if syncs:
            record("device_to_host", f"ndarray.{name} (the output size)")
        out = kwargs.pop("out", None)
        result = getattr(self._a, name)(*unwrap(args), **unwrap(kwargs))
        return wrap(result) if out is None else _into(out, result)
    method.__name__ = name
    return method


class ndarray:
    """A CuPy array that lives in host memory but refuses to be used as one."""

    __slots__ = ("_a", "__weakref__")
    __module__ = "cupy"

    def __init__(self, shape, dtype=float, memptr=None, strides=None, order="C"):
        self._a = numpy.empty(shape, dtype=dtype, order=order)

    @classmethod
    def _of(cls, array):
        obj = cls.__new__(cls)
        obj._a = array
        return obj

    # --------------------------------------------------------------- the wall
    def __array__(self, dtype=None, copy=None):
        raise TypeError(_IMPLICIT)

    def __array_function__(self, func, types, args, kwargs):
        raise TypeError(f"numpy.{func.__name__} was called on a cupy.ndarray (a device "
                        "array): call the array module's function, xp_of(x)."
                        f"{func.__name__}, or copy to the host first with cupy.asnumpy")

    def __array_ufunc__(self, np_ufunc, method, *inputs, **kwargs):
        """NumPy scalars' operators (numpy.float32(2) * x) come here; CuPy runs them on
        the device, and refuses host arrays, as this does."""
        fn = UFUNCS.get(np_ufunc.__name__)
        if fn is None:
            raise TypeError(f"CuPy has no ufunc {np_ufunc.__name__}")
        return getattr(fn, method)(*inputs, **kwargs)

    # --------------------------------------------------------------- to the host (counted)
    def get(self, stream=None, order="C", out=None, blocking=True):
        record("device_to_host", "ndarray.get")
        host = numpy.array(self._a, order=order)
        if out is None:
            return host
        out[...] = host
        return out

    def set(self, array, stream=None):
        record("host_to_device", "ndarray.set")
        self._a[...] = array

    def item(self, *args):
        record("device_to_host", "ndarray.item")
        return self._a.item(*args)

    def tolist(self):
        record("device_to_host", "ndarray.tolist")
        return self._a.tolist()

    def __bool__(self):
        record("device_to_host", "bool(ndarray)")
        return bool(self._a)

    def __float__(self):
        record("device_to_host", "float(ndarray)")
        return float(self._a)

    def __int__(self):
        record("device_to_host", "int(ndarray)")
        return int(self._a)

    def __complex__(self):
        record("device_to_host", "complex(ndarray)")
        return complex(self._a)

    def __repr__(self):
        record("device_to_host", "repr(ndarray)")
        return repr(self._a)

    def __str__(self):
        record("device_to_host", "str(ndarray)")
        return str(self._a)

    def __format__(self, spec):
        record("device_to_host", "format(ndarray)")
        return format(self._a if self._a.ndim else self._a.item(), spec)

    def __reduce__(self):
        record("device_to_host", "pickle(ndarray)")
        return _rebuild, (self._a.copy(),)

    # --------------------------------------------------------------- attributes
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    flags = property(lambda self: self._a.flags)
    T = property(lambda self: ndarray._of(self._a.T))
    real = property(lambda self: ndarray._of(self._a.real))
    imag = property(lambda self: ndarray._of(self._a.imag))

    @property
    def base(self):
        return None if self._a.base is None else ndarray._of(self._a.base)

    @property
    def device(self):
        from .cuda import Device
        return Device(0)

    @property
    def data(self):
        from .cuda import MemoryPointer
        return MemoryPointer(self._a.ctypes.data)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        if self._a.ndim == 0:
            raise TypeError("iteration over a 0-d array")
        return (self[i] for i in range(len(self._a)))

    def __getitem__(self, key):
        return wrap(self._a[_index(key)])

    def __setitem__(self, key, value):
        self._a[_index(key)] = unwrap(value, host="host array written into a device array")

    def __copy__(self):
        return ndarray._of(self._a.copy())

    def __deepcopy__(self, memo):
        return ndarray._of(self._a.copy())

    __hash__ = None

    # --------------------------------------------------------------- arithmetic
    __add__, __radd__, __iadd__ = _binary("add"), _binary("add", True), _inplace("add")
    __sub__, __rsub__, __isub__ = (_binary("subtract"), _binary("subtract", True),
                                   _inplace("subtract"))
    __mul__, __rmul__, __imul__ = (_binary("multiply"), _binary("multiply", True),
                                   _inplace("multiply"))
    __truediv__, __rtruediv__, __itruediv__ = (_binary("true_divide"),
                                               _binary("true_divide", True),
                                               _inplace("true_divide"))
    __floordiv__, __rfloordiv__, __ifloordiv__ = (_binary("floor_divide"),
                                                  _binary("floor_divide", True),
                                                  _inplace("floor_divide"))
    __mod__, __rmod__, __imod__ = (_binary("remainder"), _binary("remainder", True),
                                   _inplace("remainder"))
    __pow__, __rpow__, __ipow__ = _binary("power"), _binary("power", True), _inplace("power")
    __matmul__, __rmatmul__ = _binary("matmul"), _binary("matmul", True)
    __and__, __rand__, __iand__ = (_binary("bitwise_and"), _binary("bitwise_and", True),
                                   _inplace("bitwise_and"))
    __or__, __ror__, __ior__ = (_binary("bitwise_or"), _binary("bitwise_or", True),
                                _inplace("bitwise_or"))
    __xor__, __rxor__, __ixor__ = (_binary("bitwise_xor"), _binary("bitwise_xor", True),
                                   _inplace("bitwise_xor"))
    __eq__, __ne__ = _binary("equal"), _binary("not_equal")
    __lt__, __le__ = _binary("less"), _binary("less_equal")
    __gt__, __ge__ = _binary("greater"), _binary("greater_equal")
    __neg__, __pos__ = _unary("negative"), _unary("positive")
    __abs__, __invert__ = _unary("absolute"), _unary("invert")



# The methods CuPy's ndarray has, run on the numpy array with results on the device.
for _name in ("all", "any", "argmax", "argmin", "argsort", "astype", "clip", "conj",
              "conjugate", "copy", "cumprod", "cumsum", "diagonal", "dot", "fill",
              "flatten", "max", "mean", "min", "partition", "prod", "put", "ravel",
              "repeat", "reshape", "round", "sort", "squeeze", "std", "sum", "swapaxes",
              "take", "trace", "transpose", "var", "view"):
    setattr(ndarray, _name, _method(_name))
ndarray.nonzero = _method("nonzero", syncs=True)


def _rebuild(array):
    record("host_to_device", "unpickle(ndarray)")
    return ndarray._of(array)


UFUNCS = {name: ufunc(getattr(numpy, name)) for name in (
    "add", "subtract", "multiply", "divide", "true_divide", "floor_divide", "negative",
    "positive", "power", "float_power", "remainder", "mod", "fmod", "absolute", "fabs",
    "sign", "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "logaddexp",
    "logaddexp2", "sqrt", "square", "cbrt", "reciprocal", "sin", "cos", "tan", "arcsin",
    "arccos", "arctan", "arctan2", "hypot", "sinh", "cosh", "tanh", "arcsinh", "arccosh",
    "arctanh", "deg2rad", "rad2deg", "degrees", "radians", "maximum", "minimum", "fmax",
    "fmin", "greater", "greater_equal", "less", "less_equal", "equal", "not_equal",
    "logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or",
    "bitwise_xor", "bitwise_not", "invert", "left_shift", "right_shift", "isfinite", "isinf",
    "isnan", "signbit", "copysign", "nextafter", "ldexp", "floor", "ceil", "trunc", "rint",
    "conjugate", "heaviside", "gcd", "lcm", "matmul")}
UFUNCS["abs"], UFUNCS["conj"] = UFUNCS["absolute"], UFUNCS["conjugate"]
