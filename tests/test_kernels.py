"""The fused CUDA kernels (minigan/kernels.py) equal their plain-array twins.

Each kernel is run on the GPU against the plain version run on the same GPU arrays (the
switch kernels.USE_FUSED chooses), on fresh random inputs. col2im adds the same numbers
in the same order, so it must agree exactly; Adam may differ by rounding (the GPU
compiler fuses a multiply and an add), so it must agree to a few float32 ulps. Without a
GPU these tests skip; the plain versions are what the CPU suite tests everywhere else.
"""
import numpy as np
import pytest

import minigan
from minigan import kernels, nn, optim
from minigan.backend import asnumpy, to_device
from minigan.ops.im2col import col2im, col2im_slabs, conv_output_size

needs_gpu = pytest.mark.skipif(not minigan.cuda.is_available(), reason="needs a GPU (CuPy)")


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
    fused = col2im(cols, x_shape, stride, padding)
    plain = col2im_slabs(cols, x_shape, stride, padding)
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
    return [asnumpy(a) for a in [p.data for p in params] +
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


@needs_gpu
def test_a_dcgan_training_step_is_the_same_with_and_without_the_kernels(monkeypatch):
    """A whole D + G step of a small DCGAN (every conv's col2im, every Adam update)."""
    from minigan.models import build_gan

    def step(fused):
        monkeypatch.setattr(kernels, "USE_FUSED", fused)
        minigan.manual_seed(0)
        G, D = build_gan("dcgan", "image", (1, 32, 32))
        G, D = G.to("cuda"), D.to("cuda")
        z = minigan.randn(8, G.nz, device="cuda")
        real = minigan.randn(8, 1, 32, 32, device="cuda")
        opt_d = optim.Adam(D.parameters(), lr=2e-4, betas=(0.5, 0.999))
        opt_g = optim.Adam(G.parameters(), lr=2e-4, betas=(0.5, 0.999))
        for _ in range(2):
            loss_d = nn.BCEWithLogitsLoss()(D(real), minigan.ones(8, device="cuda")) + \
                nn.BCEWithLogitsLoss()(D(G(z).detach()), minigan.zeros(8, device="cuda"))
            opt_d.zero_grad()
            loss_d.backward()
            opt_d.step()
            loss_g = nn.BCEWithLogitsLoss()(D(G(z)), minigan.ones(8, device="cuda"))
            opt_g.zero_grad()
            loss_g.backward()
            opt_g.step()
        return [p.numpy() for p in G.parameters()] + [p.numpy() for p in D.parameters()]

    for f, p in zip(step(True), step(False)):
        np.testing.assert_allclose(f, p, rtol=1e-4, atol=1e-6)
