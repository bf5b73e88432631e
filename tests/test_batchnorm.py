"""batch_norm and the BatchNorm1d/2d layers: gradients, running statistics, modes, errors.

The closed-form backward is checked element by element against finite differences on
shapes that Hypothesis draws ((N, C) and (N, C, H, W); training and eval; with and
without weight, bias and running statistics), and along random directions at a DCGAN
size. The running statistics follow PyTorch's rule, checked here by hand (the parity
tests compare them with PyTorch itself).
"""
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import minigan
import minigan.nn.functional as F
from minigan import nn
from minigan.gradcheck import directional_gradcheck, gradcheck

GRADCHECK = settings(max_examples=25, deadline=None,
                     suppress_health_check=[HealthCheck.function_scoped_fixture])


def leaf(array, device, requires_grad=True):
    return minigan.tensor(array, dtype="float64", device=device, requires_grad=requires_grad)


def spread(rng, shape):
    """Values at least 0.2 apart: no channel's variance comes near eps, where finite
    differences of 1 / sqrt(var + eps) would lose their accuracy."""
    size = int(np.prod(shape))
    return (rng.permutation(size) * 0.2 - 0.1 * size).reshape(shape) / max(1, size / 20)


@st.composite
def bn_cases(draw):
    image = draw(st.booleans())
    c = draw(st.integers(1, 4))
    if image:
        shape = (draw(st.integers(1, 3)), c, draw(st.integers(1, 3)), draw(st.integers(2, 3)))
    else:
        shape = (draw(st.integers(2, 4)), c)
    return dict(shape=shape, training=draw(st.booleans()), weight=draw(st.booleans()),
                bias=draw(st.booleans()), running=draw(st.booleans()),
                seed=draw(st.integers(0, 2**32 - 1)))


@GRADCHECK
@given(case=bn_cases())
def test_batch_norm_gradients_match_finite_differences(device, case):
    rng = np.random.default_rng(case["seed"])
    c = case["shape"][1]
    x = leaf(spread(rng, case["shape"]), device)
    weight = leaf(rng.uniform(0.5, 2.0, c), device) if case["weight"] else None
    bias = leaf(rng.standard_normal(c), device) if case["bias"] else None
    running_mean = running_var = None
    if case["running"]:
        running_mean = leaf(rng.standard_normal(c), device, False)
        running_var = leaf(rng.uniform(0.5, 2.0, c), device, False)
    inputs = [t for t in (x, weight, bias) if t is not None]

    def fn(x, *params):
        params = list(params)
        w = params.pop(0) if weight is not None else None
        b = params.pop(0) if bias is not None else None
        return F.batch_norm(x, running_mean, running_var, w, b, training=case["training"])
    assert gradcheck(fn, inputs)


@pytest.mark.parametrize("training", [True, False])
def test_gradients_along_random_directions_at_a_dcgan_size(device, training):
    rng = np.random.default_rng(1)
    x = leaf(rng.standard_normal((8, 64, 8, 8)), device)
    weight, bias = leaf(rng.uniform(0.5, 2, 64), device), leaf(rng.standard_normal(64), device)
    mean = leaf(rng.standard_normal(64), device, False)
    var = leaf(rng.uniform(0.5, 2, 64), device, False)
    assert directional_gradcheck(
        lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=training), [x, weight, bias])


