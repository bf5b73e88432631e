"""Mistakes a user makes get one clear error naming the function, what it got and what it
expected: never a bare assert, a KeyError or NumPy's broadcasting message from deep inside."""
import math

import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import nn, optim


# --------------------------------------------------------------------------- shapes
@pytest.mark.parametrize("a_shape, b_shape", [((2, 3), (4, 5)), ((3,), (4,)), ((2, 3), (2,)),
                                              ((5, 2, 3), (5, 2, 3))])
def test_matmul_shape_mismatch_names_the_function_shapes_and_expectation(device, a_shape,
                                                                         b_shape):
    a, b = minigan.randn(*a_shape, device=device), minigan.randn(*b_shape, device=device)
    with pytest.raises(ValueError) as info:
        a @ b
    message = str(info.value)
    assert message.startswith("matmul:")
    assert str(a_shape) in message and str(b_shape) in message
    assert "must equal" in message


def test_matmul_batch_dimensions_that_do_not_broadcast_are_named(device):
    with pytest.raises(ValueError, match=r"matmul: the batch dimensions of shapes \(2, 3, 4\) "
                                         r"and \(5, 4, 2\) do not broadcast"):
        minigan.randn(2, 3, 4, device=device) @ minigan.randn(5, 4, 2, device=device)


def test_matmul_with_a_0d_operand_says_so(device):
    with pytest.raises(ValueError, match=r"matmul: .*at least 1 dimension.*\(3,\) and \(\)"):
        minigan.randn(3, device=device) @ minigan.tensor(2.0, device=device)


def test_linear_shape_mismatch_names_the_function_shapes_and_expectation(device):
    x, w = minigan.randn(2, 3, device=device), minigan.randn(4, 5, device=device)
    with pytest.raises(ValueError, match=r"linear: input must have shape \(\*, 5\), got \(2, 3\), "
                                         r"to match weight of shape \(4, 5\) \(in_features = 5\)"):
        F.linear(x, w)


def test_linear_with_a_wrong_bias_or_weight_shape_says_which(device):
    x = minigan.randn(2, 3, device=device)
    with pytest.raises(ValueError, match=r"linear: bias must have shape \(4,\), got \(3,\)"):
        F.linear(x, minigan.randn(4, 3, device=device), minigan.randn(3, device=device))
    with pytest.raises(ValueError, match=r"linear: weight must have shape \(out_features, "
                                         r"in_features\), got \(3,\)"):
        F.linear(x, minigan.randn(3, device=device))


def test_linear_layer_given_the_wrong_in_features_names_the_layer_and_shapes(device):
    layer = nn.Linear(3, 2).to(device)
    with pytest.raises(ValueError, match=r"^Linear\(in_features=3.*\): linear: input must have "
                                         r"shape \(\*, 3\), got \(4, 5\)"):
        layer(minigan.randn(4, 5, device=device))
    # the innermost layer names itself, once
    with pytest.raises(ValueError, match=r"^Linear\(in_features=3, out_features=2, bias=True\): "
                                         r"linear:"):
        nn.Sequential(nn.Sequential(layer))(minigan.randn(4, 5, device=device))


@pytest.mark.parametrize("args", [(0, 3), (3, -1), (3.0, 2)])
def test_linear_layer_rejects_sizes_that_are_not_positive_integers(args):
    with pytest.raises(ValueError, match="Linear: .* must be an integer >= 1, got"):
        nn.Linear(*args)


def test_loss_with_mismatched_shapes_names_both(device):
    p, t = minigan.rand(3, device=device), minigan.rand(4, device=device)
    for fn in (F.binary_cross_entropy, F.binary_cross_entropy_with_logits, F.mse_loss):
        with pytest.raises(ValueError, match=r"target must have shape \(3,\), got \(4,\), to "
                                             r"match input of shape \(3,\)"):
            fn(p, t)


def test_cross_entropy_rejects_out_of_range_or_float_targets(device):
    logits = minigan.randn(3, 4, device=device)
    with pytest.raises(IndexError, match=r"cross_entropy: target indices must be in \[0, 4\), "
                                         r"got values from 0 to 4"):  # PyTorch: IndexError
        F.cross_entropy(logits, minigan.tensor([0, 1, 4], device=device))
    with pytest.raises(TypeError, match="cross_entropy: target must be an integer array or "
                                        "Tensor of indices"):
        F.cross_entropy(logits, minigan.tensor([0.0, 1.0, 2.0], device=device))


def test_reshape_to_a_different_size_names_both_shapes(device):
    with pytest.raises(ValueError, match=r"reshape: .*\(2, 3\) \(6 elements\) as shape \(4,\)"):
        minigan.randn(2, 3, device=device).reshape(4)


def test_reduction_over_a_missing_axis_says_so(device):
    with pytest.raises(ValueError, match="axis 2 is out of range for a tensor with 2 dimensions"):
        minigan.randn(2, 3, device=device).sum(axis=2)


