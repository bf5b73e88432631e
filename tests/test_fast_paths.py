"""The CPU fast paths of issue 15 against the plain code they stand in for (the reference).

Each fast path computes the same formulas in another order of passes, so it must give the
same numbers: bit for bit where only the slicing differs (elementwise work per number is
unchanged), or to rounding where the order of operations changes.
"""
import numpy as np
import pytest

from minigan.optim import adam


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
        adam.adam_update(*reference, **SETTINGS)
        adam.adam_update_blocked(*blocked, **SETTINGS, chunk=chunk)
    for want, got in zip(reference, blocked):
        np.testing.assert_array_equal(got, want)


def test_adam_blocked_updates_in_place_through_a_strided_gradient():
    param, grad, m, v = adam_arrays((300, 200))
    grad = np.asarray(grad.T.copy().T)  # same values, Fortran order: the whole-array path
    before = param.copy()
    adam.adam_update_blocked(param, grad, m, v, **SETTINGS, chunk=1000)
    reference = adam_arrays((300, 200))
    adam.adam_update(*reference, **SETTINGS)
    np.testing.assert_array_equal(param, reference[0])
    assert not np.array_equal(param, before)


def test_adam_step_takes_the_blocked_path_on_the_cpu(monkeypatch):
    import minigan

    calls = []
    real = adam.adam_update_blocked
    monkeypatch.setattr(adam, "adam_update_blocked",
                        lambda *a, **k: calls.append(1) or real(*a, **k))
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
    from minigan.ops.activation import LeakyReLU, leaky_relu_max

    rng = np.random.default_rng(1)
    x = np.concatenate([rng.standard_normal(1000) * 10.0 ** rng.integers(-30, 30, 1000),
                        SPECIAL]).astype(dtype)
    op = LeakyReLU()
    op.slope = dtype(slope)
    reference = x * op.derivative(x > 0)
    fast = leaky_relu_max(x, op.slope)
    assert fast.dtype == reference.dtype
    np.testing.assert_array_equal(fast.view(np.uint8), reference.view(np.uint8))


@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # -inf * 0, inf - inf in the sum
@pytest.mark.parametrize("slope", [0.0, -0.5, 1.5, 0.2])
def test_leaky_relu_forward_and_backward_match_the_formula_for_every_slope(slope):
    import minigan
    import minigan.nn.functional as F

    x = np.array([-2.0, -0.0, 0.0, 3.0, np.inf, -np.inf], np.float32)
    t = minigan.tensor(x, requires_grad=True)
    out = F.leaky_relu(t, slope)
    with np.errstate(invalid="ignore"):
        want = np.where(x > 0, x, np.float32(slope) * x)
    np.testing.assert_array_equal(out.numpy(), want)
    out.sum().backward()
    np.testing.assert_array_equal(t.grad.numpy(), np.where(x > 0, 1, np.float32(slope)))
