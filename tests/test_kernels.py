"""The fused CUDA kernels (minigan/fast/kernels.py) equal their plain-array twins.

Each kernel is run on the GPU against the plain version run on the same GPU arrays (the
switch kernels.USE_FUSED chooses), on fresh random inputs. col2im adds the same numbers
in the same order, and LeakyReLU multiplies the same ones, so they must agree exactly;
Adam, BatchNorm and the loss may differ by rounding (the GPU compiler fuses a multiply
and an add, and a reduction sums in its own order), so they must agree to a few ulps.
The kernels also keep their input's memory order. Without a GPU these tests skip; the
plain versions are what the CPU suite tests everywhere else.
"""
import numpy as np
import pytest

import minigan
from minigan import backend, nn, optim
from minigan.fast import kernels
from minigan.backend import asnumpy, to_device
from minigan.ops.im2col import col2im, conv_output_size

needs_gpu = pytest.mark.skipif(  # CUDA C: a real GPU, not the stand-in of MINIGAN_FAKE_CUDA=1
    not minigan.cuda.is_available() or getattr(backend.cp, "__fake__", False),
    reason="needs a GPU (CuPy)")


def test_the_fused_kernels_are_for_gpu_arrays_only():
    x = np.zeros(3, np.float32)
    assert not kernels.fused(x)  # NumPy arrays always take the plain path


@needs_gpu
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, kernel, stride, padding", [
    ((64, 64, 32, 32), (4, 4), (2, 2), (1, 1)),  # DCGAN-64's 4x4 stride-2 layers
    ((128, 3, 64, 64), (4, 4), (2, 2), (1, 1)),
    ((64, 32, 14, 14), (4, 4), (2, 2), (1, 1)),  # DCGAN-28
    ((5, 3, 9, 7), (3, 2), (1, 3), (2, 0)),  # odd sizes, stride above the kernel width
    ((2, 4, 11, 6), (5, 3), (3, 1), (1, 2)),
    ((3, 2, 4, 4), (1, 1), (2, 2), (0, 0)),  # pixels that no window reads get 0
])
def test_col2im_kernel_equals_the_slab_additions(x_shape, kernel, stride, padding, dtype):
    n, c, h, w = x_shape
    oh = conv_output_size(h, kernel[0], stride[0], padding[0])
    ow = conv_output_size(w, kernel[1], stride[1], padding[1])
    rng = np.random.default_rng(sum(x_shape))
    cols = to_device(rng.standard_normal((c, *kernel, oh, ow, n)).astype(dtype), "cuda")
    fused = kernels.col2im(cols, x_shape, stride, padding)
    plain = col2im(cols, x_shape, stride, padding)
    assert fused.shape == plain.shape == x_shape and fused.dtype == dtype
    np.testing.assert_array_equal(asnumpy(fused), asnumpy(plain))


def adam_run(device, dtype, fused, weight_decay, monkeypatch, steps=5):
    """Parameters and moments after `steps` Adam updates from fixed random gradients."""
    monkeypatch.setattr(kernels, "USE_FUSED", fused)
    rng = np.random.default_rng(0)
    params = [nn.Parameter(minigan.tensor(rng.standard_normal(s).astype(dtype), device=device))
              for s in [(7, 5), (5,), ()]]
    adam = optim.Adam(params, lr=1e-2, betas=(0.5, 0.999), weight_decay=weight_decay)
    for _ in range(steps):
        for p in params:
            p.grad = minigan.tensor(rng.standard_normal(p.shape).astype(dtype), device=device)
        adam.step()
    state = [adam.state[p] for p in params]
    return [asnumpy(a) for a in [p._data for p in params] +
            [s["exp_avg"] for s in state] + [s["exp_avg_sq"] for s in state]]


@needs_gpu
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
@pytest.mark.parametrize("weight_decay", [0.0, 0.1])
def test_adam_kernel_equals_the_plain_update(dtype, rtol, weight_decay, monkeypatch):
    fused = adam_run("cuda", dtype, True, weight_decay, monkeypatch)
    plain = adam_run("cuda", dtype, False, weight_decay, monkeypatch)
    on_cpu = adam_run("cpu", dtype, True, weight_decay, monkeypatch)
    for f, p, c in zip(fused, plain, on_cpu):
        assert f.dtype == dtype
        np.testing.assert_allclose(f, p, rtol=rtol, atol=rtol)
        np.testing.assert_allclose(f, c, rtol=rtol, atol=rtol)


