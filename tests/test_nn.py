"""Modules: registration, state dicts, modes, devices, the layers' shapes and PyTorch's
default initialisation."""
import numpy as np
import pytest

import minigan
from minigan import nn


class TwoLayer(nn.Module):
    def __init__(self):
        super().__init__()
        self.main = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 2))
        self.head = nn.Linear(2, 1, bias=False)
        self.scale = nn.Parameter(minigan.ones(1))
        self.register_buffer("count", minigan.zeros(2))

    def forward(self, x):
        return self.head(self.main(x)) * self.scale


# --------------------------------------------------------------------------- registration
def test_parameters_are_registered_and_named_by_their_path():
    model = TwoLayer()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["scale", "main.0.weight", "main.0.bias", "main.2.weight", "main.2.bias",
                     "head.weight"]
    assert len(list(model.parameters())) == 6
    assert all(isinstance(p, nn.Parameter) and p.requires_grad for p in model.parameters())


def test_buffers_are_in_the_state_dict_but_not_among_parameters():
    model = TwoLayer()
    assert [name for name, _ in model.named_buffers()] == ["count"]
    assert len(list(model.buffers())) == 1
    assert "count" in model.state_dict()
    assert all(p is not model.count for p in model.parameters())


def test_a_shared_parameter_is_listed_once():
    layer = nn.Linear(2, 2)
    model = nn.Sequential(layer, nn.Tanh(), layer)
    assert len(list(model.parameters())) == 2


def test_parameter_is_a_tensor_that_requires_grad():
    p = nn.Parameter(minigan.zeros(2, 3))
    assert isinstance(p, minigan.Tensor) and p.requires_grad and p.shape == (2, 3)
    assert not nn.Parameter(minigan.zeros(2), requires_grad=False).requires_grad


def test_assigning_a_plain_value_to_a_parameter_slot_raises_type_error():
    layer = nn.Linear(2, 2)
    with pytest.raises(TypeError, match="bias is a parameter"):
        layer.bias = minigan.zeros(2)
    layer.bias = None  # None removes it, as in PyTorch
    assert [name for name, _ in layer.named_parameters()] == ["weight"]


def test_forgetting_super_init_raises_a_clear_error():
    class Broken(nn.Module):
        def __init__(self):
            self.layer = nn.Linear(2, 2)

    with pytest.raises(AttributeError, match="super\\(\\).__init__\\(\\)"):
        Broken()


def test_missing_attribute_raises_attribute_error_naming_it():
    with pytest.raises(AttributeError, match="nope"):
        nn.Linear(2, 2).nope


# --------------------------------------------------------------------------- state dicts
def test_state_dict_holds_host_numpy_copies_keyed_as_pytorch(device):
    model = TwoLayer().to(device)
    state = model.state_dict()
    assert list(state) == ["scale", "count", "main.0.weight", "main.0.bias", "main.2.weight",
                           "main.2.bias", "head.weight"]
    assert all(isinstance(v, np.ndarray) for v in state.values())
    state["main.0.weight"][...] = 7.0
    assert not (model.main[0].weight.numpy() == 7.0).any()  # a copy, not a view


def test_load_state_dict_round_trip_reproduces_outputs(device):
    minigan.manual_seed(0)
    source = TwoLayer().to(device)
    minigan.manual_seed(1)
    target = TwoLayer().to(device)
    x = minigan.randn(5, 3, device=device)
    assert not np.allclose(source(x).numpy(), target(x).numpy())
    target.load_state_dict(source.state_dict())
    np.testing.assert_array_equal(source(x).numpy(), target(x).numpy())
    assert all(p.device == device for p in target.parameters())


def test_load_state_dict_copies_so_later_edits_of_the_dict_do_not_leak():
    model = nn.Linear(2, 2)
    state = model.state_dict()
    model.load_state_dict(state)
    state["weight"][...] = 5.0
    assert not (model.weight.numpy() == 5.0).any()


