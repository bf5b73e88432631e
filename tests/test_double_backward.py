"""Gradients of gradients: create_graph, autograd.grad and gradgradcheck, for every op.

Three oracles: finite differences of the first derivatives (gradgradcheck, Hypothesis
shapes, float64); PyTorch's first and second derivatives (torch.autograd.grad with
create_graph=True) in float64 (rtol 1e-10) and float32; and the GAN penalties built on
them (WGAN-GP through a conv critic, R1 through a BatchNorm discriminator), whose
parameter gradients must equal PyTorch's. Then the API's rules and its error cases.
"""
import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

import minigan
import minigan.nn.functional as F
from minigan import autograd, nn
from minigan.gradcheck import GradcheckError, gradgradcheck

GRADGRADCHECK = settings(max_examples=6, deadline=None,
                         suppress_health_check=[HealthCheck.function_scoped_fixture])
seeds = st.integers(0, 2**32 - 1)
small_shapes = hnp.array_shapes(min_dims=0, max_dims=3, min_side=1, max_side=3)
small_pairs = hnp.mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3,
                                                min_side=1, max_side=3)


def leaf(values, device="cpu", dtype="float64"):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device,
                          requires_grad=True)


def uniform(rng, shape, low=-2.0, high=2.0):
    return rng.uniform(low, high, shape)


def away_from_zero(rng, shape, margin=0.5, high=2.0):
    return rng.choice([-1.0, 1.0], size=shape) * rng.uniform(margin, high, shape)


