"""CuPy's module functions on the stand-in's device arrays: NumPy's, behind the wall.

Only the names CuPy has are here (a NumPy function CuPy lacks is an AttributeError, as
on a GPU). A function's arguments may be device arrays, scalars, lists of them; a host
numpy.ndarray is refused ("Unsupported type"), except by the functions that copy host
data to the device (`asarray`, `array`, ...), which count the copy. Functions whose
output size depends on the data count the device-to-host read CuPy makes.
"""
import numpy

from ._array import ndarray, unwrap, wrap
from ._transfers import record

# Functions that take host data and copy it to the device.
TO_DEVICE = ("array", "asarray", "asanyarray", "ascontiguousarray", "asfortranarray")

# Functions that read a size back from the GPU before returning.
SYNCING = ("nonzero", "flatnonzero", "argwhere", "unique", "compress", "extract")

FUNCTIONS = TO_DEVICE + SYNCING + (
    "empty", "empty_like", "eye", "full", "full_like", "identity", "ones", "ones_like",
    "zeros", "zeros_like", "copy", "arange", "linspace", "logspace", "meshgrid", "diag",
    "diagflat", "tri", "tril", "triu", "copyto", "ravel", "reshape", "moveaxis", "rollaxis",
    "swapaxes", "transpose", "atleast_1d", "atleast_2d", "atleast_3d", "broadcast_arrays",
    "broadcast_to", "expand_dims", "squeeze", "column_stack", "concatenate", "dstack",
    "hstack", "stack", "vstack", "array_split", "split", "hsplit", "vsplit", "repeat",
    "tile", "flip", "fliplr", "flipud", "roll", "rot90", "pad", "take", "take_along_axis",
    "put", "choose", "diagonal", "where", "searchsorted", "sort", "argsort", "lexsort",
    "partition", "argpartition", "argmax", "argmin", "nanargmax", "nanargmin", "amax",
    "amin", "max", "min", "nanmax", "nanmin", "ptp", "percentile", "quantile", "median",
    "average", "mean", "var", "std", "nanmean", "nanvar", "nanstd", "sum", "prod", "nansum",
    "nanprod", "cumsum", "cumprod", "diff", "cross", "dot", "vdot", "inner", "outer",
    "tensordot", "einsum", "kron", "trace", "clip", "around", "round", "fix", "isclose",
    "allclose", "array_equal", "count_nonzero", "all", "any", "may_share_memory",
    "shares_memory", "histogram", "bincount", "convolve", "correlate", "cov", "corrcoef",
    "interp", "nan_to_num", "real", "imag", "angle", "sinc", "unravel_index",
    "ravel_multi_index", "indices", "ix_", "ndim", "size", "shape", "isscalar",
    "fill_diagonal", "in1d", "isin", "setdiff1d", "intersect1d", "union1d", "cumulative_sum",
    "apply_along_axis", "packbits", "unpackbits", "select", "place", "delete", "append")

# Types and constants CuPy re-exports from NumPy as they are.
FROM_NUMPY = (
    "e", "euler_gamma", "inf", "nan", "newaxis", "pi", "bool_", "byte", "short", "intc",
    "int_", "longlong", "intp", "int8", "int16", "int32", "int64", "ubyte", "ushort",
    "uintc", "uint", "ulonglong", "uintp", "uint8", "uint16", "uint32", "uint64", "half",
    "single", "double", "float16", "float32", "float64", "csingle", "cdouble", "complex64",
    "complex128", "generic", "number", "integer", "signedinteger", "unsignedinteger",
    "inexact", "floating", "complexfloating", "dtype", "finfo", "iinfo", "promote_types",
    "can_cast", "min_scalar_type", "issubdtype", "common_type", "mintypecode", "typename")


def _function(name):
    np_func = getattr(numpy, name)
    to_device = name in TO_DEVICE
    host = f"cupy.{name} of a host array" if to_device else None
    syncs = name in SYNCING

    def function(*args, **kwargs):
        if syncs:
            record("device_to_host", f"cupy.{name} (the output size)")
        if to_device and args and not _on_device(args[0]) \
                and not isinstance(args[0], numpy.ndarray):  # (a host array: unwrap counts)
            record("host_to_device", f"cupy.{name} of host data")
        out = kwargs.get("out")
        result = np_func(*unwrap(args, host), **_unwrap_kwargs(kwargs))
        if out is not None:
            return out
        if args and isinstance(args[0], ndarray) and result is args[0]._a:
            return args[0]  # asarray(x) is x, as in CuPy: no copy was needed
        return wrap(result)
    function.__name__ = function.__qualname__ = name
    return function


def _on_device(value):
    """True for a device array, or a list of them (what cupy.array stacks on the device)."""
    if isinstance(value, (list, tuple)):
        return len(value) > 0 and all(map(_on_device, value))
    return isinstance(value, ndarray)


def _unwrap_kwargs(kwargs):
    return {k: unwrap(v) for k, v in kwargs.items()}


def asnumpy(a, stream=None, order="C", out=None, blocking=True):
    """A host copy of a device array (counted); host data is returned as it is."""
    if isinstance(a, ndarray):
        return a.get(order=order, out=out)
    return numpy.asarray(a, order=order)


def get_array_module(*args):
    """cupy where any argument is a device array, else numpy."""
    import cupy
    return cupy if any(isinstance(a, ndarray) for a in args) else numpy


def result_type(*arrays_and_dtypes):
    return numpy.result_type(*(a.dtype if isinstance(a, ndarray) else a
                               for a in arrays_and_dtypes))


def namespace():
    """The functions, as a dict to put into the cupy module (each name checked against
    CuPy's cupy/__init__.py of 2026-08)."""
    table = {name: getattr(numpy, name) for name in FROM_NUMPY}
    for name in FUNCTIONS:
        if hasattr(numpy, name):
            table[name] = _function(name)
    table.update(asnumpy=asnumpy, get_array_module=get_array_module, result_type=result_type)
    return table
