"""minigan.nn.utils.spectral_norm against torch.nn.utils.spectral_norm, and its own properties.

Parity: the same layer in both libraries, spectral-normalised, minigan loaded with PyTorch's
state_dict (so u and v start equal); then several training forwards must give the same
outputs, the same u and v after each power iteration, and the same gradients of weight_orig,
bias and the input (within 1e-10 relative in float64, 1e-4 in float32). Eval mode, state
dicts both ways, n_power_iterations > 1, an explicit dim and Adam steps are compared too.
These tests skip without torch, and fail instead under MINIGAN_REQUIRE_TORCH=1 (CI).
"""
import copy

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.nn.utils import apply_spectral_norm, spectral_norm

DTYPES = ["float64", "float32"]
TOLERANCES = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-6)}

# name -> (layer maker given torch.nn or minigan.nn, input shape)
LAYERS = {
    "Linear": (lambda lib: lib.Linear(5, 3), (4, 5)),
    "Linear without bias": (lambda lib: lib.Linear(6, 4, bias=False), (3, 6)),
    "Conv2d": (lambda lib: lib.Conv2d(2, 3, 3, stride=2, padding=1), (2, 2, 6, 6)),
    "ConvTranspose2d": (lambda lib: lib.ConvTranspose2d(3, 2, 4, stride=2, padding=1),
                        (2, 3, 3, 3)),
}


def assert_close(mine, theirs, dtype, what=""):
    mine = mine.numpy() if isinstance(mine, minigan.Tensor) else np.asarray(mine)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(mine, theirs, err_msg=what, **TOLERANCES[dtype])


def to_numpy_state(torch_module):
    return {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}


def twins(torch, make, dtype, device="cpu", seed=0, **kwargs):
    """The same spectral-normed layer (or model) in PyTorch and minigan, same state."""
    torch.manual_seed(seed)
    theirs = make(torch.nn)
    mine = make(nn)
    if isinstance(theirs, torch.nn.Sequential):
        for layer in theirs:
            if isinstance(layer, (torch.nn.Linear, torch.nn.Conv2d, torch.nn.ConvTranspose2d)):
                torch.nn.utils.spectral_norm(layer, **kwargs)
        apply_spectral_norm(mine, **kwargs)
    else:
        torch.nn.utils.spectral_norm(theirs, **kwargs)
        spectral_norm(mine, **kwargs)
    theirs = theirs.to(getattr(torch, dtype))
    mine.load_state_dict(to_numpy_state(theirs))
    mine = (mine.double() if dtype == "float64" else mine).to(device)
    return mine, theirs


def forward_backward(torch, mine, theirs, x, dtype, device, seed):
    """One forward of both with the same input, and backward of the same random upstream
    gradient; returns both inputs (their .grad set)."""
    x_mine = minigan.tensor(x, dtype=dtype, device=device, requires_grad=True)
    x_theirs = torch.tensor(x, dtype=getattr(torch, dtype), requires_grad=True)
    out, expected = mine(x_mine), theirs(x_theirs)
    assert_close(out, expected, dtype, "output")
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    out.backward(minigan.tensor(upstream, dtype=dtype, device=device))
    expected.backward(torch.tensor(upstream, dtype=getattr(torch, dtype)))
    return x_mine, x_theirs


def assert_same_state(mine, theirs, dtype, grads=True):
    """Every parameter, buffer and (with grads) parameter gradient equal to torch's."""
    theirs_state = theirs.state_dict()
    for key, value in mine.state_dict().items():
        assert_close(value, theirs_state[key], dtype, key)
    if grads:
        named = dict(theirs.named_parameters())
        for name, p in mine.named_parameters():
            assert_close(p.grad, named[name].grad, dtype, f"gradient of {name}")


# --------------------------------------------------------------------------- training mode
@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n_power_iterations", [1, 3])
@pytest.mark.parametrize("name", list(LAYERS))
def test_training_forwards_update_u_and_v_and_give_gradients_as_torch(torch, device, dtype,
                                                                      name, n_power_iterations):
    make, shape = LAYERS[name]
    mine, theirs = twins(torch, make, dtype, device, n_power_iterations=n_power_iterations)
    u_before = mine.weight_u.numpy().copy()
    for step in range(3):  # gradients accumulate over the steps, as in both libraries
        x = np.random.default_rng(step).standard_normal(shape)
        x_mine, x_theirs = forward_backward(torch, mine, theirs, x, dtype, device, seed=10 + step)
        assert_same_state(mine, theirs, dtype)  # weight_u and weight_v after the iteration
        assert_close(mine.weight, theirs.weight, dtype, "the normalised weight")
        assert_close(x_mine.grad, x_theirs.grad, dtype, "gradient of the input")
    assert not np.allclose(mine.weight_u.numpy(), u_before, rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(LAYERS))