# ------------------------------------------------------------------ the forward formulas
@pytest.mark.parametrize("shape", [(6, 3), (4, 3, 5, 2)])
def test_training_normalises_with_batch_statistics_and_updates_running_ones(device, shape):
    rng = np.random.default_rng(2)
    x = rng.standard_normal(shape) * 3 + 1
    axes = (0,) + tuple(range(2, len(shape)))
    mean, var = x.mean(axis=axes), x.var(axis=axes)
    count = x.size // shape[1]
    running_mean, running_var = leaf(np.full(3, 0.5), device, False), leaf(np.full(3, 2.0), device,
                                                                           False)
    mean_array = running_mean._data  # the update is in place: the same array is modified
    w, b = leaf(np.array([1.0, 2.0, 3.0]), device), leaf(np.array([0.0, -1.0, 1.0]), device)
    out = F.batch_norm(leaf(x, device), running_mean, running_var, w, b, training=True,
                       momentum=0.25, eps=1e-3)
    broadcast = (1, 3) + (1,) * (len(shape) - 2)
    expected = ((x - mean.reshape(broadcast)) / np.sqrt(var.reshape(broadcast) + 1e-3)
                * w.numpy().reshape(broadcast) + b.numpy().reshape(broadcast))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12, atol=1e-12)
    assert running_mean._data is mean_array
    np.testing.assert_allclose(running_mean.numpy(), 0.75 * 0.5 + 0.25 * mean, rtol=1e-13)
    unbiased = var * count / (count - 1)  # the running estimate is unbiased, as PyTorch's
    np.testing.assert_allclose(running_var.numpy(), 0.75 * 2.0 + 0.25 * unbiased, rtol=1e-13)


def test_eval_uses_running_statistics_and_leaves_them_unchanged(device):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((5, 2, 3, 3))
    mean, var = np.array([0.5, -1.0]), np.array([4.0, 0.25])
    running_mean, running_var = leaf(mean, device, False), leaf(var, device, False)
    out = F.batch_norm(leaf(x, device), running_mean, running_var, training=False, eps=0.0)
    expected = (x - mean.reshape(1, 2, 1, 1)) / np.sqrt(var.reshape(1, 2, 1, 1))
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-12)
    np.testing.assert_array_equal(running_mean.numpy(), mean)
    np.testing.assert_array_equal(running_var.numpy(), var)


def test_without_running_statistics_batch_statistics_are_used_even_in_eval(device):
    x = leaf(np.random.default_rng(4).standard_normal((7, 3)), device)
    np.testing.assert_allclose(F.batch_norm(x, None, None, training=False).numpy(),
                               F.batch_norm(x, None, None, training=True).numpy())


def test_float32_stays_float32_including_running_statistics(device):
    layer = nn.BatchNorm2d(4).to(device)
    x = minigan.randn(3, 4, 5, 5, device=device, requires_grad=True)
    out = layer(x)
    out.sum().backward()
    assert out.dtype == x.grad.dtype == layer.weight.grad.dtype == np.float32
    assert layer.running_mean.dtype == layer.running_var.dtype == np.float32


# ------------------------------------------------------------------------ clear errors
def test_shape_errors_name_the_function_and_the_shapes():
    x = minigan.randn(4, 3, 2, 2)
    with pytest.raises(ValueError, match=r"batch_norm: weight must have shape \(3,\), got \(2,\), "
                                         r"to match input of shape \(4, 3, 2, 2\) \(C = 3\)"):
        F.batch_norm(x, None, None, weight=minigan.ones(2), training=True)
    with pytest.raises(ValueError, match=r"batch_norm: input must have shape \(N, C, \*\), "
                                         r"got \(3,\)"):
        F.batch_norm(minigan.randn(3), None, None, training=True)
    with pytest.raises(ValueError, match="give both running_mean and running_var"):
        F.batch_norm(x, minigan.zeros(3), None)


def test_training_needs_more_than_one_value_per_channel():
    with pytest.raises(ValueError, match=r"batch_norm: expected more than 1 value per channel "
                                         r"when training, got input of shape \(1, 3\)"):
        F.batch_norm(minigan.randn(1, 3), minigan.zeros(3), minigan.ones(3), training=True)
    F.batch_norm(minigan.randn(1, 3), minigan.zeros(3), minigan.ones(3), training=False)