# ------------------------------------------------------------------ the ops, in both libraries
def ops_table(torch):
    """name -> (minigan fn, torch fn, input makers (rng -> array)), every differentiable op."""
    TF = torch.nn.functional
    u = uniform
    pos = lambda rng, shape: rng.uniform(0.3, 2.0, shape)  # noqa: E731
    prob = lambda rng, shape: rng.uniform(0.1, 0.9, shape)  # noqa: E731
    nz = away_from_zero
    x34 = lambda f: lambda rng: f(rng, (3, 4))  # noqa: E731
    img = lambda rng: u(rng, (2, 3, 5, 5))  # noqa: E731
    table = {
        "add": (lambda a, b: a + b, lambda a, b: a + b, [x34(u), lambda r: u(r, (4,))]),
        "sub": (lambda a, b: a - b, lambda a, b: a - b, [x34(u), lambda r: u(r, (3, 1))]),
        "mul": (lambda a, b: a * b, lambda a, b: a * b, [x34(u), lambda r: u(r, (4,))]),
        "div": (lambda a, b: a / b, lambda a, b: a / b, [x34(u), lambda r: nz(r, (3, 1))]),
        "neg": (lambda a: -a * a, lambda a: -a * a, [x34(u)]),
        "pow": (lambda a, b: a ** b, lambda a, b: a ** b, [x34(pos), x34(u)]),
        "pow_scalar": (lambda a: a ** 3 + a ** 0.5, lambda a: a ** 3 + a ** 0.5, [x34(pos)]),
        "rpow": (lambda a: 2.0 ** a, lambda a: 2.0 ** a, [x34(u)]),
        "exp": (lambda a: a.exp(), lambda a: a.exp(), [x34(u)]),
        "log": (lambda a: a.log(), lambda a: a.log(), [x34(pos)]),
        "sum": (lambda a: (a * a).sum(axis=1), lambda a: (a * a).sum(1), [x34(u)]),
        "mean": (lambda a: (a * a).mean(axis=0, keepdims=True),
                 lambda a: (a * a).mean(0, keepdim=True), [x34(u)]),
        "max": (lambda a: (a * a).max(axis=1), lambda a: (a * a).amax(1), [x34(pos)]),
        "reshape": (lambda a: (a * a).reshape(2, 6), lambda a: (a * a).reshape(2, 6), [x34(u)]),
        "permute": (lambda a: (a * a).transpose(0, 1), lambda a: (a * a).transpose(0, 1),
                    [x34(u)]),
        "getitem": (lambda a: (a * a)[1:, ::2], lambda a: (a * a)[1:, ::2], [x34(u)]),
        "getitem_repeated": (lambda a: (a * a)[((0, 0, 2),)], lambda a: (a * a)[[0, 0, 2]],
                             [x34(u)]),
        "cat": (lambda a, b: minigan.cat([a * b, b], dim=0),
                lambda a, b: torch.cat([a * b, b], dim=0), [x34(u), x34(u)]),
        "matmul": (lambda a, b: (a @ b) ** 2, lambda a, b: (a @ b) ** 2,
                   [x34(u), lambda r: u(r, (4, 2))]),
        "matmul_1d": (lambda a, b: (a @ b) ** 2, lambda a, b: (a @ b) ** 2,
                      [lambda r: u(r, (4,)), lambda r: u(r, (2, 4, 3))]),
        "linear": (lambda x, w, b: F.linear(x, w, b) ** 2, lambda x, w, b: TF.linear(x, w, b) ** 2,
                   [x34(u), lambda r: u(r, (5, 4)), lambda r: u(r, (5,))]),
        "relu": (lambda a: F.relu(a) * a, lambda a: TF.relu(a) * a, [x34(nz)]),
        "leaky_relu": (lambda a: F.leaky_relu(a, 0.2) * a, lambda a: TF.leaky_relu(a, 0.2) * a,
                       [x34(nz)]),
        "tanh": (lambda a: F.tanh(a), lambda a: torch.tanh(a), [x34(u)]),
        "sigmoid": (lambda a: F.sigmoid(a), lambda a: torch.sigmoid(a), [x34(u)]),
        "bce": (lambda p, t: F.binary_cross_entropy(p, t),
                lambda p, t: TF.binary_cross_entropy(p, t), [x34(prob), x34(prob)]),
        "bce_with_logits": (lambda x, t: F.binary_cross_entropy_with_logits(x, t),
                            lambda x, t: TF.binary_cross_entropy_with_logits(x, t),
                            [x34(u), x34(prob)]),
        "cross_entropy": (lambda x: F.cross_entropy(x, np.array([0, 3, 1])),
                          lambda x: TF.cross_entropy(x, torch.tensor([0, 3, 1])), [x34(u)]),
        "conv2d": (lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1) ** 2,
                   lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1) ** 2,
                   [img, lambda r: u(r, (4, 3, 3, 3)), lambda r: u(r, (4,))]),
        "conv_transpose2d": (
            lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1,
                                               output_padding=1) ** 2,
            lambda x, w, b: TF.conv_transpose2d(x, w, b, stride=2, padding=1,
                                                output_padding=1) ** 2,
            [img, lambda r: u(r, (3, 2, 4, 4)), lambda r: u(r, (2,))]),
        "batch_norm_train_2d": (
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
            lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True) ** 2,
            [img, lambda r: u(r, (3,)), lambda r: u(r, (3,))]),
        "batch_norm_train_1d": (
            lambda x, w, b: F.batch_norm(x, None, None, w, b, training=True) ** 2,
            lambda x, w, b: TF.batch_norm(x, None, None, w, b, training=True) ** 2,
            [lambda r: u(r, (5, 3)), lambda r: u(r, (3,)), lambda r: u(r, (3,))]),
        "batch_norm_eval": (
            lambda x, w, b: F.batch_norm(x, minigan.tensor([0.1, -0.2, 0.3], dtype=x.dtype),
                                         minigan.tensor([0.5, 1.5, 2.0], dtype=x.dtype), w, b,
                                         training=False) ** 2,
            lambda x, w, b: TF.batch_norm(x, torch.tensor([0.1, -0.2, 0.3], dtype=x.dtype),
                                          torch.tensor([0.5, 1.5, 2.0], dtype=x.dtype), w, b,
                                          training=False) ** 2,
            [img, lambda r: u(r, (3,)), lambda r: u(r, (3,))]),
    }
    if hasattr(F, "mse_loss"):  # the GAN-methods issue adds it, as a composition of ops
        table["mse_loss"] = (lambda a, b: F.mse_loss(a * a, b), lambda a, b: TF.mse_loss(a * a, b),
                             [x34(u), x34(u)])
    return table


