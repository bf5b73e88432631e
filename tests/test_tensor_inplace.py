"""In-place methods (fill_, zero_, clamp_, mul_, add_, sub_, div_, copy_, normal_, uniform_,
index assignment) and .data, against PyTorch: values, dtypes, version bumps, the refusals
(a leaf that requires grad, a result that does not fit), and gradients when an in-place
change is recorded in a graph."""
import numpy as np
import pytest

import minigan
from minigan import nn

LEAF = "a leaf Variable that requires grad is being used in an in-place operation."


def augmented(op):
    """`t OP= 1.5` as a call (the same statement runs on both engines' tensors)."""
    def assign(t):
        if op == "+":
            t += 1.5
        elif op == "-":
            t -= 1.5
        elif op == "*":
            t *= 1.5
        else:
            t /= 1.5
        return t
    return assign, assign


# name -> (call on a minigan tensor, call on a torch tensor); all keep the shape
CASES = {
    **{f"{op}=": augmented(op) for op in "+-*/"},
    "fill_": (lambda t: t.fill_(2.5), lambda t: t.fill_(2.5)),
    "zero_": (lambda t: t.zero_(), lambda t: t.zero_()),
    "clamp_": (lambda t: t.clamp_(-0.5, 0.7), lambda t: t.clamp_(-0.5, 0.7)),
    "clamp_min": (lambda t: t.clamp_(min=0.1), lambda t: t.clamp_(min=0.1)),
    "mul_": (lambda t: t.mul_(3.0), lambda t: t.mul_(3.0)),
    "add_": (lambda t: t.add_(1.5), lambda t: t.add_(1.5)),
    "add_alpha": (lambda t: t.add_(minigan.ones(2, 3, dtype=t.dtype, device=t.device), alpha=-2),
                  lambda t: t.add_(t.new_ones(2, 3), alpha=-2)),
    "sub_": (lambda t: t.sub_(0.25), lambda t: t.sub_(0.25)),
    "div_": (lambda t: t.div_(4.0), lambda t: t.div_(4.0)),
    "copy_": (lambda t: t.copy_(minigan.tensor([1.0, 2.0, 3.0], device=t.device)),
              lambda t: t.copy_(t.new_tensor([1.0, 2.0, 3.0]))),  # broadcast, cast
    "mul_row": (lambda t: t.mul_(minigan.tensor([1.0, -1.0, 2.0], dtype=t.dtype,
                                                device=t.device)),
                lambda t: t.mul_(t.new_tensor([1.0, -1.0, 2.0]))),
}
VALUES = np.array([[0.3, -1.2, 0.9], [2.0, -0.1, 0.6]])


@pytest.mark.parametrize("name", sorted(CASES))
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_in_place_methods_match_pytorch_and_bump_the_version(torch, device, name, dtype):
    ours, theirs = CASES[name]
    t = minigan.tensor(VALUES, dtype=dtype, device=device)
    ref = torch.tensor(VALUES, dtype=getattr(torch, dtype))
    storage = t._data
    result = ours(t)
    theirs(ref)
    assert result is t and t._data is storage  # the same storage, written
    assert t.dtype == np.dtype(dtype) and t._version == ref._version == 1
    np.testing.assert_array_equal(t.numpy(), ref.numpy())


def test_in_place_methods_are_refused_on_a_leaf_that_requires_grad(torch, device):
    for name, (ours, theirs) in CASES.items():
        t = minigan.tensor(VALUES, device=device, requires_grad=True)
        with pytest.raises(RuntimeError, match=LEAF):
            ours(t)
        with pytest.raises(RuntimeError, match=LEAF):
            theirs(torch.tensor(VALUES, requires_grad=True))
        assert t._version == 0, name
        np.testing.assert_array_equal(t.numpy(), VALUES)
        with minigan.no_grad():  # how optimizers and clipping write: allowed
            ours(t)
        assert t._version == 1 and t.requires_grad, name


def test_a_result_that_does_not_fit_the_dtype_or_shape_is_refused(torch):
    for lib in (minigan, torch):
        longs = lib.ones(2, dtype=lib.int64)
        with pytest.raises(RuntimeError, match="result type Float can't be cast to the desired "
                                               "output type Long"):
            longs.mul_(1.5)
        with pytest.raises(RuntimeError, match="result type Float can't be cast"):
            longs.div_(2)
        with pytest.raises(RuntimeError, match=r"output with shape \[3\] doesn't match the "
                                               r"broadcast shape \[2, 3\]"):
            lib.ones(3).add_(lib.ones(2, 3))
        with pytest.raises(RuntimeError, match="single memory location"):
            lib.ones(3).expand(2, 3).add_(1.0)
    longs = minigan.ones(2, dtype="int64")
    assert longs.fill_(2.7).tolist() == [2, 2]  # fill_ and copy_ convert, as PyTorch's
    assert longs.mul_(3).tolist() == [6, 6] and longs.dtype == np.int64


