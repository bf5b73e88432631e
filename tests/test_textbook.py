"""The textbook twins (minigan/textbook/) compute what the fast ops compute.

Each twin is the plain algorithm a reader meets first; these tests are the promise that it
is the same function as the fast op in minigan/ops and minigan/optim: the graph walk of
backward, im2col/col2im, conv2d and conv_transpose2d (and conv's input gradient as the
transposed conv), BatchNorm's forward and backward (by autograd through primitive ops, and
in closed form), and Adam. Shapes, strides and paddings are drawn by Hypothesis.
"""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import minigan
import minigan.nn.functional as F
from minigan import optim
from minigan.backend import asnumpy, to_device, xp_of
from minigan.ops.im2col import col2im, im2col
from minigan.textbook.adam import AdamSimple
from minigan.textbook.backward import backward_simple
from minigan.textbook.batchnorm import batch_norm_backward_simple, batch_norm_simple
from minigan.textbook.conv import conv2d_im2col, conv2d_simple, conv_transpose2d_simple
from minigan.textbook.im2col import col2im_simple, im2col_simple

CASES = settings(max_examples=25, deadline=None,
                 suppress_health_check=[HealthCheck.function_scoped_fixture])


def leaf(array, device, requires_grad=True):
    return minigan.tensor(array, dtype="float64", device=device, requires_grad=requires_grad)


def close(a, b, tol=1e-10):
    a = asnumpy(a._data if isinstance(a, minigan.Tensor) else a)
    b = asnumpy(b._data if isinstance(b, minigan.Tensor) else b)
    assert a.shape == b.shape
    np.testing.assert_allclose(a, b, rtol=tol, atol=tol)


@st.composite
def windows(draw):
    """A small image batch and a valid kernel window, stride and padding."""
    kernel = (draw(st.integers(1, 4)), draw(st.integers(1, 4)))
    padding = (draw(st.integers(0, 2)), draw(st.integers(0, 2)))
    size = tuple(max(1, k - 2 * p) + draw(st.integers(0, 4)) for k, p in zip(kernel, padding))
    return dict(shape=(draw(st.integers(1, 3)), draw(st.integers(1, 3))) + size, kernel=kernel,
                stride=(draw(st.integers(1, 3)), draw(st.integers(1, 3))), padding=padding,
                c_out=draw(st.integers(1, 3)), seed=draw(st.integers(0, 2**31)))


# ------------------------------------------------------------------------ backward
def graphs():
    """Expressions with shared leaves, broadcasting, constants and a reused intermediate."""
    def reused(x, w, b):
        h = F.tanh(x @ w + b)
        return (h * h + h).sum() + (x * 2).mean()
    return [
        lambda x, w, b: (x @ w + b).sum(),
        lambda x, w, b: ((x * x).sum(axis=1, keepdims=True) * b[:1] - x.exp().mean()).sum(),
        reused,
        lambda x, w, b: F.leaky_relu(x @ w, 0.2).max() + (b ** 2).sum(),
    ]


@pytest.mark.parametrize("k", range(4))
def test_backward_simple_gives_every_leaf_the_gradient_backward_gives(device, k):
    rng = np.random.default_rng(k)
    arrays = [rng.standard_normal((4, 3)), rng.standard_normal((3, 2)), rng.standard_normal(2)]
    expected, got = ([leaf(a, device) for a in arrays] for _ in range(2))
    for _ in range(2):  # a second call adds onto the first one's .grad
        graphs()[k](*expected).backward()
        backward_simple(graphs()[k](*got))
    for e, g in zip(expected, got):
        assert (g.grad is None) == (e.grad is None)  # w is unused in one expression
        if e.grad is not None:
            close(g.grad, e.grad, 1e-12)


def test_backward_simple_takes_an_upstream_gradient_for_a_non_scalar_output(device):
    x = leaf(np.arange(6.0).reshape(2, 3), device)
    u = to_device(np.random.default_rng(0).standard_normal((2, 3)), device)
    backward_simple(x * x, u)
    close(x.grad, 2 * asnumpy(x._data) * asnumpy(u))


