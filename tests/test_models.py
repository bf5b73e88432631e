"""The GAN models: shapes, gradients, BatchNorm's modes, DCGAN's init, labels, errors.

PyTorch parity (state_dict keys, outputs, gradients) lives in test_models_parity_torch.py;
the parameter counts below were checked there against the PyTorch twins.
"""
import numpy as np
import pytest

import minigan
from minigan import Tensor, nn
from minigan.models import (MODELS, DCGANDiscriminator, DCGANGenerator, MLPDiscriminator,
                            MLPGenerator, ToyDiscriminator, ToyGenerator, build_gan)

SIZES = (28, 32, 64)
CONDITIONAL = ("cmlp", "cdcgan")
K = 10  # classes of the conditional models


def build(model, shape, **kwargs):
    minigan.manual_seed(0)
    return build_gan(model, "image", image_shape=shape, num_classes=K, **kwargs)


def noise(n, nz, seed=0):
    return Tensor(np.random.default_rng(seed).standard_normal((n, nz)).astype(np.float32))


def labels_for(model, n, seed=0):
    return np.random.default_rng(seed).integers(0, K, n) if model in CONDITIONAL else None


def count(module):
    return sum(p.numel() for p in module.parameters())


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("channels", (1, 3))
def test_models_give_images_in_tanh_range_and_one_logit_per_image(model, size, channels):
    G, D = build(model, (channels, size, size))
    assert (G.nz, G.output_shape, D.input_shape) == (100, (channels, size, size),
                                                     (channels, size, size))
    assert G.conditional == D.conditional == (model in CONDITIONAL)
    assert G.num_classes == D.num_classes == (K if model in CONDITIONAL else 0)
    labels = labels_for(model, 3)
    with minigan.no_grad():
        x = G(noise(3, G.nz), labels)
        logits = D(x, labels)
    assert x.shape == (3, channels, size, size) and x.dtype == np.float32
    assert np.abs(x.numpy()).max() <= 1.0
    assert logits.shape == (3,) and logits.dtype == np.float32


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("shape", [(1, 28, 28), (3, 32, 32)])
def test_backward_reaches_every_parameter_of_both_players(model, shape):
    G, D = build(model, shape)
    labels = labels_for(model, 2)
    loss = D(G(noise(2, G.nz), labels), labels).sum()
    loss.backward()
    for module in (G, D):
        for name, p in module.named_parameters():
            assert p.grad is not None and p.grad.shape == p.shape, name
            assert np.isfinite(p.grad.numpy()).all() and np.abs(p.grad.numpy()).sum() > 0, name


@pytest.mark.parametrize("model", MODELS)
def test_eval_generator_maps_each_noise_vector_alone(model):
    """In eval mode BatchNorm uses running statistics, so a sample does not depend on the
    rest of its batch (in training mode it does: batch statistics)."""
    G, _ = build(model, (1, 28, 28))
    labels = labels_for(model, 5)
    z = noise(5, G.nz)
    with minigan.no_grad():
        G(z, labels)  # one training-mode pass moves the running statistics off (0, 1)
        train_batch = G(z, labels).numpy()
        train_alone = G(z[1:3], None if labels is None else labels[1:3]).numpy()
        G.eval()
        batch = G(z, labels).numpy()
        alone = G(z[1:2], None if labels is None else labels[1:2]).numpy()
    np.testing.assert_allclose(alone[0], batch[1], atol=1e-5)
    assert not np.allclose(train_alone[0], train_batch[1], atol=1e-3)


def test_dcgan_has_no_biases_and_the_papers_initialisation():
    G, D = build("dcgan", (3, 64, 64))
    convs, norms = [], []
    for module in (G, D):
        for m in module.modules():
            if isinstance(m, (nn.Conv2d, nn.ConvTranspose2d)):
                assert m.bias is None
                convs.append(m.weight.numpy().ravel())
            elif isinstance(m, nn.BatchNorm2d):
                norms.append((m.weight.numpy(), m.bias.numpy()))
    assert len(convs) == 10 and len(norms) == 7
    weights = np.concatenate(convs)
    assert abs(weights.mean()) < 1e-3 and abs(weights.std() - 0.02) < 1e-3
    gamma = np.concatenate([w for w, _ in norms])
    assert abs(gamma.mean() - 1) < 5e-3 and abs(gamma.std() - 0.02) < 5e-3
    assert all((b == 0).all() for _, b in norms)


