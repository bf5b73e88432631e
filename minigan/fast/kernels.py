"""Optional fused CUDA kernels (CuPy), each the twin of a plain-array version it must equal.

On the GPU every array expression is one kernel launch, and a launch costs CuPy and the
driver some 10-30 microseconds on the host, more than the GPU needs for most of
minigan's arrays: a training step is then bound by the host (benchmarks/RESULTS_CUDA.md).
Where an op is many small expressions (Adam: eleven per parameter) or many passes over
memory (col2im: kh*kw slab additions, each reading and writing the image), one
hand-written kernel does the same arithmetic in one launch and one pass. Each kernel
computes the formula of its plain twin with the same operations in the same order (a
reduction adds in its own order, so sums agree to rounding), and the plain code stays
the definition. minigan/fast/ registers each kernel as the GPU's version of its op:

    kernel                          plain twin (the definition)
    adam_update                     optim/adam.py        adam_update
    col2im                          ops/im2col.py        col2im
    leaky_relu(_backward)           ops/activation.py    LeakyReLU
    batch_norm_training(_backward)  ops/batchnorm.py     BatchNorm, training mode
    bce_with_logits(_backward)      ops/loss.py          BinaryCrossEntropyWithLogits

The elementwise kernels also keep their input's memory order (see `memory_order`): an
image batch stored batch-last stays batch-last, so the next convolution reads it as it
is (NumPy's expressions keep the order too; CuPy's do not promise to).

`USE_FUSED` is the one switch: set it False and the GPU runs the plain versions too
(tests compare the two; benchmarks time both). Kernels are compiled by CuPy on first use
(NVRTC) and cached on disk. CuPy comes from backend.py, the only file that imports it.
"""
import numpy as np

