"""The convolutions in shares, one per thread (minigan/fast/threaded.py), against the serial
fast versions they fall back to (minigan/fast/conv.py), which test_fast_paths.py holds
equal to the definitions: every pass of both convolutions, with the sub-pixel form, with
windows that tile the image, with one input channel, more shares than channels, and only
one of the two gradients wanted. No share splits a sum, but OpenBLAS chooses its kernels
by a product's size and some add in another order (threaded.py), so the results agree to
rounding: rtol 1e-12 in float64, 1e-5 in float32 (as OpenBLAS at 1 and at 2 threads:
test_threads.py). The serial reference runs at one BLAS thread."""
import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import threads
from minigan.fast import threaded, workspace

# (x shape, w shape, transposed?, stride, padding): which paths each layer takes
LAYERS = {
    "conv, col2im": ((4, 32, 14, 14), (32, 32, 4, 4), False, 2, 1),
    "conv, one input channel": ((4, 1, 12, 12), (32, 1, 4, 4), False, 2, 1),
    "conv, sub-pixel input gradient": ((2, 16, 32, 32), (32, 16, 4, 4), False, 2, 1),
    "conv, stride 1, 3x3": ((3, 32, 9, 9), (32, 32, 3, 3), False, 1, 1),
    "transposed, col2im": ((4, 32, 7, 7), (32, 32, 4, 4), True, 2, 1),
    "transposed, one output channel": ((4, 32, 14, 14), (32, 1, 4, 4), True, 2, 1),
    "transposed, windows tile (1x1 input)": ((4, 32, 1, 1), (32, 32, 7, 7), True, 1, 0),
    "transposed, sub-pixel": ((2, 32, 16, 16), (32, 32, 4, 4), True, 2, 1),
}
ODD = {  # channel counts that split unevenly
    "conv, 7 <- 5 channels, 3x3": ((3, 5, 9, 9), (7, 5, 3, 3), False, 1, 1),
    "conv, 10 <- 6 channels": ((4, 6, 14, 14), (10, 6, 4, 4), False, 2, 1),
    "transposed, 10 -> 6 channels": ((4, 10, 7, 7), (10, 6, 4, 4), True, 2, 1),
    "transposed, sub-pixel, 12 -> 6": ((2, 12, 16, 16), (12, 6, 4, 4), True, 2, 1),
}


def run_layer(layer, dtype, wants=(True, True), seed=0):
    """The layer's output and the gradients wanted, for a random upstream gradient."""
    x_shape, w_shape, transposed, stride, padding = {**LAYERS, **ODD}[layer]
    rng = np.random.default_rng(seed)
    x = minigan.tensor(rng.standard_normal(x_shape).astype(dtype), requires_grad=wants[0])
    w = minigan.tensor(rng.standard_normal(w_shape).astype(dtype), requires_grad=wants[1])
    h = F.leaky_relu(x * 1.0, 0.2)  # an input made in the graph, as inside a network
    conv = F.conv_transpose2d if transposed else F.conv2d
    y = conv(h, w, stride=stride, padding=padding)
    u = minigan.tensor(rng.standard_normal(y.shape).astype(dtype))
    (y * u).sum().backward()
    return [y.numpy()] + [t.grad.numpy() for t, want in zip((x, w), wants) if want]


@pytest.fixture
def shares(monkeypatch):
    """Every layer cut into `n` shares (set shares.n), the calls of in_shares counted; the
    BLAS at one thread outside the shares too, so that the serial version is the one
    reference (OpenBLAS at 2 threads splits a product its own way)."""
    class Shares:
        n, calls = 2, []

    real = threaded.in_shares
    monkeypatch.setattr(threaded, "MIN_FLOPS", 0)
    monkeypatch.setattr(threads, "ops_threads", lambda: Shares.n)
    monkeypatch.setattr(threaded, "in_shares",
                        lambda n, total, task: Shares.calls.append(n) or real(n, total, task))
    before = threads.blas().get()
    threads.blas().set(1)
    yield Shares
    threads.blas().set(before)


TOLERANCE = {"float64": 1e-12, "float32": 1e-5}


def assert_agree(got, want, dtype="float64"):
    """Each result within rounding of the serial one (relative to its largest value)."""
    rtol = TOLERANCE[dtype]
    for a, b in zip(got, want, strict=True):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * np.abs(b).max())


