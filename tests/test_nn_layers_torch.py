"""The layers and Module methods PyTorch GAN scripts use, against PyTorch: ReLU/LeakyReLU with
inplace, Dropout, Dropout2d, Upsample / F.interpolate, Softmax / log_softmax, Module.apply,
.cpu/.cuda/.requires_grad_, load_state_dict(strict=False), nn.parallel."""
import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.nn import functional as F

IMAGES = np.random.default_rng(7).normal(size=(2, 3, 4, 5))


def leaves(torch, device, values=IMAGES):
    return (minigan.tensor(values, dtype="float64", device=device, requires_grad=True),
            torch.tensor(values, dtype=torch.float64, requires_grad=True))


def same_values_and_gradients(torch, device, ours_fn, theirs_fn, values=IMAGES, rtol=1e-12):
    ours, theirs = leaves(torch, device, values)
    out, ref = ours_fn(ours), theirs_fn(theirs)
    assert out.shape == tuple(ref.shape)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=rtol, atol=1e-13)
    g = np.random.default_rng(2).normal(size=ref.shape)
    (out * minigan.tensor(g, device=device)).sum().backward()
    (ref * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=rtol, atol=1e-13)


@pytest.mark.parametrize("inplace", [False, True])
def test_relu_and_leaky_relu_with_inplace_match_pytorch(torch, device, inplace):
    for ours_layer, their_layer in ((nn.ReLU(inplace), torch.nn.ReLU(inplace)),
                                    (nn.LeakyReLU(0.2, inplace=inplace),
                                     torch.nn.LeakyReLU(0.2, inplace=inplace))):
        # applied to a computed tensor (x * 1), as in a network: in place it is overwritten
        same_values_and_gradients(torch, device, lambda x: ours_layer(x * 1),
                                  lambda x: their_layer(x * 1))
    h = minigan.tensor([-1.0, 2.0], device=device) * 1
    out = nn.LeakyReLU(0.5, inplace)(h)
    assert (out is h) == inplace and h.tolist() == ([-0.5, 2.0] if inplace else [-1.0, 2.0])
    assert repr(nn.ReLU(True)) == repr(torch.nn.ReLU(True))


def test_inplace_relu_on_a_leaf_that_requires_grad_is_refused(torch):
    for lib in (minigan, torch):
        with pytest.raises(RuntimeError, match="a leaf Variable that requires grad"):
            lib.nn.ReLU(inplace=True)(lib.ones(2, requires_grad=True))


@pytest.mark.parametrize("mode, size, scale", [
    ("nearest", None, 2), ("nearest", None, 3), ("nearest", (6, 7), None),
    ("nearest", (3, 2), None), ("nearest", None, 1.5),
    ("bilinear", None, 2), ("bilinear", (7, 3), None), ("bilinear", None, 0.5)])
@pytest.mark.parametrize("align_corners", [None, True])
def test_upsample_and_interpolate_match_pytorch(torch, device, mode, size, scale, align_corners):
    if mode == "nearest" and align_corners:
        with pytest.raises(ValueError, match="align_corners"):
            F.interpolate(minigan.tensor(IMAGES), size, scale, mode, True)
        return
    same_values_and_gradients(
        torch, device, nn.Upsample(size, scale, mode, align_corners),
        torch.nn.Upsample(size=size, scale_factor=scale, mode=mode, align_corners=align_corners))


def test_interpolate_errors():
    x = minigan.tensor(IMAGES)
    with pytest.raises(ValueError, match="exactly one"):
        F.interpolate(x)
    with pytest.raises(NotImplementedError, match="bicubic"):
        F.interpolate(x, scale_factor=2, mode="bicubic")
    with pytest.raises(ValueError, match=r"interpolate: input must have shape \(N, C, H, W\)"):
        F.interpolate(minigan.ones(3, 4), scale_factor=2)


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax_and_log_softmax_match_pytorch(torch, device, dim):
    values = IMAGES.reshape(6, 20) * 30  # large logits: the shift keeps exp finite
    same_values_and_gradients(torch, device, lambda x: F.softmax(x, dim),
                              lambda x: torch.nn.functional.softmax(x, dim), values)
    same_values_and_gradients(torch, device, lambda x: nn.LogSoftmax(dim)(x),
                              lambda x: torch.nn.LogSoftmax(dim)(x), values)


