"""The graph walk's semantics, as PyTorch's: accumulation, zero_grad, no_grad, detach,
shared inputs, retain_graph, non-scalar outputs and very deep graphs."""
import numpy as np
import pytest

import minigan
from minigan.autograd import Function
from minigan.gradcheck import GradcheckError


def leaf(values, device, dtype="float64"):
    return minigan.tensor(np.asarray(values, dtype=np.float64), dtype=dtype, device=device,
                          requires_grad=True)


def test_gradients_accumulate_across_backward_calls(device):
    x = leaf([1.0, 2.0, 3.0], device)
    (x * x).sum().backward()
    (3 * x).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * np.array([1.0, 2.0, 3.0]) + 3)


def test_module_and_optimizer_zero_grad_reset_gradients_to_none(device):
    model = minigan.nn.Linear(3, 2).to(device)
    optimizer = minigan.optim.SGD(model.parameters(), lr=0.1)
    x = minigan.randn(4, 3, device=device)
    model(x).sum().backward()
    assert all(p.grad is not None for p in model.parameters())
    model.zero_grad()
    assert all(p.grad is None for p in model.parameters())
    model(x).sum().backward()
    optimizer.zero_grad()
    assert all(p.grad is None for p in model.parameters())


def test_backward_after_zero_grad_starts_from_zero(device):
    model = minigan.nn.Linear(3, 2).to(device)
    x = minigan.randn(4, 3, device=device)
    model(x).sum().backward()
    first = model.weight.grad.numpy().copy()
    model.zero_grad()
    model(x).sum().backward()
    np.testing.assert_array_equal(model.weight.grad.numpy(), first)


def test_no_grad_records_nothing(device):
    x = leaf([1.0, -2.0], device)
    with minigan.no_grad():
        assert not minigan.is_grad_enabled()
        y = (x * 2).exp().sum()
        z = minigan.nn.Linear(2, 2).double().to(device)(x.reshape(1, 2))
    assert minigan.is_grad_enabled()
    assert not y.requires_grad and y._ctx is None
    assert not z.requires_grad and z._ctx is None
    with pytest.raises(RuntimeError, match="does not require grad"):
        y.backward()


def test_no_grad_restores_recording_after_an_exception(device):
    x = leaf([1.0], device)
    with pytest.raises(ZeroDivisionError):
        with minigan.no_grad():
            1 / 0
    assert minigan.is_grad_enabled()
    assert (x * 2).requires_grad


def test_detach_cuts_the_graph_and_shares_data(device):
    x = leaf([1.0, 2.0], device)
    y = x * 3
    d = y.detach()
    assert not d.requires_grad and d._ctx is None
    np.testing.assert_array_equal(d.numpy(), y.numpy())
    (d * x).sum().backward()  # d is a constant here: d/dx (d * x) = d
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])


def test_tensor_used_twice_gets_the_sum_of_both_gradients(device):
    x = leaf([0.5, -1.5, 2.0], device)
    (x * x + x.exp() * x).sum().backward()  # d/dx = 2x + e^x + x e^x
    xs = np.array([0.5, -1.5, 2.0])
    np.testing.assert_allclose(x.grad.numpy(), 2 * xs + np.exp(xs) * (1 + xs), rtol=1e-12)


def test_diamond_graph_sums_gradients_from_both_paths(device):
    x = leaf([2.0], device)
    h = x * 3
    (h * h + h).sum().backward()  # L = 9x^2 + 3x, dL/dx = 18x + 3
    np.testing.assert_allclose(x.grad.numpy(), [39.0])


def test_second_backward_without_retain_graph_raises_a_clear_error(device):
    x = leaf([1.0, 2.0], device)
    loss = (x * x).sum()
    loss.backward()
    with pytest.raises(RuntimeError, match="second time.*retain_graph=True"):
        loss.backward()


def test_second_backward_with_retain_graph_accumulates(device):
    x = leaf([1.0, 2.0], device)
    loss = (x * x).sum()
    loss.backward(retain_graph=True)
    loss.backward()
    np.testing.assert_allclose(x.grad.numpy(), [4.0, 8.0])


def test_backward_on_a_non_scalar_without_grad_raises_a_clear_error(device):
    y = leaf([1.0, 2.0], device) * 2
    with pytest.raises(RuntimeError, match=r"scalar.*shape \(2,\).*grad="):
        y.backward()


def test_backward_on_a_non_scalar_with_grad_weights_the_gradient(device):
    x = leaf([1.0, 2.0, 3.0], device)
    (x * x).backward(minigan.tensor([1.0, 0.0, -2.0], dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), [2.0, 0.0, -12.0])


def test_backward_with_grad_of_the_wrong_shape_raises_value_error(device):
    y = leaf([1.0, 2.0], device) * 2
    with pytest.raises(ValueError, match=r"\(3,\).*expected \(2,\)"):
        y.backward(minigan.ones(3, dtype="float64", device=device))


def test_one_element_non_scalar_output_backward_needs_no_grad(device):
    x = leaf([[3.0]], device)
    (x * x).backward()
    np.testing.assert_allclose(x.grad.numpy(), [[6.0]])