def test_eval_mode_uses_u_and_v_as_stored_as_torch(torch, device, dtype, name):
    make, shape = LAYERS[name]
    mine, theirs = twins(torch, make, dtype, device)
    x = np.random.default_rng(0).standard_normal(shape)
    forward_backward(torch, mine, theirs, x, dtype, device, seed=1)  # one training step
    mine.eval(), theirs.eval()
    mine.zero_grad(), theirs.zero_grad()
    u, v = mine.weight_u.numpy().copy(), mine.weight_v.numpy().copy()
    for step in range(2):
        x_mine, x_theirs = forward_backward(torch, mine, theirs, x, dtype, device, seed=2 + step)
        np.testing.assert_array_equal(mine.weight_u.numpy(), u)
        np.testing.assert_array_equal(mine.weight_v.numpy(), v)
        assert_same_state(mine, theirs, dtype)
        assert_close(x_mine.grad, x_theirs.grad, dtype, "gradient of the input")


@pytest.mark.parametrize("dim", [0, 1])
def test_an_explicit_dim_matches_torch(torch, dim):
    mine, theirs = twins(torch, lambda lib: lib.Conv2d(3, 2, 2), "float64", dim=dim)
    assert mine.weight_u.shape == tuple(theirs.weight_u.shape)
    for step in range(2):
        x = np.random.default_rng(step).standard_normal((2, 3, 4, 4))
        forward_backward(torch, mine, theirs, x, "float64", "cpu", seed=step)
        assert_same_state(mine, theirs, "float64")


def test_a_forward_under_no_grad_still_updates_u_and_v_as_torch(torch):
    mine, theirs = twins(torch, LAYERS["Linear"][0], "float64")
    x = np.random.default_rng(0).standard_normal((4, 5))
    with minigan.no_grad():
        out = mine(minigan.tensor(x, dtype="float64"))
    with torch.no_grad():
        expected = theirs(torch.tensor(x))
    assert not out.requires_grad
    assert_close(out, expected, "float64", "output")
    assert_same_state(mine, theirs, "float64", grads=False)


def test_sigma_converges_to_the_largest_singular_value():
    """After enough training forwards, the normalised weight has spectral norm 1."""
    minigan.manual_seed(0)
    layer = spectral_norm(nn.Conv2d(3, 4, 3)).double()
    x = minigan.randn(1, 3, 5, 5, dtype="float64")
    for _ in range(100):
        layer(x)
    weight = layer.weight.numpy().reshape(4, -1)
    assert np.linalg.svd(weight, compute_uv=False)[0] == pytest.approx(1.0, rel=1e-8)
    orig = layer.weight_orig.numpy().reshape(4, -1)
    np.testing.assert_allclose(weight * np.linalg.svd(orig, compute_uv=False)[0], orig,
                               rtol=1e-8)


def double_backward():
    """minigan.autograd.grad (a missing one fails the test: it is part of the API)."""
    return minigan.autograd.grad


def test_a_gradient_penalty_through_a_spectral_normed_critic_matches_torch(torch):
    """d/dW of |dD/dx|^2 (R1, WGAN-GP): the backward of spectral_norm's ops is recorded."""
    grad = double_backward()
    mine, theirs = twins(torch, make_critic, "float64", seed=5)
    x = np.random.default_rng(0).standard_normal((3, 1, 6, 6))
    x_mine = minigan.tensor(x, dtype="float64", requires_grad=True)
    x_theirs = torch.tensor(x, requires_grad=True)
    (g_mine,) = grad(mine(x_mine).sum(), [x_mine], create_graph=True)
    (g_theirs,) = torch.autograd.grad(theirs(x_theirs).sum(), [x_theirs], create_graph=True)
    assert_close(g_mine, g_theirs, "float64", "dD/dx")
    (g_mine * g_mine).sum().backward()
    (g_theirs * g_theirs).sum().backward()
    named = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        theirs_grad = named[name].grad
        if p.grad is None:  # a bias reaches dD/dx only through ReLU masks: no gradient
            assert theirs_grad is None or not theirs_grad.any(), name
        else:
            assert_close(p.grad, theirs_grad, "float64", f"gradient of {name}")
    assert all(mine[i].weight_orig.grad is not None for i in (0, 2, 4))