def test_normal_and_uniform_follow_minigans_seed(device):
    minigan.manual_seed(5)
    a = minigan.zeros(2000, dtype="float64", device=device).normal_(1.0, 0.5)
    b = minigan.zeros(2000, dtype="float64", device=device).uniform_(-2.0, 3.0)
    minigan.manual_seed(5)
    assert np.array_equal(minigan.zeros(2000, dtype="float64", device=device)
                          .normal_(1.0, 0.5).numpy(), a.numpy())
    assert abs(a.numpy().mean() - 1.0) < 0.05 and abs(a.numpy().std() - 0.5) < 0.05
    assert b.numpy().min() >= -2.0 and b.numpy().max() < 3.0
    assert abs(b.numpy().mean() - 0.5) < 0.15
    c = minigan.zeros(3).uniform_(**{"from": 1.0, "to": 2.0})  # PyTorch's names
    assert c.numpy().min() >= 1.0
    with pytest.raises(TypeError, match="floating-point"):
        minigan.zeros(3, dtype="int64").normal_()
    with pytest.raises(RuntimeError, match="std >= 0"):
        minigan.zeros(3).normal_(0.0, -1.0)


def test_init_through_data_writes_the_parameter(torch):
    """The weights_init of every DCGAN script: nn.init.normal_(m.weight.data, 0.0, 0.02) and
    m.weight.data.normal_(...), m.bias.data.fill_(0)."""
    layer = nn.Conv2d(3, 4, 3)
    version = layer.weight._version
    nn.init.normal_(layer.weight.data, 0.0, 0.02)
    layer.bias.data.fill_(0)
    assert abs(float(layer.weight.numpy().std()) - 0.02) < 0.01
    assert not layer.bias.numpy().any()
    layer.weight.data.normal_(1.0, 0.02)
    assert abs(float(layer.weight.numpy().mean()) - 1.0) < 0.01
    assert layer.weight.requires_grad and layer.weight._version == version  # .data: untracked


@pytest.mark.parametrize("op", ["mul_", "add_", "clamp_", "relu_", "copy_"])
def test_an_in_place_change_inside_a_graph_is_differentiated_as_in_pytorch(torch, device, op):
    """On a tensor computed from leaves, the change is recorded: gradients equal PyTorch's,
    also with respect to the operand."""
    rng = np.random.default_rng(0)
    x0, c0 = rng.normal(size=(3, 4)), rng.normal(size=(3, 4))
    grads = []
    for lib in (minigan, torch):
        on = {"device": device} if lib is minigan else {}  # leaves made there: .to() of a
        x = lib.tensor(x0, requires_grad=True, dtype=lib.float64, **on)  # leaf is no leaf
        c = lib.tensor(c0, requires_grad=True, dtype=lib.float64, **on)
        h = x * 2
        if op == "mul_":
            h.mul_(c)
        elif op == "add_":
            h.add_(c, alpha=0.5)
        elif op == "clamp_":
            h.clamp_(-0.5, 0.8)
        elif op == "relu_":
            (nn.ReLU(inplace=True) if lib is minigan else lib.nn.ReLU(inplace=True))(h)
        else:
            h.copy_(c * 3)
        (h * h).sum().backward()
        grads.append((h.detach().cpu().numpy(), x.grad.cpu().numpy(),
                      None if c.grad is None else c.grad.cpu().numpy()))
    for ours, theirs in zip(*grads):
        if theirs is None:
            assert ours is None
        else:
            np.testing.assert_allclose(ours, theirs, rtol=1e-12, atol=1e-14)


def test_an_in_place_change_through_a_view_in_a_graph_is_refused(device):
    x = minigan.ones(4, dtype="float64", device=device, requires_grad=True)
    h = x * 2
    with pytest.raises(RuntimeError, match="through a view"):
        h[1:3].mul_(2.0)


def test_index_assignment(torch, device):
    t, ref = minigan.zeros(2, 3, device=device), torch.zeros(2, 3)
    for lib_t in (t, ref):
        lib_t[0, 1:] = 5.0
        lib_t[1] = 2.0
    np.testing.assert_array_equal(t.numpy(), ref.numpy())
    assert t._version == 2
    longs = minigan.zeros(3, dtype="int64", device=device)
    t_longs = torch.zeros(3, dtype=torch.long)
    for lib, lib_t in ((minigan, longs), (torch, t_longs)):
        lib_t[0] = 1.5  # converted, as copy_ converts
        lib_t[1:] = lib.tensor([4.0, 5.0])
    assert longs.tolist() == t_longs.tolist() == [1, 4, 5]
    with pytest.raises(RuntimeError, match=LEAF):
        minigan.zeros(3, requires_grad=True)[0] = 1.0
    with pytest.raises(RuntimeError, match="not recorded"):
        (minigan.zeros(3, requires_grad=True) * 1)[0] = 1.0


def test_data_is_a_tensor_on_the_same_storage_outside_the_graph(device):
    w = nn.Parameter(minigan.ones(3, device=device))
    d = w.data
    assert isinstance(d, minigan.Tensor) and not d.requires_grad and d.is_leaf
    d.mul_(2.0)  # no refusal: .data is not a leaf that requires grad
    np.testing.assert_array_equal(w.numpy(), [2.0, 2.0, 2.0])
    w.data = minigan.zeros(5, device=device)  # replaces the storage (and the shape)
    assert w.shape == (5,) and w._version == 1
    with pytest.raises(TypeError, match="assign a Tensor"):
        w.data = np.zeros(3)
