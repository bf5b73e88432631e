"""The faster versions of minigan/fast/ against the definitions they stand in for.

Each fast version computes the same formulas in another order of passes, so it must give
the same numbers: bit for bit where only the slicing differs (elementwise work per number
is unchanged), or to rounding where the order of operations changes. The first tests run
every registered op with its fast versions and with the definitions alone
(`fast.disabled()`), and check that every registered version ran; the later ones test
each piece (blocked Adam, the mask arithmetic, the sub-pixel form, the workspace) alone.
The GPU versions are compared with the definitions in tests/test_kernel_wrappers.py (on
NumPy stand-ins) and tests/test_kernels.py (on a GPU).
"""
import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import autograd, fast, optim
from minigan.fast import adam
from minigan.optim.adam import adam_update


def run_ops(seed=0):
    """A little network through every op with a fast version, in float64: each conv shape
    where the sub-pixel form pays and where it does not, BatchNorm in both modes,
    LeakyReLU at slopes in and out of [0, 1], ReLU, the loss on logits, a gradient penalty
    (double backward), and two Adam steps.
    Returns every output, gradient and updated weight."""
    rng = np.random.default_rng(seed)
    x = minigan.tensor(rng.standard_normal((2, 3, 16, 16)), requires_grad=True)
    w1 = minigan.nn.Parameter(minigan.tensor(rng.standard_normal((16, 3, 4, 4))))
    w2 = minigan.nn.Parameter(minigan.tensor(rng.standard_normal((16, 32, 4, 4))))  # convT
    w3 = minigan.nn.Parameter(minigan.tensor(rng.standard_normal((4, 32, 3, 3))))
    w4 = minigan.nn.Parameter(minigan.tensor(rng.standard_normal((1, 4, 8, 8)) * 0.1))
    gamma = minigan.nn.Parameter(minigan.tensor(rng.uniform(0.5, 2, 32)))
    beta = minigan.nn.Parameter(minigan.tensor(rng.standard_normal(32)))
    mean, var = minigan.zeros(32, dtype="float64"), minigan.ones(32, dtype="float64")
    params = [w1, w2, w3, w4, gamma, beta]
    opt = optim.Adam(params, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01)
    results = []
    for step in range(2):
        opt.zero_grad()
        h = F.leaky_relu(F.conv2d(x, w1, stride=2, padding=1), 0.2)  # (2, 16, 8, 8)
        h = F.conv_transpose2d(h, w2, stride=2, padding=1)  # (2, 32, 16, 16): sub-pixel pays
        h = F.batch_norm(h, mean, var, gamma, beta, training=True)
        h = F.leaky_relu(h, 1.5 if step else 0.0)  # slopes outside (0, 1]
        h = F.relu(F.conv2d(h, w3, stride=2, padding=1)) + 0.1  # (2, 4, 8, 8)
        h = F.batch_norm(h, minigan.zeros(4, dtype="float64"), minigan.ones(4, dtype="float64"),
                         training=False)
        logits = F.conv2d(h, w4).reshape(-1)  # one window: the whole image
        loss = F.binary_cross_entropy_with_logits(logits, minigan.tensor([1.0, 0.0]))
        # a gradient penalty: its backward differentiates the recorded definitions
        # (Conv2dGradW among them, forward by its fast version)
        g, = minigan.autograd.grad(logits.sum(), x, create_graph=True)
        loss = loss + 0.01 * (g * g).sum()
        loss.backward()
        results += [loss.numpy(), x.grad.numpy()] + [p.grad.numpy() for p in params]
        opt.step()
        results += [p.numpy() for p in params] + [mean.numpy(), var.numpy()]
        x.grad = None
    return results


def test_every_fast_version_equals_the_definition_and_ran(monkeypatch):
    calls = set()
    for table in (autograd.FAST_FORWARD, autograd.FAST_BACKWARD, optim.adam.FAST_UPDATES):
        for key, version in list(table.items()):
            if "cpu" in (key if isinstance(key, tuple) else (key,)):
                monkeypatch.setitem(table, key, lambda *a, _v=version, _k=key, **k:
                                    calls.add(_k[:2] if isinstance(_k, tuple) else _k) or
                                    _v(*a, **k))
    got = run_ops()
    with fast.disabled():
        assert not autograd.FAST_FORWARD and not autograd.FAST_BACKWARD
        want = run_ops()
    assert autograd.FAST_FORWARD  # back after the block
    registered = {k[:2] for t in (autograd.FAST_FORWARD, autograd.FAST_BACKWARD)
                  for k in t if k[1] == "cpu"} | {"cpu"}
    assert calls == registered, f"never ran: {registered - calls}"
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want)):
        np.testing.assert_allclose(g, w, rtol=1e-10, atol=1e-10, err_msg=f"result {i}")


