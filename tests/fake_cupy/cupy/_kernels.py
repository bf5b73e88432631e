"""CuPy's user kernels in the stand-in: built as CuPy builds them, never run here.

A kernel is CUDA C compiled by NVRTC on a GPU; NumPy cannot run it. Building one is
allowed (CuPy compiles lazily, on the first call), calling one raises KernelNotRunHere:
under the stand-in minigan.fast.kernels.USE_FUSED is off, so each op runs its plain twin,
and the fused kernels are tested on a real GPU (tests/test_kernels.py, scripts/cuda_check.sh).
"""


class KernelNotRunHere(RuntimeError):
    """A fused CUDA kernel was called under the NumPy stand-in."""


class _Kernel:
    def __init__(self, *args, name="kernel", **kwargs):
        self.name = kwargs.get("name", name)

    def __call__(self, *args, **kwargs):
        raise KernelNotRunHere(
            f"{type(self).__name__} {self.name!r} is not run here: the CuPy stand-in cannot "
            "run CUDA C; set minigan.fast.kernels.USE_FUSED = False (MINIGAN_FAKE_CUDA=1 does) "
            "or run on a GPU")


class ElementwiseKernel(_Kernel):
    def __init__(self, in_params, out_params, operation, name="kernel", **kwargs):
        super().__init__(name=name)


class ReductionKernel(_Kernel):
    def __init__(self, in_params, out_params, map_expr, reduce_expr, post_map_expr,
                 identity, name="reduce_kernel", **kwargs):
        super().__init__(name=name)


class RawKernel(_Kernel):
    def __init__(self, code, name, options=(), backend="nvrtc", **kwargs):
        super().__init__(name=name)


class RawModule:
    def __init__(self, code=None, path=None, options=(), **kwargs):
        pass

    def get_function(self, name):
        return RawKernel("", name)


def fuse(*args, **kwargs):
    """cupy.fuse: the function itself (its array calls run as they are)."""
    if len(args) == 1 and callable(args[0]) and not kwargs:
        return args[0]
    return lambda fn: fn
