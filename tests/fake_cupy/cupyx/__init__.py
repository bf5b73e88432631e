"""cupyx of the stand-in: scatter_add/max/min (CuPy before 13's ufunc.at) and errstate."""
import numpy

from cupy._array import _index, ndarray, operand, unsupported


def _scatter(np_ufunc, a, slices, value):
    if not isinstance(a, ndarray):
        raise unsupported(a)
    np_ufunc.at(a._a, _index(slices), operand(value))


def scatter_add(a, slices, value):
    """a[slices] += value, repeated indices each adding (cupyx.scatter_add)."""
    _scatter(numpy.add, a, slices, value)


def scatter_max(a, slices, value):
    _scatter(numpy.maximum, a, slices, value)


def scatter_min(a, slices, value):
    _scatter(numpy.minimum, a, slices, value)


errstate = numpy.errstate  # cupyx.errstate: the same context manager's name and arguments