def test_create_graph_runs_the_definitions_and_fast_forwards(monkeypatch):
    """With create_graph=True no fast backward runs: the definition is what is recorded."""
    ran = []
    for key, version in list(autograd.FAST_BACKWARD.items()):
        monkeypatch.setitem(autograd.FAST_BACKWARD, key,
                            lambda *a, _v=version: ran.append(1) or _v(*a))
    x = minigan.randn(2, 3, 8, 8, dtype="float64", requires_grad=True)
    w = minigan.randn(4, 3, 4, 4, dtype="float64", requires_grad=True)
    y = F.leaky_relu(F.conv2d(x, w, stride=2, padding=1), 0.2)
    g, = minigan.autograd.grad((y * y).sum(), x, create_graph=True)
    assert ran == [] and g.requires_grad
    g.sum().backward()
    assert ran  # the second, plain backward takes them


def adam_arrays(shape, seed=0, order="C"):
    rng = np.random.default_rng(seed)
    param, grad, exp_avg = (np.asarray(rng.standard_normal(shape), np.float32, order=order)
                            for _ in range(3))
    exp_avg_sq = np.asarray(rng.random(shape), np.float32, order=order)
    return [param, grad, exp_avg, exp_avg_sq]


SETTINGS = dict(b1=0.5, b2=0.999, bias2_sqrt=0.03, eps=1e-8, step_size=2e-4)


@pytest.mark.parametrize("shape,chunk", [((1000,), 64), ((37, 29), 100), ((5, 3, 4, 4), 7),
                                         ((64,), 64), ((10,), 1000), ((0,), 8), ((3, 70000), None)])
@pytest.mark.parametrize("order", ["C", "F"])
def test_adam_blocked_is_adam_update_bit_for_bit(shape, chunk, order):
    reference, blocked = adam_arrays(shape, order=order), adam_arrays(shape, order=order)
    for _ in range(3):  # the moments carry over between steps
        adam_update(*reference, **SETTINGS)
        adam.adam_update_blocked(*blocked, **SETTINGS, chunk=chunk)
    for want, got in zip(reference, blocked):
        np.testing.assert_array_equal(got, want)


def test_adam_blocked_updates_in_place_through_a_strided_gradient():
    param, grad, m, v = adam_arrays((300, 200))
    grad = np.asarray(grad.T.copy().T)  # same values, Fortran order: the whole-array path
    before = param.copy()
    adam.adam_update_blocked(param, grad, m, v, **SETTINGS, chunk=1000)
    reference = adam_arrays((300, 200))
    adam_update(*reference, **SETTINGS)
    np.testing.assert_array_equal(param, reference[0])
    assert not np.array_equal(param, before)


def test_adam_step_takes_the_blocked_path_on_the_cpu(monkeypatch):
    assert optim.adam.FAST_UPDATES["cpu"] is adam.adam_update_blocked
    calls = []
    real = adam.adam_update_blocked
    monkeypatch.setitem(optim.adam.FAST_UPDATES, "cpu",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    assert real is optim.adam.FAST_UPDATES["cpu"] or calls == []
    w = minigan.nn.Parameter(minigan.randn(300, 300))
    opt = minigan.optim.Adam([w], lr=0.1)
    (w * w).sum().backward()
    opt.step()
    assert calls == [1]


SPECIAL = [0.0, -0.0, 1.0, -1.0, np.inf, -np.inf, np.nan, 1e-45, -1e-45, 1e-38, -1e-38, 3e38,
           -3e38]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("slope", [0.01, 0.2, 0.5, 1.0, 1e-30])
def test_leaky_relu_max_is_the_mask_arithmetic_bit_for_bit(dtype, slope):
    from minigan.fast.activation import derivative, leaky_relu_max

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(1000) * 10.0 ** rng.integers(-30, 30, 1000),
                        SPECIAL]).astype(dtype)
    reference = x * derivative(x > 0, dtype(slope))
    fast = leaky_relu_max(x, dtype(slope))
    assert fast.dtype == reference.dtype
    np.testing.assert_array_equal(fast.view(np.uint8), reference.view(np.uint8))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # -inf * 0, inf - inf in the sum
