"""Adam's update, faster: on the CPU slice by slice while each slice is in the cache, on
the GPU in one fused kernel (kernels.py).

The definition is optim/adam.py's `adam_update`: about 13 whole-array passes over each
parameter's five arrays. `adam_update_blocked` runs that same function over slices of
CHUNK numbers, so that the passes over each slice hit the cache instead of memory
(measured: see benchmarks/RESULTS.md). Both tested equal to it bit for bit
(tests/test_fast_paths.py, tests/test_kernel_wrappers.py).
"""
from .. import backend
from ..optim.adam import FAST_UPDATES, adam_update
from . import kernels

# numbers per slice of adam_update_blocked: its five float32 arrays (param, grad, m, v,
# scratch) of 64 K numbers take 1.25 MiB, which stays in a core's L2 or the shared L3
# between passes; 32 K, 64 K and 256 K measured alike (benchmarks/RESULTS.md)
CHUNK = 1 << 16


def adam_update_blocked(param, grad, exp_avg, exp_avg_sq, b1, b2, bias2_sqrt, eps, step_size,
                        chunk=None):
    """adam_update, slice by slice: the same formulas on CHUNK numbers at a time, each slice
    done while it is in the cache. The arrays must be C-contiguous (each flat view is then
    the array's own memory); anything else, and CuPy arrays, take adam_update whole."""
    chunk = chunk or CHUNK
    arrays = (param, grad, exp_avg, exp_avg_sq)
    if (param.size <= chunk or backend.is_cupy(param) or
            not all(a.flags.c_contiguous and a.shape == param.shape for a in arrays)):
        return adam_update(*arrays, b1, b2, bias2_sqrt, eps, step_size)
    flat = [a.reshape(-1) for a in arrays]  # views: every array is C-contiguous
    for start in range(0, param.size, chunk):
        adam_update(*(a[start:start + chunk] for a in flat), b1, b2, bias2_sqrt, eps, step_size)


def adam_update_cuda(*args, **kwargs):
    """adam_update in one launch (kernels.adam_update), unless the kernels are switched off."""
    update = kernels.adam_update if kernels.USE_FUSED else adam_update
    return update(*args, **kwargs)


FAST_UPDATES["cpu"] = adam_update_blocked
FAST_UPDATES["cuda"] = adam_update_cuda