# ----------------------------------------------------------------- im2col / col2im
@CASES
@given(case=windows())
def test_im2col_simple_and_col2im_simple_equal_the_fast_ones(device, case):
    rng = np.random.default_rng(case["seed"])
    x = to_device(rng.standard_normal(case["shape"]), device)
    args = case["kernel"], case["stride"], case["padding"]
    cols = im2col_simple(x, *args)  # (N, C, kh, kw, OH, OW)
    close(cols.transpose(1, 2, 3, 4, 5, 0), im2col(x, *args))  # fast: (C, kh, kw, OH, OW, N)
    u = to_device(rng.standard_normal(cols.shape), device)
    u_fast = xp_of(u).ascontiguousarray(u.transpose(1, 2, 3, 4, 5, 0))  # (C, kh, kw, OH, OW, N)
    fast = col2im(u_fast, x.shape, case["stride"], case["padding"])
    close(col2im_simple(u, x.shape, case["stride"], case["padding"]), fast)


def test_col2im_of_ones_counts_the_windows_that_read_each_pixel():
    cols = im2col_simple(np.zeros((1, 1, 4, 4)), (3, 3))  # two by two windows of 3x3
    counts = col2im_simple(np.ones_like(cols), (1, 1, 4, 4))[0, 0]
    np.testing.assert_array_equal(counts, [[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2],
                                           [1, 2, 2, 1]])


# ---------------------------------------------------------------------------- conv
@CASES
@given(case=windows())
def test_conv2d_simple_and_conv2d_im2col_equal_conv2d(device, case):
    rng = np.random.default_rng(case["seed"])
    x = leaf(rng.standard_normal(case["shape"]), device)
    w = leaf(rng.standard_normal((case["c_out"], case["shape"][1]) + case["kernel"]), device)
    expected = F.conv2d(x, w, stride=case["stride"], padding=case["padding"])
    close(conv2d_simple(x._data, w._data, case["stride"], case["padding"]), expected)
    close(conv2d_im2col(x._data, w._data, case["stride"], case["padding"]), expected)


@CASES
@given(case=windows())
def test_conv_input_gradient_is_conv_transpose2d_simple_of_the_output_gradient(device, case):
    """conv's backward for x, by autograd, equals the twin transposed conv (its adjoint),
    and conv_transpose2d_simple equals F.conv_transpose2d."""
    rng = np.random.default_rng(case["seed"])
    x = leaf(rng.standard_normal(case["shape"]), device)
    w = leaf(rng.standard_normal((case["c_out"], case["shape"][1]) + case["kernel"]), device)
    out = F.conv2d(x, w, stride=case["stride"], padding=case["padding"])
    u = to_device(rng.standard_normal(out.shape), device)
    out.backward(u)
    # the output padding that recovers x's size where the stride skipped trailing pixels
    # (always < stride, as conv_transpose2d requires)
    h, wd = case["shape"][2:]
    oh, ow = out.shape[2:]
    output_padding = tuple(size + 2 * p - ((o - 1) * s + k) for size, p, o, s, k in zip(
        (h, wd), case["padding"], (oh, ow), case["stride"], case["kernel"]))
    grad_x = conv_transpose2d_simple(u, w._data, case["stride"], case["padding"], output_padding)
    close(grad_x, x.grad)
    close(grad_x, F.conv_transpose2d(leaf(u, device), w, stride=case["stride"],
                                     padding=case["padding"], output_padding=output_padding))


# ----------------------------------------------------------------------- BatchNorm
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 3, 2)])
def test_batch_norm_simple_by_autograd_and_in_closed_form_equals_batch_norm(device, shape):
    rng = np.random.default_rng(1)
    x = 2 + 3 * rng.standard_normal(shape)
    gamma, beta = 1 + rng.random(shape[1]), rng.standard_normal(shape[1])
    u = to_device(rng.standard_normal(shape), device)
    fast = [leaf(a, device) for a in (x, gamma, beta)]
    simple = [leaf(a, device) for a in (x, gamma, beta)]
    out = F.batch_norm(fast[0], None, None, fast[1], fast[2], training=True)
    out.backward(u)
    out_simple = batch_norm_simple(*simple)
    out_simple.backward(u)
    close(out_simple, out)
    closed_form = batch_norm_backward_simple(u, fast[0]._data, fast[1]._data)
    for f, s, c in zip(fast, simple, closed_form):
        close(s.grad, f.grad)
        close(c, f.grad)