def test_dcgan_64_has_pytorch_examples_layers_and_parameter_counts():
    G, D = build("dcgan", (3, 64, 64))
    assert count(G) == 3_576_704 and count(D) == 2_765_568
    assert [type(m).__name__ for m in G.main][:3] == ["ConvTranspose2d", "BatchNorm2d", "ReLU"]
    assert len(G.main) == 14 and len(D.main) == 12
    assert G.main[0].weight.shape == (100, 512, 4, 4) and D.main[11].weight.shape == (1, 512, 4, 4)


@pytest.mark.parametrize("shape, counts", [
    ((1, 28, 28), (1_510_032, 533_505)),   # PyTorch-GAN's gan.py on MNIST
    ((3, 32, 32), (3_855_232, 1_704_961)),
])
def test_mlp_parameter_counts_match_the_pytorch_twin(shape, counts):
    G, D = build("mlp", shape)
    assert (count(G), count(D)) == counts


def test_dcgan_stages_for_28_and_32():
    G, D = build("dcgan", (1, 28, 28))
    assert G.main[0].weight.shape == (100, 128, 7, 7)  # 1x1 -> 7x7, then 14, 28
    assert D.main[-1].weight.shape == (1, 128, 7, 7)
    G, D = build("dcgan", (3, 32, 32))
    assert G.main[0].weight.shape == (100, 256, 4, 4)  # 1x1 -> 4x4, then 8, 16, 32
    assert len(G.main) == 11 and len(D.main) == 9


def test_dcgan_generator_also_takes_noise_shaped_as_pytorch_examples():
    G, _ = build("dcgan", (1, 28, 28))
    G.eval()
    z = noise(2, 100)
    with minigan.no_grad():
        np.testing.assert_array_equal(G(z).numpy(), G(z.reshape(2, 100, 1, 1)).numpy())


@pytest.mark.parametrize("model", ["dcgan", "cdcgan"])
@pytest.mark.parametrize("shape", [(3, 48, 48), (1, 30, 30), (1, 4, 4), (3, 32, 64)])
def test_unsupported_dcgan_sizes_raise_naming_the_size(model, shape):
    with pytest.raises(ValueError, match=rf"{shape[1]}x{shape[2]}.*28, 32 or 64"):
        build(model, shape)


@pytest.mark.parametrize("shape", [(1, 8, 8), (1, 14, 14), (3, 16, 16), (1, 56, 56)])
def test_dcgan_builds_for_other_sizes_of_its_recipe(shape):
    G, D = build("cdcgan", shape)
    labels = np.arange(2)
    with minigan.no_grad():
        assert D(G(noise(2, 100), labels), labels).shape == (2,)
    assert G.output_shape == shape


def test_mlp_takes_any_image_shape():
    G, D = build("mlp", (2, 5, 7))
    assert G(noise(2, 100)).shape == (2, 2, 5, 7) and D(G(noise(2, 100))).shape == (2,)


@pytest.mark.parametrize("model", CONDITIONAL)
def test_labels_change_both_players_outputs(model, device):
    G, D = build(model, (1, 28, 28))
    G, D = G.to(device).eval(), D.to(device)
    z = noise(1, G.nz).to(device)
    z = minigan.cat([z, z], dim=0)  # the same noise twice
    with minigan.no_grad():
        x = G(z, np.array([3, 7]))
        assert x.device == device
        x = x.numpy()
        assert not np.allclose(x[0], x[1], atol=1e-4)
        same = Tensor(np.repeat(x[:1], 2, axis=0)).to(device)
        logits = D(same, minigan.tensor([3, 7], device=device)).numpy()
        assert logits[0] != logits[1]
        repeat = G(z, [3, 3]).numpy()
    np.testing.assert_allclose(repeat[0], repeat[1], atol=1e-6)


