"""The Python around the fused CUDA kernels, tested on the CPU.

The CUDA C in minigan/fast/kernels.py runs only on a GPU (tests/test_kernels.py checks it
there), and CI has none. What can run everywhere is the Python around each kernel: which
arrays go in, in which order, in which memory order (the kernels run on the stored-order
view), which axes a reduction sums, how the outputs come back. Here each compiled kernel
is replaced by a NumPy stand-in computing its formula with the same arguments, the
switch `kernels.fused` says yes to NumPy arrays, the GPU's fast versions (minigan/fast/)
are registered for the CPU's arrays, and whole ops are compared with the CPU's code in
float64.
"""
import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import autograd, backend, nn, optim
from minigan.fast import kernels


# ------------------------------------------------------------------ the NumPy stand-ins
def elementwise(formula, n_inputs):
    """An ElementwiseKernel's calling convention: inputs, then outputs written in place."""
    def call(*args):
        results = formula(*args[:n_inputs])
        for out, result in zip(args[n_inputs:], results):
            out[...] = result
    return call


def reduction(formula):
    """A ReductionKernel's: inputs (broadcast), axis=; returns the sums."""
    return lambda *args, axis=None: np.asarray(formula(*args).sum(axis=axis))


def adam(grad, one_minus_b1, b2, one_minus_b2, bias2_sqrt, eps, step_size, param, m, v):
    t = param.dtype.type
    m[...] = m + (grad - m) * t(one_minus_b1)
    v[...] = v * t(b2) + (grad * grad) * t(one_minus_b2)
    param[...] = param - (m / (np.sqrt(v) / t(bias2_sqrt) + t(eps))) * t(step_size)