OP_NAMES = ["add", "sub", "mul", "div", "neg", "pow", "pow_scalar", "rpow", "exp", "log", "sum",
            "mean", "max", "reshape", "permute", "getitem", "getitem_repeated", "cat", "matmul",
            "matmul_1d", "linear", "relu", "leaky_relu", "tanh", "sigmoid", "bce",
            "bce_with_logits", "cross_entropy", "conv2d", "conv_transpose2d",
            "batch_norm_train_2d", "batch_norm_train_1d", "batch_norm_eval", "mse_loss"]


def first_and_second(lib, fn, inputs, u, vs):
    """(d<fn, u>/d inputs, d<those, vs>/d inputs) with lib's autograd (minigan or torch)."""
    if lib is minigan:
        grads = autograd.grad(fn(*inputs), inputs, minigan.tensor(u), create_graph=True,
                              allow_unused=True)
        total = sum((g * minigan.tensor(v)).sum() for g, v in zip(grads, vs) if g is not None)
        if not isinstance(total, minigan.Tensor) or not total.requires_grad:
            return grads, [None] * len(inputs)  # fn is linear: no second derivatives
        return grads, autograd.grad(total, inputs, allow_unused=True)
    grads = lib.autograd.grad(fn(*inputs), inputs, lib.tensor(u), create_graph=True,
                              allow_unused=True)
    total = sum((g * lib.tensor(v)).sum() for g, v in zip(grads, vs) if g is not None)
    if not isinstance(total, lib.Tensor) or not total.requires_grad:
        return grads, [None] * len(inputs)
    return grads, lib.autograd.grad(total, inputs, allow_unused=True)


def as_numpy(g, shape, dtype):
    if g is None:  # no path: a zero derivative
        return np.zeros(shape, dtype)
    return g.detach().numpy() if hasattr(g, "detach") and not isinstance(g, minigan.Tensor) \
        else g.numpy()


@pytest.mark.parametrize("dtype, rtol", [("float64", 1e-10), ("float32", 2e-4)])
@pytest.mark.parametrize("name", OP_NAMES)
def test_first_and_second_derivatives_match_pytorch(torch, name, dtype, rtol):
    table = ops_table(torch)
    if name not in table:
        pytest.skip(f"{name} is not in minigan.nn.functional on this branch")
    m_fn, t_fn, makers = table[name]
    rng = np.random.default_rng(sum(map(ord, name)))
    arrays = [make(rng).astype(dtype) for make in makers]
    with torch.no_grad():
        out_shape = tuple(t_fn(*[torch.tensor(a) for a in arrays]).shape)
    u = rng.standard_normal(out_shape).astype(dtype)
    m_inputs = [minigan.tensor(a, requires_grad=True) for a in arrays]
    t_inputs = [torch.tensor(a, requires_grad=True) for a in arrays]
    vs = [rng.standard_normal(a.shape).astype(dtype) for a in arrays]
    m_first, m_second = first_and_second(minigan, m_fn, m_inputs, u, vs)
    t_first, t_second = first_and_second(torch, t_fn, t_inputs, u, vs)
    for i, a in enumerate(arrays):
        for order, m, t in (("first", m_first[i], t_first[i]), ("second", m_second[i],
                                                                t_second[i])):
            expected = as_numpy(t, a.shape, dtype)
            got = as_numpy(m, a.shape, dtype)
            assert got.dtype == np.dtype(dtype), (order, i)
            scale = max(np.abs(expected).max(), 1.0)
            np.testing.assert_allclose(got, expected, rtol=rtol, atol=rtol * scale,
                                       err_msg=f"{name}: {order} derivative of input {i}")