def test_load_state_dict_casts_to_the_parameter_dtype():
    model = nn.Linear(2, 2)  # float32
    model.load_state_dict({k: v.astype(np.float64) for k, v in model.state_dict().items()})
    assert model.weight.dtype == np.float32


def test_load_state_dict_ignores_pytorch_num_batches_tracked():
    model = nn.Sequential(nn.Linear(2, 2))
    state = model.state_dict()
    state["0.num_batches_tracked"] = np.array(3)
    model.load_state_dict(state)


# --------------------------------------------------------------------------- modes, devices
def test_train_and_eval_set_the_mode_of_every_submodule():
    model = TwoLayer()
    assert model.training and model.main[0].training
    assert model.eval() is model
    assert not any(m.training for m in model.modules())
    model.train()
    assert all(m.training for m in model.modules())


def test_module_zero_grad_sets_gradients_to_none(device):
    model = TwoLayer().to(device)
    model(minigan.randn(2, 3, device=device)).sum().backward()
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_module_to_moves_parameters_and_buffers_and_returns_self(device):
    model = TwoLayer()
    assert model.to(device) is model
    assert all(t.device == device for t in list(model.parameters()) + list(model.buffers()))
    assert model.to("cpu").main[0].weight.device == "cpu"


def test_double_and_float_cast_parameters_in_place():
    model = TwoLayer().double()
    assert all(p.dtype == np.float64 for p in model.parameters())
    assert model(minigan.randn(2, 3, dtype="float64")).dtype == np.float64
    assert all(p.dtype == np.float32 for p in model.float().parameters())


# --------------------------------------------------------------------------- layers
def test_linear_maps_the_last_dimension(device):
    layer = nn.Linear(4, 3).to(device)
    assert layer.weight.shape == (3, 4) and layer.bias.shape == (3,)
    for shape in [(4,), (5, 4), (2, 5, 4)]:
        x = minigan.randn(*shape, device=device)
        out = layer(x)
        assert out.shape == shape[:-1] + (3,) and out.dtype == np.float32
        expected = x.numpy() @ layer.weight.numpy().T + layer.bias.numpy()
        np.testing.assert_allclose(out.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_linear_without_bias_has_only_a_weight():
    layer = nn.Linear(4, 3, bias=False)
    assert layer.bias is None
    assert list(layer.state_dict()) == ["weight"]


@pytest.mark.parametrize("start_dim, end_dim, expected", [(1, -1, (2, 60)), (0, -1, (120,)),
                                                          (1, 2, (2, 12, 5)), (2, 3, (2, 3, 20))])
def test_flatten_merges_dimensions_start_to_end(device, start_dim, end_dim, expected):
    x = minigan.randn(2, 3, 4, 5, device=device)
    assert nn.Flatten(start_dim, end_dim)(x).shape == expected
    assert nn.Flatten()(x).shape == (2, 60)


def test_sequential_applies_modules_in_order_and_supports_indexing(device):
    model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 2)).to(device)
    assert len(model) == 3 and isinstance(model[1], nn.Tanh)
    assert [type(m) for m in model] == [nn.Linear, nn.Tanh, nn.Linear]
    assert isinstance(model[:2], nn.Sequential) and len(model[:2]) == 2
    x = minigan.randn(5, 3, device=device)
    np.testing.assert_array_equal(model(x).numpy(), model[2](model[1](model[0](x))).numpy())


def test_sequential_rejects_non_modules():
    with pytest.raises(TypeError, match="argument 1"):
        nn.Sequential(nn.Linear(2, 2), lambda x: x)


def test_activation_modules_equal_their_functions(device):
    x = minigan.randn(3, 4, device=device)
    F = nn.functional
    for module, fn in [(nn.ReLU(), F.relu), (nn.LeakyReLU(0.3), lambda t: F.leaky_relu(t, 0.3)),
                       (nn.Tanh(), F.tanh), (nn.Sigmoid(), F.sigmoid)]:
        np.testing.assert_array_equal(module(x).numpy(), fn(x).numpy())
    assert nn.LeakyReLU().negative_slope == 0.01