def col2im(cols, h, w, n, kh, kw, oh, ow, sh, sw, ph, pw, image):
    """The gather, pixel by pixel as the kernel does it (small sizes only)."""
    flat = cols.ravel()
    for index in np.ndindex(image.shape):  # (c, y, x, n) of the (C, H, W, N) image
        c, y, x, b = index
        total = 0.0
        for i in range(kh):
            yy = y + ph - i
            if yy < 0 or yy % sh or yy // sh >= oh:
                continue
            for j in range(kw):
                xx = x + pw - j
                if xx < 0 or xx % sw or xx // sw >= ow:
                    continue
                total += flat[((((c * kh + i) * kw + j) * oh + yy // sh) * ow + xx // sw) * n + b]
        image[index] = total


def statistics(square_sum, weight, count, unbias, momentum, eps, mean,
                    inv_std, scale, running_mean, running_var):
    t = square_sum.dtype.type
    var = square_sum / t(count)  # biased
    running_mean[...] = running_mean * t(1 - momentum) + t(momentum) * mean
    running_var[...] = running_var * t(1 - momentum) + t(momentum) * (var * t(unbias))
    inv_std[...] = t(1) / np.sqrt(var + t(eps))
    scale[...] = weight * inv_std


def stable_sigmoid(x):
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


STAND_INS = {
    "adam": adam,
    "col2im": col2im,
    "leaky_relu": (
        elementwise(lambda x, slope: (np.where(x > 0, x, x * slope), x > 0), 2),
        elementwise(lambda g, positive, slope: (np.where(positive, g, g * slope),), 3)),
    "batch_norm": dict(
        channel_sum=reduction(lambda x: x),
        channel_dot=reduction(lambda x, y: x * y),
        centred_square_sum=reduction(lambda x, mean: (x - mean) * (x - mean)),
        statistics=statistics,
        normalize=elementwise(lambda x, mean, inv_std, w, b: (
            (x - mean) * inv_std, (x - mean) * inv_std * w + b), 5),
        grad_input=elementwise(lambda g, x_hat, gw, gb, scale, count: (
            (g - (x_hat * (gw / count) + gb / count)) * scale,), 6)),
    "bce_with_logits": (
        reduction(lambda x, t: (1 - t) * x + np.maximum(-x, 0) + np.log1p(np.exp(-np.abs(x)))),
        lambda x, t, scale: scale * (stable_sigmoid(x) - t)),
}


@pytest.fixture
def stand_ins(monkeypatch):
    """Within a test: `run(fn)` gives fn()'s arrays through the stand-ins and through the
    plain code."""
    class CupyStandIn:  # what kernels.py takes from CuPy; the arrays stay NumPy's
        empty, empty_like, ascontiguousarray = np.empty, np.empty_like, np.ascontiguousarray
        ndarray = type("NotACupyArray", (), {})

    class Used(dict):  # which kernels a run asked for
        def __getitem__(self, name):
            used.add(name)
            return super().__getitem__(name)

    used = set()
    monkeypatch.setattr(backend, "cp", CupyStandIn)
    monkeypatch.setattr(kernels, "_compiled", Used(STAND_INS))

    tables = (autograd.FAST_FORWARD, autograd.FAST_BACKWARD, optim.adam.FAST_UPDATES)
    cpu = [dict(t) for t in tables]
    gpu = [{(k[0], "cpu", k[2]) if isinstance(k, tuple) else "cpu": v
            for k, v in t.items() if "cuda" in (k if isinstance(k, tuple) else (k,))}
           for t in tables]

    def run(fn):
        results = []
        for fused in (True, False):
            monkeypatch.setattr(kernels, "fused", lambda array, on=fused: on)
            for table, versions in zip(tables, gpu if fused else cpu):
                table.clear()
                table.update(versions)
            used.clear()
            results.append([np.asarray(a) for a in fn()])
            assert bool(used) == fused, f"kernels used: {used}"  # the GPU versions ran
        for table, versions in zip(tables, cpu):
            table.clear()
            table.update(versions)
        return results
    return run


def layouts(shape, seed=0):
    """A float64 array of `shape` in (N, C, ...) memory and, for images, batch-last."""
    x = np.random.default_rng(seed).standard_normal(shape) * 2 + 0.5
    yield x
    if x.ndim == 4:
        yield np.ascontiguousarray(x.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def assert_close(fused, plain, rtol=1e-12):
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f, p, rtol=rtol, atol=rtol * max(np.abs(p).max(), 1))


# ------------------------------------------------------------------ the ops
@pytest.mark.parametrize("shape", [(7, 5), (4, 3, 5, 6)])
def test_leaky_relu_wrappers_keep_memory_order_and_results(shape, stand_ins):
    for x in layouts(shape):
        def fn():
            t = minigan.Tensor(x, requires_grad=True)
            out = F.leaky_relu(t, 0.2)
            assert kernels.memory_order(out._data) == kernels.memory_order(x) or \
                not kernels.fused(x)
            out.backward(minigan.tensor(np.cos(np.arange(x.size)).reshape(shape)))
            return out._data, t.grad._data
        fused, plain = stand_ins(fn)
        assert_close(fused, plain, rtol=0)


@pytest.mark.parametrize("shape", [(16, 5), (6, 3, 4, 5)])
def test_batch_norm_wrappers_sum_the_right_axes_in_either_memory_order(shape, stand_ins):
    c = shape[1]
    for x in layouts(shape):
        def fn():
            t = minigan.Tensor(x, requires_grad=True)
            weight = minigan.tensor(np.linspace(0.5, 2, c), requires_grad=True)
            bias = minigan.tensor(np.linspace(-1, 1, c), requires_grad=True)
            mean, var = minigan.zeros(c, dtype="float64"), minigan.ones(c, dtype="float64")
            out = F.batch_norm(t, mean, var, weight, bias, training=True, momentum=0.3, eps=1e-3)
            assert kernels.memory_order(out._data) == kernels.memory_order(x) or \
                not kernels.fused(x)
            out.backward(minigan.tensor(np.sin(np.arange(x.size)).reshape(shape)))
            return out._data, mean._data, var._data, t.grad._data, weight.grad._data, bias.grad._data
        fused, plain = stand_ins(fn)
        assert_close(fused, plain)


def test_bce_with_logits_wrappers(stand_ins):
    x_host = np.array([-30.0, -2.0, 0.0, 0.5, 3.0, 40.0])
    t_host = np.array([1.0, 0.0, 1.0, 0.3, 1.0, 0.0])

    def fn():
        x = minigan.tensor(x_host, requires_grad=True)
        loss = F.binary_cross_entropy_with_logits(x, minigan.tensor(t_host))
        (2 * loss).backward()
        return loss._data, x.grad._data
    fused, plain = stand_ins(fn)
    assert_close(fused, plain)


@pytest.mark.parametrize("transposed", [False, True])
def test_convolution_with_the_gathering_col2im(transposed, stand_ins):
    rng = np.random.default_rng(1)
    x_host = rng.standard_normal((2, 3, 5, 6))
    w_host = rng.standard_normal((3, 2, 3, 4) if transposed else (2, 3, 3, 4))

    def fn():
        x = minigan.tensor(x_host, requires_grad=True)
        w = minigan.tensor(w_host, requires_grad=True)
        conv = F.conv_transpose2d if transposed else F.conv2d
        out = conv(x, w, stride=(2, 1), padding=(1, 2))
        (out * out).sum().backward()
        return out._data, x.grad._data, w.grad._data
    fused, plain = stand_ins(fn)
    assert_close(fused, plain)


def test_adam_wrapper_passes_the_scalars_in_order(stand_ins):
    def fn():
        p = nn.Parameter(minigan.tensor(np.linspace(-1, 1, 6)))
        adam = optim.Adam([p], lr=0.1, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.01)
        for step in range(3):
            p.grad = minigan.tensor(np.cos(np.arange(6) + step))
            adam.step()
        return p._data, adam.state[p]["exp_avg"], adam.state[p]["exp_avg_sq"]
    fused, plain = stand_ins(fn)
    assert_close(fused, plain)
