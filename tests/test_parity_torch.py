"""minigan against PyTorch, number for number: every core function, module and optimizer.

Each case runs the same inputs through both libraries, backpropagates the same random
upstream gradient, and compares the output and every input's gradient: within 1e-10
relative in float64, 1e-4 in float32. Modules are built in PyTorch and their state_dict
loaded into minigan; optimizers train the same MLP for 20 steps. These tests skip
without torch, and fail instead under MINIGAN_REQUIRE_TORCH=1 (CI).
"""
import warnings

import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import nn

DTYPES = ["float64", "float32"]
TOLERANCES = {"float64": dict(rtol=1e-10, atol=1e-12), "float32": dict(rtol=1e-4, atol=1e-6)}


def assert_close(mine, theirs, dtype, what=""):
    mine = mine.numpy() if isinstance(mine, minigan.Tensor) else np.asarray(mine)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape}, torch {theirs.shape}"
    np.testing.assert_allclose(mine, theirs, err_msg=what, **TOLERANCES[dtype])


def check_parity(torch, device, dtype, mg_fn, torch_fn, arrays, seed=0):
    """Run fn on the same float arrays in both libraries; compare output and all gradients."""
    mg_inputs = [minigan.tensor(a, dtype=dtype, device=device, requires_grad=True)
                 for a in arrays]
    th_inputs = [torch.tensor(a, dtype=getattr(torch, dtype), requires_grad=True)
                 for a in arrays]
    out, expected = mg_fn(*mg_inputs), torch_fn(*th_inputs)
    assert out.dtype == np.dtype(dtype) and out.device == device
    assert_close(out, expected, dtype, "output")
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    out.backward(minigan.tensor(upstream, dtype=dtype, device=device))
    expected.backward(torch.tensor(upstream, dtype=getattr(torch, dtype)))
    for i, (mine, theirs) in enumerate(zip(mg_inputs, th_inputs)):
        assert mine.grad is not None, f"input {i} got no gradient"
        assert_close(mine.grad, theirs.grad, dtype, f"gradient of input {i}")


def rand(shape, low=-2.0, high=2.0, seed=0):
    return np.random.default_rng(seed).uniform(low, high, shape)


