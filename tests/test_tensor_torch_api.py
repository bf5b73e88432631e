"""torch.Tensor's method surface (size, squeeze, view, norm, std, max(dim), type, ...), the
functions beside it (minigan.sum, full, stack, ...), minigan.device and the legacy names
(FloatTensor, Variable, cuda.FloatTensor, backends.cudnn), each against PyTorch: values,
gradients (float64), dtypes and errors."""
import warnings

import numpy as np
import pytest

import minigan
from minigan.autograd import Variable

X = np.random.default_rng(3).normal(size=(2, 3, 4))


def pair(torch, device, values=X):
    """The same float64 leaf in both engines."""
    return (minigan.tensor(values, dtype="float64", device=device, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


# name -> f(t) written once: the same call works on both engines
METHODS = {
    "sum_dim": lambda t: t.sum(1),
    "sum_dims_keepdim": lambda t: t.sum(dim=(0, 2), keepdim=True),
    "mean_keepdim": lambda t: t.mean(-1, keepdim=True),
    "std": lambda t: t.std(),
    "std_dim": lambda t: t.std(1),
    "std_biased": lambda t: t.std(dim=2, unbiased=False, keepdim=True),
    "std_correction": lambda t: t.std(dim=0, correction=0),
    "var": lambda t: t.var(1),
    "norm": lambda t: t.norm(),
    "norm_2_dim": lambda t: t.norm(2, dim=1),
    "norm_1": lambda t: t.norm(1, dim=2, keepdim=True),
    "norm_3": lambda t: t.norm(3, dim=-1),
    "norm_inf": lambda t: t.norm(float("inf"), dim=1),
    "pow": lambda t: t.pow(3),
    "sqrt": lambda t: (t * t + 1).sqrt(),
    "abs": lambda t: t.abs(),
    "clamp": lambda t: t.clamp(-0.5, 0.5),
    "clamp_min": lambda t: t.clamp(min=0.0),
    "squeeze": lambda t: t[:, :1].squeeze(),
    "squeeze_dim": lambda t: t[:, :1].squeeze(1),
    "squeeze_no_op": lambda t: t.squeeze(0),
    "unsqueeze": lambda t: t.unsqueeze(1),
    "unsqueeze_last": lambda t: t.unsqueeze(-1),
    "view": lambda t: t.view(6, 4),
    "view_infer": lambda t: t.view(-1, 2),
    "expand": lambda t: t[:, :1].expand(2, 5, 4),
    "expand_lead": lambda t: t.expand(3, -1, -1, -1),
    "repeat": lambda t: t.repeat(2, 1, 3),
    "repeat_more": lambda t: t.repeat(2, 1, 1, 2),
    "contiguous": lambda t: t.transpose(0, 2).contiguous(),
    "clone": lambda t: t.clone() * 2,
    "max_values": lambda t: t.max(1)[0],
    "max_keepdim": lambda t: t.max(dim=2, keepdim=True).values,
    "min": lambda t: t.min(),
    "min_dim": lambda t: t.min(1).values,
    "t": lambda t: t[0].t(),
    "tanh": lambda t: t.tanh(),
    "sigmoid": lambda t: t.sigmoid(),
    "relu": lambda t: t.relu(),
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods_match_pytorch_values_and_gradients(torch, device, name):
    ours, theirs = pair(torch, device)
    out, ref = METHODS[name](ours), METHODS[name](theirs)
    assert out.shape == tuple(ref.shape) and out.dtype == np.float64
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    g = np.random.default_rng(1).normal(size=ref.shape)
    (out * minigan.tensor(g, device=device)).sum().backward()
    (ref * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_the_2_norm_of_zero_has_gradient_zero_as_in_pytorch(torch, device):
    ours, theirs = pair(torch, device, np.zeros((2, 3)))
    ours.norm(2, dim=1).sum().backward()
    theirs.norm(2, dim=1).sum().backward()
    np.testing.assert_array_equal(ours.grad.numpy(), theirs.grad.numpy())


def test_max_with_dim_returns_values_and_indices(torch, device):
    t = minigan.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]], device=device)
    values, indices = t.max(1)
    ref = torch.tensor([[1.0, 5.0, 2.0], [7.0, 0.0, 7.0]]).max(1)
    assert values.tolist() == ref.values.tolist() and indices.tolist() == ref.indices.tolist()
    assert indices.dtype == np.int64
    assert t.max().item() == 7.0 and t.max(axis=0).tolist() == [7.0, 5.0, 7.0]  # NumPy form
    assert minigan.max(t, 0, keepdim=True).indices.shape == (1, 3)


def test_comparisons_and_new_tensors_as_pytorch(torch, device):
    t = minigan.tensor([[1.0, 2.0], [3.0, 2.0]], dtype="float64", device=device)
    ref = torch.tensor([[1.0, 2.0], [3.0, 2.0]], dtype=torch.float64)
    for name in ("eq", "ne", "lt", "le", "gt", "ge"):
        assert getattr(t, name)(2.0).tolist() == getattr(ref, name)(2.0).tolist(), name
    assert t.min(0).indices.tolist() == ref.min(0).indices.tolist()
    for ours, theirs in ((t.new_zeros(2, 3), ref.new_zeros(2, 3)),
                         (t.new_ones((3,)), ref.new_ones((3,))),
                         (t.new_full((2,), 7), ref.new_full((2,), 7)),
                         (t.new_tensor([1, 2]), ref.new_tensor([1, 2]))):
        assert ours.tolist() == theirs.tolist() and ours.dtype == np.float64
        assert ours.device == device
    assert minigan.tensor([3, 0], dtype="uint8").min().item() == 0


def test_size_dim_numel_and_their_errors(torch):
    t, ref = minigan.zeros(2, 3), torch.zeros(2, 3)
    assert t.size() == tuple(ref.size()) and t.size(1) == ref.size(1) == 3
    assert t.size(-1) == 3 and t.dim() == 2 and t.numel() == 6
    assert isinstance(t.size(), minigan.Size)
    for lib_t in (t, ref):
        with pytest.raises(IndexError):
            lib_t.size(2)
    with pytest.raises(IndexError):
        minigan.tensor(1.0).size(0)


def test_reductions_accept_both_naming_styles(device):
    t = minigan.tensor(X, device=device)
    for a, b in [(t.sum(dim=1, keepdim=True), t.sum(axis=1, keepdims=True)),
                 (t.mean(1), t.mean(axis=1)), (t.sum(dim=()), t.sum())]:
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    with pytest.raises(TypeError, match="not both"):
        t.sum(dim=0, axis=1)


def test_devices_dtypes_and_type(torch, device):
    t = minigan.ones(2, 3, device=device)
    assert t.is_cuda == (device == "cuda") and t.cpu().device == "cpu"
    assert t.to(minigan.device(device)).device == device
    assert t.to(minigan.float64).dtype == np.float64 and t.to(t.double()).dtype == np.float64
    assert t.long().dtype == np.int64 and t.double().float().dtype == np.float32
    assert t.type() == ("minigan.cuda.FloatTensor" if device == "cuda" else "minigan.FloatTensor")
    assert t.type(minigan.LongTensor).dtype == np.int64
    assert t.type("torch.DoubleTensor").dtype == np.float64
    assert t.type(minigan.float64).dtype == np.float64
    assert torch.ones(2).type(torch.DoubleTensor).dtype == torch.float64  # the same calls
    with pytest.raises(ValueError, match="invalid type"):
        t.type("torch.NoSuchTensor")
    assert minigan.device("cuda:0") == "cuda:0" and str(minigan.device("cuda", 1)) == "cuda:1"
    assert t.device == minigan.device(device)
    with pytest.raises(ValueError):
        minigan.device("tpu")


def test_views_clone_and_contiguous_share_or_copy_as_pytorch(device):
    t = minigan.arange(6.0, device=device)
    assert t.view(2, 3)._base is t and t.unsqueeze(0)._base is t
    c = t.clone()
    c.add_(1.0)
    assert t.tolist() == [0, 1, 2, 3, 4, 5] and c._base is None
    p = t.view(2, 3).transpose(0, 1)
    assert not p._data.flags.c_contiguous and p.contiguous()._data.flags.c_contiguous
    q = t.view(2, 3)
    assert q.contiguous() is q


FUNCTIONS = {
    "sum": lambda lib, t: lib.sum(t, 1),
    "mean": lambda lib, t: lib.mean(t),
    "exp": lambda lib, t: lib.exp(t),
    "log": lambda lib, t: lib.log(t * t + 1),
    "sqrt": lambda lib, t: lib.sqrt(t * t),
    "abs": lambda lib, t: lib.abs(t),
    "tanh": lambda lib, t: lib.tanh(t),
    "sigmoid": lambda lib, t: lib.sigmoid(t),
    "relu": lambda lib, t: lib.relu(t),
    "matmul": lambda lib, t: lib.matmul(t, t.transpose(1, 2)),
    "mul": lambda lib, t: lib.mul(t, 3.0),
    "add": lambda lib, t: lib.add(t, t, alpha=2),
    "clamp": lambda lib, t: lib.clamp(t, min=-0.3, max=0.3),
    "stack": lambda lib, t: lib.stack([t, t * 2], 1),
    "cat": lambda lib, t: lib.cat([t, t * 2], -1),
    "norm": lambda lib, t: lib.norm(t, 2, 1),
    "std": lambda lib, t: lib.std(t, 2),
    "squeeze": lambda lib, t: lib.unsqueeze(lib.squeeze(t[:1]), 0),
    "pow": lambda lib, t: lib.pow(t, 2),
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_match_pytorch(torch, device, name):
    ours, theirs = pair(torch, device)
    out, ref = FUNCTIONS[name](minigan, ours), FUNCTIONS[name](torch, theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-14)
    out.sum().backward()
    ref.sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12, atol=1e-14)


def test_creation_functions_match_pytorch_shapes_and_dtypes(torch, device):
    like = minigan.ones(2, 3, dtype="float64", device=device)
    t_like = torch.ones(2, 3, dtype=torch.float64)
    for name in ("zeros_like", "ones_like", "randn_like", "rand_like", "empty_like"):
        ours, theirs = getattr(minigan, name)(like), getattr(torch, name)(t_like)
        assert ours.shape == tuple(theirs.shape) and ours.dtype == np.float64, name
        assert ours.device == device
    for value in (1.5, 2, True):
        ours, theirs = minigan.full((2, 2), value), torch.full((2, 2), value)
        assert ours.dtype.name == str(theirs.dtype).split(".")[1] and ours.tolist() == \
            theirs.tolist()
    assert minigan.full_like(like, 7).tolist() == torch.full_like(t_like, 7).tolist()
    assert minigan.full((3,), 0.5, device=device).device == device
    for args in ((5,), (1, 4), (0.0, 1.0, 0.25)):
        ours, theirs = minigan.arange(*args), torch.arange(*args)
        assert ours.tolist() == theirs.tolist()
        assert ours.dtype.name == str(theirs.dtype).split(".")[1]
    r = minigan.randint(0, 10, (100,))
    assert r.dtype == np.int64 and 0 <= r.numpy().min() and r.numpy().max() < 10
    a = np.ones(3)
    shared = minigan.from_numpy(a)
    a[0] = 5.0
    assert shared.dtype == np.float64 and shared.tolist() == [5.0, 1.0, 1.0]


def test_legacy_types_construct_convert_and_check(torch):
    for ours, theirs in ((minigan.FloatTensor, torch.FloatTensor),
                         (minigan.LongTensor, torch.LongTensor)):
        assert ours(2, 3).shape == (2, 3) and not ours(2, 3).numpy().any()
        assert ours([1, 2]).tolist() == theirs([1, 2]).tolist()
        assert ours(np.array([1.0, 2.0])).dtype.name == str(theirs([1]).dtype).split(".")[1]
        assert ours(minigan.zeros(4).size()).shape == (4,)  # a Size: sizes, as torch.Size
        assert ours().shape == (0,)
    x = minigan.ones(2)
    assert isinstance(x, minigan.FloatTensor) and not isinstance(x, minigan.LongTensor)
    assert isinstance(torch.ones(2), torch.FloatTensor)
    assert x.type(minigan.FloatTensor) is x


def test_cuda_legacy_types_fail_clearly_without_a_gpu():
    if minigan.cuda.is_available():
        t = minigan.cuda.FloatTensor(2, 3)
        assert t.device == "cuda" and t.dtype == np.float32
        assert minigan.ones(2).type(minigan.cuda.LongTensor).device == "cuda"
    else:
        with pytest.raises(minigan.DeviceError, match="cuda"):
            minigan.cuda.FloatTensor(2)
        with pytest.raises(minigan.DeviceError, match="cuda"):
            minigan.ones(2).type(minigan.cuda.FloatTensor)


def test_variable_is_a_detached_tensor_as_in_pytorch(torch):
    x = minigan.ones(2, requires_grad=True)
    y = x * 2
    for v, ref in ((Variable(y), torch.autograd.Variable(torch.ones(2, requires_grad=True) * 2)),
                   (Variable(minigan.ones(2), requires_grad=True),
                    torch.autograd.Variable(torch.ones(2), requires_grad=True))):
        assert v.requires_grad == ref.requires_grad and v.is_leaf == ref.is_leaf
    z = Variable(minigan.FloatTensor(3, 1).fill_(1.0), requires_grad=False)
    assert z.tolist() == [[1.0]] * 3


def test_cudnn_flags_are_settable_and_documented_as_no_op():
    cudnn = minigan.backends.cudnn
    before = cudnn.benchmark
    cudnn.benchmark = True
    cudnn.deterministic = True
    assert cudnn.benchmark and cudnn.deterministic and not cudnn.is_available()
    cudnn.benchmark, cudnn.deterministic = before, False
    assert "no effect" in cudnn.__doc__


def test_grad_accepts_only_inputs(torch):
    x = minigan.tensor([1.0, 2.0], requires_grad=True)
    g, = minigan.autograd.grad((x * x).sum(), x, only_inputs=True)
    assert g.tolist() == [2.0, 4.0]


def test_softmax_implicit_dim_warns_as_pytorch(torch):
    with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
        out = minigan.nn.Softmax()(minigan.ones(2, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = torch.nn.Softmax()(torch.ones(2, 3))
    np.testing.assert_allclose(out.numpy(), ref.numpy())


def test_numpy_conversion_shares_memory_as_pytorch(torch):
    for lib in (minigan, torch):
        t = lib.ones(3)
        np.asarray(t)[0] = 7.0  # shares the CPU tensor's memory
        copy = np.array(t)
        copy[1] = 5.0  # a copy
        assert t.tolist() == [7.0, 1.0, 1.0]
        assert np.asarray(t, dtype=np.float64).dtype == np.float64
