"""conv2d, conv_transpose2d, batch_norm and their layers against PyTorch, number for number.

The same inputs go through both libraries and the same upstream gradient comes back:
outputs, the gradients of x, weight and bias, and the running statistics agree within
1e-10 (float64) or 1e-4 (float32) of the largest value. Layers are built in PyTorch and
their state_dict loaded into minigan. Last, a small DCGAN is trained for three steps in
both libraries from the same weights, data and noise: the losses and every parameter
and buffer must stay equal. These tests skip without torch (fail under
MINIGAN_REQUIRE_TORCH=1, as in CI).
"""
import numpy as np
import pytest

import minigan
import minigan.nn.functional as F
from minigan import nn

DTYPES = ["float64", "float32"]
RTOL = {"float64": 1e-10, "float32": 1e-4}


def assert_close(mine, theirs, dtype, what=""):
    """Equal within RTOL relative to each value, or to the largest value for small ones."""
    mine = mine.numpy() if isinstance(mine, minigan.Tensor) else np.asarray(mine)
    theirs = theirs.detach().numpy() if hasattr(theirs, "detach") else np.asarray(theirs)
    assert mine.shape == theirs.shape, f"{what}: shape {mine.shape}, torch {theirs.shape}"
    scale = max(float(np.abs(theirs).max(initial=0.0)), 1e-30)
    np.testing.assert_allclose(mine, theirs, rtol=RTOL[dtype], atol=RTOL[dtype] * scale,
                               err_msg=what)


def both(torch, array, dtype, device, requires_grad=True):
    """The same values as a minigan tensor on `device` and a torch tensor on the CPU."""
    mine = minigan.tensor(array, dtype=dtype, device=device, requires_grad=requires_grad)
    theirs = torch.tensor(array, dtype=getattr(torch, dtype), requires_grad=requires_grad)
    return mine, theirs


def backward_both(torch, out, expected, dtype, seed=0):
    """Backpropagate the same random upstream gradient through both outputs."""
    upstream = np.random.default_rng(seed).standard_normal(tuple(expected.shape))
    out.backward(minigan.tensor(upstream, dtype=dtype, device=out.device))
    expected.backward(torch.tensor(upstream, dtype=getattr(torch, dtype)))