def test_loss_modules_equal_their_functions(device):
    p = minigan.rand(4, 1, device=device) * 0.9 + 0.05
    t = minigan.rand(4, 1, device=device)
    F = nn.functional
    assert nn.BCELoss()(p, t).item() == F.binary_cross_entropy(p, t).item()
    assert nn.BCEWithLogitsLoss()(p, t).item() == F.binary_cross_entropy_with_logits(p, t).item()
    assert nn.MSELoss()(p, t).item() == F.mse_loss(p, t).item()


def test_forward_pre_hooks_run_before_forward_and_may_replace_the_input():
    layer, seen = nn.Tanh(), []
    assert layer.register_forward_pre_hook(lambda m, args: seen.append((m, args))) is not None
    x = minigan.tensor([0.5])
    layer(x)
    assert seen == [(layer, (x,))]
    layer.register_forward_pre_hook(lambda m, args: args[0] * 0)  # a value replaces the args
    assert layer(x).item() == 0.0


def test_module_repr_shows_the_tree():
    text = repr(nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2)))
    assert "(0): Linear(in_features=3, out_features=4, bias=True)" in text
    assert "(1): LeakyReLU(negative_slope=0.2)" in text


# --------------------------------------------------------------------------- initialisation
def test_linear_default_init_is_uniform_within_one_over_sqrt_fan_in():
    """PyTorch's kaiming_uniform_(a=sqrt(5)): U(-1/sqrt(fan_in), 1/sqrt(fan_in)), bias alike."""
    minigan.manual_seed(0)
    layer = nn.Linear(256, 512)
    bound = 1 / np.sqrt(256)
    for name, values in [("weight", layer.weight.numpy()), ("bias", layer.bias.numpy())]:
        assert np.abs(values).max() <= bound, name
        assert values.max() > 0.95 * bound and values.min() < -0.95 * bound, name  # fills it
        n = values.size
        assert abs(values.mean()) < 5 * bound / np.sqrt(3 * n), name  # 5 standard errors
    weight = layer.weight.numpy()
    assert weight.var() == pytest.approx(bound ** 2 / 3, rel=0.03)  # the variance of U(-b, b)
    assert weight.dtype == np.float32


@pytest.mark.parametrize("fan_in", [1, 3, 50])
def test_linear_bound_follows_fan_in(fan_in):
    layer = nn.Linear(fan_in, 400)
    assert np.abs(layer.weight.numpy()).max() <= 1 / np.sqrt(fan_in)
    assert np.abs(layer.weight.numpy()).max() > 0.9 / np.sqrt(fan_in)
    assert np.abs(layer.bias.numpy()).max() <= 1 / np.sqrt(fan_in)


def test_manual_seed_reproduces_layer_initialisation():
    minigan.manual_seed(42)
    first = nn.Linear(5, 3).state_dict()
    minigan.manual_seed(42)
    second = nn.Linear(5, 3).state_dict()
    minigan.manual_seed(43)
    other = nn.Linear(5, 3).state_dict()
    for key in first:
        np.testing.assert_array_equal(first[key], second[key])
        assert not np.array_equal(first[key], other[key])


def test_layer_initialisation_is_the_same_whatever_the_target_device(device):
    minigan.manual_seed(7)
    on_cpu = nn.Linear(4, 3).state_dict()
    minigan.manual_seed(7)
    moved = nn.Linear(4, 3).to(device).state_dict()
    for key in on_cpu:
        np.testing.assert_array_equal(on_cpu[key], moved[key])


def test_init_functions_fill_in_place():
    t = nn.Parameter(minigan.zeros(3, 4))
    assert nn.init.ones_(t) is t and (t.numpy() == 1).all()
    nn.init.zeros_(t)
    assert (t.numpy() == 0).all()
    nn.init.constant_(t, 0.5)
    assert (t.numpy() == 0.5).all()
    nn.init.uniform_(t, -0.1, 0.1)
    assert np.abs(t.numpy()).max() <= 0.1
    minigan.manual_seed(0)
    nn.init.normal_(t, 1.0, 0.02)
    assert abs(t.numpy().mean() - 1.0) < 0.05