def test_third_derivative_of_tanh_matches_pytorch(torch):
    values = np.linspace(-2, 2, 7)
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    g = F.tanh(x)
    tg = torch.tanh(tx)
    for order in range(3):
        g, = autograd.grad(g.sum(), x, create_graph=True)
        tg, = torch.autograd.grad(tg.sum(), tx, create_graph=True)
        np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12, atol=1e-14)
    y = np.tanh(values)  # d3/dx3 tanh = -2 (1 - y^2) (1 - 3 y^2)
    np.testing.assert_allclose(g.numpy(), -2 * (1 - y * y) * (1 - 3 * y * y), rtol=1e-12)


# ------------------------------------------------------------------ gradgradcheck, Hypothesis
@pytest.mark.parametrize("op", ["add", "sub", "mul", "div", "pow"])
@GRADGRADCHECK
@given(pair=small_pairs, seed=seeds)
def test_binary_op_second_derivatives_match_finite_differences(device, op, pair, seed):
    rng = np.random.default_rng(seed)
    a_shape, b_shape = pair.input_shapes
    fn = {"add": lambda a, b: (a + b) * a, "sub": lambda a, b: (a - b) * b,
          "mul": lambda a, b: a * b, "div": lambda a, b: a / b, "pow": lambda a, b: a ** b}[op]
    a = leaf(uniform(rng, a_shape, 0.5, 2.0), device)  # a positive base for pow
    b = leaf(away_from_zero(rng, b_shape), device)
    assert gradgradcheck(fn, [a, b])


UNARY = {
    "exp": lambda x: x.exp(), "log": lambda x: (x * x + 0.5).log(), "neg": lambda x: -x * x,
    "x ** 3": lambda x: x ** 3, "2 ** x": lambda x: 2.0 ** x, "3 / x": lambda x: 3.0 / x,
    "sum": lambda x: (x * x).sum(axis=0), "mean": lambda x: (x * x).mean(),
    "max": lambda x: (x * x * x).max(axis=-1), "reshape": lambda x: (x * x).reshape(-1),
    "permute": lambda x: (x * x).permute(*reversed(range(x.ndim))),
    "getitem": lambda x: (x * x)[..., ::2] if x.ndim else x * x,
    "index_repeated": lambda x: (x * x)[[0, 0, -1]] if x.ndim else x * x,
    "cat": lambda x: minigan.cat([x * x, x], dim=0) if x.ndim else x * x, "relu": lambda x: F.relu(x) * x,
    "leaky_relu": lambda x: F.leaky_relu(x, 0.1) * x, "tanh": F.tanh, "sigmoid": F.sigmoid,
}


@pytest.mark.parametrize("name", list(UNARY))
@GRADGRADCHECK
@given(shape=small_shapes, seed=seeds)
def test_unary_op_second_derivatives_match_finite_differences(device, name, shape, seed):
    rng = np.random.default_rng(seed)
    values = away_from_zero(rng, shape)  # away from relu's kink and 3/x's pole
    if name == "max":  # distinct values: no tie changes under eps
        values = (rng.permutation(values.size) * 0.2 + 0.3).reshape(shape)
    assert gradgradcheck(UNARY[name], [leaf(values, device)])


@GRADGRADCHECK
@given(m=st.integers(1, 3), k=st.integers(1, 3), n=st.integers(1, 3), seed=seeds)
def test_matmul_and_linear_second_derivatives_match_finite_differences(device, m, k, n, seed):
    rng = np.random.default_rng(seed)
    a, b, w, bias = (leaf(uniform(rng, s), device) for s in ((m, k), (k, n), (n, k), (n,)))
    assert gradgradcheck(lambda a, b: (a @ b) ** 2, [a, b])
    assert gradgradcheck(lambda x, w, c: F.tanh(F.linear(x, w, c)), [a, w, bias])