def layouts(array):
    """The array in (N, C, H, W) memory and, for images, batch-last ((C, H, W, N) memory),
    the order minigan's convolutions return."""
    yield array
    if array.ndim == 4:
        yield backend.cp.ascontiguousarray(array.transpose(1, 2, 3, 0)).transpose(3, 0, 1, 2)


def with_and_without_kernels(monkeypatch, fn):
    """fn() run with the fused kernels, then with the plain code: two lists of arrays."""
    results = []
    for fused in (True, False):
        monkeypatch.setattr(kernels, "USE_FUSED", fused)
        results.append([asnumpy(a) for a in fn()])
    return results


@needs_gpu
@pytest.mark.parametrize("shape", [(6, 5), (4, 3, 5, 7), (64, 128, 8, 8)])
@pytest.mark.parametrize("slope", [0.2, 0.0, 1.5, -0.3])
def test_leaky_relu_kernels_equal_the_plain_ops(shape, slope, monkeypatch):
    rng = np.random.default_rng(len(shape))
    x_host = rng.standard_normal(shape).astype(np.float32)
    x_host.flat[:3] = 0.0  # the kink: x = 0 is not positive
    g_host = rng.standard_normal(shape).astype(np.float32)
    for x in layouts(to_device(x_host, "cuda")):
        def run():
            t = minigan.Tensor(x, requires_grad=True)  # on the GPU, x's memory order kept
            out = minigan.nn.functional.leaky_relu(t, slope)
            out.backward(minigan.tensor(g_host, device="cuda"))
            if kernels.USE_FUSED:  # the kernels keep the input's memory order
                assert memory_rank(out._data) == memory_rank(x)
            return out._data, t.grad._data
        fused, plain = with_and_without_kernels(monkeypatch, run)
        for f, p in zip(fused, plain):
            np.testing.assert_array_equal(f, p)


def memory_rank(array):
    return kernels.memory_order(array)


@needs_gpu
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 2e-5), (np.float64, 1e-12)])
@pytest.mark.parametrize("shape", [(64, 256), (8, 3), (16, 32, 8, 8), (5, 4, 3, 7)])
def test_batch_norm_kernels_equal_the_plain_ops(shape, dtype, rtol, monkeypatch):
    """Training mode: output, running statistics and the three gradients."""
    rng = np.random.default_rng(shape[1])
    c = shape[1]
    x_host = (3 * rng.standard_normal(shape) + 1).astype(dtype)
    g_host = rng.standard_normal(shape).astype(dtype)
    weight_host = rng.standard_normal(c).astype(dtype)
    bias_host = rng.standard_normal(c).astype(dtype)
    for x in layouts(to_device(x_host, "cuda")):
        def run():
            t = minigan.Tensor(x, requires_grad=True)  # on the GPU, x's memory order kept
            weight = minigan.tensor(weight_host, device="cuda", requires_grad=True)
            bias = minigan.tensor(bias_host, device="cuda", requires_grad=True)
            mean = minigan.tensor(np.full(c, 0.5, dtype), device="cuda")
            var = minigan.tensor(np.full(c, 2.0, dtype), device="cuda")
            out = minigan.nn.functional.batch_norm(t, mean, var, weight, bias, training=True,
                                                   momentum=0.3, eps=1e-3)
            out.backward(minigan.tensor(g_host, device="cuda"))
            if kernels.USE_FUSED:
                assert memory_rank(out._data) == memory_rank(x)
            return out._data, mean._data, var._data, t.grad._data, weight.grad._data, bias.grad._data
        fused, plain = with_and_without_kernels(monkeypatch, run)
        for f, p in zip(fused, plain):
            assert f.dtype == dtype
            np.testing.assert_allclose(f, p, rtol=rtol, atol=rtol * np.abs(p).max())