def test_permute_and_transpose_with_bad_dimensions_say_so(device):
    x = minigan.randn(2, 3, device=device)
    with pytest.raises(ValueError, match=r"permute: \(0, 0\) is not a permutation"):
        x.permute(0, 0)
    with pytest.raises(IndexError, match=r"transpose: dimension 5 is out of range"):
        x.transpose(0, 5)


def test_cat_of_mismatched_shapes_names_them(device):
    with pytest.raises(ValueError, match=r"cat: shapes \(2, 3\) and \(2, 4\) differ"):
        minigan.cat([minigan.randn(2, 3, device=device), minigan.randn(2, 4, device=device)])


def test_item_of_a_many_element_tensor_says_why(device):
    with pytest.raises(ValueError, match=r"item\(\): only a one-element tensor .* \(2,\)"):
        minigan.zeros(2, device=device).item()


# --------------------------------------------------------------------------- backward
def test_backward_on_a_non_scalar_without_grad_explains_what_to_pass(device):
    y = minigan.randn(3, device=device, requires_grad=True) * 2
    with pytest.raises(RuntimeError, match=r"grad can be omitted only for a scalar output; "
                                           r"this tensor has shape \(3,\), so pass grad="):
        y.backward()


def test_backward_on_a_tensor_without_graph_explains_why(device):
    with pytest.raises(RuntimeError, match="does not require grad"):
        minigan.randn(3, device=device).sum().backward()


# --------------------------------------------------------------------------- dtypes
def test_linear_on_integer_tensors_raises_type_error(device):
    x = minigan.tensor([[1, 2]], device=device)
    with pytest.raises(TypeError, match="linear: input must be a floating-point tensor"):
        F.linear(x, minigan.randn(3, 2, device=device))
    with pytest.raises(TypeError, match="linear: weight must be a floating-point tensor"):
        F.linear(minigan.randn(1, 2, device=device), minigan.tensor([[1, 2]], device=device))


def test_leaky_relu_on_an_integer_tensor_raises_type_error(device):
    # relu keeps an integer dtype, tanh and sigmoid give float32 (test_promotion.py), as torch
    with pytest.raises(TypeError, match="must be a floating-point tensor.*int64"):
        F.leaky_relu(minigan.tensor([1, -2], device=device))


def test_mse_loss_of_integer_or_non_tensor_input_raises_type_error(device):
    with pytest.raises(TypeError, match="mse_loss: input must be a floating-point tensor.*int64"):
        F.mse_loss(minigan.tensor([1, 2], device=device), minigan.rand(2, device=device))
    with pytest.raises(TypeError, match="mse_loss: target must be a floating-point tensor.*int64"):
        F.mse_loss(minigan.rand(2, device=device), minigan.tensor([1, 2], device=device))
    with pytest.raises(TypeError, match="mse_loss: input must be a minigan.Tensor, got ndarray"):
        F.mse_loss(np.zeros(2), minigan.rand(2, device=device))


def test_integer_target_for_bce_raises_type_error(device):
    with pytest.raises(TypeError, match="binary_cross_entropy: target must be a floating-point"):
        F.binary_cross_entropy(minigan.rand(3, device=device),
                               minigan.tensor([1, 0, 1], device=device))