def away_from_zero(shape, margin=0.2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(margin, 2.0, shape)


# --------------------------------------------------------------------------- the cases
# name -> (minigan fn, torch fn (given the torch module), input arrays)
CASES = {
    "add broadcast": (lambda a, b: a + b, lambda T: lambda a, b: a + b,
                      [rand((3, 1, 4)), rand((2, 4), seed=1)]),
    "sub broadcast": (lambda a, b: a - b, lambda T: lambda a, b: a - b,
                      [rand((4,)), rand((3, 4), seed=1)]),
    "mul broadcast": (lambda a, b: a * b, lambda T: lambda a, b: a * b,
                      [rand((2, 3, 1)), rand((1, 3, 4), seed=1)]),
    "div broadcast": (lambda a, b: a / b, lambda T: lambda a, b: a / b,
                      [rand((3, 4)), away_from_zero((4,), seed=1)]),
    "pow tensor ** tensor": (lambda a, b: a ** b, lambda T: lambda a, b: a ** b,
                             [rand((3, 4), 0.3, 2.0), rand((4,), seed=1)]),
    "pow x ** 3": (lambda x: x ** 3, lambda T: lambda x: x ** 3, [rand((2, 3))]),
    "pow x ** 0.5": (lambda x: x ** 0.5, lambda T: lambda x: x ** 0.5, [rand((5,), 0.1, 3.0)]),
    "pow x ** -2": (lambda x: x ** -2, lambda T: lambda x: x ** -2, [away_from_zero((5,))]),
    "rpow 2.0 ** x": (lambda x: 2.0 ** x, lambda T: lambda x: 2.0 ** x, [rand((2, 3))]),
    "scalars on both sides": (lambda x: (2.5 - x) * 3 + 1.5 / x - x / 4 + 1,
                              lambda T: lambda x: (2.5 - x) * 3 + 1.5 / x - x / 4 + 1,
                              [away_from_zero((3, 2))]),
    "neg": (lambda x: -x, lambda T: lambda x: -x, [rand((2, 2))]),
    "exp": (lambda x: x.exp(), lambda T: lambda x: x.exp(), [rand((3, 4))]),
    "log": (lambda x: x.log(), lambda T: lambda x: x.log(), [rand((3, 4), 0.05, 5.0)]),
    "matmul 2d": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                  [rand((3, 4)), rand((4, 5), seed=1)]),
    "matmul 1d @ 2d": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                       [rand((4,)), rand((4, 5), seed=1)]),
    "matmul 2d @ 1d": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                       [rand((3, 4)), rand((4,), seed=1)]),
    "matmul 1d @ 1d": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                       [rand((4,)), rand((4,), seed=1)]),
    "matmul batched broadcast": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                                 [rand((2, 1, 3, 4)), rand((5, 4, 2), seed=1)]),
    "matmul 1d @ batched": (lambda a, b: a @ b, lambda T: lambda a, b: a @ b,
                            [rand((4,)), rand((2, 4, 3), seed=1)]),
    "sum all": (lambda x: x.sum(), lambda T: lambda x: x.sum(), [rand((2, 3, 4))]),
    "sum axes keepdims": (lambda x: x.sum(axis=(0, 2), keepdims=True),
                          lambda T: lambda x: x.sum(dim=(0, 2), keepdim=True), [rand((2, 3, 4))]),
    "mean axis -1": (lambda x: x.mean(axis=-1), lambda T: lambda x: x.mean(dim=-1),
                     [rand((2, 3, 4))]),
    "mean all": (lambda x: x.mean(), lambda T: lambda x: x.mean(), [rand((2, 3, 4))]),
    "max all": (lambda x: x.max(), lambda T: lambda x: T.amax(x), [rand((3, 4))]),
    "max axis keepdims": (lambda x: x.max(axis=1, keepdims=True),
                          lambda T: lambda x: T.amax(x, dim=1, keepdim=True), [rand((3, 4, 2))]),
    "max with ties splits the gradient": (
        lambda x: x.max(axis=1), lambda T: lambda x: T.amax(x, dim=1),
        [np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0], [0.0, -1.0, 5.0]])]),
    "reshape": (lambda x: x.reshape(4, -1), lambda T: lambda x: x.reshape(4, -1),
                [rand((2, 3, 4))]),
    "transpose": (lambda x: x.transpose(0, 2), lambda T: lambda x: x.transpose(0, 2),
                  [rand((2, 3, 4))]),
    "permute": (lambda x: x.permute(2, 0, 1), lambda T: lambda x: x.permute(2, 0, 1),
                [rand((2, 3, 4))]),
    "slice and int": (lambda x: x[1:3, ::2, -1], lambda T: lambda x: x[1:3, ::2, -1],
                      [rand((4, 5, 3))]),
    "negative step": (lambda x: x[::-2, 1:], lambda T: lambda x: x.flip(0)[::2, 1:],
                      [rand((5, 3))]),
    "integer array with repeats": (lambda x: x[[0, 2, 0, 0]], lambda T: lambda x: x[[0, 2, 0, 0]],
                                   [rand((3, 4))]),
    "integer arrays paired": (
        lambda x: x[np.array([1, 1, 0]), np.array([2, 2, 3])],
        lambda T: lambda x: x[T.tensor([1, 1, 0]), T.tensor([2, 2, 3])], [rand((3, 4))]),
    "bool mask": (
        lambda x: x[np.array([[True, False, True], [False, False, True]])],
        lambda T: lambda x: x[T.tensor([[True, False, True], [False, False, True]])],
        [rand((2, 3))]),
    "cat dim 0": (lambda a, b: minigan.cat([a, b]), lambda T: lambda a, b: T.cat([a, b]),
                  [rand((2, 3)), rand((1, 3), seed=1)]),
    "cat dim -1 of three": (lambda a, b, c: minigan.cat([a, b, c], dim=-1),
                            lambda T: lambda a, b, c: T.cat([a, b, c], dim=-1),
                            [rand((2, 2, 1)), rand((2, 2, 3), seed=1), rand((2, 2, 2), seed=2)]),
    "linear with bias": (F.linear, lambda T: T.nn.functional.linear,
                         [rand((5, 4)), rand((3, 4), seed=1), rand((3,), seed=2)]),
    "linear without bias": (F.linear, lambda T: T.nn.functional.linear,
                            [rand((5, 4)), rand((3, 4), seed=1)]),
    "linear on a 3-d input": (F.linear, lambda T: T.nn.functional.linear,
                              [rand((2, 5, 4)), rand((3, 4), seed=1), rand((3,), seed=2)]),
    "linear on a 1-d input": (F.linear, lambda T: T.nn.functional.linear,
                              [rand((4,)), rand((3, 4), seed=1), rand((3,), seed=2)]),
    "relu": (F.relu, lambda T: T.nn.functional.relu, [away_from_zero((3, 4))]),
    "leaky_relu default slope": (F.leaky_relu, lambda T: T.nn.functional.leaky_relu,
                                 [away_from_zero((3, 4))]),
    "leaky_relu 0.2": (lambda x: F.leaky_relu(x, 0.2),
                       lambda T: lambda x: T.nn.functional.leaky_relu(x, 0.2),
                       [away_from_zero((3, 4))]),
    "tanh": (F.tanh, lambda T: T.tanh, [rand((3, 4), -4.0, 4.0)]),
    "sigmoid": (F.sigmoid, lambda T: T.sigmoid, [rand((3, 4), -4.0, 4.0)]),
    "sigmoid of large values": (F.sigmoid, lambda T: T.sigmoid,
                                [np.array([-800.0, -40.0, -1.0, 0.0, 1.0, 40.0, 800.0])]),
    "binary_cross_entropy": (F.binary_cross_entropy,
                             lambda T: T.nn.functional.binary_cross_entropy,
                             [rand((4, 3), 0.02, 0.98), rand((4, 3), 0.0, 1.0, seed=1)]),
    "binary_cross_entropy_with_logits": (
        F.binary_cross_entropy_with_logits,
        lambda T: T.nn.functional.binary_cross_entropy_with_logits,
        [rand((4, 3), -5.0, 5.0), rand((4, 3), 0.0, 1.0, seed=1)]),
    "binary_cross_entropy_with_logits of large logits": (
        F.binary_cross_entropy_with_logits,
        lambda T: T.nn.functional.binary_cross_entropy_with_logits,
        [np.array([-200.0, -30.0, 0.0, 30.0, 200.0]), np.array([1.0, 0.0, 0.5, 1.0, 0.0])]),
    "mse_loss": (F.mse_loss, lambda T: T.nn.functional.mse_loss,
                 [rand((4, 3)), rand((4, 3), seed=1)]),
    "mse_loss of a 4-d batch": (F.mse_loss, lambda T: T.nn.functional.mse_loss,
                                [rand((2, 3, 2, 2), -1e3, 1e3), rand((2, 3, 2, 2), seed=1)]),
    "mse_loss of one element": (F.mse_loss, lambda T: T.nn.functional.mse_loss,
                                [rand(()), rand((), seed=1)]),
}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(CASES))
def test_op_output_and_gradients_match_torch(torch, device, dtype, name):
    mg_fn, make_torch_fn, arrays = CASES[name]
    check_parity(torch, device, dtype, mg_fn, make_torch_fn(torch), arrays)


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_cross_entropy_clamps_its_logs_at_minus_100_as_torch(torch, device, dtype):
    """p exactly 0 or 1 (a saturated sigmoid): loss and gradient stay finite, without warnings."""
    p = np.array([0.0, 1.0, 0.0, 1.0, 1e-30, 0.5])
    target = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.5])
    mg_p = minigan.tensor(p, dtype=dtype, device=device, requires_grad=True)
    th_p = torch.tensor(p, dtype=getattr(torch, dtype), requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # log(0) is expected here: no RuntimeWarning may leak
        out = F.binary_cross_entropy(mg_p, minigan.tensor(target, dtype=dtype, device=device))
        out.backward()
    expected = torch.nn.functional.binary_cross_entropy(
        th_p, torch.tensor(target, dtype=getattr(torch, dtype)))
    expected.backward()
    assert np.isfinite(out.item()) and np.isfinite(mg_p.grad.numpy()).all()
    assert_close(out, expected, dtype, "output")
    assert_close(mg_p.grad, th_p.grad, dtype, "gradient")


@pytest.mark.parametrize("logit, target", [(np.inf, 0.0), (np.inf, 0.5), (np.inf, 1.0),
                                           (-np.inf, 0.0), (-np.inf, 1.0), (1e30, 0.0)])
def test_bce_with_logits_of_infinite_logits_is_torchs_value(torch, device, logit, target):
    """inf for a confidently wrong logit, nan where torch meets inf * 0, and no warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = F.binary_cross_entropy_with_logits(
            minigan.tensor([logit], device=device), minigan.tensor([target], device=device))
    expected = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor([logit]), torch.tensor([target]))
    np.testing.assert_array_equal(out.item(), expected.item())


@pytest.mark.parametrize("dtype", DTYPES)
def test_cross_entropy_output_and_gradient_match_torch(torch, device, dtype):
    target = np.array([2, 0, 1, 2, 2])
    check_parity(torch, device, dtype,
                 lambda x: F.cross_entropy(x, minigan.tensor(target, device=device)),
                 lambda x: torch.nn.functional.cross_entropy(x, torch.tensor(target)),
                 [rand((5, 3), -3.0, 3.0)])


@pytest.mark.parametrize("dtype", DTYPES)
def test_loss_modules_match_torch(torch, device, dtype):
    p, logits, target = rand((6, 1), 0.05, 0.95), rand((6, 1)), rand((6, 1), 0.0, 1.0, seed=1)
    labels = np.array([1, 0, 3, 3])
    check_parity(torch, device, dtype, nn.BCELoss(), torch.nn.BCELoss(), [p, target])
    check_parity(torch, device, dtype, nn.BCEWithLogitsLoss(), torch.nn.BCEWithLogitsLoss(),
                 [logits, target])
    check_parity(torch, device, dtype, nn.MSELoss(), torch.nn.MSELoss(), [logits, target])
    check_parity(torch, device, dtype,
                 lambda x: nn.CrossEntropyLoss()(x, minigan.tensor(labels, device=device)),
                 lambda x: torch.nn.CrossEntropyLoss()(x, torch.tensor(labels)),
                 [rand((4, 5))])


def test_mse_loss_gradient_of_its_gradient_matches_torch(torch, device):
    """|d mse / dx|^2, differentiated again with respect to input and target."""
    grad = minigan.autograd.grad
    x, target = rand((3, 4)), rand((3, 4), seed=1)
    mine = [minigan.tensor(a, dtype="float64", device=device, requires_grad=True)
            for a in (x, target)]
    theirs = [torch.tensor(a, requires_grad=True) for a in (x, target)]
    (g_mine,) = grad(F.mse_loss(*mine), [mine[0]], create_graph=True)
    (g_theirs,) = torch.autograd.grad(torch.nn.functional.mse_loss(*theirs), [theirs[0]],
                                      create_graph=True)
    (g_mine * g_mine).sum().backward()
    (g_theirs * g_theirs).sum().backward()
    for i in range(2):
        assert_close(mine[i].grad, theirs[i].grad, "float64", f"gradient of input {i}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_activation_and_flatten_modules_match_torch(torch, device, dtype):
    x = away_from_zero((2, 3, 2, 2))
    pairs = [(nn.ReLU(), torch.nn.ReLU()), (nn.LeakyReLU(), torch.nn.LeakyReLU()),
             (nn.LeakyReLU(0.2), torch.nn.LeakyReLU(0.2)), (nn.Tanh(), torch.nn.Tanh()),
             (nn.Sigmoid(), torch.nn.Sigmoid()), (nn.Flatten(), torch.nn.Flatten()),
             (nn.Flatten(0), torch.nn.Flatten(0)), (nn.Flatten(1, 2), torch.nn.Flatten(1, 2))]
    for mine, theirs in pairs:
        check_parity(torch, device, dtype, mine, theirs, [x])


# --------------------------------------------------------------------------- models
def build(lib):
    """The same architecture in minigan (lib=minigan.nn) and in PyTorch (lib=torch.nn)."""
    return lib.Sequential(lib.Flatten(), lib.Linear(6, 5), lib.LeakyReLU(0.2),
                          lib.Linear(5, 4, bias=False), lib.Tanh(), lib.Linear(4, 1),
                          lib.Sigmoid())


def to_numpy_state(torch_module):
    return {k: v.detach().numpy() for k, v in torch_module.state_dict().items()}


def test_state_dict_keys_and_shapes_match_torch_for_the_same_model(torch):
    torch.manual_seed(0)
    theirs = {k: tuple(v.shape) for k, v in build(torch.nn).state_dict().items()
              if not k.endswith("num_batches_tracked")}
    mine = {k: v.shape for k, v in build(nn).state_dict().items()}
    assert list(mine) == list(theirs)  # the same keys, in the same order
    assert mine == theirs


def test_nested_module_state_dict_keys_match_torch(torch):
    def make(lib, module_base):
        class Net(module_base):
            def __init__(self):
                super().__init__()
                self.main = lib.Sequential(lib.Linear(3, 4), lib.ReLU(), lib.Linear(4, 2))
                self.head = lib.Linear(2, 1)

            def forward(self, x):
                return self.head(self.main(x))

        return Net()

    theirs = make(torch.nn, torch.nn.Module)
    mine = make(nn, nn.Module)
    assert list(mine.state_dict()) == list(theirs.state_dict())
    mine.load_state_dict(to_numpy_state(theirs))
    x = rand((5, 3))
    assert_close(mine(minigan.tensor(x, dtype="float32")),
                 theirs(torch.tensor(x, dtype=torch.float32)), "float32", "output")


@pytest.mark.parametrize("dtype", DTYPES)
def test_model_loaded_from_torch_state_dict_matches_outputs_and_gradients(torch, device, dtype):
    torch.manual_seed(1)
    theirs = build(torch.nn).to(getattr(torch, dtype))
    mine = build(nn)
    mine.load_state_dict(to_numpy_state(theirs))
    mine = (mine.double() if dtype == "float64" else mine).to(device)
    x, target = rand((8, 2, 3)), rand((8, 1), 0.0, 1.0, seed=3)

    out = mine(minigan.tensor(x, dtype=dtype, device=device))
    expected = theirs(torch.tensor(x, dtype=getattr(torch, dtype)))
    assert_close(out, expected, dtype, "output")
    loss = nn.BCELoss()(out, minigan.tensor(target, dtype=dtype, device=device))
    expected_loss = torch.nn.BCELoss()(expected, torch.tensor(target, dtype=getattr(torch, dtype)))
    assert_close(loss, expected_loss, dtype, "loss")
    loss.backward()
    expected_loss.backward()
    named = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        assert_close(p.grad, named[name].grad, dtype, f"gradient of {name}")


# --------------------------------------------------------------------------- optimizers
def train_both(torch, device, dtype, make_mine, make_theirs, steps=20):
    """Train the same MLP in both libraries on the same batches, starting from the same
    weights; return both models and both optimizers."""
    torch.manual_seed(2)
    theirs = torch.nn.Sequential(torch.nn.Linear(4, 8), torch.nn.LeakyReLU(0.2),
                                 torch.nn.Linear(8, 1)).to(getattr(torch, dtype))
    mine = nn.Sequential(nn.Linear(4, 8), nn.LeakyReLU(0.2), nn.Linear(8, 1))
    mine.load_state_dict(to_numpy_state(theirs))
    mine = (mine.double() if dtype == "float64" else mine).to(device)
    opt_mine, opt_theirs = make_mine(mine.parameters()), make_theirs(theirs.parameters())
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x, y = rng.standard_normal((16, 4)), (rng.random((16, 1)) < 0.5).astype(np.float64)
        opt_mine.zero_grad()
        nn.BCEWithLogitsLoss()(mine(minigan.tensor(x, dtype=dtype, device=device)),
                               minigan.tensor(y, dtype=dtype, device=device)).backward()
        opt_mine.step()
        opt_theirs.zero_grad()
        torch.nn.BCEWithLogitsLoss()(theirs(torch.tensor(x, dtype=getattr(torch, dtype))),
                                     torch.tensor(y, dtype=getattr(torch, dtype))).backward()
        opt_theirs.step()
    return mine, theirs, opt_mine, opt_theirs


def assert_same_weights(mine, theirs, dtype):
    named = dict(theirs.named_parameters())
    for name, p in mine.named_parameters():
        assert_close(p, named[name], dtype, name)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
def test_adam_matches_torch_over_20_steps(torch, device, dtype, weight_decay):
    kwargs = dict(lr=0.01, betas=(0.5, 0.999), weight_decay=weight_decay)
    mine, theirs, _, _ = train_both(torch, device, dtype,
                                    lambda ps: minigan.optim.Adam(ps, **kwargs),
                                    lambda ps: torch.optim.Adam(ps, **kwargs))
    assert_same_weights(mine, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adam_with_default_hyperparameters_matches_torch_over_20_steps(torch, device, dtype):
    mine, theirs, _, _ = train_both(torch, device, dtype, minigan.optim.Adam, torch.optim.Adam)
    assert_same_weights(mine, theirs, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_sgd_matches_torch_over_20_steps(torch, device, dtype, momentum):
    mine, theirs, _, _ = train_both(torch, device, dtype,
                                    lambda ps: minigan.optim.SGD(ps, lr=0.1, momentum=momentum),
                                    lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=momentum))
    assert_same_weights(mine, theirs, dtype)


def test_optimizer_state_dict_layout_matches_torch(torch):
    """The same keys as PyTorch: {"state": {index: {...}}, "param_groups": [{..., "params"}]}."""
    for make_mine, make_theirs in [
            (lambda ps: minigan.optim.Adam(ps, lr=0.01), lambda ps: torch.optim.Adam(ps, lr=0.01)),
            (lambda ps: minigan.optim.SGD(ps, lr=0.1, momentum=0.9),
             lambda ps: torch.optim.SGD(ps, lr=0.1, momentum=0.9))]:
        _, _, opt_mine, opt_theirs = train_both(torch, "cpu", "float64", make_mine,
                                                make_theirs, steps=2)
        s_mine, s_theirs = opt_mine.state_dict(), opt_theirs.state_dict()
        assert set(s_mine) == {"state", "param_groups"}
        assert sorted(s_mine["state"]) == sorted(s_theirs["state"])
        for i, entry in s_theirs["state"].items():
            assert set(s_mine["state"][i]) == set(entry)
            for k, v in entry.items():
                assert np.shape(s_mine["state"][i][k]) == tuple(v.shape) or k == "step"
        assert [g["params"] for g in s_mine["param_groups"]] == \
            [g["params"] for g in s_theirs["param_groups"]]
        for k, v in s_mine["param_groups"][0].items():
            assert s_theirs["param_groups"][0][k] == v, k


def test_optimizer_continues_like_torch_after_loading_torchs_state_dict(torch):
    """Adam's moments and step count, saved by PyTorch, drive minigan's next steps."""
    kwargs = dict(lr=0.01, betas=(0.5, 0.999))
    mine, theirs, opt_mine, opt_theirs = train_both(
        torch, "cpu", "float64", lambda ps: minigan.optim.Adam(ps, **kwargs),
        lambda ps: torch.optim.Adam(ps, **kwargs), steps=3)
    fresh = minigan.optim.Adam(mine.parameters(), **kwargs)
    fresh.load_state_dict({"state": {i: {k: v.numpy() for k, v in entry.items()}
                                     for i, entry in opt_theirs.state_dict()["state"].items()},
                           "param_groups": opt_mine.state_dict()["param_groups"]})
    x, y = rand((16, 4)), (rand((16, 1)) > 0).astype(np.float64)
    for model, opt, lib in ((mine, fresh, minigan), (theirs, opt_theirs, torch)):
        opt.zero_grad()
        loss_fn = nn.BCEWithLogitsLoss() if lib is minigan else torch.nn.BCEWithLogitsLoss()
        loss = loss_fn(model(lib.tensor(x, dtype=lib.float64)), lib.tensor(y, dtype=lib.float64))
        loss.backward()
        opt.step()
    assert_same_weights(mine, theirs, "float64")
