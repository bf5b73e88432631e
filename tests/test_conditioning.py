"""Conditioning schemes (concat, acgan, projection) and nn.Embedding.

nn.Embedding against torch (values, gradients, gradients of gradients); each scheme's
losses and every gradient against a PyTorch twin on small D/G pairs in float64 (with the
GAN methods: loss pairs, penalties, spectral norm); a few training steps equal to the
twin; resume exactness per scheme; sample --label and eval per class; flag errors.
"""
import os
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import autograd, nn
from minigan.evaluation.metrics import label_accuracies
from minigan.evaluation.sampling import generator_from_checkpoint
from minigan.methods import make_conditioning, make_loss
from minigan.methods.penalties import gradient_penalty, r1_penalty
from minigan.models import build_gan
from minigan.nn import functional as F
from minigan.store.checkpoint import read_checkpoint
from minigan.tensor import Tensor
from minigan.training import TrainConfig, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # benchmarks/ (the twins) lives at the repository root

from benchmarks import quality, twins  # noqa: E402
from benchmarks import conditioning_twins as ctwins  # noqa: E402

SCHEMES = ("acgan", "projection")


def as_torch(torch, t):
    return torch.from_numpy(t.numpy().copy())


# ----------------------------------------------------------------------------- Embedding
def test_embedding_matches_torch_forward_and_gradient(torch, device):
    minigan.manual_seed(0)
    emb = nn.Embedding(5, 3).double().to(device)
    assert emb.weight.shape == (5, 3)
    twin = torch.nn.Embedding(5, 3).double()
    twin.weight.data = as_torch(torch, emb.weight)
    idx = np.array([[0, 4, 4], [2, 0, 4]])  # repeated rows: their gradients add up
    out, ref = emb(minigan.tensor(idx, device=device)), twin(torch.from_numpy(idx))
    assert out.shape == (2, 3, 3)
    np.testing.assert_array_equal(out.numpy(), ref.detach().numpy())
    g = np.random.default_rng(0).normal(size=(2, 3, 3))
    (out * minigan.tensor(g, device=device)).sum().backward()
    (ref * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(emb.weight.grad.numpy(), twin.weight.grad.numpy(), rtol=1e-12,
                               atol=1e-14)
    assert not np.any(emb.weight.grad.numpy()[[1, 3]])  # rows never picked get no gradient


def test_embedding_double_backward_matches_torch(torch, device):
    minigan.manual_seed(1)
    emb = nn.Embedding(4, 6).double().to(device)
    twin = torch.nn.Embedding(4, 6).double()
    twin.weight.data = as_torch(torch, emb.weight)
    idx = np.array([3, 1, 3, 0, 3])
    c = np.random.default_rng(1).normal(size=(5, 6))

    def f(e, w_like, cc):
        return (cc * e * e * e).sum()  # cubic: its second derivative depends on the weights

    g, = autograd.grad(f(emb(minigan.tensor(idx, device=device)), None,
                         minigan.tensor(c, device=device)), emb.weight, create_graph=True)
    (g * g).sum().backward()
    tg, = torch.autograd.grad(f(twin(torch.from_numpy(idx)), None, torch.from_numpy(c)),
                              twin.weight, create_graph=True)
    (tg * tg).sum().backward()
    np.testing.assert_allclose(g.numpy(), tg.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(emb.weight.grad.numpy(), twin.weight.grad.numpy(), rtol=1e-12)


def test_embedding_gradcheck():
    rng = np.random.default_rng(2)
    w = Tensor(rng.normal(size=(4, 3)), requires_grad=True)
    idx = np.array([1, 1, 3, 0])
    assert minigan.gradcheck(lambda w: F.embedding(idx, w) ** 3, (w,))


@pytest.mark.parametrize("args, error, message", [
    ((4, 0), ValueError, "embedding_dim must be an integer >= 1, got 0"),
    ((0, 3), ValueError, "num_embeddings must be an integer >= 1, got 0"),
])
def test_embedding_constructor_errors(args, error, message):
    with pytest.raises(error, match=message):
        nn.Embedding(*args)


def test_embedding_lookup_errors():
    emb = nn.Embedding(4, 2)
    with pytest.raises(IndexError, match=r"indices must be in \[0, 4\), got values from 0 to 4"):
        emb(np.array([0, 4]))
    with pytest.raises(TypeError, match="input must be an integer array"):
        emb(np.array([0.0, 1.0]))


# ----------------------------------------------------------------------------- the schemes
def small_pair(model, scheme, **spec):
    minigan.manual_seed(0)
    G, D = build_gan(model, "image", image_shape=(1, 8, 8), nz=6, num_classes=3,
                     conditioning=scheme, **spec)
    return G.double(), D.double()


def twin_pair(torch, G, D):
    return twins.torch_twin(G).double(), twins.torch_twin(D).double()


def grads(module):
    return {name: None if p.grad is None or not np.any(p.grad.numpy()) else p.grad.numpy()
            for name, p in module.named_parameters()}


def torch_grads(module):
    return {name: None if p.grad is None or not p.grad.abs().sum().item() else
            p.grad.numpy() for name, p in module.named_parameters()}


def assert_same_grads(mine, theirs):
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        if mine[name] is None or theirs[name] is None:
            assert mine[name] is None and theirs[name] is None, name
            continue
        np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-9, atol=1e-12,
                                   err_msg=name)


CASES = [  # (model, scheme, loss, penalty, build_gan extras)
    ("cmlp", "acgan", "gan", None, {}),
    ("cdcgan", "acgan", "gan", None, {}),
    ("cmlp", "projection", "gan", None, {}),
    ("cdcgan", "projection", "gan", None, {}),
    ("cmlp", "acgan", "hinge", None, {"spectral_norm": True}),
    ("cmlp", "projection", "hinge", None, {"spectral_norm": True}),
    ("cdcgan", "acgan", "wgan", "gp", {"d_batch_norm": False}),
    ("cdcgan", "projection", "lsgan", "r1", {"d_batch_norm": False}),
    ("cmlp", "acgan", "lsgan", "r1", {}),
]


@pytest.mark.parametrize("model, scheme, loss_name, penalty, extras", CASES)
def test_scheme_losses_and_gradients_match_torch(torch, model, scheme, loss_name, penalty,
                                                 extras):
    G, D = small_pair(model, scheme, **extras)
    tG, tD = twin_pair(torch, G, D)
    rng = np.random.default_rng(3)
    n = 4
    x, z = rng.uniform(-1, 1, size=(n, 1, 8, 8)), rng.normal(size=(n, 6))
    real_y, fake_y = np.array([0, 2, 1, 2]), np.array([1, 1, 0, 2])
    eps = rng.uniform(size=n)
    conditioning, loss = make_conditioning(scheme), make_loss(loss_name)
    # D's loss, as GANUpdater.discriminator_step
    real_logits, real_classes = conditioning.discriminate(D, Tensor(x), real_y)
    fake = G(Tensor(z), fake_y).detach()
    fake_logits, fake_classes = conditioning.discriminate(D, fake, fake_y)
    loss_d = conditioning.d_loss(loss.d_loss(real_logits, fake_logits), real_classes, real_y,
                                 fake_classes, fake_y)
    if penalty == "gp":
        loss_d = loss_d + gradient_penalty(D, Tensor(x), fake, real_y, Tensor(eps), 10.0)
    elif penalty == "r1":
        loss_d = loss_d + r1_penalty(D, Tensor(x), real_y, 0.5)
    loss_d.backward()
    tx, tz = torch.from_numpy(x), torch.from_numpy(z)
    treal_y, tfake_y = torch.from_numpy(real_y), torch.from_numpy(fake_y)
    t_real, t_real_c = ctwins.torch_discriminate(tD, tx, treal_y, scheme)
    t_fake_img = tG(tz, tfake_y).detach()
    t_fake, t_fake_c = ctwins.torch_discriminate(tD, t_fake_img, tfake_y, scheme)
    t_loss_d = twins.torch_d_loss(loss_name, t_real, t_fake) + ctwins.torch_d_extra(
        scheme, t_real_c, treal_y, t_fake_c, tfake_y)
    if penalty == "gp":
        t_loss_d = t_loss_d + twins.torch_gradient_penalty(tD, tx, t_fake_img, treal_y,
                                                           torch.from_numpy(eps), 10.0)
    elif penalty == "r1":
        t_loss_d = t_loss_d + twins.torch_r1_penalty(tD, tx, treal_y, 0.5)
    t_loss_d.backward()
    np.testing.assert_allclose(loss_d.item(), t_loss_d.item(), rtol=1e-12)
    np.testing.assert_allclose(fake.numpy(), t_fake_img.numpy(), rtol=1e-12, atol=1e-14)
    assert_same_grads(grads(D), torch_grads(tD))
    # G's loss, as GANUpdater.generator_step (its gradient flows back through D)
    D.zero_grad()
    tD.zero_grad()
    logits, classes = conditioning.discriminate(D, G(Tensor(z), fake_y), fake_y)
    loss_g = conditioning.g_loss(loss.g_loss(logits), classes, fake_y)
    loss_g.backward()
    t_logits, t_classes = ctwins.torch_discriminate(tD, tG(tz, tfake_y), tfake_y, scheme)
    t_loss_g = twins.torch_g_loss(loss_name, "non-saturating", t_logits) + \
        ctwins.torch_g_extra(scheme, t_classes, tfake_y)
    t_loss_g.backward()
    np.testing.assert_allclose(loss_g.item(), t_loss_g.item(), rtol=1e-12)
    assert_same_grads(grads(G), torch_grads(tG))


def test_acgan_losses_add_the_classification_terms():
    """On known class logits: D adds L_C(real) + L_C(fake), G adds L_C(fake)."""
    scheme = make_conditioning("acgan")
    logits = Tensor(np.log(np.array([[0.5, 0.25, 0.25], [0.1, 0.8, 0.1]])))
    y = np.array([0, 1])
    l_c = -(np.log(0.5) + np.log(0.8)) / 2
    np.testing.assert_allclose(scheme.d_loss(Tensor(np.array(1.0)), logits, y, logits, y).item(),
                               1.0 + 2 * l_c)
    np.testing.assert_allclose(scheme.g_loss(Tensor(np.array(1.0)), logits, y).item(), 1.0 + l_c)
    concat = make_conditioning("concat")
    assert concat.d_loss(3.0, logits, y, logits, y) == 3.0


def test_projection_output_is_psi_plus_the_class_projection():
    G, D = small_pair("cmlp", "projection")
    x = Tensor(np.random.default_rng(4).uniform(-1, 1, size=(3, 1, 8, 8)))
    y = np.array([0, 1, 2])
    layers = D.net.model
    h = layers[:-1](x.reshape(3, -1))
    expected = layers[-1](h).numpy().reshape(-1) + (D.embed.weight.numpy()[y] * h.numpy()).sum(1)
    np.testing.assert_allclose(D(x, y).numpy(), expected, rtol=1e-12)
    assert not any(isinstance(m, nn.BatchNorm1d) for m in G.modules())  # all conditional


def test_acgan_discriminator_does_not_read_the_label():
    _, D = small_pair("cdcgan", "acgan")
    x = Tensor(np.random.default_rng(5).uniform(-1, 1, size=(2, 1, 8, 8)))
    D.eval()
    np.testing.assert_array_equal(D(x, np.array([0, 0])).numpy(), D(x, np.array([2, 1])).numpy())
    adv, classes = D.forward_with_classes(x)
    assert classes.shape == (2, 3)
    np.testing.assert_array_equal(adv.numpy(), D(x).numpy())


# ----------------------------------------------------------------------------- training
SCHEME_RUNS = {  # name: TrainConfig fields; 2 steps equal PyTorch's in float64
    "cmlp-acgan": dict(model="cmlp", conditioning="acgan", batch_size=8),
    "cmlp-projection": dict(model="cmlp", conditioning="projection", batch_size=8),
    "cdcgan-acgan": dict(model="cdcgan", conditioning="acgan", batch_size=4, image_size=8),
    "cdcgan-projection": dict(model="cdcgan", conditioning="projection", batch_size=4,
                              image_size=8),
    "cmlp-acgan-hinge-sn-ema": dict(model="cmlp", conditioning="acgan", batch_size=8,
                                    loss="hinge", spectral_norm=True, ema=0.9),
    "cmlp-projection-wgan-gp-ttur": dict(model="cmlp", conditioning="projection",
                                         batch_size=8, loss="wgan", gp=10.0, d_steps=2,
                                         lr_d=4e-4, lr_g=1e-4),
    "cdcgan-projection-hinge-sn": dict(model="cdcgan", conditioning="projection",
                                       batch_size=4, image_size=8, loss="hinge",
                                       spectral_norm=True),
    "cdcgan-acgan-r1-clip": dict(model="cdcgan", conditioning="acgan", batch_size=4,
                                 image_size=8, loss="wgan", r1=1.0, clip=0.05),
}


@pytest.mark.parametrize("name", sorted(SCHEME_RUNS))
def test_scheme_trains_exactly_as_its_torch_twin_in_float64(torch, name):
    check = quality.exactness(TrainConfig(**SCHEME_RUNS[name]), steps=2)
    assert check["max_loss_diff"] < 1e-9, check
    assert check["max_param_diff"] < 1e-9, check


RESUME_RUNS = {
    "cmlp-acgan": dict(model="cmlp", conditioning="acgan", batch_size=8),
    "cmlp-projection-sn-ema": dict(model="cmlp", conditioning="projection", batch_size=8,
                                   spectral_norm=True, ema=0.9),
    "cdcgan-acgan-gp": dict(model="cdcgan", conditioning="acgan", batch_size=4,
                            image_size=8, loss="wgan", gp=10.0),
    "cdcgan-projection": dict(model="cdcgan", conditioning="projection", batch_size=4,
                              image_size=8),
}


@pytest.mark.parametrize("name", sorted(RESUME_RUNS))
def test_resumed_run_equals_the_uninterrupted_one(tmp_path, name, device):
    fields = dict(steps=4, sample_every=100, log_every=1, device=device, **RESUME_RUNS[name])
    train(TrainConfig(out=str(tmp_path / "straight"), **fields), progress=False)
    train(TrainConfig(out=str(tmp_path / "split"), **dict(fields, steps=2)), progress=False)
    train(TrainConfig(out=str(tmp_path / "split"), **fields), progress=False,
          resume=str(tmp_path / "split"))
    a = read_checkpoint(tmp_path / "straight").arrays
    b = read_checkpoint(tmp_path / "split").arrays
    assert sorted(a) == sorted(b)
    for key in a:
        assert np.array_equal(a[key], b[key]), key
    assert read_checkpoint(tmp_path / "split").model_spec["conditioning"] == \
        fields["conditioning"]


def test_concat_run_spec_has_no_conditioning_field(tmp_path):
    train(TrainConfig(model="cmlp", steps=1, batch_size=8, out=str(tmp_path)), progress=False)
    assert "conditioning" not in read_checkpoint(tmp_path).model_spec


# ----------------------------------------------------------------------------- command line
def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


@pytest.mark.parametrize("scheme", SCHEMES)
def test_sample_label_and_eval_per_class_work_for_each_scheme(tmp_path, scheme):
    out = run_cli("train", "--model", "cmlp", "--conditioning", scheme, "--steps", 2,
                  "--batch-size", 8, "--no-progress", "--out", tmp_path)
    assert out.returncode == 0, out.stderr
    G, _ = generator_from_checkpoint(tmp_path)
    assert type(G).__name__ == {"acgan": "ACGANGenerator",
                                "projection": "ProjectionGenerator"}[scheme]
    out = run_cli("sample", "--checkpoint", tmp_path, "--n", 6, "--label", 7, "--out",
                  tmp_path / "s.npy")
    assert out.returncode == 0, out.stderr
    assert np.load(tmp_path / "s.npy").shape == (6, 1, 28, 28)
    out = run_cli("eval", "--checkpoint", tmp_path, "--n", 40)
    assert out.returncode == 0, out.stderr
    import json
    scores = json.loads(out.stdout)
    per_class = [scores[f"label_accuracy_{k}"] for k in range(10)]
    assert scores["label_accuracy_worst"] == min(per_class)
    np.testing.assert_allclose(scores["label_accuracy"], np.mean(per_class))  # 4 per class


def test_label_accuracies_per_class_and_worst():
    out = label_accuracies(np.array([0, 0, 1, 2, 2, 1]), np.array([0, 0, 1, 1, 2, 2]))
    assert out == {"label_accuracy": 4 / 6, "label_accuracy_0": 1.0, "label_accuracy_1": 0.5,
                   "label_accuracy_2": 0.5, "label_accuracy_worst": 0.5}


@pytest.mark.parametrize("flags, message", [
    (["--conditioning", "acgan"], "--conditioning acgan needs a conditional model"),
    (["--model", "dcgan", "--conditioning", "projection"],
     "--conditioning projection needs a conditional model"),
    (["--model", "cmlp", "--conditioning", "auxiliary"], "invalid choice: 'auxiliary'"),
])
def test_bad_conditioning_flags_get_one_clear_line(tmp_path, flags, message):
    out = run_cli("train", "--steps", 1, "--out", tmp_path, *flags)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("minigan: error: ")
    assert message in out.stderr
    assert not os.path.exists(tmp_path / "checkpoints")


def test_build_gan_refuses_a_scheme_without_labels():
    with pytest.raises(ValueError, match="conditioning 'acgan' needs a conditional model"):
        build_gan("mlp", "image", image_shape=(1, 8, 8), conditioning="acgan")
    with pytest.raises(ValueError, match="unknown conditioning 'film'"):
        build_gan("cmlp", "image", image_shape=(1, 8, 8), num_classes=2, conditioning="film")


def test_conditioning_cannot_change_on_resume(tmp_path):
    train(TrainConfig(model="cmlp", steps=1, batch_size=8, out=str(tmp_path)), progress=False)
    out = run_cli("train", "--resume", tmp_path, "--steps", 2, "--conditioning", "acgan")
    assert out.returncode == 2
    assert "--conditioning acgan (the run has concat) cannot be changed when resuming" in out.stderr