def test_a_deep_copy_is_an_independent_spectral_normed_module():
    minigan.manual_seed(0)
    layer = spectral_norm(nn.Linear(4, 3))
    twin = copy.deepcopy(layer)
    u = layer.weight_u.numpy().copy()
    twin(minigan.randn(2, 4))
    np.testing.assert_array_equal(layer.weight_u.numpy(), u)  # only the copy iterated
    assert not np.array_equal(twin.weight_u.numpy(), u)
    assert twin.weight_orig is not layer.weight_orig


# --------------------------------------------------------------------------- state dicts
@pytest.mark.parametrize("name", list(LAYERS))
def test_state_dict_keys_and_order_are_torchs(torch, name):
    make, _ = LAYERS[name]
    theirs = torch.nn.utils.spectral_norm(make(torch.nn))
    mine = spectral_norm(make(nn))
    assert list(mine.state_dict()) == list(theirs.state_dict())
    assert {k: v.shape for k, v in mine.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in theirs.state_dict().items()}
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert [n for n, _ in mine.named_buffers()] == [n for n, _ in theirs.named_buffers()]


@pytest.mark.parametrize("name", list(LAYERS))
def test_a_minigan_state_dict_loads_into_torch_and_both_continue_alike(torch, name):
    """minigan -> torch: after minigan's training forwards, torch continues from its state."""
    make, shape = LAYERS[name]
    minigan.manual_seed(3)
    mine = spectral_norm(make(nn)).double()
    x = np.random.default_rng(0).standard_normal(shape)
    for _ in range(2):
        mine(minigan.tensor(x, dtype="float64"))
    theirs = torch.nn.utils.spectral_norm(make(torch.nn)).double()
    theirs.load_state_dict({k: torch.tensor(v) for k, v in mine.state_dict().items()})
    forward_backward(torch, mine, theirs, x, "float64", "cpu", seed=0)
    assert_same_state(mine, theirs, "float64")


def test_the_state_dict_round_trip_restores_u_and_v_exactly():
    minigan.manual_seed(0)
    layer = spectral_norm(nn.Linear(4, 3))
    x = minigan.randn(2, 4)
    layer(x)
    state = layer.state_dict()
    minigan.manual_seed(1)
    other = spectral_norm(nn.Linear(4, 3))
    assert not np.array_equal(other.weight_u.numpy(), state["weight_u"])
    other.load_state_dict(state)
    for key, value in other.state_dict().items():
        np.testing.assert_array_equal(value, state[key], err_msg=key)
    np.testing.assert_array_equal(other(x).numpy(), layer(x).numpy())


# --------------------------------------------------------------------------- parameters, Adam
def test_weight_orig_is_the_parameter_and_weight_is_recomputed():
    layer = nn.Linear(4, 3)
    weight = layer.weight
    assert spectral_norm(layer) is layer
    assert [n for n, _ in layer.named_parameters()] == ["bias", "weight_orig"]
    assert layer.weight_orig is weight  # the same Parameter: optimizers built before still work
    assert [n for n, _ in layer.named_buffers()] == ["weight_u", "weight_v"]
    assert not isinstance(layer.weight, nn.Parameter)
    np.testing.assert_array_equal(layer.weight.numpy(), weight.numpy())  # before any forward
    out = layer(minigan.randn(2, 4))
    assert out.requires_grad and layer.weight.requires_grad and not layer.weight.is_leaf


def test_u_and_v_start_as_seeded_unit_vectors_of_the_matrix_sides():
    def make(seed):
        minigan.manual_seed(seed)
        return spectral_norm(nn.ConvTranspose2d(3, 5, 4), dim=None)

    layer = make(0)
    assert layer.weight_u.shape == (5,) and layer.weight_v.shape == (3 * 4 * 4,)  # dim 1
    for buffer in (layer.weight_u, layer.weight_v):
        assert np.linalg.norm(buffer.numpy()) == pytest.approx(1.0, rel=1e-6)
    np.testing.assert_array_equal(make(0).weight_u.numpy(), layer.weight_u.numpy())
    assert not np.array_equal(make(1).weight_u.numpy(), layer.weight_u.numpy())
    linear = spectral_norm(nn.Linear(7, 2))
    assert linear.weight_u.shape == (2,) and linear.weight_v.shape == (7,)


