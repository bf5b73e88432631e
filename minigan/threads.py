"""How many CPU threads minigan's ops may use: set_num_threads(n) / get_num_threads().

As torch.set_num_threads: one number for the whole process, every core by default. On
the CPU, minigan's parallel work is NumPy's matrix products (linear layers, and conv2d /
conv_transpose2d as im2col GEMMs), run by the BLAS library numpy is built on (OpenBLAS
in numpy's wheels); elementwise passes run on one core, as NumPy runs them. So the
number set here is the BLAS's thread count, set through threadpoolctl, which finds the
BLAS that numpy loaded and calls its own setter (openblas_set_num_threads).

The default: every core this process may run on (os.sched_getaffinity), as OpenBLAS
itself starts, unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS asked for fewer before
numpy was imported; get_num_threads() then reads back what the BLAS uses. On the GPU
(CuPy) the number has no effect.
"""
import os

from .validators import is_int

MAX_THREADS = 2 ** 31 - 1  # a C int, as torch.set_num_threads takes (ctypes would overflow)
_num_threads = None  # what set_num_threads asked for; None: the BLAS's own default


def available_cores():
    """The cores this process may run on (fewer than os.cpu_count() under taskset/cgroups)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _blas_pools():
    """threadpoolctl's controller of numpy's BLAS (imported here: only threads need it)."""
    import numpy  # noqa: F401, PLC0415 - loads the BLAS that threadpoolctl looks for
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415

    return ThreadpoolController().select(user_api="blas")


def set_num_threads(n):
    """Let minigan's ops use n CPU threads (numpy's BLAS pool), as torch.set_num_threads."""
    global _num_threads
    if not is_int(n):  # NumPy ints accepted
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__} {n!r}")
    n = int(n)
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads: n must be a positive number of threads, got {n} "
                         f"(at most {MAX_THREADS}, a C int as torch's)")
    _blas_pools().limit(limits=n)
    _num_threads = n


def get_num_threads():
    """The CPU threads minigan's ops may use: the last set_num_threads, else what numpy's
    BLAS runs with (every core unless the environment asked for fewer)."""
    if _num_threads is not None:
        return _num_threads
    counts = [pool["num_threads"] for pool in _blas_pools().info()]
    return max(counts) if counts else 1