def serial(monkeypatch, fn):
    with monkeypatch.context() as m:
        m.setattr(threaded, "MIN_FLOPS", float("inf"))
        return fn()


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("layer", sorted(LAYERS) + sorted(ODD))
def test_every_layer_in_shares_equals_the_serial_version(layer, dtype, shares, monkeypatch):
    got = run_layer(layer, dtype)
    assert shares.calls and all(n == 2 for n in shares.calls)  # the shares ran
    assert_agree(got, serial(monkeypatch, lambda: run_layer(layer, dtype)), dtype)


@pytest.mark.parametrize("wants", [(True, False), (False, True)])
@pytest.mark.parametrize("layer", ["conv, col2im", "conv, sub-pixel input gradient",
                                   "transposed, col2im", "transposed, sub-pixel"])
def test_one_gradient_wanted_in_shares(layer, wants, shares, monkeypatch):
    got = run_layer(layer, "float64", wants)
    assert shares.calls
    assert_agree(got, serial(monkeypatch, lambda: run_layer(layer, "float64", wants)))


@pytest.mark.parametrize("n", [3, 16])
def test_more_shares_than_blocks_of_channels(n, shares, monkeypatch):
    """3 shares of two blocks of 16 channels, and 16 shares of as few as 1 channel: empty
    shares are skipped."""
    shares.n = n
    for layer in ("conv, col2im", "conv, one input channel", "transposed, one output channel"):
        got = run_layer(layer, "float64")
        assert_agree(got, serial(monkeypatch, lambda: run_layer(layer, "float64")))
    assert set(shares.calls) == {n}


def test_shares_are_consecutive_and_cover_the_range():
    parts = []
    threaded.in_shares(3, 10, lambda a, b: parts.append((a, b)))
    threaded.in_shares(4, 2, lambda a, b: parts.append((a, b)))  # empty shares: not run
    assert sorted(parts) == [(0, 1), (0, 3), (1, 2), (3, 6), (6, 10)]


def test_shares_keep_their_columns_apart_in_the_workspace(shares, monkeypatch):
    """With every columns array in a thread's block, the caller's shared columns and each
    worker's own columns never overlap (equal results), and the caller's block is not a
    worker's."""
    monkeypatch.setattr(workspace, "MIN_BYTES", 0)
    for layer in LAYERS:
        got = run_layer(layer, "float32")
        assert_agree(got, serial(monkeypatch, lambda: run_layer(layer, "float32")), "float32")


def test_the_blas_count_is_one_inside_the_shares_and_restored_after(shares):
    minigan.set_num_threads(2)
    try:
        seen = []
        real = threaded.im2col

        def spy(*args, **kwargs):
            seen.append(threads.blas().get())
            return real(*args, **kwargs)

        threaded.im2col = spy
        try:
            run_layer("conv, col2im", "float64")
        finally:
            threaded.im2col = real
        assert seen and set(seen) == {1}
        assert threads.blas().get() == 2
    finally:
        minigan.set_num_threads(threads.available_cores())
        threads.use_default()


def test_an_error_in_a_share_reaches_the_caller_after_every_share_ended():
    import threading
    import time

    ended = []

    def task(a, b):
        if a == 0:
            raise ValueError("share 0 failed")
        time.sleep(0.05)
        ended.append(threading.current_thread().name)

    with pytest.raises(ValueError, match="share 0 failed"):
        threaded.in_shares(2, 10, task)
    assert len(ended) == 1 and ended[0].startswith("minigan-share")


def test_small_layers_and_one_thread_run_serially(monkeypatch):
    calls = []
    monkeypatch.setattr(threaded, "in_shares", lambda *a: calls.append(a))
    run_layer("conv, col2im", "float64")  # 2.5 MFLOP: under MIN_FLOPS
    monkeypatch.setattr(threaded, "MIN_FLOPS", 0)
    monkeypatch.setattr(threads, "ops_threads", lambda: 1)
    run_layer("transposed, col2im", "float64")
    assert calls == []


def test_two_threads_of_the_user_in_shares_at_once(shares, monkeypatch):
    """Layers in shares from two threads at once give the serial results, and the BLAS's
    count is back to what it was when the last of them is done. (Forward passes only:
    minigan's grad mode is one for the process, so the threads record no graph.)"""
    import threading

    layers = ("conv, col2im", "transposed, sub-pixel")
    no_grad = (False, False)
    want = {layer: serial(monkeypatch, lambda layer=layer: forward_only(layer, no_grad))
            for layer in layers}
    threads.blas().set(2)
    got, errors = {}, []

    def user(layer):
        try:
            for _ in range(3):
                got[layer] = forward_only(layer, no_grad)
        except Exception as error:  # noqa: BLE001 - reported below
            errors.append(error)

    users = [threading.Thread(target=user, args=(layer,)) for layer in layers]
    for t in users:
        t.start()
    for t in users:
        t.join()
    assert not errors and shares.calls
    for layer in layers:
        assert_agree(got[layer], want[layer])
    assert threads.blas().get() == 2


