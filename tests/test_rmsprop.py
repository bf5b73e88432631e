"""RMSprop: the update rule written out by hand, parity with torch.optim.RMSprop over 20 steps
for every option (float64 1e-10, float32 1e-4, as Adam's), its state dict in PyTorch's
layout, resuming from a PyTorch state dict, and its hyper-parameter checks."""
import numpy as np
import pytest

import minigan
from minigan import nn, optim
from test_parity_torch import DTYPES, assert_same_weights, train_both


def param(values, device):
    return nn.Parameter(minigan.tensor(np.asarray(values, dtype=np.float64), device=device))


def test_one_step_is_the_written_rule(device):
    p = param([1.0, -2.0], device)
    opt = optim.RMSprop([p], lr=0.1, alpha=0.9, eps=1e-8)
    p.grad = minigan.tensor([0.5, 3.0], dtype="float64", device=device)
    opt.step()
    g = np.array([0.5, 3.0])
    v = 0.1 * g * g  # alpha * 0 + (1 - alpha) g^2
    np.testing.assert_allclose(p.numpy(), [1.0, -2.0] - 0.1 * g / (np.sqrt(v) + 1e-8),
                               rtol=1e-15)
    assert opt.state[p]["step"] == 1 and set(opt.state[p]) == {"step", "square_avg"}


OPTIONS = {
    "defaults": dict(lr=0.01),
    "wgan": dict(lr=5e-5),
    "alpha_eps": dict(lr=0.01, alpha=0.9, eps=1e-6),
    "weight_decay": dict(lr=0.01, weight_decay=0.1),
    "momentum": dict(lr=0.01, momentum=0.9),
    "centered": dict(lr=0.01, centered=True),
    "everything": dict(lr=0.02, alpha=0.95, eps=1e-7, weight_decay=0.01, momentum=0.5,
                       centered=True),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_rmsprop_matches_torch_over_20_steps(torch, device, dtype, option):
    kwargs = OPTIONS[option]
    mine, theirs, _, _ = train_both(torch, device, dtype,
                                    lambda ps: optim.RMSprop(ps, **kwargs),
                                    lambda ps: torch.optim.RMSprop(ps, **kwargs))
    assert_same_weights(mine, theirs, dtype)


def test_state_dict_layout_matches_torch_and_resumes_from_it(torch):
    kwargs = dict(lr=0.01, momentum=0.9, centered=True)
    mine, theirs, opt_mine, opt_theirs = train_both(
        torch, "cpu", "float64", lambda ps: optim.RMSprop(ps, **kwargs),
        lambda ps: torch.optim.RMSprop(ps, **kwargs), steps=3)
    s_mine, s_theirs = opt_mine.state_dict(), opt_theirs.state_dict()
    for i, entry in s_theirs["state"].items():
        assert set(s_mine["state"][i]) == set(entry)
    for k, v in s_mine["param_groups"][0].items():
        if k in s_theirs["param_groups"][0]:
            assert s_theirs["param_groups"][0][k] == v, k
    fresh = optim.RMSprop(mine.parameters(), **kwargs)
    fresh.load_state_dict({"state": {i: {k: v.numpy() for k, v in entry.items()}
                                     for i, entry in s_theirs["state"].items()},
                           "param_groups": s_mine["param_groups"]})
    rng = np.random.default_rng(9)
    x, y = rng.standard_normal((16, 4)), (rng.random((16, 1)) < 0.5).astype(np.float64)
    for model, opt, lib in ((mine, fresh, minigan), (theirs, opt_theirs, torch)):
        opt.zero_grad()
        loss_fn = nn.BCEWithLogitsLoss() if lib is minigan else torch.nn.BCEWithLogitsLoss()
        loss = loss_fn(model(lib.tensor(x, dtype=lib.float64)), lib.tensor(y, dtype=lib.float64))
        loss.backward()
        opt.step()
    assert_same_weights(mine, theirs, "float64")


def test_a_step_bumps_the_version_so_a_stale_graph_raises(device):
    p = param([1.0, 2.0], device)
    opt = optim.RMSprop([p])
    loss = (p * p).sum()
    p.grad = minigan.ones(2, dtype="float64", device=device)
    opt.step()
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        loss.backward()


@pytest.mark.parametrize("bad", [dict(lr=-1.0), dict(alpha=-0.1), dict(eps=float("nan")),
                                 dict(momentum=-1), dict(weight_decay=-0.5)])
def test_bad_hyperparameters_are_refused_as_in_pytorch(torch, bad):
    with pytest.raises(ValueError):
        optim.RMSprop([param([1.0], "cpu")], **bad)
    if "eps" not in bad:  # PyTorch lets a NaN eps through; minigan refuses it
        with pytest.raises(ValueError):
            torch.optim.RMSprop([torch.zeros(1, requires_grad=True)], **bad)