from .. import backend

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
# scatters: pixel (y, x) of the image received, from kernel offset (i, j), the column
# entry of the window at oh = (y + ph - i) / sh, ow = (x + pw - j) / sw, when those
# divide exactly and land inside the OH x OW grid. Summing over (i, j) in the plain
# loop's order gives the same float32 sum, with no padded buffer, no atomics, and each
# column entry read once (coalesced: neighbouring threads differ in n, the fastest axis).
def _make_col2im(cp):
    return cp.ElementwiseKernel(
        "raw T cols, int64 H, int64 W, int64 N, int64 kh, int64 kw, int64 OH, int64 OW, "
        "int64 sh, int64 sw, int64 ph, int64 pw",
        "T image",
        """
        long long n = i % N;          // image index i = ((c * H + y) * W + x) * N + n
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


# ----------------------------------------------------------------------------- layout
def memory_order(x):
    """The axes of x from the largest stride to the smallest: x.transpose(axes) is x as
    stored (C-contiguous when x is contiguous in any order of its axes). A kernel run on
    that view walks memory in order, so neighbouring threads touch neighbouring numbers;
    run on the logical (N, C, H, W) view of a batch-last array, they would not."""
    return tuple(sorted(range(x.ndim), key=lambda axis: -x.strides[axis]))


def _inverse(axes):
    return tuple(int(a) for a in np.argsort(axes))


# ----------------------------------------------------------------------------- LeakyReLU
# out = x where x > 0, else slope * x; the mask is what backward needs. Plain twin:
# x * (1 where x > 0, else slope), which is the same numbers (x * 1 is x), in 4 launches.
def _make_leaky_relu(cp):
    forward = cp.ElementwiseKernel(
        "T x, T slope", "T out, bool positive",
        "positive = x > 0; out = positive ? x : x * slope;", "minigan_leaky_relu")
    backward = cp.ElementwiseKernel(
        "T grad, bool positive, T slope", "T grad_x",
        "grad_x = positive ? grad : grad * slope;", "minigan_leaky_relu_backward")
    return forward, backward


def leaky_relu(x, slope):
    """(out, positive) in x's memory order, in one launch; slope in x's dtype."""
    cp = backend.cp
    axes = memory_order(x)
    xt = x.transpose(axes)  # x as stored
    out, positive = cp.empty(xt.shape, x.dtype), cp.empty(xt.shape, bool)
    _kernel("leaky_relu", _make_leaky_relu)[0](xt, slope, out, positive)
    back = _inverse(axes)
    return out.transpose(back), positive.transpose(back)


def leaky_relu_backward(grad, positive, slope):
    """grad * d(out)/dx, in the mask's memory order, in one launch."""
    axes = memory_order(positive)
    pt = positive.transpose(axes)
    grad_x = backend.cp.empty(pt.shape, grad.dtype)
    _kernel("leaky_relu", _make_leaky_relu)[1](grad.transpose(axes), pt, slope, grad_x)
    return grad_x.transpose(_inverse(axes))


# ----------------------------------------------------------------------------- BatchNorm
# Training mode in 4 launches forward (plain: about 20) and 3 backward (plain: about 8),
# the formulas of ops/batchnorm.py in its order (per channel, over its M values):
#   mean = sum(x) / M                      channel_sum, then one division
#   var = sum((x - mean)^2) / M            centred_square_sum (two passes, as the plain
#                                          version: one pass with sum(x^2) loses digits)
#   running stats, inv_std, gamma inv_std  statistics, one thread per channel
#   x_hat = (x - mean) inv_std, out = gamma x_hat + beta      normalize
# backward, g = grad_out:
#   sum(g), sum(g x_hat)                   channel_sum, channel_dot
#   grad_x = (g - (x_hat sum(g x_hat) / M + sum(g) / M)) gamma inv_std       grad_input
# Reductions run over the memory-order view too: the channel axis is then wherever x's
# storage puts it, and the others are summed.
def _make_batch_norm(cp):
    def reduction(name, params, expr):
        return cp.ReductionKernel(params, "T total", expr, "a + b", "total = a", "0", name)

    return dict(
        channel_sum=reduction("minigan_channel_sum", "T x", "x"),
        channel_dot=reduction("minigan_channel_dot", "T x, T y", "x * y"),
        centred_square_sum=reduction("minigan_centred_square_sum", "T x, T mean",
                                     "(x - mean) * (x - mean)"),
        statistics=cp.ElementwiseKernel(
            "T square_sum, T weight, float64 count, float64 unbias, float64 momentum, "
            "float64 eps, T mean",
            "T inv_std, T scale, T running_mean, T running_var",
            """
            T var = square_sum / (T)count;  // biased: what normalises
            running_mean = running_mean * (T)(1 - momentum) + (T)momentum * mean;
            running_var = running_var * (T)(1 - momentum) + (T)momentum * (var * (T)unbias);
            inv_std = (T)1 / sqrt(var + (T)eps);
            scale = weight * inv_std;
            """, "minigan_batch_norm_statistics"),
        normalize=cp.ElementwiseKernel(
            "T x, T mean, T inv_std, T weight, T bias", "T x_hat, T out",
            "x_hat = (x - mean) * inv_std; out = x_hat * weight + bias;",
            "minigan_batch_norm_normalize"),
        grad_input=cp.ElementwiseKernel(
            "T grad, T x_hat, T grad_weight, T grad_bias, T scale, float64 count",
            "T grad_x",
            "grad_x = (grad - (x_hat * (grad_weight / (T)count) + grad_bias / (T)count)) * scale;",
            "minigan_batch_norm_grad_input"))


def _channel_layout(x):
    """For x (N, C, *spatial): its memory-order axes, the axes to sum over in that view,
    and the shape that broadcasts a (C,) vector over it."""
    axes = memory_order(x)
    channel = axes.index(1)  # where the channel axis sits in the memory-order view
    sum_axes = tuple(a for a in range(x.ndim) if a != channel)
    vector_shape = tuple(-1 if a == channel else 1 for a in range(x.ndim))
    return axes, sum_axes, vector_shape


def batch_norm_training(x, weight, bias, running_mean, running_var, momentum, eps):
    """BatchNorm's training forward: (out, x_hat, mean, inv_std), the running statistics
    updated in place. out and x_hat keep x's memory order."""
    cp = backend.cp
    k = _kernel("batch_norm", _make_batch_norm)
    axes, sum_axes, vector = _channel_layout(x)
    xt = x.transpose(axes)  # x as stored
    count = x.size // x.shape[1]  # M
    mean = k["channel_sum"](xt, axis=sum_axes) / count  # (C,)
    square_sum = k["centred_square_sum"](xt, mean.reshape(vector), axis=sum_axes)
    inv_std, scale = cp.empty_like(mean), cp.empty_like(mean)
    k["statistics"](square_sum, weight, count, count / max(count - 1, 1), momentum, eps, mean,
                    inv_std, scale, running_mean, running_var)
    x_hat, out = cp.empty(xt.shape, x.dtype), cp.empty(xt.shape, x.dtype)
    k["normalize"](xt, mean.reshape(vector), inv_std.reshape(vector), weight.reshape(vector),
                   bias.reshape(vector), x_hat, out)
    back = _inverse(axes)
    return out.transpose(back), x_hat.transpose(back), mean, inv_std


def batch_norm_training_backward(grad, x_hat, scale):
    """(grad_x, grad_weight, grad_bias) of BatchNorm in training mode; grad_x in x_hat's
    memory order."""
    k = _kernel("batch_norm", _make_batch_norm)
    axes, sum_axes, vector = _channel_layout(x_hat)
    gt, ht = grad.transpose(axes), x_hat.transpose(axes)
    grad_bias = k["channel_sum"](gt, axis=sum_axes)  # sum(g), (C,)
    grad_weight = k["channel_dot"](gt, ht, axis=sum_axes)  # sum(g x_hat), (C,)
    grad_x = backend.cp.empty(ht.shape, grad.dtype)
    k["grad_input"](gt, ht, grad_weight.reshape(vector), grad_bias.reshape(vector),
                    scale.reshape(vector), x_hat.size // x_hat.shape[1], grad_x)
    return grad_x.transpose(_inverse(axes)), grad_weight, grad_bias


# ----------------------------------------------------------------------------- BCE on logits
# The loss of ops/loss.py, (1 - t) x + max(-x, 0) + log(1 + exp(-|x|)), summed in one
# reduction (plain: about 12 launches), and its gradient scale (sigmoid(x) - t) in one
# elementwise launch (plain: about 12), sigmoid taken as stable_sigmoid takes it.
def _make_bce_with_logits(cp):
    forward = cp.ReductionKernel(
        "T x, T t", "T total",
        "((T)1 - t) * x + fmax(-x, (T)0) + log1p(exp(-fabs(x)))", "a + b", "total = a", "0",
        "minigan_bce_with_logits")
    backward = cp.ElementwiseKernel(
        "T x, T t, T scale", "T grad_x",
        """
        T e = exp(-fabs(x));  // in (0, 1]: no overflow
        T sigmoid = x >= 0 ? (T)1 / ((T)1 + e) : e / ((T)1 + e);
        grad_x = scale * (sigmoid - t);
        """, "minigan_bce_with_logits_backward")
    return forward, backward


def bce_with_logits(x, t):
    """mean((1 - t) x + max(-x, 0) + log(1 + exp(-|x|))) as a 0-d array, in 2 launches."""
    return _kernel("bce_with_logits", _make_bce_with_logits)[0](x, t) / x.size


def bce_with_logits_backward(x, t, scale):
    """scale * (sigmoid(x) - t), scale a 0-d array (grad_out / x.size), in one launch."""
    return _kernel("bce_with_logits", _make_bce_with_logits)[1](x, t, scale)