# (x shape, weight shape, stride, padding, bias); conv weight (C_out, C_in, kH, kW)
CONV_CASES = [
    ((2, 3, 9, 8), (4, 3, 3, 2), (2, 1), (1, 2), True),
    ((4, 8, 16, 16), (16, 8, 4, 4), 2, 1, False),  # a DCGAN layer
    ((3, 5, 7, 7), (2, 5, 1, 1), 3, 0, True),
    ((2, 16, 4, 4), (1, 16, 4, 4), 1, 0, True),  # DCGAN's last layer: 4x4 -> 1x1
]
# (x shape, weight shape (C_in, C_out, kH, kW), stride, padding, output_padding, bias)
CONV_TRANSPOSE_CASES = [
    ((2, 3, 4, 5), (3, 4, 3, 2), (2, 3), (1, 0), (1, 2), True),
    ((4, 16, 8, 8), (16, 8, 4, 4), 2, 1, 0, False),  # a DCGAN layer
    ((3, 10, 1, 1), (10, 6, 4, 4), 1, 0, 0, True),  # DCGAN's first layer: 1x1 -> 4x4
    ((2, 2, 3, 3), (2, 3, 5, 5), 3, 2, 2, True),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, bias", CONV_CASES)
def test_conv2d_output_and_gradients_match_torch(torch, device, dtype, x_shape, w_shape,
                                                 stride, padding, bias):
    rng = np.random.default_rng(0)
    x, tx = both(torch, rng.standard_normal(x_shape), dtype, device)
    w, tw = both(torch, rng.standard_normal(w_shape) * 0.3, dtype, device)
    b, tb = both(torch, rng.standard_normal(w_shape[0]), dtype, device) if bias else (None, None)
    out = F.conv2d(x, w, b, stride, padding)
    expected = torch.nn.functional.conv2d(tx, tw, tb, stride, padding)
    assert out.dtype == np.dtype(dtype)
    assert_close(out, expected, dtype, "output")
    backward_both(torch, out, expected, dtype)
    for name, mine, theirs in (("x", x, tx), ("weight", w, tw), ("bias", b, tb)):
        if mine is not None:
            assert_close(mine.grad, theirs.grad, dtype, f"gradient of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("x_shape, w_shape, stride, padding, output_padding, bias",
                         CONV_TRANSPOSE_CASES)
def test_conv_transpose2d_output_and_gradients_match_torch(torch, device, dtype, x_shape,
                                                           w_shape, stride, padding,
                                                           output_padding, bias):
    rng = np.random.default_rng(1)
    x, tx = both(torch, rng.standard_normal(x_shape), dtype, device)
    w, tw = both(torch, rng.standard_normal(w_shape) * 0.3, dtype, device)
    b, tb = both(torch, rng.standard_normal(w_shape[1]), dtype, device) if bias else (None, None)
    out = F.conv_transpose2d(x, w, b, stride, padding, output_padding)
    expected = torch.nn.functional.conv_transpose2d(tx, tw, tb, stride, padding, output_padding)
    assert_close(out, expected, dtype, "output")
    backward_both(torch, out, expected, dtype)
    for name, mine, theirs in (("x", x, tx), ("weight", w, tw), ("bias", b, tb)):
        if mine is not None:
            assert_close(mine.grad, theirs.grad, dtype, f"gradient of {name}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(8, 5), (4, 6, 5, 3)])
@pytest.mark.parametrize("training", [True, False])
@pytest.mark.parametrize("affine", [True, False])
def test_batch_norm_output_gradients_and_running_statistics_match_torch(
        torch, device, dtype, shape, training, affine):
    rng = np.random.default_rng(2)
    c = shape[1]
    x, tx = both(torch, rng.standard_normal(shape) * 2 + 0.5, dtype, device)
    w, tw = both(torch, rng.uniform(0.5, 1.5, c), dtype, device) if affine else (None, None)
    b, tb = both(torch, rng.standard_normal(c), dtype, device) if affine else (None, None)
    mean, tmean = both(torch, rng.standard_normal(c), dtype, device, requires_grad=False)
    var, tvar = both(torch, rng.uniform(0.5, 2.0, c), dtype, device, requires_grad=False)
    out = F.batch_norm(x, mean, var, w, b, training=training, momentum=0.3, eps=1e-4)
    expected = torch.nn.functional.batch_norm(tx, tmean, tvar, tw, tb, training=training,
                                              momentum=0.3, eps=1e-4)
    assert_close(out, expected, dtype, "output")
    assert_close(mean, tmean, dtype, "running_mean")
    assert_close(var, tvar, dtype, "running_var")
    backward_both(torch, out, expected, dtype)
    for name, mine, theirs in (("x", x, tx), ("weight", w, tw), ("bias", b, tb)):
        if mine is not None:
            assert_close(mine.grad, theirs.grad, dtype, f"gradient of {name}")


# ------------------------------------------------------------------------------ layers
def layer_pairs(torch):
    """(minigan layer, torch layer, input shape) with the same constructor arguments."""
    return [
        (nn.Conv2d(3, 8, 4, stride=2, padding=1, bias=False),
         torch.nn.Conv2d(3, 8, 4, stride=2, padding=1, bias=False), (4, 3, 16, 16)),
        (nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(2, 1)),
         torch.nn.Conv2d(4, 6, (3, 2), stride=(1, 2), padding=(2, 1)), (3, 4, 7, 9)),
        (nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, output_padding=1),
         torch.nn.ConvTranspose2d(8, 4, 4, stride=2, padding=1, output_padding=1), (3, 8, 5, 5)),
        (nn.ConvTranspose2d(10, 6, 4, bias=False),
         torch.nn.ConvTranspose2d(10, 6, 4, bias=False), (5, 10, 1, 1)),
        (nn.BatchNorm2d(6, eps=1e-3, momentum=0.2),
         torch.nn.BatchNorm2d(6, eps=1e-3, momentum=0.2), (4, 6, 3, 5)),
        (nn.BatchNorm1d(7), torch.nn.BatchNorm1d(7), (9, 7)),
    ]


def load_from_torch(layer, torch_layer):
    layer.load_state_dict({k: v.detach().numpy() for k, v in torch_layer.state_dict().items()})


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("index", range(6))
@pytest.mark.parametrize("training", [True, False])
def test_layers_loaded_from_torch_match_it(torch, device, dtype, index, training):
    layer, torch_layer, shape = layer_pairs(torch)[index]
    # PyTorch 2.13 (CI's) shows BatchNorm's bias=True, as minigan does; 2.11 leaves it out
    same_version = lambda text: text.replace(", bias=True, track", ", track")  # noqa: E731
    assert same_version(repr(layer)) == same_version(repr(torch_layer))
    torch_layer.to(getattr(torch, dtype)).train(training)
    generator = torch.Generator().manual_seed(3)
    with torch.no_grad():  # non-trivial BatchNorm parameters and statistics
        for p in list(torch_layer.parameters()) + list(torch_layer.buffers()):
            if p.is_floating_point():
                p.add_(torch.rand(p.shape, dtype=p.dtype, generator=generator))
    layer = (layer.double() if dtype == "float64" else layer).to(device).train(training)
    load_from_torch(layer, torch_layer)
    x, tx = both(torch, np.random.default_rng(4).standard_normal(shape), dtype, device)
    out, expected = layer(x), torch_layer(tx)
    assert_close(out, expected, dtype, "output")
    backward_both(torch, out, expected, dtype)
    assert_close(x.grad, tx.grad, dtype, "gradient of the input")
    for (name, p), (_, tp) in zip(layer.named_parameters(), torch_layer.named_parameters()):
        assert_close(p.grad, tp.grad, dtype, f"gradient of {name}")
    for key, value in layer.state_dict().items():
        assert_close(value, torch_layer.state_dict()[key], dtype, key)


