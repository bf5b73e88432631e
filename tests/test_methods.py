"""The GAN methods (minigan/methods, `minigan train --loss/--gp/--r1/--clip/--spectral-norm/
--ema/--lr-d/--lr-g`): each loss pair and penalty against PyTorch in float64 (values and
every weight's gradient), a few training steps of each method equal to its PyTorch twin,
resumed runs equal to uninterrupted ones bit for bit, the hooks, and the flags' errors."""
import dataclasses
import os
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import nn
from minigan.store.checkpoint import read_checkpoint
from minigan.methods import (EMA, LOSSES, WeightClipping, build_method, gradient_penalty,
                             make_loss, r1_penalty)
from minigan.evaluation.sampling import generator_from_checkpoint
from minigan.methods.losses import GANLoss
from minigan.models import DCGANDiscriminator, MLPDiscriminator, ToyDiscriminator, ToyGenerator
from minigan.models import build_gan
from minigan.training import TrainConfig, train

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)  # benchmarks/ (the twins) lives at the repository root

from benchmarks import quality, twins  # noqa: E402

LOSS_PAIRS = [("gan", "non-saturating"), ("gan", "saturating"), ("lsgan", None),
              ("hinge", None), ("wgan", None)]


def as_torch(torch, t):
    return torch.from_numpy(t.numpy().copy())


def grads(module):
    """{name: .grad as an array, or None}: a penalty does not reach D's last bias. Where
    the gradient is zero through the graph (the first bias, behind LeakyReLU's piecewise
    linear masks), PyTorch gives zeros and minigan may give None: both count as zero."""
    return {name: None if p.grad is None or not np.any(p.grad.numpy()) else p.grad.numpy()
            for name, p in module.named_parameters()}


def assert_same_grads(mine, theirs):
    assert sorted(mine) == sorted(theirs)
    for name in mine:
        if mine[name] is None or theirs[name] is None:
            assert mine[name] is None and theirs[name] is None, name
            continue
        np.testing.assert_allclose(mine[name], theirs[name], rtol=1e-10, atol=1e-12,
                                   err_msg=name)


def toy_pair():
    minigan.manual_seed(0)
    return ToyGenerator(nz=2, hidden=8, depth=2).double(), ToyDiscriminator(hidden=8,
                                                                            depth=2).double()


# ----------------------------------------------------------------------------- loss pairs
@pytest.mark.parametrize("name, g_loss", LOSS_PAIRS)
def test_loss_pair_values_and_gradients_match_torch(torch, name, g_loss):
    G, D = toy_pair()
    tG, tD = twins.torch_twin(G).double(), twins.torch_twin(D).double()
    gen = minigan.Generator("cpu", seed=1)
    x = minigan.randn(6, 2, dtype=np.float64, generator=gen)
    z = minigan.randn(6, 2, dtype=np.float64, generator=gen)
    loss = make_loss(name, g_loss or "non-saturating")

    loss_d = loss.d_loss(D(x), D(G(z).detach()))
    loss_d.backward()
    t_loss_d = twins.torch_d_loss(name, tD(as_torch(torch, x)), tD(tG(as_torch(torch, z))
                                                                    .detach()))
    t_loss_d.backward()
    assert abs(loss_d.item() - t_loss_d.item()) < 1e-12
    assert_same_grads(grads(D), grads(tD))

    D.zero_grad(), tD.zero_grad()
    loss_g = loss.g_loss(D(G(z)))
    loss_g.backward()
    t_loss_g = twins.torch_g_loss(name, g_loss, tD(tG(as_torch(torch, z))))
    t_loss_g.backward()
    assert abs(loss_g.item() - t_loss_g.item()) < 1e-12
    assert_same_grads(grads(G), grads(tG))


def test_loss_formulas_on_known_scores():
    real = minigan.tensor([2.0, -1.0], dtype=np.float64)
    fake = minigan.tensor([0.5, -3.0], dtype=np.float64)
    assert make_loss("wgan").d_loss(real, fake).item() == pytest.approx(-1.25 - 0.5)
    assert make_loss("hinge").d_loss(real, fake).item() == pytest.approx((0 + 2) / 2 +
                                                                         (1.5 + 0) / 2)
    assert make_loss("hinge").g_loss(fake).item() == pytest.approx(1.25)
    assert make_loss("lsgan").d_loss(real, fake).item() == pytest.approx(
        0.5 * (1 + 4) / 2 + 0.5 * (0.25 + 9) / 2)
    assert make_loss("lsgan").g_loss(fake).item() == pytest.approx(0.5 * (0.25 + 16) / 2)


