"""Tensor creation, dtypes, devices, host copies and seeded random draws."""
import numpy as np
import pytest

import minigan


# --------------------------------------------------------------------------- creation
def test_tensor_from_python_floats_defaults_to_float32(device):
    t = minigan.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    assert t.dtype == np.float32 and t.shape == (2, 2) and t.ndim == 2 and t.device == device
    assert minigan.tensor(1.5, device=device).shape == ()


def test_tensor_keeps_integer_and_bool_and_array_dtypes(device):
    assert minigan.tensor([1, 2], device=device).dtype == np.int64
    assert minigan.tensor([True, False], device=device).dtype == np.bool_
    assert minigan.tensor(np.zeros(2, np.float64), device=device).dtype == np.float64
    assert minigan.tensor(np.zeros(2, np.float16), device=device).dtype == np.float16


@pytest.mark.parametrize("dtype", ["float64", np.float64, minigan.float64])
def test_tensor_dtype_argument_accepts_names_and_numpy_types(device, dtype):
    assert minigan.tensor([1, 2], dtype=dtype, device=device).dtype == np.float64


def test_tensor_copies_its_data(device):
    data = np.array([1.0, 2.0], dtype=np.float32)
    t = minigan.tensor(data, device=device)
    data[0] = 100.0
    assert t.numpy()[0] == 1.0


def test_tensor_of_a_tensor_copies_values_without_the_graph(device):
    x = minigan.tensor([1.0, 2.0], device=device, requires_grad=True)
    y = minigan.tensor(x * 2)
    assert not y.requires_grad and y.device == device
    np.testing.assert_array_equal(y.numpy(), [2.0, 4.0])


@pytest.mark.parametrize("make", [minigan.zeros, minigan.ones, minigan.randn, minigan.rand])
def test_creation_functions_default_to_float32_and_accept_shapes_both_ways(device, make):
    a = make(2, 3, device=device)
    b = make((2, 3), device=device)
    assert a.shape == b.shape == (2, 3)
    assert a.dtype == np.float32 and a.device == device and not a.requires_grad
    assert make(4, dtype="float64", device=device).dtype == np.float64
    assert make(2, device=device, requires_grad=True).requires_grad
    assert make(device=device).shape == ()


def test_zeros_and_ones_hold_zeros_and_ones(device):
    assert (minigan.zeros(3, 2, device=device).numpy() == 0).all()
    assert (minigan.ones(3, 2, device=device).numpy() == 1).all()


@pytest.mark.parametrize("make", [minigan.zeros, minigan.ones, minigan.randn, minigan.rand])
def test_creation_functions_reject_negative_or_fractional_sizes(make):
    with pytest.raises(ValueError, match="non-negative integers"):
        make(2, -1)
    with pytest.raises(ValueError, match="non-negative integers"):
        make(2.5)


def test_rand_draws_lie_in_the_unit_interval_and_look_uniform(device):
    minigan.manual_seed(0)
    values = minigan.rand(100_000, device=device).numpy()
    assert values.min() >= 0.0 and values.max() < 1.0
    assert values.mean() == pytest.approx(0.5, abs=0.01)
    assert values.var() == pytest.approx(1 / 12, rel=0.03)


def test_randn_draws_look_standard_normal(device):
    minigan.manual_seed(0)
    for dtype in ("float32", "float64"):
        values = minigan.randn(100_000, dtype=dtype, device=device).numpy()
        assert values.dtype == np.dtype(dtype)
        assert values.mean() == pytest.approx(0.0, abs=0.02)
        assert values.std() == pytest.approx(1.0, rel=0.02)


@pytest.mark.parametrize("make", [minigan.randn, minigan.rand])
def test_manual_seed_reproduces_random_draws(device, make):
    minigan.manual_seed(123)
    first = make(5, 4, device=device).numpy()
    minigan.manual_seed(123)
    second = make(5, 4, device=device).numpy()
    np.testing.assert_array_equal(first, second)
    assert not np.array_equal(make(5, 4, device=device).numpy(), first)  # the stream moves on
    minigan.manual_seed(124)
    assert not np.array_equal(make(5, 4, device=device).numpy(), first)


def test_a_generator_gives_its_own_reproducible_stream(device):
    gen = minigan.Generator(device, seed=9)
    first = minigan.randn(3, generator=gen).numpy()
    gen.manual_seed(9)
    np.testing.assert_array_equal(minigan.randn(3, generator=gen).numpy(), first)


# --------------------------------------------------------------------------- attributes
def test_tensor_attributes_describe_its_array(device):
    t = minigan.zeros(2, 3, 4, dtype="float64", device=device)
    assert t.shape == (2, 3, 4) and t.ndim == 3 and t.dtype == np.float64
    assert t.device == device and t.grad is None and not t.requires_grad
    assert isinstance(t.data, minigan.Tensor) and type(t._data).__name__ == "ndarray"
    assert t.numel() == 24 and len(t) == 2