@GRADGRADCHECK
@given(seed=seeds, target=st.floats(0.1, 0.9))
def test_losses_second_derivatives_match_finite_differences(device, seed, target):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(rng, (2, 3)), device)
    t = leaf(np.full((2, 3), target), device)
    assert gradgradcheck(F.binary_cross_entropy_with_logits, [x, t])
    assert gradgradcheck(lambda x, t: F.binary_cross_entropy(F.sigmoid(x), t), [x, t])
    assert gradgradcheck(lambda x: F.cross_entropy(x, np.array([2, 0])), [x])


@GRADGRADCHECK
@given(stride=st.integers(1, 2), padding=st.integers(0, 1), seed=seeds)
def test_convolution_second_derivatives_match_finite_differences(device, stride, padding, seed):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(rng, (2, 2, 4, 4)), device)
    w = leaf(uniform(rng, (2, 2, 3, 3)), device)
    assert gradgradcheck(lambda x, w: F.conv2d(x, w, stride=stride, padding=padding) ** 2, [x, w])
    assert gradgradcheck(
        lambda x, w: F.conv_transpose2d(x, w, stride=stride, padding=padding) ** 2, [x, w])


@pytest.mark.parametrize("training", [True, False])
@GRADGRADCHECK
@given(seed=seeds, image=st.booleans())
def test_batch_norm_second_derivatives_match_finite_differences(device, training, seed, image):
    rng = np.random.default_rng(seed)
    x = leaf(uniform(rng, (3, 2, 2, 2) if image else (4, 2)), device)
    w, b = leaf(uniform(rng, (2,)), device), leaf(uniform(rng, (2,)), device)
    mean, var = (minigan.tensor(a, dtype="float64", device=device)
                 for a in ([0.1, -0.3], [0.5, 2.0]))
    assert gradgradcheck(lambda x, w, b: F.batch_norm(x, mean, var, w, b, training=training) ** 2,
                         [x, w, b])


def test_gradgradcheck_catches_a_wrong_second_derivative(device):
    class CubeWithWrongDoubleBackward(minigan.autograd.Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x ** 3

        def backward(self, grad_out):
            x, = self.saved
            # the right first derivative, 3 x^2, built from a constant: no second one
            return (grad_out * minigan.Tensor(3 * x._data * x._data),)

    x = leaf([0.5, -1.0, 2.0], device)
    assert minigan.gradcheck(CubeWithWrongDoubleBackward.apply, [x])
    with pytest.raises(GradcheckError, match="gradgradcheck"):
        gradgradcheck(CubeWithWrongDoubleBackward.apply, [x])


# ------------------------------------------------------------------ GAN penalties vs PyTorch
def twin(torch, module):
    """A torch copy of a minigan Sequential of the same layers, holding the same weights."""
    from benchmarks.twins import sequential_twin

    t = sequential_twin(module).double()
    t.load_state_dict({k: torch.tensor(v) for k, v in module.state_dict().items()},
                      strict=False)
    return t


def critic():
    minigan.manual_seed(0)
    return nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.LeakyReLU(0.2), nn.Conv2d(4, 8, 4, 2, 1),
                         nn.LeakyReLU(0.2), nn.Flatten(), nn.Linear(8 * 2 * 2, 1)).double()