@pytest.mark.parametrize("ndim, expected", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_softmax_implicit_dim_is_pytorchs(torch, ndim, expected):
    shape = (2, 3, 4, 5)[-ndim:]
    x = minigan.tensor(IMAGES.reshape(-1)[:int(np.prod(shape))].reshape(shape))
    with pytest.warns(UserWarning, match="Implicit dimension"):
        out = F.softmax(x)
    np.testing.assert_allclose(out.sum(dim=expected).numpy(), 1.0, rtol=1e-6)
    with pytest.warns(UserWarning):
        ref = torch.nn.functional.softmax(torch.from_numpy(x.numpy()))
    np.testing.assert_allclose(out.numpy(), ref.numpy(), rtol=1e-6)


def test_dropout_zeroes_with_probability_p_and_rescales(device):
    minigan.manual_seed(0)
    x = minigan.ones(200, 100, dtype="float64", device=device, requires_grad=True)
    layer = nn.Dropout(0.3)
    out = layer(x)
    values = out.numpy()
    kept = values != 0
    assert abs(kept.mean() - 0.7) < 0.01
    np.testing.assert_allclose(values[kept], 1 / 0.7)
    out.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # d(x * mask)/dx = mask
    assert layer.eval()(x) is x and F.dropout(x, 0.3, training=False) is x
    assert not F.dropout(x, 1.0).numpy().any()
    with pytest.raises(ValueError, match=r"Dropout: p must be a number in \[0, 1\], got 1.5"):
        nn.Dropout(1.5)


def test_dropout2d_zeroes_whole_channels(torch, device):
    minigan.manual_seed(1)
    x = minigan.ones(64, 32, 3, 3, device=device)
    out = nn.Dropout2d(0.25)(x).numpy()
    per_channel = out.reshape(64, 32, 9)
    assert np.all((per_channel == 0).all(axis=2) | (per_channel == per_channel[..., :1]).all(
        axis=2))  # each channel all zero or all kept
    assert abs((per_channel[..., 0] != 0).mean() - 0.75) < 0.03
    assert repr(nn.Dropout2d(0.25)) == repr(torch.nn.Dropout2d(0.25))


def test_module_apply_cpu_cuda_and_requires_grad(torch, device):
    model = nn.Sequential(nn.Linear(3, 4), nn.LeakyReLU(0.2, inplace=True), nn.Linear(4, 1))
    seen = []

    def weights_init(m):
        seen.append(type(m).__name__)
        if type(m).__name__.find("Linear") != -1:
            nn.init.normal_(m.weight.data, 0.0, 0.02)
            nn.init.constant_(m.bias.data, 0.0)

    assert model.apply(weights_init) is model
    twin = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LeakyReLU(0.2, inplace=True),
                               torch.nn.Linear(4, 1))
    their_seen = []
    twin.apply(lambda m: their_seen.append(type(m).__name__))
    assert seen == their_seen  # children first, then the module itself
    assert not model[0].bias.numpy().any()
    assert model.requires_grad_(False) is model
    assert not any(p.requires_grad for p in model.parameters())
    model.requires_grad_()
    if device == "cuda":
        assert model.cuda()[0].weight.device == "cuda" and model.cpu()[0].weight.device == "cpu"
    else:
        assert model.cpu()[0].weight.device == "cpu"
    model.to(minigan.float64)
    assert model[0].weight.dtype == np.float64


def test_load_state_dict_strict_false_returns_missing_and_unexpected_keys(torch):
    model = nn.Sequential(nn.Linear(2, 3), nn.BatchNorm1d(3))
    twin = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.BatchNorm1d(3))
    state = model.state_dict()
    del state["0.bias"]
    state["extra.weight"] = np.ones(2)
    result = model.load_state_dict(state, strict=False)
    their = twin.load_state_dict({k: torch.from_numpy(np.asarray(v)) for k, v in state.items()},
                                 strict=False)
    assert result.missing_keys == their.missing_keys == ["0.bias"]
    assert result.unexpected_keys == their.unexpected_keys == ["extra.weight"]
    with pytest.raises(ValueError, match="missing keys"):
        model.load_state_dict(state)
    assert model.load_state_dict(model.state_dict()) == ([], [])


def test_data_parallel_runs_the_module_on_its_one_device(torch, device):
    model = nn.Linear(3, 2).to(device)
    x = minigan.ones(4, 3, device=device)
    wrapped = nn.DataParallel(model, device_ids=[0])
    np.testing.assert_array_equal(wrapped(x).numpy(), model(x).numpy())
    np.testing.assert_array_equal(nn.parallel.data_parallel(model, x, [0]).numpy(),
                                  model(x).numpy())
    their_keys = list(torch.nn.DataParallel(torch.nn.Linear(3, 2)).state_dict())
    assert list(wrapped.state_dict()) == their_keys == ["module.weight", "module.bias"]


def test_zero_grad_set_to_none_false_zeroes_in_place(torch):
    layer = nn.Linear(2, 1)
    opt = minigan.optim.SGD(layer.parameters(), lr=0.1)
    layer(minigan.ones(3, 2)).sum().backward()
    grad = layer.weight.grad
    opt.zero_grad(set_to_none=False)
    assert layer.weight.grad is grad and not grad.numpy().any()
    layer.zero_grad()
    assert layer.weight.grad is None


def test_named_children_and_children_are_pytorchs(torch):
    """Only the direct children, in order, with their names; None entries skipped."""
    ours = nn.Sequential(nn.Linear(3, 4), nn.Sequential(nn.ReLU(), nn.Linear(4, 2)), nn.Tanh())
    theirs = torch.nn.Sequential(torch.nn.Linear(3, 4),
                                 torch.nn.Sequential(torch.nn.ReLU(), torch.nn.Linear(4, 2)),
                                 torch.nn.Tanh())
    names = [(n, type(m).__name__) for n, m in ours.named_children()]
    assert names == [(n, type(m).__name__) for n, m in theirs.named_children()]
    assert [type(m).__name__ for m in ours.children()] == ["Linear", "Sequential", "Tanh"]
    ours.extra = None  # a registered None is not a child, as in PyTorch
    assert len(list(ours.named_children())) == 3