@pytest.mark.parametrize("model", CONDITIONAL)
def test_conditional_models_reject_missing_or_bad_labels(model):
    G, D = build(model, (1, 28, 28))
    z, x = noise(4, G.nz), Tensor(np.zeros((4, 1, 28, 28), np.float32))
    for player, inp in ((G, z), (D, x)):
        with pytest.raises(ValueError, match="conditional on 10 classes"):
            player(inp)
        with pytest.raises(ValueError, match=r"shape \(4,\)"):
            player(inp, np.zeros(3, np.int64))
        with pytest.raises(ValueError, match=r"\[0, 10\)"):
            player(inp, np.array([0, 1, 2, 10]))
        with pytest.raises(TypeError, match="integers"):
            player(inp, np.zeros(4, np.float32))


@pytest.mark.parametrize("model", ["mlp", "dcgan"])
def test_unconditional_models_ignore_labels(model):
    G, D = build(model, (1, 28, 28))
    G.eval()
    z = noise(2, G.nz)
    with minigan.no_grad():
        np.testing.assert_array_equal(G(z).numpy(), G(z, np.array([1, 2])).numpy())


def test_points_give_the_toy_mlps():
    minigan.manual_seed(0)
    G, D = build_gan("mlp", "points")
    assert isinstance(G, ToyGenerator) and isinstance(D, ToyDiscriminator)
    assert (G.nz, G.output_shape, G.num_classes, G.conditional) == (2, (2,), 0, False)
    assert D.input_shape == (2,) and not D.conditional
    assert [m.weight.shape for m in G.net if isinstance(m, nn.Linear)] == \
        [(256, 2), (256, 256), (256, 256), (2, 256)]  # the documented defaults
    assert [m.weight.shape for m in D.net if isinstance(m, nn.Linear)] == \
        [(256, 2), (256, 256), (256, 256), (1, 256)]
    out = D(G(noise(4, 2)))
    assert out.shape == (4,)
    out.sum().backward()
    assert all(p.grad is not None for p in G.parameters())
    G, _ = build_gan("mlp", "points", nz=8)
    assert G(noise(3, 8)).shape == (3, 2)


def test_build_gan_rejects_what_it_cannot_build():
    with pytest.raises(ValueError, match="mlp, dcgan, cmlp, cdcgan"):
        build_gan("wgan", "image", image_shape=(1, 28, 28))
    with pytest.raises(ValueError, match="'image', 'points'|image, points"):
        build_gan("mlp", "audio")
    for model in ("cmlp", "dcgan", "cdcgan"):
        with pytest.raises(ValueError, match="points"):
            build_gan(model, "points", num_classes=10)
    with pytest.raises(ValueError, match="image_shape"):
        build_gan("mlp", "image")
    with pytest.raises(ValueError, match="num_classes"):
        build_gan("cmlp", "image", image_shape=(1, 28, 28))
    with pytest.raises(ValueError, match="image_shape"):
        build_gan("dcgan", "image", image_shape=(28, 28))


def test_models_are_float32_on_the_cpu_and_move_together(device):
    G, D = build("cdcgan", (1, 28, 28))
    for p in list(G.parameters()) + list(D.parameters()) + list(G.buffers()):
        assert p.dtype == np.float32 and p.device == "cpu"
    G, D = G.to(device), D.to(device)
    labels = Tensor(np.array([0, 9]))
    out = D(G(noise(2, 100).to(device), labels), labels)
    assert out.device == device and out.shape == (2,)


def test_constructors_check_their_arguments():
    with pytest.raises(ValueError, match="nz"):
        MLPGenerator((1, 28, 28), nz=0)
    with pytest.raises(ValueError, match="num_classes"):
        MLPDiscriminator((1, 28, 28), num_classes=-1)
    with pytest.raises(ValueError, match="ngf"):
        DCGANGenerator((1, 28, 28), ngf=0)
    with pytest.raises(ValueError, match=r"\(N, 100\)"):
        DCGANGenerator((1, 28, 28))(noise(2, 50))
    with pytest.raises(ValueError, match=r"\(N, 1, 28, 28\)"):
        DCGANDiscriminator((1, 28, 28))(Tensor(np.zeros((2, 1, 32, 32), np.float32)))


def test_mlp_bn_eps_reaches_every_batchnorm():
    G = MLPGenerator((1, 28, 28), bn_eps=0.8)  # gan.py's accidental eps
    eps = [m.eps for m in G.modules() if isinstance(m, nn.BatchNorm1d)]
    assert eps == [0.8, 0.8, 0.8]