def test_wgan_gp_critic_loss_parameter_gradients_match_pytorch(torch):
    """L = D(fake) - D(real) + 10 (||grad_x D(x_hat)|| - 1)^2, x_hat between real and fake."""
    rng = np.random.default_rng(0)
    real, fake = rng.standard_normal((2, 5, 1, 8, 8))
    eps = rng.uniform(0, 1, (5, 1, 1, 1))
    d = critic()
    td = twin(torch, d)

    def loss(lib, net, grad_fn):
        t = minigan.tensor if lib is minigan else torch.tensor
        x_hat = t(eps * real + (1 - eps) * fake, requires_grad=True)
        grad, = grad_fn(net(x_hat).sum(), x_hat, create_graph=True)
        norm = ((grad * grad).reshape(5, -1).sum(axis=1) ** 0.5) if lib is minigan else \
            grad.reshape(5, -1).norm(dim=1)
        penalty = ((norm - 1) ** 2).mean()
        return net(t(fake)).mean() - net(t(real)).mean() + 10 * penalty

    loss(minigan, d, autograd.grad).backward()
    loss(torch, td, torch.autograd.grad).backward()
    t_params = dict(td.named_parameters())
    for name, p in d.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-10,
                                   atol=1e-12, err_msg=name)


def test_r1_penalty_through_batch_norm_in_training_matches_pytorch(torch):
    """L = BCE(D(real), 1) + gamma/2 E||grad_x D(real)||^2, D with BatchNorm in training."""
    rng = np.random.default_rng(1)
    real = rng.standard_normal((6, 1, 8, 8))
    minigan.manual_seed(1)
    d = nn.Sequential(nn.Conv2d(1, 4, 4, 2, 1), nn.BatchNorm2d(4), nn.LeakyReLU(0.2),
                      nn.Flatten(), nn.Linear(4 * 4 * 4, 1)).double()
    td = twin(torch, d)
    d.train(), td.train()

    x = minigan.tensor(real, requires_grad=True)
    out = d(x)
    grad, = autograd.grad(out.sum(), x, create_graph=True)
    r1 = (grad * grad).reshape(6, -1).sum(axis=1).mean()
    (F.binary_cross_entropy_with_logits(out, minigan.ones(6, 1, dtype="float64"))
     + 5.0 * r1).backward()

    tx = torch.tensor(real, requires_grad=True)
    t_out = td(tx)
    t_grad, = torch.autograd.grad(t_out.sum(), tx, create_graph=True)
    t_r1 = t_grad.pow(2).reshape(6, -1).sum(1).mean()
    (torch.nn.functional.binary_cross_entropy_with_logits(t_out, torch.ones(6, 1,
                                                                            dtype=torch.float64))
     + 5.0 * t_r1).backward()
    np.testing.assert_allclose(float(r1), float(t_r1.detach()), rtol=1e-10)
    t_params = dict(td.named_parameters())
    for name, p in d.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), t_params[name].grad.numpy(), rtol=1e-9,
                                   atol=1e-12, err_msg=name)


# ------------------------------------------------------------------ the API's rules
def test_grad_leaves_dot_grad_untouched_and_returns_a_tuple():
    x = leaf([1.0, 2.0])
    grads = autograd.grad((x * x).sum(), [x])
    assert isinstance(grads, tuple) and x.grad is None
    np.testing.assert_allclose(grads[0].numpy(), [2.0, 4.0])
    assert not grads[0].requires_grad  # without create_graph: plain values


def test_grad_of_a_non_leaf_input():
    x = leaf([1.0, 2.0])
    y = x * 3
    g, = autograd.grad((y * y).sum(), y)
    np.testing.assert_allclose(g.numpy(), [6.0, 12.0])


def test_grad_with_several_outputs_sums_their_weighted_gradients():
    x = leaf([1.0, 2.0])
    g, = autograd.grad([(x * x).sum(), (x * 3).sum()], [x])
    np.testing.assert_allclose(g.numpy(), [5.0, 7.0])


def test_unused_input_is_an_error_unless_allow_unused():
    x, y = leaf([1.0]), leaf([2.0])
    with pytest.raises(RuntimeError, match="input 1 .* was not used.*allow_unused"):
        autograd.grad((x * 2).sum(), [x, y])
    gx, gy = autograd.grad((x * 2).sum(), [x, y], allow_unused=True)
    assert gy is None and float(gx.sum()) == 2.0