def test_deep_chain_of_5000_ops_backward_without_recursion_error(device):
    x = leaf(1.0, device)
    y = x
    for _ in range(5000):
        y = y * 1.0001
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 1.0001 ** 5000, rtol=1e-9)


def test_deep_chain_of_20000_additions_backward(device):
    x = leaf([0.0, 1.0], device)
    y = x
    for _ in range(20000):
        y = y + 1.0
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [1.0, 1.0])


@pytest.mark.parametrize("shape", [(), (1,), (3,), (2, 1, 3)])
def test_leaf_gradient_has_the_leaf_shape_and_dtype(device, shape):
    for dtype in ("float32", "float64"):
        x = minigan.ones(*shape, dtype=dtype, device=device, requires_grad=True)
        (x * 2.0).sum().backward()
        assert x.grad.shape == shape and x.grad.dtype == np.dtype(dtype)
        (x * x).sum().backward()  # accumulation keeps them too
        assert x.grad.shape == shape and x.grad.dtype == np.dtype(dtype)
        assert isinstance(x.grad._data, type(x._data))


def test_scalar_leaf_gradient_is_a_0d_array_that_optimizers_can_use(device):
    w = minigan.nn.Parameter(minigan.tensor(2.0, dtype="float64", device=device))
    optimizer = minigan.optim.Adam([w], lr=0.1)
    for _ in range(2):
        optimizer.zero_grad()
        (w * w).backward()
        assert w.grad.shape == ()
        optimizer.step()
    assert w.shape == ()
    assert w.item() < 2.0


def test_leaf_gradients_never_share_memory_with_each_other_or_the_grad_passed_in(device):
    """a + b hands both inputs the very same upstream array: each leaf must get its own,
    so that editing one gradient in place (clipping, scaling) leaves the others alone."""
    a, b = leaf([1.0, 2.0], device), leaf([3.0, 4.0], device)
    upstream = minigan.tensor([1.0, 1.0], dtype="float64", device=device)
    (a + b).backward(upstream)
    a.grad._data *= 10
    np.testing.assert_array_equal(b.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(upstream.numpy(), [1.0, 1.0])


def test_gradient_flows_only_to_tensors_that_require_it(device):
    x = leaf([1.0, 2.0], device)
    c = minigan.tensor([5.0, 7.0], dtype="float64", device=device)
    assert not c.requires_grad
    (x * c).sum().backward()
    assert c.grad is None
    np.testing.assert_allclose(x.grad.numpy(), [5.0, 7.0])


def test_operations_on_tensors_that_do_not_require_grad_record_no_graph(device):
    c = minigan.tensor([1.0, 2.0], device=device)
    y = (c * 2).sum()
    assert not y.requires_grad and y._ctx is None


def test_float32_leaf_in_a_float64_expression_gets_a_float32_gradient(device):
    x = leaf([1.0, 2.0], device, dtype="float32")
    w = leaf([3.0, 4.0], device)
    (x * w).sum().backward()
    assert x.grad.dtype == np.float32 and w.grad.dtype == np.float64
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 4.0])


def test_comparisons_give_bool_tensors_without_grad(device):
    x = leaf([1.0, 2.0, 3.0], device)
    for result in (x > 2, x >= 2, x < 2, x <= 2, x == 2, x != 2):
        assert result.dtype == np.bool_ and not result.requires_grad
    np.testing.assert_array_equal((x > 1.5).numpy(), [False, True, True])


def test_requires_grad_is_false_by_default_and_set_by_the_flag(device):
    assert not minigan.zeros(2, device=device).requires_grad
    assert minigan.zeros(2, device=device, requires_grad=True).requires_grad
    assert minigan.randn(2, device=device, requires_grad=True).is_leaf


def test_custom_function_backward_is_called_with_the_upstream_gradient(device):
    """A reader's own op: forward and backward on raw arrays, wired in by Function.apply."""

    class Cube(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x ** 3

        def backward(self, grad_out):
            x, = self.saved
            return (3 * x * x * grad_out,)

    x = leaf([1.0, -2.0], device)
    Cube.apply(x).backward(minigan.tensor([1.0, 0.5], dtype="float64", device=device))
    np.testing.assert_allclose(x.grad.numpy(), [3.0, 6.0])
    assert minigan.gradcheck(Cube.apply, [x])


def test_gradcheck_catches_a_wrong_backward(device):
    class WrongSquare(Function):
        def forward(self, x):
            self.save_for_backward(x)
            return x * x

        def backward(self, grad_out):
            x, = self.saved
            return (x * grad_out,)  # should be 2 x grad_out

    x = leaf([1.0, -2.0, 0.5], device)
    with pytest.raises(GradcheckError, match="input 0"):
        minigan.gradcheck(WrongSquare.apply, [x])


def test_gradcheck_asks_for_float64_inputs(device):
    x = leaf([1.0, 2.0], device, dtype="float32")
    with pytest.raises(TypeError, match="float64"):
        minigan.gradcheck(lambda t: t * t, [x])
