"""Optional fused CUDA kernels (CuPy), each the twin of a plain-array version it must equal.

On the GPU every array expression is one kernel launch, and a launch costs CuPy several
microseconds of Python before the GPU does anything. Where an op is many small
expressions (Adam: eleven per parameter) or many passes over memory (col2im: kh*kw slab
additions, each reading and writing the image), one hand-written kernel does the same
arithmetic in one launch and one pass. Each kernel here computes exactly the formula of
its plain twin, in the same order, so the plain code stays the definition:

    kernel        plain twin (the reference, and what runs on the CPU)
    adam_update   optim/adam.py  adam_update
    col2im        ops/im2col.py  col2im_slabs

`USE_FUSED` is the one switch: set it False and the GPU runs the plain versions too
(tests compare the two; benchmarks time both). Kernels are compiled by CuPy on first use
(NVRTC) and cached on disk. CuPy comes from backend.py, the only file that imports it.
"""
from . import backend

USE_FUSED = True
_compiled = {}


def fused(array):
    """True where a fused kernel should handle this array: on the GPU, switch on."""
    return USE_FUSED and backend.is_cupy(array)


def _kernel(name, make):
    """Compile once (lazily: CPU-only users never touch CuPy) and keep the kernel."""
    if name not in _compiled:
        _compiled[name] = make(backend.cp)
    return _compiled[name]


# ----------------------------------------------------------------------------- Adam
# One thread per parameter entry; the same steps as optim/adam.py, in the same order:
#   m = m + (1 - b1) (g - m);  v = b2 v + (1 - b2) g^2
#   p = p - step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps),  step_size = lr / (1 - b1^t)
# The scalars come in as float64 and are rounded to T once, as NumPy rounds a Python
# float when it multiplies a float32 array.
def _make_adam(cp):
    return cp.ElementwiseKernel(
        "T grad, float64 one_minus_b1, float64 b2, float64 one_minus_b2, "
        "float64 bias2_sqrt, float64 eps, float64 step_size",
        "T param, T exp_avg, T exp_avg_sq",
        """
        exp_avg = exp_avg + (grad - exp_avg) * (T)one_minus_b1;
        exp_avg_sq = exp_avg_sq * (T)b2 + (grad * grad) * (T)one_minus_b2;
        T denom = sqrt(exp_avg_sq) / (T)bias2_sqrt + (T)eps;
        param = param - (exp_avg / denom) * (T)step_size;
        """,
        "minigan_adam_update")


def adam_update(param, grad, exp_avg, exp_avg_sq, b1, b2, bias2_sqrt, eps, step_size):
    """Adam's update of one parameter, its two moments in place, in one launch."""
    _kernel("adam", _make_adam)(grad, 1 - b1, b2, 1 - b2, bias2_sqrt, eps, step_size,
                                param, exp_avg, exp_avg_sq)


# ----------------------------------------------------------------------------- col2im
# One thread per pixel of the (C, H, W, N) output, which GATHERS what the plain version
# scatters: pixel (h, w) of the image received, from kernel offset (i, j), the column
# entry of the window at oh = (h + ph - i) / sh, ow = (w + pw - j) / sw, when those
# divide exactly and land inside the OH x OW grid. Summing over (i, j) in the plain
# loop's order gives the same float32 sum, with no padded buffer, no atomics, and each
# column entry read once (coalesced: neighbouring threads differ in n, the fastest axis).
def _make_col2im(cp):
    return cp.ElementwiseKernel(
        "raw T cols, int64 H, int64 W, int64 N, int64 kh, int64 kw, int64 OH, int64 OW, "
        "int64 sh, int64 sw, int64 ph, int64 pw",
        "T image",
        """
        long long n = i % N;          // image index i = ((c * H + h) * W + w) * N + n
        long long rest = i / N;
        long long x = rest % W;  rest /= W;
        long long y = rest % H;
        long long c = rest / H;
        T total = 0;
        for (long long ki = 0; ki < kh; ++ki) {
            long long yy = y + ph - ki;            // = sh * oh for the window that saw y
            if (yy < 0 || yy % sh != 0 || yy / sh >= OH) continue;
            for (long long kj = 0; kj < kw; ++kj) {
                long long xx = x + pw - kj;
                if (xx < 0 || xx % sw != 0 || xx / sw >= OW) continue;
                // cols[c, ki, kj, oh, ow, n] in its (C, kh, kw, OH, OW, N) memory
                total += cols[((((c * kh + ki) * kw + kj) * OH + yy / sh) * OW + xx / sw) * N + n];
            }
        }
        image = total;
        """,
        "minigan_col2im")


def col2im(cols, x_shape, stride, padding):
    """ops/im2col.py's col2im_slabs in one launch: cols (C, kh, kw, OH, OW, N) summed
    back onto a (N, C, H, W) image, returned as a view of (C, H, W, N) memory."""
    cp = backend.cp
    n, c, h, w = x_shape
    _, kh, kw, oh, ow, _ = cols.shape
    image = cp.empty((c, h, w, n), dtype=cols.dtype)  # (C, H, W, N)
    _kernel("col2im", _make_col2im)(cp.ascontiguousarray(cols), h, w, n, kh, kw, oh, ow,
                                    stride[0], stride[1], padding[0], padding[1], image)
    return image.transpose(3, 0, 1, 2)  # (N, C, H, W)
