"""A strict CuPy stand-in backed by NumPy, for running minigan's CUDA path without a GPU.

Not CuPy: a package named `cupy` that tests/fake_cupy puts first on sys.path (see
tests/fake_cupy/__init__.py). Its arrays live in host memory but behave as CuPy's do
where dispatch bugs show: NumPy cannot read them implicitly, host arrays do not mix with
them, reductions return 0-d device arrays, and every copy between host and device is
counted (_transfers.TRANSFERS). It cannot test kernels, streams or speed.
"""
from . import cuda, random  # noqa: F401
from ._array import UFUNCS, ndarray, ufunc  # noqa: F401
from ._functions import namespace
from ._kernels import (ElementwiseKernel, KernelNotRunHere, RawKernel, RawModule,  # noqa: F401
                       ReductionKernel, fuse)
from ._transfers import TRANSFERS  # noqa: F401
from . import lib  # noqa: F401,E402

__version__ = "13.6.0"  # the CuPy release whose API this stands in for
__fake__ = True  # how tests tell the stand-in from a real CuPy

globals().update(namespace())
globals().update(UFUNCS)


def is_available():
    return cuda.is_available()


def get_default_memory_pool():
    return cuda.get_default_memory_pool()


def get_default_pinned_memory_pool():
    return cuda.get_default_pinned_memory_pool()