def test_requires_grad_on_an_integer_tensor_raises_type_error(device):
    with pytest.raises(TypeError, match="only floating-point tensors can require grad.*int64"):
        minigan.tensor([1, 2], device=device, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        minigan.zeros(2, dtype="int64", device=device, requires_grad=True)
    with pytest.raises(TypeError, match="only floating-point tensors can require grad"):
        minigan.tensor([1, 2], device=device).requires_grad_()


def test_functions_given_a_numpy_array_ask_for_a_tensor():
    with pytest.raises(TypeError, match="linear: input must be a minigan.Tensor, got ndarray"):
        F.linear(np.ones((2, 3)), minigan.randn(4, 3))


def test_tensor_from_unusable_data_raises_type_error():
    with pytest.raises(TypeError, match="tensor: cannot make a tensor from list data"):
        minigan.tensor([object()])


def test_unknown_dtype_name_raises_type_error():
    with pytest.raises(TypeError, match="unknown dtype"):
        minigan.zeros(2, dtype="float99")


# --------------------------------------------------------------------------- state dicts
def snapshot(model):
    return {k: v.copy() for k, v in model.state_dict().items()}


def assert_unchanged(model, before):
    for key, value in model.state_dict().items():
        np.testing.assert_array_equal(value, before[key], err_msg=key)


def test_load_state_dict_with_a_missing_key_names_it_and_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    before = snapshot(model)
    state = {k: v + 1 for k, v in before.items() if k != "2.bias"}  # all others would change
    with pytest.raises(ValueError, match=r"missing keys \['2.bias'\]"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_with_a_wrong_shape_names_the_key_and_changes_nothing():
    model = nn.Sequential(nn.Linear(3, 2), nn.Tanh(), nn.Linear(2, 1))
    before = snapshot(model)
    state = {k: v + 1 for k, v in before.items()}
    state["2.weight"] = np.zeros((1, 5), dtype=np.float32)
    with pytest.raises(ValueError, match=r"2.weight: shape \(1, 5\) in the state dict, "
                                         r"\(1, 2\) in the model"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_load_state_dict_with_an_unexpected_key_names_it_and_changes_nothing():
    model = nn.Linear(3, 2)
    before = snapshot(model)
    state = {k: v + 1 for k, v in before.items()}
    state["extra.weight"] = np.zeros(2)
    with pytest.raises(ValueError, match=r"unexpected keys \['extra.weight'\]"):
        model.load_state_dict(state)
    assert_unchanged(model, before)


def test_optimizer_load_state_dict_with_wrong_shapes_raises_value_error():
    model = nn.Linear(3, 2)
    opt = optim.Adam(model.parameters())
    model(minigan.randn(1, 3)).sum().backward()
    opt.step()
    state = opt.state_dict()
    other = optim.Adam(nn.Linear(4, 2).parameters())
    with pytest.raises(ValueError, match=r"state 'exp_avg' of parameter 0 has shape \(2, 3\)"):
        other.load_state_dict(state)
    with pytest.raises(ValueError, match="saved groups hold"):
        optim.Adam([nn.Parameter(minigan.zeros(2))]).load_state_dict(state)


# --------------------------------------------------------------------------- optimizers
@pytest.mark.parametrize("lr", [math.nan, math.inf, -0.1, float("nan")])
@pytest.mark.parametrize("make", [optim.Adam, lambda ps, lr: optim.SGD(ps, lr=lr)],
                         ids=["Adam", "SGD"])
def test_optimizer_with_nan_infinite_or_negative_lr_raises_value_error(make, lr):
    with pytest.raises(ValueError, match=r"learning rate \(lr\) must be"):
        make(nn.Linear(2, 2).parameters(), lr=lr)


@pytest.mark.parametrize("kwargs, match", [
    (dict(betas=(1.0, 0.999)), "betas must be in"), (dict(betas=(0.9, -0.1)), "betas must be in"),
    (dict(eps=-1.0), "eps must be"), (dict(weight_decay=-0.1), "weight_decay must be"),
    (dict(weight_decay=math.nan), "weight_decay must be")])
def test_adam_with_out_of_range_hyperparameters_raises_value_error(kwargs, match):
    with pytest.raises(ValueError, match=match):
        optim.Adam(nn.Linear(2, 2).parameters(), **kwargs)


@pytest.mark.parametrize("momentum", [-0.5, math.nan])
def test_sgd_with_bad_momentum_raises_value_error(momentum):
    with pytest.raises(ValueError, match="momentum must be"):
        optim.SGD(nn.Linear(2, 2).parameters(), lr=0.1, momentum=momentum)


def test_optimizer_needs_parameters_that_require_grad():
    with pytest.raises(ValueError, match="empty list of parameters"):
        optim.Adam([])
    with pytest.raises(TypeError, match="can only optimise tensors that require grad"):
        optim.SGD([minigan.zeros(2)], lr=0.1)


# --------------------------------------------------------------------------- devices
cuda_present = minigan.cuda.is_available()


@pytest.mark.skipif(cuda_present, reason="a GPU is usable here: .to('cuda') succeeds")
def test_moving_to_cuda_without_a_gpu_raises_device_error_saying_what_to_do():
    hint = r'pip install "minigan\[cuda12\]"|no GPU'
    with pytest.raises(minigan.DeviceError, match=hint):
        minigan.zeros(2).to("cuda")
    with pytest.raises(minigan.DeviceError, match=hint):
        nn.Linear(2, 2).to("cuda")
    with pytest.raises(minigan.DeviceError, match=hint):
        minigan.randn(2, device="cuda")
    with pytest.raises(minigan.DeviceError, match=hint):
        minigan.tensor([1.0], device="cuda")


def test_device_error_is_a_runtime_error():
    assert issubclass(minigan.DeviceError, RuntimeError)


def test_unknown_device_name_raises_value_error():
    with pytest.raises(ValueError, match="unknown device 'tpu'"):
        minigan.zeros(2, device="tpu")


@pytest.mark.skipif(not cuda_present, reason="needs a GPU to mix devices")
def test_mixing_devices_in_one_op_names_both():
    a, b = minigan.randn(3), minigan.randn(3, device="cuda")
    for fn in (lambda: a + b, lambda: b * a, lambda: F.linear(minigan.randn(2, 3), b[None])):
        with pytest.raises(minigan.DeviceError, match="'cpu'.*'cuda'|'cuda'.*'cpu'"):
            fn()