def test_retain_graph_defaults_to_create_graph():
    x = leaf([1.0, 2.0])
    y = (x * x * x).sum()
    autograd.grad(y, x, create_graph=True)
    autograd.grad(y, x)  # the graph was kept: create_graph implies retain_graph
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        autograd.grad(y, x)


@pytest.mark.filterwarnings("ignore:Using backward.. with create_graph=True")  # torch's
def test_backward_with_create_graph_records_the_leaf_gradient_as_pytorch(torch):
    values = np.array([0.5, -1.5, 2.0])
    x, tx = leaf(values), torch.tensor(values, requires_grad=True)
    (x * x * x).sum().backward(create_graph=True)
    (tx * tx * tx).sum().backward(create_graph=True)
    assert x.grad.requires_grad
    x.grad.sum().backward()  # accumulates d/dx sum(3 x^2) = 6 x into x.grad
    tx.grad.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), 3 * values ** 2 + 6 * values)


def test_second_backward_without_retain_graph_raises_a_clear_error():
    x = leaf([1.0, 2.0])
    y = F.tanh(x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match="backward through the graph a second time.*"
                                           "retain_graph=True"):
        y.backward()


def test_differentiating_a_gradient_taken_without_create_graph_raises_a_clear_error(torch):
    x = leaf([1.0, 2.0])
    (x * x * x).sum().backward()
    with pytest.raises(RuntimeError, match="does not require grad.*create_graph=True"):
        x.grad.sum().backward()
    g, = autograd.grad((x * x * x).sum(), x)
    with pytest.raises(RuntimeError, match="does not require grad.*create_graph=True"):
        autograd.grad(g.sum(), x)
    tx = torch.tensor([1.0, 2.0], requires_grad=True)  # PyTorch refuses too
    tg, = torch.autograd.grad((tx ** 3).sum(), tx)
    with pytest.raises(RuntimeError):
        torch.autograd.grad(tg.sum(), tx)


def test_grad_with_respect_to_a_tensor_that_does_not_require_grad_raises():
    x = minigan.tensor([1.0, 2.0])
    y = leaf([1.0, 1.0])
    with pytest.raises(RuntimeError, match="input 0 .* does not require grad"):
        autograd.grad((x * y).sum(), [x])


def test_hessian_vector_product_of_a_quadratic_is_the_matrix_times_the_vector():
    rng = np.random.default_rng(0)
    a = rng.standard_normal((4, 4))
    a = a + a.T
    v = rng.standard_normal(4)
    x = leaf(rng.standard_normal(4))
    g, = autograd.grad(0.5 * (x @ (minigan.tensor(a) @ x)), x, create_graph=True)
    hv, = autograd.grad((g * minigan.tensor(v)).sum(), x)
    np.testing.assert_allclose(hv.numpy(), a @ v, rtol=1e-12)


def test_without_create_graph_the_backward_records_nothing():
    x = leaf([1.0, 2.0])
    y = F.sigmoid(x) * x
    g, = autograd.grad(y.sum(), x)
    assert not g.requires_grad and g._ctx is None


def test_the_docstring_example_of_autograd_gives_the_second_derivative_of_tanh():
    x = leaf([-1.0, 0.0, 0.5])
    y = F.tanh(x)
    g, = autograd.grad(y.sum(), x, create_graph=True)
    h, = autograd.grad(g.sum(), x)
    t = np.tanh([-1.0, 0.0, 0.5])
    np.testing.assert_allclose(h.numpy(), -2 * t * (1 - t * t), rtol=1e-12, atol=1e-15)


def test_the_example_script_agrees_with_finite_differences():
    import importlib.util
    import pathlib

    path = pathlib.Path(__file__).parent.parent / "examples" / "double_backward.py"
    spec = importlib.util.spec_from_file_location("double_backward_example", path)
    example = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(example)
    assert example.hessian_vector_product() < 1e-7
    assert example.wgan_gp() < 1e-6