def make_critic(lib):
    return lib.Sequential(lib.Conv2d(1, 3, 3, stride=2, padding=1), lib.LeakyReLU(0.2),
                          lib.ConvTranspose2d(3, 2, 2, stride=2), lib.Flatten(),
                          lib.Linear(2 * 6 * 6, 1))


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_steps_on_a_spectral_normed_model_match_torch(torch, device, dtype):
    """Five Adam steps of an MSE regression: the weights and u, v stay equal to torch's."""
    mine, theirs = twins(torch, make_critic, dtype, device, seed=4)
    assert [n for n, _ in mine.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    kwargs = dict(lr=0.01, betas=(0.5, 0.999))
    opt_mine = minigan.optim.Adam(mine.parameters(), **kwargs)
    opt_theirs = torch.optim.Adam(theirs.parameters(), **kwargs)
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y = rng.standard_normal((4, 1, 6, 6)), rng.standard_normal((4, 1))
        opt_mine.zero_grad()
        loss = nn.MSELoss()(mine(minigan.tensor(x, dtype=dtype, device=device)),
                            minigan.tensor(y, dtype=dtype, device=device))
        loss.backward()
        opt_mine.step()
        opt_theirs.zero_grad()
        expected = torch.nn.MSELoss()(theirs(torch.tensor(x, dtype=getattr(torch, dtype))),
                                      torch.tensor(y, dtype=getattr(torch, dtype)))
        expected.backward()
        opt_theirs.step()
        assert_close(loss, expected, dtype, "loss")
    assert_same_state(mine, theirs, dtype)


def test_apply_spectral_norm_normalises_every_conv_and_linear_layer(torch):
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.BatchNorm2d(2), nn.ConvTranspose2d(2, 1, 2),
                          nn.Flatten(), nn.Linear(4, 1))
    assert apply_spectral_norm(model) is model
    theirs = torch.nn.Sequential(torch.nn.Conv2d(1, 2, 3), torch.nn.BatchNorm2d(2),
                                 torch.nn.ConvTranspose2d(2, 1, 2), torch.nn.Flatten(),
                                 torch.nn.Linear(4, 1))
    for i in (0, 2, 4):
        torch.nn.utils.spectral_norm(theirs[i])
    expected = [k for k in theirs.state_dict() if not k.endswith("num_batches_tracked")]
    assert list(model.state_dict()) == expected
    assert "1.weight" in model.state_dict()  # BatchNorm's weight stays as it is


def test_model_to_device_and_dtype_carries_u_and_v(device):
    layer = spectral_norm(nn.Linear(3, 2)).double().to(device)
    assert layer.weight_u.device == device and layer.weight_u.dtype == np.float64
    out = layer(minigan.randn(4, 3, dtype="float64", device=device))
    assert out.device == device and out.dtype == np.float64


# --------------------------------------------------------------------------- errors
def test_spectral_norm_rejects_bad_arguments_with_clear_messages():
    with pytest.raises(TypeError, match="spectral_norm: expected a minigan.nn.Module, got int"):
        spectral_norm(3)
    with pytest.raises(ValueError, match=r"spectral_norm: Linear has no parameter 'kernel' "
                                         r"\(its parameters: \['weight', 'bias'\]\)"):
        spectral_norm(nn.Linear(2, 2), name="kernel")
    with pytest.raises(ValueError, match="spectral_norm: Linear has no parameter 'bias'"):
        spectral_norm(nn.Linear(2, 2, bias=False), name="bias")
    with pytest.raises(ValueError, match="n_power_iterations must be an integer >= 1, got 0"):
        spectral_norm(nn.Linear(2, 2), n_power_iterations=0)
    with pytest.raises(ValueError, match="eps must be a finite number > 0, got -1"):
        spectral_norm(nn.Linear(2, 2), eps=-1)
    with pytest.raises(TypeError, match="spectral_norm: eps must be a number, got '1e-12'"):
        spectral_norm(nn.Linear(2, 2), eps="1e-12")
    with pytest.raises(IndexError, match="spectral_norm: dimension 2 is out of range for a "
                                         r"tensor of shape \(2, 2\)"):
        spectral_norm(nn.Linear(2, 2), dim=2)
    with pytest.raises(TypeError, match="apply_spectral_norm: expected a minigan.nn.Module"):
        apply_spectral_norm([nn.Linear(2, 2)])


def test_spectral_norm_twice_on_one_parameter_is_refused_and_changes_nothing():
    layer = spectral_norm(nn.Linear(2, 2))
    state = layer.state_dict()
    with pytest.raises(RuntimeError, match="'weight' of Linear is already spectral-normalised"):
        spectral_norm(layer)
    assert list(layer.state_dict()) == list(state)
