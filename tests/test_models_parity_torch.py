"""The models against their PyTorch references, number for number (float64).

The reference modules are written here as their sources write them: pytorch/examples
dcgan/main.py (Generator and Discriminator, an nn.Sequential named `main`) and
PyTorch-GAN implementations/gan/gan.py (an nn.Sequential named `model`; BatchNorm1d's
eps at PyTorch's 1e-5 instead of gan.py's accidental 0.8). PyTorch's weights are loaded
into minigan, then both run the same input in training mode (batch statistics, running
statistics updated, gradients of every parameter) and in eval mode. The conditional
models are checked against the same references fed the one-hot concatenations.
"""
import numpy as np
import pytest

import minigan
from minigan.models import DCGANDiscriminator, DCGANGenerator, build_gan

TOL = 1e-10


def dcgan_reference(torch, nz=100, ngf=64, ndf=64, nc=3):
    """pytorch/examples dcgan/main.py's Generator and Discriminator (ngpu dropped)."""
    nn = torch.nn

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.ConvTranspose2d(nz, ngf * 8, 4, 1, 0, bias=False),
                nn.BatchNorm2d(ngf * 8),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 8, ngf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 4),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 4, ngf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf * 2),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf * 2, ngf, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ngf),
                nn.ReLU(True),
                nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False),
                nn.Tanh(),
            )

        def forward(self, x):
            return self.main(x)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.main = nn.Sequential(
                nn.Conv2d(nc, ndf, 4, 2, 1, bias=False),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf, ndf * 2, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 2),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 2, ndf * 4, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 4),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 4, ndf * 8, 4, 2, 1, bias=False),
                nn.BatchNorm2d(ndf * 8),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Conv2d(ndf * 8, 1, 4, 1, 0, bias=False),
                nn.Sigmoid(),
            )

        def forward(self, x):
            return self.main(x).view(-1, 1).squeeze(1)

    return Generator(), Discriminator()


def mlp_reference(torch, img_shape, latent_dim=100, extra_g=0, extra_d=0):
    """PyTorch-GAN gan.py's Generator and Discriminator; extra_*: one-hot inputs added."""
    nn = torch.nn
    size = int(np.prod(img_shape))

    class Generator(nn.Module):
        def __init__(self):
            super().__init__()

            def block(in_feat, out_feat, normalize=True):
                layers = [nn.Linear(in_feat, out_feat)]
                if normalize:
                    layers.append(nn.BatchNorm1d(out_feat))  # gan.py: (out_feat, 0.8)
                layers.append(nn.LeakyReLU(0.2, inplace=True))
                return layers

            self.model = nn.Sequential(
                *block(latent_dim + extra_g, 128, normalize=False),
                *block(128, 256),
                *block(256, 512),
                *block(512, 1024),
                nn.Linear(1024, size),
                nn.Tanh(),
            )

        def forward(self, z):
            img = self.model(z)
            return img.view(img.size(0), *img_shape)

    class Discriminator(nn.Module):
        def __init__(self):
            super().__init__()
            self.model = nn.Sequential(
                nn.Linear(size + extra_d, 512),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(512, 256),
                nn.LeakyReLU(0.2, inplace=True),
                nn.Linear(256, 1),
                nn.Sigmoid(),
            )

        def forward(self, img):
            return self.model(img.view(img.size(0), -1))

    return Generator(), Discriminator()


def load_torch_weights(torch, reference, ours):
    """Copy the reference's state_dict into our model; both become float64."""
    reference.double()
    state = {k: v.detach().numpy() for k, v in reference.state_dict().items()}
    ours_keys = {k: v.shape for k, v in ours.state_dict().items()}
    theirs = {k: v.shape for k, v in state.items() if not k.endswith("num_batches_tracked")}
    assert ours_keys == theirs  # same keys, same shapes
    ours.double().load_state_dict(state)
    assert sum(p.numel() for p in ours.parameters()) == \
        sum(p.numel() for p in reference.parameters())


def compare(torch, ours, reference, our_input, their_input, their_forward, labels=None):
    """Outputs, gradients and running statistics equal in training mode, outputs in eval."""
    rng = np.random.default_rng(1)
    out = ours(our_input, labels)
    expected = their_forward(their_input)
    np.testing.assert_allclose(out.numpy(), expected.detach().numpy(), rtol=0, atol=TOL)
    weights = rng.standard_normal(out.shape)
    out.backward(minigan.tensor(weights, dtype="float64"))
    expected.backward(torch.from_numpy(weights))
    theirs = dict(reference.named_parameters())
    for name, p in ours.named_parameters():
        scale = max(1.0, float(np.abs(theirs[name].grad.numpy()).max()))
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=0,
                                   atol=TOL * scale, err_msg=name)
    their_buffers = dict(reference.named_buffers())
    for name, b in ours.named_buffers():
        np.testing.assert_allclose(b.numpy(), their_buffers[name].numpy(), rtol=0, atol=TOL,
                                   err_msg=name)
    ours.eval()
    reference.eval()
    with minigan.no_grad(), torch.no_grad():
        np.testing.assert_allclose(ours(our_input, labels).numpy(),
                                   their_forward(their_input).numpy(), rtol=0, atol=TOL)