# ----------------------------------------------------------------------------- penalties
def critics():
    """Small Ds of each kind a penalty meets: the toy MLP, the MLP on images, DCGAN's critic
    (no BatchNorm, as with --gp/--r1), and DCGAN's critic with spectral norm."""
    minigan.manual_seed(2)
    return {"toy": (ToyDiscriminator(hidden=8, depth=2), (2,)),
            "mlp": (MLPDiscriminator((1, 4, 4)), (1, 4, 4)),
            "dcgan": (DCGANDiscriminator((1, 8, 8), ndf=4, batch_norm=False), (1, 8, 8)),
            "dcgan-sn": (nn.utils.apply_spectral_norm(
                DCGANDiscriminator((1, 8, 8), ndf=4, batch_norm=False)), (1, 8, 8))}


@pytest.mark.parametrize("critic", ["toy", "mlp", "dcgan", "dcgan-sn"])
@pytest.mark.parametrize("penalty", ["gp", "r1"])
def test_penalty_value_and_weight_gradients_match_torch(torch, critic, penalty):
    D, shape = critics()[critic]
    D = D.double()
    tD = twins.torch_twin(D).double()
    gen = minigan.Generator("cpu", seed=3)
    real = minigan.randn(5, *shape, dtype=np.float64, generator=gen)
    fake = minigan.randn(5, *shape, dtype=np.float64, generator=gen)
    eps = minigan.rand(5, dtype=np.float64, generator=gen)
    if penalty == "gp":
        value = gradient_penalty(D, real, fake, None, eps, 10.0)
        t_value = twins.torch_gradient_penalty(tD, as_torch(torch, real), as_torch(torch, fake),
                                               None, as_torch(torch, eps), 10.0)
    else:
        value = r1_penalty(D, real, None, 3.0)
        t_value = twins.torch_r1_penalty(tD, as_torch(torch, real), None, 3.0)
    value.backward()
    t_value.backward()
    assert value.item() > 0
    assert abs(value.item() - t_value.item()) <= 1e-10 * abs(t_value.item())
    assert_same_grads(grads(D), grads(tD))


def test_gradient_penalty_flattens_each_example_before_the_norm():
    """D(x) = sum(a * x) has grad a for every example: the penalty is (||a|| - 1)^2 with the
    norm over all of an example's pixels (not per row of the image: PyTorch-GAN #20)."""
    class Linear2d(nn.Module):
        def __init__(self, a):
            super().__init__()
            self.a = nn.Parameter(a)

        def forward(self, x, labels=None):
            return (x * self.a).sum(axis=(1, 2, 3))

    a = np.full((1, 1, 3, 4), 0.5)  # ||a|| = sqrt(12 * 0.25) = sqrt(3)
    D = Linear2d(a)
    real = minigan.randn(4, 1, 3, 4, dtype=np.float64)
    fake = minigan.randn(4, 1, 3, 4, dtype=np.float64)
    eps = minigan.rand(4, dtype=np.float64)
    value = gradient_penalty(D, real, fake, None, eps, 2.0).item()
    assert value == pytest.approx(2.0 * (3 ** 0.5 - 1) ** 2)
    assert r1_penalty(D, real, None, 4.0).item() == pytest.approx(4.0 / 2 * 3)


def test_gradient_penalty_is_taken_where_x_hat_lies():
    """D(x) = sum(x^2) / 2 has grad x: the penalty reads ||x_hat|| of each example, so it
    sees where x_hat = eps * real + (1 - eps) * fake lies (a linear D, whose gradient is the
    same everywhere, cannot: swapping eps and 1 - eps, or using real alone, passes it)."""
    class Quadratic(nn.Module):
        def forward(self, x, labels=None):
            return (x * x).sum(axis=(1, 2, 3)) / 2

    gen = minigan.Generator("cpu", seed=4)
    real = minigan.randn(5, 1, 3, 4, dtype=np.float64, generator=gen)
    fake = minigan.randn(5, 1, 3, 4, dtype=np.float64, generator=gen) * 0.2
    eps = minigan.rand(5, dtype=np.float64, generator=gen)

    def expected(e):
        x_hat = e[:, None, None, None] * real.numpy() + (1 - e[:, None, None, None]) * fake.numpy()
        return 2.0 * np.mean((np.sqrt((x_hat ** 2).reshape(5, -1).sum(axis=1)) - 1) ** 2)

    value = gradient_penalty(Quadratic(), real, fake, None, eps, 2.0).item()
    assert value == pytest.approx(expected(eps.numpy()), rel=1e-12)
    assert value != pytest.approx(expected(1 - eps.numpy()), rel=1e-3)  # the test can fail


