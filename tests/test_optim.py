"""Adam and SGD on their own: the update rules written out by hand, parameter groups,
hyper-parameter checks, and state dicts that resume training exactly."""
import pickle

import numpy as np
import pytest

import minigan
from minigan import nn, optim


def param(values, device, dtype="float64"):
    return nn.Parameter(minigan.tensor(np.asarray(values, dtype=np.float64), dtype=dtype,
                                       device=device))


def set_grad(p, values):
    p.grad = minigan.tensor(np.asarray(values, dtype=np.float64), dtype=p.dtype, device=p.device)


def test_sgd_step_is_p_minus_lr_grad(device):
    p = param([1.0, -2.0], device)
    opt = optim.SGD([p], lr=0.1)
    set_grad(p, [0.5, 3.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [1.0 - 0.05, -2.0 - 0.3], rtol=1e-15)


def test_sgd_momentum_buffer_starts_at_the_gradient_then_accumulates(device):
    p = param([0.0], device)
    opt = optim.SGD([p], lr=1.0, momentum=0.9)
    expected, buf = 0.0, None
    for g in (1.0, 2.0, -1.0):
        set_grad(p, [g])
        opt.step()
        buf = g if buf is None else 0.9 * buf + g  # PyTorch: no (1 - dampening) on step 1
        expected -= buf
        np.testing.assert_allclose(p.numpy(), [expected], rtol=1e-14)


def test_adam_follows_the_bias_corrected_update_written_out(device):
    lr, (b1, b2), eps, wd = 0.01, (0.5, 0.999), 1e-8, 0.1
    p = param([1.0, -0.5, 2.0], device)
    opt = optim.Adam([p], lr=lr, betas=(b1, b2), eps=eps, weight_decay=wd)
    x, m, v = np.array([1.0, -0.5, 2.0]), 0.0, 0.0
    for t, g in enumerate([[0.3, -1.0, 0.0], [0.1, 2.0, -0.4], [-0.2, 0.5, 0.3]], start=1):
        set_grad(p, g)
        opt.step()
        g = np.array(g) + wd * x  # L2 weight decay enters through the gradient
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        x = x - lr / (1 - b1 ** t) * m / (np.sqrt(v) / np.sqrt(1 - b2 ** t) + eps)
        np.testing.assert_allclose(p.numpy(), x, rtol=1e-12)


def test_adam_first_step_moves_each_weight_by_about_lr(device):
    """m_hat / sqrt(v_hat) = g / |g| at step 1, whatever the gradient's scale."""
    p = param([0.0, 0.0, 0.0], device)
    opt = optim.Adam([p], lr=0.01)
    set_grad(p, [1e-3, -5.0, 200.0])
    opt.step()
    np.testing.assert_allclose(p.numpy(), [-0.01, 0.01, -0.01], rtol=1e-4)


def test_step_skips_parameters_without_gradient(device):
    a, b = param([1.0], device), param([2.0], device)
    for opt in (optim.Adam([a, b], lr=0.1), optim.SGD([a, b], lr=0.1, momentum=0.9)):
        set_grad(a, [1.0])
        b.grad = None
        opt.step()
        assert b.item() == 2.0
        assert b not in opt.state


def test_parameter_groups_use_their_own_learning_rate(device):
    a, b = param([0.0], device), param([0.0], device)
    opt = optim.SGD([{"params": [a], "lr": 1.0}, {"params": [b]}], lr=0.1)
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.step()
    assert a.item() == pytest.approx(-1.0) and b.item() == pytest.approx(-0.1)


def test_optimizer_zero_grad_sets_every_gradient_to_none(device):
    a, b = param([0.0], device), param([0.0], device)
    opt = optim.Adam([a, b])
    set_grad(a, [1.0])
    set_grad(b, [1.0])
    opt.zero_grad()
    assert a.grad is None and b.grad is None


def test_optimizers_update_float32_parameters_in_float32(device):
    p = param([1.0, 2.0], device, dtype="float32")
    for opt in (optim.Adam([p], lr=0.1), optim.SGD([p], lr=0.1, momentum=0.9)):
        for _ in range(2):
            set_grad(p, [0.5, -0.5])
            opt.step()
        assert p.dtype == np.float32 and p.device == device


def test_learning_rate_may_be_a_numpy_scalar():
    """A schedule computed with NumPy hands the optimizer np.float32/np.float64 values."""
    p = param([1.0], "cpu")
    for lr in (np.float32(0.1), np.float64(0.1), 1):
        optim.Adam([p], lr=lr)
        optim.SGD([p], lr=lr, momentum=np.float64(0.9))


# --------------------------------------------------------------------------- state dicts
def make_model(device, seed):
    minigan.manual_seed(seed)
    return nn.Sequential(nn.Linear(3, 6), nn.LeakyReLU(0.2), nn.Linear(6, 1)).double().to(device)


def train(model, opt, steps, first_step, device):
    for step in range(first_step, first_step + steps):
        rng = np.random.default_rng(step)  # batch i is the same in every run
        x = minigan.tensor(rng.standard_normal((8, 3)), dtype="float64", device=device)
        y = minigan.tensor((rng.random((8, 1)) < 0.5) * 1.0, dtype="float64", device=device)
        opt.zero_grad()
        nn.BCEWithLogitsLoss()(model(x), y).backward()
        opt.step()


OPTIMIZERS = {
    "adam": lambda ps: optim.Adam(ps, lr=0.01, betas=(0.5, 0.999), weight_decay=0.01),
    "sgd": lambda ps: optim.SGD(ps, lr=0.1),
    "sgd-momentum": lambda ps: optim.SGD(ps, lr=0.1, momentum=0.9),
}


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_optimizer_state_dict_round_trip_resumes_exactly_like_uninterrupted_training(device,
                                                                                     name):
    make_optimizer = OPTIMIZERS[name]
    model = make_model(device, seed=0)
    opt = make_optimizer(model.parameters())
    train(model, opt, 20, 0, device)
    uninterrupted = model.state_dict()

    model = make_model(device, seed=0)
    opt = make_optimizer(model.parameters())
    train(model, opt, 10, 0, device)
    saved = pickle.dumps((model.state_dict(), opt.state_dict()))  # as a checkpoint file would
    train(model, opt, 3, 100, device)  # the old run goes on: the saved copy must not change

    model_state, opt_state = pickle.loads(saved)
    resumed = make_model(device, seed=1)  # other weights, a fresh optimizer without state
    resumed_opt = make_optimizer(resumed.parameters())
    resumed.load_state_dict(model_state)
    resumed_opt.load_state_dict(opt_state)
    train(resumed, resumed_opt, 10, 10, device)
    for key, value in resumed.state_dict().items():
        np.testing.assert_array_equal(value, uninterrupted[key], err_msg=key)


def test_optimizer_state_dict_holds_host_copies_keyed_by_parameter_index(device):
    model = make_model(device, seed=0)
    opt = optim.Adam(model.parameters(), lr=0.01)
    train(model, opt, 2, 0, device)
    state = opt.state_dict()
    assert sorted(state["state"]) == [0, 1, 2, 3]
    assert state["param_groups"][0]["params"] == [0, 1, 2, 3]
    entry = state["state"][0]
    assert set(entry) == {"step", "exp_avg", "exp_avg_sq"} and entry["step"] == 2
    assert isinstance(entry["exp_avg"], np.ndarray) and entry["exp_avg"].shape == (6, 3)
    before = entry["exp_avg"].copy()
    train(model, opt, 1, 2, device)
    np.testing.assert_array_equal(entry["exp_avg"], before)  # a snapshot, not a live view


def test_optimizer_load_state_dict_copies_the_arrays(device):
    model = make_model(device, seed=0)
    opt = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    train(model, opt, 1, 0, device)
    state = opt.state_dict()
    fresh = optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    fresh.load_state_dict(state)
    state["state"][0]["momentum_buffer"][...] = 1e6
    assert np.abs(fresh.state_dict()["state"][0]["momentum_buffer"]).max() < 1e6


def test_optimizer_load_state_dict_restores_hyperparameters(device):
    model = make_model(device, seed=0)
    saved = optim.Adam(model.parameters(), lr=0.123, betas=(0.5, 0.9)).state_dict()
    opt = optim.Adam(model.parameters())
    opt.load_state_dict(saved)
    assert opt.param_groups[0]["lr"] == 0.123 and opt.param_groups[0]["betas"] == (0.5, 0.9)