def test_default_initialisation_has_pytorch_bounds_and_shapes(torch):
    """Conv weights and biases within 1/sqrt(fan_in), fan_in as torch computes it (from
    dim 1 of the weight, so C_out*kH*kW for the transposed conv); BatchNorm's 1 and 0."""
    for layer, torch_layer, _ in layer_pairs(torch):
        for (name, p), (torch_name, tp) in zip(layer.named_parameters(),
                                               torch_layer.named_parameters()):
            assert name == torch_name and p.shape == tuple(tp.shape)
            if "Conv" in type(layer).__name__:
                fan_in, _ = torch.nn.init._calculate_fan_in_and_fan_out(torch_layer.weight)
                bound = 1 / np.sqrt(fan_in)
                assert float(tp.detach().abs().max()) <= bound  # the bound is torch's
                assert float(np.abs(p.numpy()).max()) <= bound
                assert float(np.abs(p.numpy()).max()) > 0.5 * bound or p.numel() < 8
            else:
                np.testing.assert_array_equal(p.numpy(), tp.detach().numpy())


# ------------------------------------------------------------------ a DCGAN, end to end
def dcgan_16(lib, nz):
    """G: z (N, nz, 1, 1) -> (N, 1, 16, 16); D: (N, 1, 16, 16) -> (N, 1, 1, 1) logits."""
    g = lib.Sequential(
        lib.ConvTranspose2d(nz, 16, 4, 1, 0, bias=False), lib.BatchNorm2d(16), lib.ReLU(),
        lib.ConvTranspose2d(16, 8, 4, 2, 1, bias=False), lib.BatchNorm2d(8), lib.ReLU(),
        lib.ConvTranspose2d(8, 1, 4, 2, 1, bias=True), lib.Tanh())
    d = lib.Sequential(
        lib.Conv2d(1, 8, 4, 2, 1, bias=False), lib.LeakyReLU(0.2),
        lib.Conv2d(8, 16, 4, 2, 1, bias=False), lib.BatchNorm2d(16), lib.LeakyReLU(0.2),
        lib.Conv2d(16, 1, 4, 1, 0, bias=True))
    return g, d


def train_dcgan(lib, functional, optim, make, g, d, data, noise):
    """Three steps of pytorch/examples' DCGAN loop with Adam(2e-4, (0.5, 0.999)); the
    losses of every step. `make(array)` turns an array into the library's tensor."""
    opt_d = optim.Adam(d.parameters(), lr=2e-4, betas=(0.5, 0.999))
    opt_g = optim.Adam(g.parameters(), lr=2e-4, betas=(0.5, 0.999))
    n = data.shape[1]
    ones, zeros = make(np.ones(n)), make(np.zeros(n))
    bce = functional.binary_cross_entropy_with_logits
    losses = []
    for real, z in zip(data, noise):
        opt_d.zero_grad()
        fake = g(make(z))
        loss_d = (bce(d(make(real)).reshape(-1), ones)
                  + bce(d(fake.detach()).reshape(-1), zeros))
        loss_d.backward()
        opt_d.step()
        opt_g.zero_grad()
        loss_g = bce(d(fake).reshape(-1), ones)
        loss_g.backward()
        opt_g.step()
        losses.append((loss_d.item(), loss_g.item()))
    return losses


def test_a_small_dcgan_trains_exactly_as_in_torch(torch, device):
    torch.manual_seed(0)
    nz, n, steps = 8, 6, 3
    torch_g, torch_d = dcgan_16(torch.nn, nz)
    torch_g.double()
    torch_d.double()
    g, d = dcgan_16(nn, nz)
    for mine, theirs in ((g, torch_g), (d, torch_d)):
        mine.double().to(device)
        load_from_torch(mine, theirs)
    rng = np.random.default_rng(5)
    data = np.tanh(rng.standard_normal((steps, n, 1, 16, 16)))  # images in (-1, 1)
    noise = rng.standard_normal((steps, n, nz, 1, 1))

    losses = train_dcgan(nn, F, minigan.optim,
                         lambda a: minigan.tensor(a, dtype="float64", device=device),
                         g, d, data, noise)
    torch_losses = train_dcgan(torch.nn, torch.nn.functional, torch.optim,
                               lambda a: torch.tensor(a, dtype=torch.float64),
                               torch_g, torch_d, data, noise)
    np.testing.assert_allclose(losses, torch_losses, rtol=1e-10)
    for mine, theirs in ((g, torch_g), (d, torch_d)):
        theirs_state = theirs.state_dict()
        for key, value in mine.state_dict().items():
            np.testing.assert_allclose(value, theirs_state[key].numpy(), rtol=1e-8, atol=1e-10,
                                       err_msg=key)