def test_numpy_always_returns_a_host_array(device):
    t = minigan.tensor([[1.0, 2.0]], device=device)
    array = t.numpy()
    assert isinstance(array, np.ndarray)
    np.testing.assert_array_equal(array, [[1.0, 2.0]])


def test_item_and_float_convert_one_element_tensors(device):
    t = minigan.tensor([[2.5]], device=device)
    assert t.item() == 2.5 and float(t) == 2.5 and isinstance(t.item(), float)
    assert int(minigan.tensor(3, device=device)) == 3
    with pytest.raises(ValueError, match="one-element"):
        minigan.zeros(2, device=device).item()


def test_to_the_same_device_returns_the_tensor_itself(device):
    t = minigan.zeros(2, device=device)
    assert t.to(device) is t


def test_to_another_device_copies_and_carries_the_gradient_back(device):
    if device == "cpu":
        pytest.skip("needs a GPU: moving between cpu and cuda")
    x = minigan.tensor([1.0, 2.0], dtype="float64", requires_grad=True)
    y = x.to("cuda")
    assert y.device == "cuda" and y.requires_grad
    (y * y).sum().backward()
    assert x.grad.device == "cpu"
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 4.0])


def test_repr_shows_values_and_requires_grad():
    assert repr(minigan.tensor([1.0, 2.0])) == "tensor([1., 2.])"
    assert "requires_grad=True" in repr(minigan.tensor([1.0], requires_grad=True))


def test_requires_grad_underscore_sets_the_flag_in_place(device):
    t = minigan.zeros(2, device=device)
    assert t.requires_grad_() is t and t.requires_grad
    assert not t.requires_grad_(False).requires_grad


# --------------------------------------------------------------------------- operators
def test_operators_broadcast_and_accept_numbers_and_arrays_on_either_side(device):
    x = minigan.tensor([[1.0, 2.0], [3.0, 4.0]], device=device)
    row = np.array([10.0, 20.0], dtype=np.float32)
    xs = x.numpy()
    np.testing.assert_array_equal((x + 1).numpy(), xs + 1)
    np.testing.assert_array_equal((1 - x).numpy(), 1 - xs)
    np.testing.assert_array_equal((2 * x / 4).numpy(), 2 * xs / 4)
    np.testing.assert_array_equal((2 ** x).numpy(), 2 ** xs)
    np.testing.assert_array_equal((x + row).numpy(), xs + row)
    np.testing.assert_array_equal((row + x).numpy(), row + xs)  # numpy on the left defers
    np.testing.assert_array_equal((x @ x).numpy(), xs @ xs)


def test_python_numbers_keep_the_tensor_dtype(device):
    for dtype in ("float32", "float64"):
        x = minigan.ones(2, dtype=dtype, device=device)
        for result in (x + 1, 2.5 * x, x / 3, x ** 2, 2.0 ** x, 1 - x, -x):
            assert result.dtype == np.dtype(dtype)


def test_reductions_shapes_follow_axis_and_keepdims(device):
    x = minigan.randn(2, 3, 4, device=device)
    assert x.sum().shape == ()
    assert x.sum(axis=1).shape == (2, 4)
    assert x.mean(axis=(0, 2), keepdims=True).shape == (1, 3, 1)
    assert x.max(axis=-1).shape == (2, 3)
    np.testing.assert_allclose(x.max(axis=(0, 1)).numpy(), x.numpy().max(axis=(0, 1)))


def test_shape_methods_follow_pytorch(device):
    x = minigan.randn(2, 3, 4, device=device)
    assert x.reshape(6, 4).shape == (6, 4) and x.reshape((4, -1)).shape == (4, 6)
    assert x.transpose(0, 2).shape == (4, 3, 2)
    assert x.permute(1, 2, 0).shape == (3, 4, 2) and x.permute((2, 0, 1)).shape == (4, 2, 3)
    assert x[0].shape == (3, 4) and x[:, 1:, ::2].shape == (2, 2, 2)
    assert minigan.cat([x, x], dim=1).shape == (2, 6, 4)


@pytest.mark.parametrize("dtype", ["int64", "int32", "bool"])
def test_exp_and_log_of_integer_tensors_are_float32_as_in_pytorch(dtype):
    t = minigan.tensor(np.array([1, 2, 3]).astype(dtype))
    assert t.exp().dtype == np.float32 and t.log().dtype == np.float32
    np.testing.assert_allclose(t.exp().numpy(), np.exp(t.numpy().astype(np.float32)), rtol=1e-6)


def test_mean_over_an_empty_axis_is_nan_without_a_warning_as_in_pytorch():
    import warnings
    t = minigan.zeros(0, 3, requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = t.mean(0)
        m.sum().backward()
    assert np.isnan(m.numpy()).all() and m.shape == (3,) and t.grad.shape == (0, 3)