def test_integer_tensors_and_mixed_dtypes_are_rejected():
    ints = minigan.tensor(np.ones((4, 3), dtype=np.int64))
    with pytest.raises(TypeError, match="batch_norm: input must be a floating-point tensor"):
        F.batch_norm(ints, None, None, training=True)
    with pytest.raises(TypeError, match="batch_norm: input is float32 but weight is float64"):
        F.batch_norm(minigan.randn(4, 3), None, None, minigan.ones(3, dtype="float64"),
                     training=True)


def test_layers_name_themselves_and_the_shape_in_errors():
    with pytest.raises(ValueError, match=r"BatchNorm2d\(8, eps=1e-05, momentum=0.1, affine=True, "
                                         r"bias=True, track_running_stats=True\): expected 4D "
                                         r"input \(N, C, H, W\), got 2D input of shape \(4, 8\)"):
        nn.BatchNorm2d(8)(minigan.randn(4, 8))
    with pytest.raises(ValueError, match=r"BatchNorm1d\(8, .*\): batch_norm: running_mean must "
                                         r"have shape \(7,\), got \(8,\)"):
        nn.BatchNorm1d(8)(minigan.randn(4, 7))


def test_momentum_must_be_a_number_in_0_1():
    """(The layers' momentum=None, PyTorch's cumulative average, is accepted:
    test_hostile_engine.py::test_batch_norm_with_momentum_none_keeps_the_cumulative_average...)"""
    with pytest.raises(ValueError, match=r"BatchNorm2d: momentum must be a number in \[0, 1\]"):
        nn.BatchNorm2d(4, momentum=1.5)
    with pytest.raises(ValueError, match=r"batch_norm: momentum must be a number in \[0, 1\]"):
        F.batch_norm(minigan.randn(4, 3), None, None, training=True, momentum=1.5)


# ------------------------------------------------------------------------------ layers
def test_layer_state_has_pytorch_keys_and_initial_values():
    layer = nn.BatchNorm1d(5)
    state = layer.state_dict()
    assert list(state) == ["weight", "bias", "running_mean", "running_var"]
    assert [name for name, _ in layer.named_parameters()] == ["weight", "bias"]
    for key, value in zip(state, (1.0, 0.0, 0.0, 1.0)):
        np.testing.assert_array_equal(state[key], np.full(5, value, dtype=np.float32))


def test_train_and_eval_switch_between_batch_and_running_statistics(device):
    layer = nn.BatchNorm1d(3, momentum=0.5).to(device)
    x = minigan.randn(10, 3, device=device) * 2 + 3
    out = layer(x)  # training: normalised by the batch, running stats move halfway
    np.testing.assert_allclose(out.numpy().mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(layer.running_mean.numpy(), 0.5 * x.numpy().mean(axis=0),
                               rtol=1e-5)
    before = layer.running_mean.numpy().copy()
    layer.eval()
    out = layer(x)
    np.testing.assert_array_equal(layer.running_mean.numpy(), before)
    expected = (x.numpy() - before) / np.sqrt(layer.running_var.numpy() + 1e-5)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_batchnorm1d_accepts_a_length_axis(device):
    layer = nn.BatchNorm1d(4).to(device)
    x = minigan.randn(3, 4, 6, device=device)
    flat = x.numpy().transpose(0, 2, 1).reshape(-1, 4)  # the same values as (N*L, C)
    out = layer(x).numpy().transpose(0, 2, 1).reshape(-1, 4)
    np.testing.assert_allclose(out, (flat - flat.mean(0)) / np.sqrt(flat.var(0) + 1e-5),
                               rtol=1e-4, atol=1e-5)


def test_load_state_dict_accepts_and_ignores_num_batches_tracked():
    layer = nn.BatchNorm2d(2)
    state = {"weight": np.array([2.0, 3.0]), "bias": np.array([0.5, 0.0]),
             "running_mean": np.array([1.0, -1.0]), "running_var": np.array([4.0, 9.0]),
             "num_batches_tracked": np.array(7)}
    layer.load_state_dict(state)
    for key, value in layer.state_dict().items():
        np.testing.assert_array_equal(value, state[key].astype(np.float32))