@pytest.mark.parametrize("slope", [0.0, -0.5, 1.5, 0.2])
@pytest.mark.parametrize("fast_on", [True, False])
def test_leaky_relu_forward_and_backward_match_the_formula_for_every_slope(slope, fast_on):
    x = np.array([-2.0, -0.0, 0.0, 3.0, np.inf, -np.inf], np.float32)
    t = minigan.tensor(x, requires_grad=True)
    with fast.disabled() if not fast_on else np.errstate():
        out = F.leaky_relu(t, slope)
        out.sum().backward()
    with np.errstate(invalid="ignore"):
        want = np.where(x > 0, x, np.float32(slope) * x)
    np.testing.assert_array_equal(out.numpy().view(np.uint32), want.view(np.uint32))
    np.testing.assert_array_equal(t.grad.numpy(), np.where(x > 0, 1, np.float32(slope)))


# ----------------------------------------------------------------------------- sub-pixel
def conv_transpose_col2im(x, w, stride, padding, output_padding):
    """The reference: matmul + col2im, the path every shape can take."""
    from minigan.ops.conv import conv_transpose_arrays

    return conv_transpose_arrays(x, w, stride, padding, output_padding)


@pytest.mark.parametrize("x_shape,w_shape,stride,padding,output_padding", [
    ((3, 5, 6, 7), (5, 4, 4, 4), (2, 2), (1, 1), (0, 0)),  # DCGAN's k 4, s 2, p 1
    ((2, 3, 5, 4), (3, 2, 4, 4), (2, 2), (0, 0), (0, 0)),  # no padding
    ((2, 3, 5, 5), (3, 2, 6, 6), (3, 3), (2, 2), (1, 0)),  # m 2 at stride 3, output_padding
    ((2, 4, 4, 6), (4, 3, 3, 3), (1, 1), (1, 1), (0, 0)),  # stride 1: m = k
    ((2, 4, 6, 5), (4, 3, 4, 6), (2, 3), (1, 2), (1, 0)),  # other kh, kw, sh, sw
    ((1, 2, 1, 1), (2, 5, 4, 4), (2, 2), (1, 1), (1, 1)),  # one input pixel
])
def test_subpixel_is_the_col2im_transposed_convolution(x_shape, w_shape, stride, padding,
                                                       output_padding):
    from minigan.fast import subpixel

    rng = np.random.default_rng(0)
    x, w = rng.standard_normal(x_shape), rng.standard_normal(w_shape)  # float64
    assert subpixel.phases(w_shape[2:], stride, padding, output_padding) is not None
    want = conv_transpose_col2im(x, w, stride, padding, output_padding)
    got = subpixel.conv_transpose_subpixel(x, w, stride, padding, output_padding)
    assert got.shape == want.shape and got.strides[0] == got.itemsize  # batch innermost
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    scratch = np.full(4 * got.size + 4 * x.size * 9, np.nan)  # the columns go in here
    again = subpixel.conv_transpose_subpixel(x, w, stride, padding, output_padding, scratch)
    np.testing.assert_array_equal(again, got)
    assert not np.isnan(scratch[:8]).any()


@pytest.mark.parametrize("kernel,stride,padding,output_padding", [
    ((3, 3), (2, 2), (1, 1), (0, 0)),  # 3 taps are not a multiple of stride 2
    ((2, 2), (2, 2), (0, 0), (0, 0)),  # k = s: the windows tile, col2im only moves numbers
    ((4, 4), (2, 2), (1, 1), (1, 2)),  # output_padding beyond padding (in W)
])
def test_subpixel_does_not_apply(kernel, stride, padding, output_padding):
    from minigan.fast import subpixel

    assert subpixel.phases(kernel, stride, padding, output_padding) is None
    assert not subpixel.pays((1, 1, 8, 8), (1, 64) + kernel, stride, padding, output_padding)


def test_subpixel_pays_on_dcgan_s_large_layers_only():
    from minigan.fast import subpixel

    def pays(c_in, c_out, size):  # a DCGAN transposed convolution (or conv's input gradient)
        return subpixel.pays((64, c_in, size, size), (c_in, c_out, 4, 4), (2, 2), (1, 1), (0, 0))

    assert pays(128, 64, 16)  # measured faster
    assert not pays(256, 128, 8) and not pays(128, 64, 7)  # measured even
    assert not pays(512, 256, 4) and not pays(64, 3, 32) and not pays(64, 1, 14)  # slower
    # one window (D's last layer's input gradient, 1x1 -> 7x7): col2im only reshapes
    assert not subpixel.pays((64, 1, 1, 1), (1, 128, 7, 7), (1, 1), (0, 0), (0, 0))
    assert not subpixel.pays((64, 1, 1, 1), (1, 512, 4, 4), (1, 1), (0, 0), (0, 0))