def forward_only(layer, wants):
    x_shape, w_shape, transposed, stride, padding = LAYERS[layer]
    rng = np.random.default_rng(0)
    x, w = (minigan.tensor(rng.standard_normal(s), requires_grad=want)
            for s, want in zip((x_shape, w_shape), wants))
    conv = F.conv_transpose2d if transposed else F.conv2d
    return [conv(x, w, stride=stride, padding=padding).numpy()]


# ----------------------------------------------------------------------------- channels.py
def run_channels(dtype, slope, with_nan=False, seed=1):
    """BatchNorm (training, then eval) and the activations on a batch-last input, as after
    a conv layer: outputs, gradients and the running statistics."""
    rng = np.random.default_rng(seed)
    x0 = rng.standard_normal((4, 6, 5, 5)).astype(dtype)
    if with_nan:
        x0[1, 2, 3, 4] = np.nan
    x = minigan.tensor(x0, requires_grad=True)
    h = F.conv2d(x, minigan.tensor(np.eye(6, dtype=dtype).reshape(6, 6, 1, 1)))  # batch-last
    gamma = minigan.tensor(rng.uniform(0.5, 2, 6).astype(dtype), requires_grad=True)
    beta = minigan.tensor(rng.standard_normal(6).astype(dtype), requires_grad=True)
    mean, var = minigan.zeros(6, dtype=dtype), minigan.ones(6, dtype=dtype)
    y = F.batch_norm(h, mean, var, gamma, beta, training=True)
    y = F.leaky_relu(y, slope) + F.relu(y)
    y = F.batch_norm(y, mean, var, training=False)
    y = F.conv2d(y, minigan.tensor(np.eye(6, dtype=dtype).reshape(6, 6, 1, 1)))  # so that the
    # gradients arrive in batch-last memory, as from a conv layer's backward in a network
    u = minigan.tensor(rng.standard_normal(y.shape).astype(dtype))
    (y * u).sum().backward()
    return [y.numpy(), x.grad.numpy(), gamma.grad.numpy(), beta.grad.numpy(), mean.numpy(),
            var.numpy()]


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("slope", [0.2, 0.0, 1.5])
def test_batch_norm_and_activations_in_channel_shares_equal_the_serial_versions(
        dtype, slope, shares, monkeypatch):
    from minigan.fast import channels

    ran = []
    real = channels.channel_ways
    monkeypatch.setattr(channels, "MIN_ELEMENTS", 0)
    monkeypatch.setattr(channels, "channel_ways", lambda x: ran.append(real(x)) or ran[-1])
    got = run_channels(dtype, slope)
    assert ran.count(2) >= 6  # BatchNorm, LeakyReLU, ReLU: forward and backward in shares
    assert channels.channel_ways(np.zeros((4, 6, 5, 5))) == 1  # (N, C, H, W) memory: serial
    monkeypatch.setattr(channels, "channel_ways", lambda x: 1)
    assert_agree(got, run_channels(dtype, slope), dtype)


def test_relu_in_channel_shares_passes_the_gradient_at_nan_as_the_definition(shares,
                                                                             monkeypatch):
    from minigan.fast import channels

    monkeypatch.setattr(channels, "MIN_ELEMENTS", 0)
    rng = np.random.default_rng(0)
    x0 = rng.standard_normal((2, 4, 3, 3))
    x0[0, 1, 1, 1], x0[1, 3, 0, 0] = np.nan, 0.0
    results = []
    for fast_on in (True, False):
        x = minigan.tensor(x0, requires_grad=True)
        h = F.conv2d(x, minigan.tensor(np.eye(4).reshape(4, 4, 1, 1)))
        y = F.relu(h)
        y.sum().backward()
        results.append((y.numpy(), x.grad.numpy()))
        monkeypatch.setattr(channels, "MIN_ELEMENTS", float("inf"))
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)
    assert np.isnan(results[0][0][0, 1, 1, 1]) and results[0][1][1, 3, 0, 0] == 0