# ---------------------------------------------------------------------------- Adam
def test_adam_simple_takes_the_steps_adam_takes(device):
    rng = np.random.default_rng(2)
    start = [rng.standard_normal((3, 4)), rng.standard_normal(4)]
    fast, simple = ([leaf(a, device) for a in start] for _ in range(2))
    opt_fast = optim.Adam(fast, lr=0.1, betas=(0.5, 0.999))
    opt_simple = AdamSimple(simple, lr=0.1, betas=(0.5, 0.999))
    for step in range(5):
        for params, opt in ((fast, opt_fast), (simple, opt_simple)):
            opt.zero_grad()
            ((params[0] * params[0]).sum() + (params[0] @ params[1]).exp().sum()).backward()
            opt.step()
    for f, s in zip(fast, simple):
        close(s, f, 1e-12)


def test_gan_step_takes_the_step_the_updater_takes(tmp_path):
    """The textbook step and GANUpdater.update, from the same weights and the same random
    inputs (the updater's own draw), leave the same weights in G and D."""
    from minigan.textbook.gan_step import gan_step
    from minigan.training.config import TrainConfig
    from minigan.training.setup import setup
    from minigan.training.updater import GANUpdater, StepSettings

    runs = [setup(TrainConfig(dataset="ring8", steps=1, d_steps=2, out=str(tmp_path / name)))
            for name in ("updater", "textbook")]
    updaters = [GANUpdater(r.G, r.D, r.opt_g, r.opt_d, r.real, StepSettings.of(r.config), r.method)
                for r in runs]
    inputs = updaters[1].draw(1)
    before = next(runs[0].G.parameters()).numpy().copy()
    updaters[0].update(1)
    assert not np.array_equal(next(runs[0].G.parameters()).numpy(), before)  # it moved
    run = runs[1]
    gan_step(run.G, run.D, run.opt_g, run.opt_d, [(b.x, b.z) for b in inputs.d_batches],
             inputs.z)
    for module in ("G", "D"):
        for (name, a), b in zip(getattr(runs[0], module).named_parameters(),
                                getattr(runs[1], module).parameters()):
            np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-7,
                                       err_msg=f"{module}.{name}")


def test_gan_step_keeps_float64_models_in_float64():
    """Was: its targets were float32 whatever the logits, and BCE (as PyTorch's) then
    computes in float32: a float64 step matched PyTorch's float64 step only to 1e-6."""
    from minigan import nn, optim
    from minigan.textbook.gan_step import gan_step

    minigan.manual_seed(0)
    G = nn.Sequential(nn.Linear(3, 4), nn.Tanh()).double()
    D = nn.Sequential(nn.Linear(4, 1)).double()
    opt_g, opt_d = (optim.Adam(m.parameters(), lr=1e-3) for m in (G, D))
    x, z = minigan.randn(5, 4).double(), minigan.randn(5, 3).double()
    loss_d, loss_g = gan_step(G, D, opt_g, opt_d, [(x, z)], z)
    assert loss_d.dtype == np.float64 and loss_g.dtype == np.float64


@pytest.mark.parametrize("eps", [0.0, 0.5])
def test_batch_norm_gradient_forgets_shifts_and_forgets_scalings_only_at_eps_0(eps):
    """textbook/batchnorm.py's reading of the closed form: sum(dL/dx) = 0 always, and
    sum(x_hat dL/dx) = gamma / sigma * sum(g x_hat) * eps / (var + eps), 0 only at eps 0."""
    rng = np.random.default_rng(0)
    x = minigan.tensor(rng.standard_normal((6, 1)) * 0.7, requires_grad=True)
    g = rng.standard_normal((6, 1))
    gamma = 1.5
    weight = minigan.tensor([gamma], dtype="float64")
    out = F.batch_norm(x, None, None, weight, None, training=True, eps=eps)
    out.backward(minigan.tensor(g))
    xv, grad = x.numpy()[:, 0], x.grad.numpy()[:, 0]
    var = xv.var()
    sigma = np.sqrt(var + eps)
    x_hat = (xv - xv.mean()) / sigma
    assert abs(grad.sum()) < 1e-12
    want = gamma / sigma * (g[:, 0] * x_hat).sum() * eps / (var + eps)
    np.testing.assert_allclose((x_hat * grad).sum(), want, atol=1e-12)
    assert (eps == 0) == (abs(want) < 1e-12)