# ----------------------------------------------------------------------------- hooks
def test_ema_hook_moves_towards_g_and_copies_buffers():
    minigan.manual_seed(0)
    G, _ = build_gan("mlp", "image", (1, 4, 4), nz=3)
    G_ema, _ = build_gan("mlp", "image", (1, 4, 4), nz=3)
    before = {k: v.copy() for k, v in G_ema.state_dict().items()}
    hook = EMA(G, G_ema, 0.9)
    hook()
    params = dict(G.named_parameters())
    for name, p in G_ema.named_parameters():
        expected = 0.9 * before[name] + (1 - 0.9) * params[name].numpy()
        np.testing.assert_allclose(p.numpy(), expected, rtol=1e-6, atol=1e-7)
    buffers = dict(G.named_buffers())
    for name, b in G_ema.named_buffers():
        np.testing.assert_array_equal(b.numpy(), buffers[name].numpy())


def test_weight_clipping_bounds_every_weight_of_d():
    _, D = toy_pair()
    WeightClipping(D, 0.01)()
    for p in D.parameters():
        assert np.abs(p.numpy()).max() <= 0.01


# ----------------------------------------------------------------------------- training twins
METHOD_RUNS = {  # name: TrainConfig fields; 2-3 steps of each equal PyTorch's in float64
    "lsgan": dict(dataset="ring8", loss="lsgan"),
    "hinge-sn": dict(dataset="ring8", loss="hinge", spectral_norm=True),
    "wgan-clip": dict(dataset="ring8", loss="wgan", clip=0.01, d_steps=3),
    "wgan-gp": dict(dataset="ring8", loss="wgan", gp=0.1, d_steps=3),
    "r1-ema-ttur": dict(dataset="ring8", r1=1.0, ema=0.9, lr_d=4e-3, lr_g=1e-3),
    "saturating-ema": dict(dataset="grid25", g_loss="saturating", ema=0.5),
    "dcgan-wgan-gp": dict(model="dcgan", batch_size=4, loss="wgan", gp=10.0, d_steps=2),
    "cdcgan-hinge-sn-ema": dict(model="cdcgan", batch_size=4, loss="hinge",
                                spectral_norm=True, ema=0.9),
    "cmlp-lsgan-r1": dict(model="cmlp", batch_size=8, loss="lsgan", r1=0.5),
    "mlp-wgan-clip-ttur": dict(model="mlp", batch_size=8, loss="wgan", clip=0.05, lr_d=1e-3),
}


@pytest.mark.parametrize("name", sorted(METHOD_RUNS))
def test_method_trains_exactly_as_its_torch_twin_in_float64(torch, name):
    check = quality.exactness(TrainConfig(**METHOD_RUNS[name]), steps=2)
    assert check["max_loss_diff"] < 1e-9, check
    assert check["max_param_diff"] < 1e-9, check