def test_conv_layers_take_the_subpixel_path_and_agree_with_col2im(monkeypatch):
    """A DCGAN discriminator layer's shape, small (16 -> 32 channels, 4x4, stride 2): conv's
    input gradient and the transposed convolution's forward go through the sub-pixel form,
    and the output and both gradients equal those of the col2im path."""
    from minigan.fast import subpixel

    calls = []
    real = subpixel.conv_transpose_subpixel
    monkeypatch.setattr(subpixel, "conv_transpose_subpixel",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
    rng = np.random.default_rng(0)
    x0, w0 = rng.standard_normal((2, 16, 32, 32)), rng.standard_normal((32, 16, 4, 4))

    def run():
        x, w = (minigan.tensor(a, requires_grad=True) for a in (x0, w0))
        y = F.conv_transpose2d(F.conv2d(x, w, stride=2, padding=1), w, stride=2, padding=1)
        (y * y).sum().backward()
        return y.numpy(), x.grad.numpy(), w.grad.numpy()

    fast = run()
    assert len(calls) == 2  # conv's input gradient and convT's forward
    monkeypatch.setattr(subpixel, "pays", lambda *args: False)
    reference = run()
    assert len(calls) == 2
    for got, want in zip(fast, reference):
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------- workspace
def test_workspace_reuses_one_block_per_thread_and_grows(monkeypatch):
    import threading

    from minigan.fast import workspace

    like = np.zeros(1)
    workspace.release()
    small = workspace.columns(like, (4, 5), np.float32)  # under MIN_BYTES: no block for it
    assert not np.shares_memory(small, workspace.columns(like, (4, 5), np.float32))
    monkeypatch.setattr(workspace, "MIN_BYTES", 400)
    large = workspace.columns(like, (10, 10), np.float32)  # 400 bytes: makes the block
    assert np.shares_memory(large, workspace.columns(like, (4, 5), np.float32))  # then used
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    workspace.release()
    a = workspace.columns(like, (4, 5), np.float32)
    b = workspace.columns(like, (2, 3), np.float64)  # the same memory, another view
    assert a.shape == (4, 5) and a.dtype == np.float32 and b.dtype == np.float64
    assert np.shares_memory(a, b)
    c = workspace.columns(like, (100, 100), np.float32)  # larger: a new block
    assert not np.shares_memory(a, c) and c.flags.c_contiguous
    other = []
    thread = threading.Thread(target=lambda: other.append(workspace.columns(like, (3,), np.float32)))
    thread.start()
    thread.join()
    assert not np.shares_memory(other[0], workspace.columns(like, (3,), np.float32))
    workspace.release()


def test_conv_layers_give_the_same_numbers_with_the_workspace_kept_or_released(monkeypatch):
    """Two layers in a row, their backward interleaved: each op's columns are its own
    for as long as it uses them (every columns array in the block here)."""
    from minigan.fast import workspace

    monkeypatch.setattr(workspace, "MIN_BYTES", 0)

    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((3, 4, 12, 12))
    w1, w2 = rng.standard_normal((8, 4, 4, 4)), rng.standard_normal((8, 16, 4, 4))

    def run(release):
        x, a, b = (minigan.tensor(v, requires_grad=True) for v in (x0, w1, w2))
        h = F.leaky_relu(F.conv2d(x, a, stride=2, padding=1), 0.2)
        y = F.conv2d(F.conv_transpose2d(h, b, stride=2, padding=1), b, stride=2, padding=1)
        if release:
            workspace.release()
        (y * y).sum().backward()
        return [t.numpy() for t in (y, x.grad, a.grad, b.grad)]

    for got, want in zip(run(False), run(True)):
        np.testing.assert_array_equal(got, want)


def test_no_op_body_switches_backend_or_keeps_a_second_backward():
    """minigan/ops/ holds definitions only: the fast versions are registered from
    minigan/fast/ and chosen in autograd.py alone."""
    import pathlib

    import minigan.ops

    banned = ("kernels", "is_cupy", "backend.cp", "is_grad_enabled", "backward_arrays",
              "workspace", "subpixel", "FAST_")
    for path in pathlib.Path(minigan.ops.__file__).parent.glob("*.py"):
        code = [line.split("#")[0] for line in path.read_text().splitlines()]
        for word in banned:
            assert not any(word in line for line in code if not line.lstrip().startswith(
                ('"', "'"))), f"{path.name} mentions {word} outside its docstrings"
        assert path.read_text().count("def backward(") <= path.read_text().count("(Function)")