def one_hot(torch, labels, k):
    return torch.nn.functional.one_hot(torch.from_numpy(labels), k).double()


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
def test_dcgan_64_has_pytorch_examples_keys_shapes_and_parameter_counts(torch, model):
    k = 10 if model == "cdcgan" else 0
    ref_g, _ = dcgan_reference(torch, nz=100 + k)
    _, ref_d = dcgan_reference(torch, nc=3 + k)
    G, D = build_gan(model, "image", image_shape=(3, 64, 64), num_classes=k)
    load_torch_weights(torch, ref_g, G)
    load_torch_weights(torch, ref_d, D)
    if not k:
        assert sum(p.numel() for p in G.parameters()) == 3_576_704
        assert sum(p.numel() for p in D.parameters()) == 2_765_568


@pytest.mark.parametrize("conditional", [False, True])
def test_dcgan_64_matches_pytorch_examples(torch, conditional):
    """Forward, gradients and running statistics; at ngf = ndf = 16 to stay fast (the
    layers, and so the keys, are those of the full-width model above)."""
    k, width = (10 if conditional else 0), 16
    torch.manual_seed(0)
    ref_g, _ = dcgan_reference(torch, nz=100 + k, ngf=width)
    _, ref_d = dcgan_reference(torch, nc=3 + k, ndf=width)
    G = DCGANGenerator((3, 64, 64), ngf=width, num_classes=k)
    D = DCGANDiscriminator((3, 64, 64), ndf=width, num_classes=k)
    load_torch_weights(torch, ref_g, G)
    load_torch_weights(torch, ref_d, D)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 3) if conditional else None
    z = rng.standard_normal((3, 100))
    z_torch = torch.from_numpy(z)
    if conditional:
        z_torch = torch.cat([z_torch, one_hot(torch, labels, k)], dim=1)
    compare(torch, G, ref_g, minigan.tensor(z, dtype="float64"), z_torch[:, :, None, None],
            ref_g, labels)

    x = rng.uniform(-1, 1, (3, 3, 64, 64))
    x_torch = torch.from_numpy(x)
    if conditional:
        maps = one_hot(torch, labels, k)[:, :, None, None].expand(3, k, 64, 64)
        x_torch = torch.cat([x_torch, maps], dim=1)
    logits = lambda inp: ref_d.main[:-1](inp).view(-1)  # noqa: E731 - main.py before its Sigmoid
    compare(torch, D, ref_d, minigan.tensor(x, dtype="float64"), x_torch, logits, labels)


def test_dcgan_discriminator_is_main_py_before_its_sigmoid(torch):
    _, ref_d = dcgan_reference(torch, nc=1, ndf=8)
    ours = DCGANDiscriminator((1, 64, 64), ndf=8)
    load_torch_weights(torch, ref_d.eval(), ours)
    x = np.random.default_rng(0).uniform(-1, 1, (2, 1, 64, 64))
    with minigan.no_grad(), torch.no_grad():
        p = minigan.nn.functional.sigmoid(ours.eval()(minigan.tensor(x, dtype="float64")))
        np.testing.assert_allclose(p.numpy(), ref_d(torch.from_numpy(x)).numpy(), atol=TOL)


@pytest.mark.parametrize("conditional", [False, True])
def test_mlp_matches_pytorch_gan_py(torch, conditional):
    k = 10 if conditional else 0
    shape = (1, 28, 28)
    torch.manual_seed(0)
    ref_g, ref_d = mlp_reference(torch, shape, extra_g=k, extra_d=k)
    G, D = build_gan("cmlp" if conditional else "mlp", "image", image_shape=shape,
                     num_classes=k)
    load_torch_weights(torch, ref_g, G)
    load_torch_weights(torch, ref_d, D)
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, 4) if conditional else None
    z = rng.standard_normal((4, 100))
    z_torch = torch.from_numpy(z)
    if conditional:
        z_torch = torch.cat([z_torch, one_hot(torch, labels, k)], dim=1)
    compare(torch, G, ref_g, minigan.tensor(z, dtype="float64"), z_torch, ref_g, labels)

    x = rng.uniform(-1, 1, (4, *shape))
    x_torch = torch.from_numpy(x).view(4, -1)
    if conditional:
        x_torch = torch.cat([x_torch, one_hot(torch, labels, k)], dim=1)
    logits = lambda inp: ref_d.model[:-1](inp).view(-1)  # noqa: E731 - gan.py before its Sigmoid
    compare(torch, D, ref_d, minigan.tensor(x, dtype="float64"), x_torch, logits, labels)


@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32), (3, 64, 64)])
def test_mlp_parameter_counts_match_gan_py(torch, shape):
    ref_g, ref_d = mlp_reference(torch, shape)
    G, D = build_gan("mlp", "image", image_shape=shape)
    for ours, ref in ((G, ref_g), (D, ref_d)):
        assert sum(p.numel() for p in ours.parameters()) == \
            sum(p.numel() for p in ref.parameters())