@needs_gpu
@pytest.mark.parametrize("dtype, rtol", [(np.float32, 1e-6), (np.float64, 1e-14)])
def test_bce_with_logits_kernels_equal_the_plain_ops(dtype, rtol, monkeypatch):
    rng = np.random.default_rng(7)
    x_host = np.concatenate([30 * rng.standard_normal(200), [0.0, 40.0, -40.0, 1e-8]])
    t_host = np.concatenate([rng.integers(0, 2, 200), [1.0, 0.0, 1.0, 0.3]])
    x_host, t_host = x_host.astype(dtype), t_host.astype(dtype)

    def run():
        x = minigan.tensor(x_host, device="cuda", requires_grad=True)
        loss = minigan.nn.functional.binary_cross_entropy_with_logits(
            x, minigan.tensor(t_host, device="cuda"))
        (3 * loss).backward()
        return loss._data, x.grad._data
    fused, plain = with_and_without_kernels(monkeypatch, run)
    for f, p in zip(fused, plain):
        np.testing.assert_allclose(f, p, rtol=rtol, atol=rtol * np.abs(p).max())


@needs_gpu
def test_bce_with_logits_kernel_gives_pytorchs_inf_and_nan(monkeypatch):
    """As the plain code and PyTorch: inf for a confident wrong answer, nan where the
    formula multiplies an infinite logit by a 0 factor (1 - t)."""
    x = minigan.tensor([np.inf, -np.inf, np.inf], device="cuda")
    t = minigan.tensor([0.0, 1.0, 1.0], device="cuda")
    for i, expected in enumerate([np.inf, np.nan, np.nan]):
        loss = minigan.nn.functional.binary_cross_entropy_with_logits(x[i:i + 1], t[i:i + 1])
        np.testing.assert_equal(loss.item(), expected)


@needs_gpu
def test_a_dcgan_training_step_is_the_same_with_and_without_the_kernels(monkeypatch):
    """Two D + G steps of a small DCGAN (every conv's col2im, every BatchNorm, LeakyReLU,
    loss and Adam update): the same first loss and gradients, and then the same losses
    and weights up to what Adam makes of rounding (its first updates are lr * sign(g), so
    a gradient within rounding of 0 may move its weight by about 2 lr the other way)."""
    from minigan.models import build_gan
    lr = 2e-4

    def run(fused):
        monkeypatch.setattr(kernels, "USE_FUSED", fused)
        minigan.manual_seed(0)
        G, D = build_gan("dcgan", "image", (1, 32, 32))
        G, D = G.to("cuda"), D.to("cuda")
        z = minigan.randn(8, G.nz, device="cuda")
        real = minigan.randn(8, 1, 32, 32, device="cuda")
        opt_d = optim.Adam(D.parameters(), lr=lr, betas=(0.5, 0.999))
        opt_g = optim.Adam(G.parameters(), lr=lr, betas=(0.5, 0.999))
        bce = nn.BCEWithLogitsLoss()
        ones, zeros = minigan.ones(8, device="cuda"), minigan.zeros(8, device="cuda")
        losses = []
        for step in range(2):
            loss_d = bce(D(real), ones) + bce(D(G(z).detach()), zeros)
            opt_d.zero_grad()
            loss_d.backward()
            if step == 0:  # the gradients of the same weights (no Adam step yet)
                grads = [p.grad.numpy() for p in D.parameters()]
            opt_d.step()
            loss_g = bce(D(G(z)), ones)
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
            losses += [loss_d.item(), loss_g.item()]
        weights = [p.numpy() for p in G.parameters()] + [p.numpy() for p in D.parameters()]
        return losses, grads, weights

    (f_losses, f_grads, f_weights), (p_losses, p_grads, p_weights) = run(True), run(False)
    np.testing.assert_allclose(f_losses[0], p_losses[0], rtol=1e-5)  # the same weights
    np.testing.assert_allclose(f_losses[1:], p_losses[1:], rtol=1e-3)  # after Adam steps
    for f, p in zip(f_grads, p_grads):
        np.testing.assert_allclose(f, p, rtol=1e-3, atol=1e-5 * np.abs(p).max())
    for f, p in zip(f_weights, p_weights):  # a loose bound: Adam's early updates can
        np.testing.assert_allclose(f, p, rtol=0, atol=10 * lr)  # exceed lr (up to ~1.4 lr)