# ----------------------------------------------------------------------------- resume
RESUME_RUNS = {
    "lsgan-ema": dict(dataset="ring8", loss="lsgan", ema=0.9),
    "hinge-sn-ttur": dict(dataset="ring8", loss="hinge", spectral_norm=True, lr_d=4e-3),
    "wgan-clip": dict(dataset="ring8", loss="wgan", clip=0.01, d_steps=2),
    "wgan-gp": dict(dataset="ring8", loss="wgan", gp=0.1, d_steps=2),
    "r1": dict(dataset="ring8", r1=1.0),
    "dcgan-gp-sn-ema": dict(model="dcgan", batch_size=4, loss="wgan", gp=10.0,
                            spectral_norm=True, ema=0.99),
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
    if "ema" in fields:
        assert any(k.startswith("G_ema/") for k in a)
    if fields.get("spectral_norm"):
        assert any(k.endswith("weight_u") for k in a)


# ----------------------------------------------------------------------------- the run
def test_a_penalty_builds_dcgan_critic_without_batchnorm(tmp_path):
    train(TrainConfig(model="dcgan", batch_size=4, steps=1, gp=10.0, out=str(tmp_path)),
          progress=False)
    ckpt = read_checkpoint(tmp_path)
    assert ckpt.model_spec["d_batch_norm"] is False
    assert not any("running_mean" in k for k in ckpt.section("D"))
    assert any("running_mean" in k for k in ckpt.section("G"))  # G keeps its BatchNorm


def test_default_run_spec_has_no_method_fields(tmp_path):
    train(TrainConfig(dataset="ring8", steps=1, out=str(tmp_path)), progress=False)
    ckpt = read_checkpoint(tmp_path)
    assert "d_batch_norm" not in ckpt.model_spec and "spectral_norm" not in ckpt.model_spec
    assert not ckpt.has_ema


def test_optimizers_keep_their_own_learning_rates(tmp_path):
    train(TrainConfig(dataset="ring8", steps=1, lr_d=4e-3, lr_g=1e-4, out=str(tmp_path)),
          progress=False)
    ckpt = read_checkpoint(tmp_path)
    assert '"lr": 0.0001' in str(ckpt.arrays["optG/param_groups"])
    assert '"lr": 0.004' in str(ckpt.arrays["optD/param_groups"])


def run_cli(*args):
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def test_sample_and_eval_use_the_ema_generator_and_say_so(tmp_path):
    train(TrainConfig(dataset="ring8", steps=3, ema=0.5, out=str(tmp_path)), progress=False)
    G, ckpt = generator_from_checkpoint(tmp_path)
    ema = ckpt.section("G_ema")
    for name, value in G.state_dict().items():
        np.testing.assert_array_equal(value, ema[name])
    assert not all(np.array_equal(ema[k], v) for k, v in ckpt.section("G").items())
    out = run_cli("sample", "--checkpoint", tmp_path, "--n", 10, "--out", tmp_path / "s.npy")
    assert out.returncode == 0 and "EMA generator, decay 0.5" in out.stdout
    out = run_cli("eval", "--checkpoint", tmp_path, "--n", 50)
    assert out.returncode == 0 and "EMA generator, decay 0.5" in out.stderr
    assert out.stdout.count("\n") == 1  # still one JSON line on stdout


@pytest.mark.parametrize("flags, message", [
    (["--ema", "1"], "--ema must be a finite number > 0 and < 1"),
    (["--ema", "0"], "--ema must be a finite number > 0 and < 1"),
    (["--gp", "-1"], "--gp must be a finite number >= 0"),
    (["--r1", "nan"], "--r1 must be a finite number >= 0"),
    (["--loss", "wasserstein"], "invalid choice: 'wasserstein'"),
    (["--clip", "0"], "--clip must be a finite number > 0"),
    (["--lr-g=-2e-4"], "--lr-g must be a finite number > 0"),
    (["--gp", "10", "--r1", "1"], "give --gp or --r1, not both"),
    (["--loss", "hinge", "--g-loss", "saturating"], "--g-loss saturating applies to --loss gan"),
])
def test_bad_method_flags_get_one_clear_line(tmp_path, flags, message):
    out = run_cli("train", "--steps", 1, "--out", tmp_path, *flags)
    assert out.returncode == 2
    assert out.stderr.count("\n") == 1 and out.stderr.startswith("minigan: error: ")
    assert message in out.stderr
    assert not os.path.exists(tmp_path / "checkpoints")


def test_method_settings_cannot_change_on_resume(tmp_path):
    train(TrainConfig(dataset="ring8", steps=1, loss="wgan", gp=0.1, out=str(tmp_path)),
          progress=False)
    out = run_cli("train", "--resume", tmp_path, "--steps", 2, "--loss", "hinge")
    assert out.returncode == 2
    assert "--loss hinge (the run has wgan) cannot be changed when resuming" in out.stderr
    out = run_cli("train", "--resume", tmp_path, "--steps", 2, "--loss", "wgan", "--gp", 0.1,
                  "--no-progress")  # the command repeated with its saved values
    assert out.returncode == 0, out.stderr


def test_default_method_is_the_original_gan_with_no_penalty_or_hooks():
    method = build_method(TrainConfig(), None, None)
    assert isinstance(method.loss, GANLoss) and not method.loss.saturating
    assert method.penalty is None and method.after_d_step == [] and method.after_g_step == []


def test_config_without_method_fields_reads_as_the_original_gan():
    old = {k: v for k, v in dataclasses.asdict(TrainConfig()).items()
           if k not in ("loss", "gp", "r1", "clip", "spectral_norm", "ema", "lr_d", "lr_g")}
    config = TrainConfig.from_dict(old)
    assert (config.loss, config.gp, config.ema, config.spectral_norm) == ("gan", 0.0, None,
                                                                           False)
    assert tuple(LOSSES) == ("gan", "lsgan", "hinge", "wgan")  # LOSSES maps names to classes
