"""Autograd's guards and gradient conventions, each as PyTorch's.

- the version counter: backward refuses a tensor modified in place since forward saved it
  (an optimizer's step, an assignment to .data), with PyTorch's message;
- pow at 0: d/dx x**0 = 0 and d/db 0**b = 0 (b >= 0), where the formulas give 0 * inf;
- repeated indices in advanced indexing add up their gradients;
- d(a/b)/db = -(a/b)/b, which does not underflow for tiny b as a/b^2 does;
- relu passes the gradient at NaN (it is not <= 0).
"""
import re

import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import nn, optim

INPLACE = "modified by an inplace operation"


def leaf(values, device="cpu"):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype="float64", device=device,
                          requires_grad=True)


# ------------------------------------------------------------------ the version counter
@pytest.mark.parametrize("optimizer", ["Adam", "SGD"])
def test_backward_of_a_loss_from_before_an_optimizer_step_raises_as_pytorch(torch, device,
                                                                            optimizer):
    """The classic GAN bug: loss_g computed through D, D stepped, then loss_g.backward()."""
    def run(lib, make):
        layer = lib.nn.Linear(3, 1).double()
        if lib is minigan:
            layer = layer.to(device)
        opt = getattr(lib.optim, optimizer)(layer.parameters(), lr=0.1)
        x = make(np.ones((2, 3)))  # G's output: it requires grad, so D's weights are saved
        loss_d, loss_g = layer(x).sum(), (layer(x) ** 2).sum()
        loss_d.backward()
        opt.step()
        loss_g.backward()

    with pytest.raises(RuntimeError, match=INPLACE) as ours:
        run(minigan, lambda a: minigan.tensor(a, device=device, requires_grad=True))
    with pytest.raises(RuntimeError, match=INPLACE):
        run(torch, lambda a: torch.tensor(a, requires_grad=True))
    versions = re.search(r"is at version (\d+); expected version (\d+) instead", str(ours.value))
    assert int(versions[1]) == int(versions[2]) + 1  # one step since the forward pass


def test_the_ordinary_step_order_does_not_trip_the_guard(device):
    layer = nn.Linear(3, 1).to(device)
    opt = optim.Adam(layer.parameters(), lr=0.1)
    x = minigan.ones(2, 3, device=device, requires_grad=True)
    before = [p._version for p in layer.parameters()]
    for _ in range(3):
        opt.zero_grad()
        layer(x).sum().backward()
        opt.step()
    assert [p._version for p in layer.parameters()] == [v + 3 for v in before]


def test_assigning_data_after_forward_is_caught():
    w = leaf([1.0, 2.0])
    y = (w * w).sum()
    w.data = w.data * 2
    with pytest.raises(RuntimeError, match=INPLACE):
        y.backward()


def test_an_in_place_update_through_data_bumps_the_version():
    w = leaf([1.0, 2.0])
    y = (w * 3).sum()  # Mul saves 3 (for w's gradient), not w: nothing to check
    w.data -= 0.5  # Python turns this into an assignment to .data
    assert w._version == 1
    y.backward()
    np.testing.assert_allclose(w.grad.numpy(), [3.0, 3.0])


def test_the_guard_holds_for_the_second_derivative_too():
    x = leaf([1.0, 2.0])
    g, = minigan.autograd.grad((x * x * x).sum(), x, create_graph=True)
    x.data = x.data + 1
    with pytest.raises(RuntimeError, match=INPLACE):
        minigan.autograd.grad(g.sum(), x)


# ------------------------------------------------------------------ pow at 0
def test_pow_gradients_at_zero_match_pytorch(torch):
    base = np.array([0.0, 0.0, 0.0, 1.5, 0.0, 2.0])
    exponent = np.array([0.0, 2.0, 0.5, 0.0, 1.0, -1.0])
    a, b = leaf(base), leaf(exponent)
    ta, tb = (torch.tensor(v, requires_grad=True) for v in (base, exponent))
    (a ** b).sum().backward()
    (ta ** tb).sum().backward()
    np.testing.assert_array_equal(a.grad.numpy(), ta.grad.numpy())
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())


def test_gradient_of_x_to_the_zero_at_zero_is_zero_as_pytorch(torch):
    x, tx = leaf([0.0, 3.0]), torch.tensor([0.0, 3.0], dtype=torch.float64, requires_grad=True)
    (x ** 0).sum().backward()
    (tx ** 0).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [0.0, 0.0])
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_gradient_of_zero_to_the_b_with_respect_to_b_is_zero_as_pytorch(torch):
    b, tb = leaf([0.0, 0.5, 2.0]), torch.tensor([0.0, 0.5, 2.0], dtype=torch.float64,
                                                 requires_grad=True)
    (0.0 ** b).sum().backward()
    (0.0 ** tb).sum().backward()
    np.testing.assert_array_equal(b.grad.numpy(), tb.grad.numpy())
    assert not np.isnan(b.grad.numpy()).any()


# ------------------------------------------------------------------ repeated indices
@pytest.mark.parametrize("index", [((0, 0, 1),), [0, 0, 1], (np.array([0, 0, 1]),)],
                         ids=["tuple in a tuple", "list", "array"])
def test_repeated_indices_accumulate_their_gradients(torch, device, index):
    x = leaf([1.0, 2.0, 3.0, 4.0], device)
    x[index].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 1.0, 0.0, 0.0])
    tx = torch.tensor([1.0, 2.0, 3.0, 4.0], requires_grad=True)
    tx[[0, 0, 1]].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())


def test_repeated_indices_in_a_tensor_index_accumulate(device):
    x = leaf(np.arange(6.0).reshape(3, 2), device)
    x[minigan.tensor([2, 2, 2], device=device)].sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0, 0], [0, 0], [3, 3]])


# ------------------------------------------------------------------ division and relu
def test_division_gradient_for_a_tiny_divisor_does_not_underflow_as_pytorch(torch):
    a, b = 1e-300, 1e-160  # b * b underflows; (a / b) / b = 1e20 does not
    x, y = leaf([a]), leaf([b])
    (x / y).sum().backward()
    tx, ty = (torch.tensor([v], dtype=torch.float64, requires_grad=True) for v in (a, b))
    (tx / ty).sum().backward()
    assert np.isfinite(y.grad.numpy()).all()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-15)


def test_division_gradient_float32_tiny_divisor_matches_pytorch(torch):
    x = minigan.tensor([1e-30], requires_grad=True)
    y = minigan.tensor([1e-20], requires_grad=True)
    (x / y).sum().backward()
    tx = torch.tensor([1e-30], requires_grad=True)
    ty = torch.tensor([1e-20], requires_grad=True)
    (tx / ty).sum().backward()
    np.testing.assert_allclose(y.grad.numpy(), ty.grad.numpy(), rtol=1e-6)


@pytest.mark.parametrize("name", ["relu", "leaky_relu"])
def test_activation_gradient_at_nan_matches_pytorch(torch, device, name):
    values = np.array([np.nan, 1.0, -1.0, 0.0])
    x = leaf(values, device)
    tx = torch.tensor(values, requires_grad=True)
    getattr(F, name)(x).sum().backward()
    getattr(torch.nn.functional, name)(tx).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), tx.grad.numpy())
