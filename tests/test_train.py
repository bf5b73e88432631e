"""Training: every model and kind of data runs, runs repeat bit for bit, resume is exact."""
import gzip
import json
import os
import signal

import numpy as np
import pytest
from PIL import Image

import minigan
from minigan.data import datasets as data
from minigan.store import images
from minigan.evaluation import sampling
from minigan import training
from minigan.store.checkpoint import read_checkpoint
from minigan.training import NonFiniteLossError, TrainConfig, TrainingInterrupted
from minigan.training.updater import GANUpdater


def tiny(out, **changes):
    """A run of a few steps on tiny batches, writing everything every step."""
    settings = dict(steps=2, batch_size=4, sample_every=1, checkpoint_every=100, log_every=1,
                    out=str(out))
    settings.update(changes)
    return TrainConfig(**settings)


def metrics_lines(out, drop=("time",)):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k not in drop} for line in f]


def checkpoint_arrays(out):
    return read_checkpoint(out).arrays


def assert_same_arrays(a, b):
    assert a.keys() == b.keys()
    for key in a:
        assert a[key].dtype == b[key].dtype and np.array_equal(a[key], b[key]), key


def assert_run_files(out, steps, sample_every=1):
    for name in ("metrics.jsonl", "samples.gif", "losses.png", "checkpoints/last.npz"):
        assert os.path.isfile(os.path.join(out, name)), name
    grids = sorted(os.listdir(os.path.join(out, "samples")))
    assert grids == [f"step_{s:06d}.png" for s in range(1, steps + 1)
                     if s % sample_every == 0 or s == steps]
    lines = metrics_lines(out)
    assert [line["step"] for line in lines] == list(range(1, steps + 1))
    for line in lines:
        assert all(np.isfinite(line[k]) for k in ("loss_d", "loss_g", "d_real", "d_fake"))
        assert 0 <= line["d_real"] <= 1 and 0 <= line["d_fake"] <= 1
    assert read_checkpoint(out).step == steps


def samples_of(out, n=6, label=None):
    G, _ = sampling.generator_from_checkpoint(out)
    return sampling.draw_samples(G, n, seed=0, device="cpu", label=label)[0]


def small(out, folder, **changes):
    """tiny(), on the 8 pictures at 8x8: small models, and an epoch is 2 batches of 4."""
    return tiny(out, dataset=f"folder:{folder}", image_size=8, **changes)


@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    """Eight small RGB PNGs of different sizes."""
    folder = tmp_path_factory.mktemp("pictures")
    rng = np.random.default_rng(0)
    for i in range(8):
        pixels = rng.integers(0, 256, (12 + i, 10 + 2 * i, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(folder / f"picture_{i}.png")
    return folder


@pytest.mark.parametrize("model", ["mlp", "dcgan", "cmlp", "cdcgan"])
def test_each_model_trains_on_digits(tmp_path, model):
    summary = training.train(tiny(tmp_path, model=model), progress=False)
    assert summary["step"] == 2 and np.isfinite(summary["loss_d"] + summary["loss_g"])
    assert_run_files(tmp_path, 2)
    x = samples_of(tmp_path)
    assert x.shape == (6, 1, 28, 28) and x.dtype == np.float32
    assert -1 <= x.min() and x.max() <= 1


def test_folder_of_images_trains_at_a_chosen_size(tmp_path, image_folder):
    training.train(tiny(tmp_path, dataset=f"folder:{image_folder}", image_size=8), progress=False)
    assert_run_files(tmp_path, 2)
    x = samples_of(tmp_path)
    assert x.shape == (6, 3, 8, 8) and -1 <= x.min() and x.max() <= 1


@pytest.mark.parametrize("dataset", ["ring8", "grid25"])
def test_two_dimensional_mixtures_train_and_plot_points(tmp_path, dataset):
    training.train(tiny(tmp_path, dataset=dataset, steps=3, sample_every=2), progress=False)
    assert_run_files(tmp_path, 3, sample_every=2)
    with Image.open(tmp_path / "samples" / "step_000002.png") as img:
        assert img.mode == "RGB"  # a scatter plot, not an image grid
    assert samples_of(tmp_path).shape == (6, 2)


def write_idx(path, array):
    """array (uint8) as a gzipped IDX file: magic 0 0 8 ndim, big-endian sizes, bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(n).to_bytes(4, "big")
                                                     for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.tobytes())


@pytest.mark.parametrize("name", ["mnist", "fashion-mnist"])
def test_full_mnists_train_from_a_prepared_cache(tmp_path, monkeypatch, name):
    cache = tmp_path / "cache" / name
    cache.mkdir(parents=True)
    rng = np.random.default_rng(1)
    write_idx(cache / "train-images-idx3-ubyte.gz", rng.integers(0, 256, (12, 28, 28), np.uint8))
    write_idx(cache / "train-labels-idx1-ubyte.gz", rng.integers(0, 10, 12, np.uint8))
    base_url, _ = data.IDX_SOURCES[name]  # a fake cache: trust these files' own hashes
    hashes = {f: data.sha256_of(cache / f) for f in os.listdir(cache)}
    monkeypatch.setitem(data.IDX_SOURCES, name, (base_url, hashes))
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    training.train(tiny(tmp_path / "run", dataset=name, model="cmlp", image_size=8), progress=False)
    assert_run_files(tmp_path / "run", 2)


def test_two_runs_with_one_seed_are_bit_identical(tmp_path, image_folder):
    for run in ("a", "b"):
        training.train(small(tmp_path / run, image_folder, steps=3), progress=False)
    assert_same_arrays(checkpoint_arrays(tmp_path / "a"), checkpoint_arrays(tmp_path / "b"))
    assert metrics_lines(tmp_path / "a") == metrics_lines(tmp_path / "b")
    for step in (1, 2, 3):
        name = os.path.join("samples", f"step_{step:06d}.png")
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()
    training.train(small(tmp_path / "c", image_folder, steps=3, seed=1), progress=False)
    assert not np.array_equal(checkpoint_arrays(tmp_path / "a")["G/model.0.weight"],
                              checkpoint_arrays(tmp_path / "c")["G/model.0.weight"])


@pytest.mark.parametrize("model", ["mlp", "cmlp"])
def test_resume_reproduces_the_uninterrupted_run(tmp_path, image_folder, model):
    """4 steps straight == 2 steps, then resume to 4: every array and every logged number.
    mlp: 2 discriminator steps per step on 8 pictures in batches of 4, so every step
    crosses into a new epoch; cmlp: digits with their labels."""
    if model == "mlp":
        run = lambda out, **c: small(out, image_folder, d_steps=2, sample_every=3, **c)  # noqa
    else:
        run = lambda out, **c: tiny(out, model="cmlp", image_size=8, sample_every=3, **c)  # noqa
    training.train(run(tmp_path / "straight", steps=4), progress=False)
    training.train(run(tmp_path / "split", steps=2), progress=False)
    config, path = training.config_for_resume(tmp_path / "split", steps=4)
    assert config.out == str(tmp_path / "split")
    training.train(config, progress=False, resume=path)
    assert_same_arrays(checkpoint_arrays(tmp_path / "straight"),
                       checkpoint_arrays(tmp_path / "split"))
    assert metrics_lines(tmp_path / "straight") == metrics_lines(tmp_path / "split")
    assert sorted(os.listdir(tmp_path / "split" / "samples")) == \
        ["step_000002.png", "step_000003.png", "step_000004.png"]


def test_every_device_trains_and_resumes_exactly(tmp_path, device):
    """The conftest's devices: "cpu", and "cuda" where a GPU is seen (noise, labels and
    data order are then drawn and indexed on the GPU)."""
    run = lambda out, **c: tiny(out, model="cmlp", image_size=8, device=device,  # noqa
                                sample_every=5, **c)
    training.train(run(tmp_path / "straight", steps=3), progress=False)
    training.train(run(tmp_path / "split", steps=2), progress=False)
    config, path = training.config_for_resume(tmp_path / "split", steps=3)
    assert config.device == device
    training.train(config, progress=False, resume=path)
    assert_same_arrays(checkpoint_arrays(tmp_path / "straight"),
                       checkpoint_arrays(tmp_path / "split"))


def test_saturating_generator_loss_is_log_one_minus_d(tmp_path):
    training.train(tiny(tmp_path, dataset="ring8", g_loss="saturating"), progress=False)
    for line in metrics_lines(tmp_path):
        assert line["loss_g"] < 0  # mean log(1 - D(G(z))) is negative
        assert line["loss_g"] == pytest.approx(np.log1p(-line["d_fake"]), abs=0.2)


def test_resume_refuses_settings_that_would_change_the_run(tmp_path, image_folder):
    training.train(small(tmp_path, image_folder, steps=1), progress=False)
    with pytest.raises(ValueError, match="--lr cannot be changed when resuming"):
        training.config_for_resume(tmp_path, lr=0.1)
    config, path = training.config_for_resume(tmp_path, steps=1)
    with pytest.raises(ValueError, match="already reaches --steps 1"):
        training.train(config, progress=False, resume=path)


def test_epochs_become_steps(tmp_path, image_folder):
    summary = training.train(small(tmp_path, image_folder, steps=None, epochs=1.5), progress=False)
    assert summary["steps"] == 3  # 8 pictures: 2 batches of 4 per epoch, 1.5 epochs = 3 steps


def test_eval_every_adds_metrics_to_the_log(tmp_path):
    training.train(tiny(tmp_path, dataset="ring8", steps=2, eval_every=2), progress=False)
    lines = metrics_lines(tmp_path)
    assert "modes" not in lines[0] and 0 <= lines[1]["modes"] <= 8


def test_failing_metrics_turn_eval_off_without_stopping_training(tmp_path, monkeypatch,
                                                                 capsys):
    from minigan.evaluation import metrics

    def no_classifier(*args, **kwargs):
        raise FileNotFoundError("digit_classifier.npz is missing")

    monkeypatch.setattr(metrics, "evaluate_samples", no_classifier)
    summary = training.train(tiny(tmp_path, dataset="ring8", steps=3, eval_every=1), progress=False)
    assert summary["step"] == 3
    assert "digit_classifier.npz is missing" in capsys.readouterr().err
    assert [line["step"] for line in metrics_lines(tmp_path)] == [1, 2, 3]


def test_sampling_in_eval_mode_does_not_depend_on_the_batch(tmp_path, image_folder):
    training.train(small(tmp_path, image_folder, steps=2), progress=False)
    G, _ = sampling.generator_from_checkpoint(tmp_path)
    z = minigan.randn(9, G.nz, generator=minigan.Generator("cpu", seed=5))
    batch = sampling.generate(G, z)
    alone = sampling.generate(G, z[4:5])
    np.testing.assert_allclose(alone[0], batch[4], rtol=0, atol=1e-6)
    assert not G.training


def poison_discriminator_at(monkeypatch, bad_step):
    """From step `bad_step` on, D's first weight is NaN, so its losses are NaN."""
    original = GANUpdater.update

    def update(self, step):
        if step == bad_step:
            first = next(self.D.parameters())
            first.data[...] = np.nan
        return original(self, step)

    monkeypatch.setattr(GANUpdater, "update", update)


def test_non_finite_loss_stops_naming_the_step_and_keeps_the_good_checkpoint(
        tmp_path, image_folder, monkeypatch):
    poison_discriminator_at(monkeypatch, 3)
    config = small(tmp_path, image_folder, steps=5, checkpoint_every=1, log_every=5,
                   sample_every=5)
    with pytest.raises(NonFiniteLossError, match="at step 3.*last good checkpoint"):
        training.train(config, progress=False)
    ckpt = read_checkpoint(tmp_path)
    assert ckpt.step == 2
    assert all(np.isfinite(v).all() for k, v in ckpt.arrays.items() if v.dtype.kind == "f")


def test_skip_nonfinite_skips_the_updates_and_finishes(tmp_path, image_folder, monkeypatch):
    poison_discriminator_at(monkeypatch, 2)
    summary = training.train(small(tmp_path, image_folder, steps=3, skip_nonfinite=True),
                          progress=False)
    assert summary["step"] == 3 and summary["skipped_updates"] == 4  # D and G, steps 2 and 3
    G = read_checkpoint(tmp_path).section("G")
    assert all(np.isfinite(v).all() for v in G.values())


def test_ctrl_c_saves_the_finished_step_and_the_run_resumes_exactly(tmp_path, image_folder,
                                                                    monkeypatch):
    save_grid = images.save_image_grid

    def press_ctrl_c_at_step_2(samples, path, nrow=None):
        save_grid(samples, path, nrow=nrow)
        if path.endswith("step_000002.png"):
            os.kill(os.getpid(), signal.SIGINT)  # lands in train's handler: stop after this step

    monkeypatch.setattr(images, "save_image_grid", press_ctrl_c_at_step_2)
    handler_before = signal.getsignal(signal.SIGINT)  # SIG_IGN when CI runs us in the background
    with pytest.raises(TrainingInterrupted, match="interrupted after step 2") as info:
        training.train(small(tmp_path / "split", image_folder, steps=4), progress=False)
    assert info.value.step == 2 and read_checkpoint(tmp_path / "split").step == 2
    monkeypatch.setattr(images, "save_image_grid", save_grid)
    assert signal.getsignal(signal.SIGINT) is handler_before  # train restored the handler
    config, path = training.config_for_resume(tmp_path / "split", steps=4)
    training.train(config, progress=False, resume=path)
    training.train(small(tmp_path / "straight", image_folder, steps=4), progress=False)
    assert_same_arrays(checkpoint_arrays(tmp_path / "straight"),
                       checkpoint_arrays(tmp_path / "split"))


@pytest.mark.parametrize("changes,message", [
    (dict(batch_size=0), "batch-size must be an integer >= 1"),
    (dict(steps=0), "steps must be an integer >= 1"),
    (dict(lr=float("nan")), "lr must be a finite positive number"),
    (dict(lr=-1.0), "lr must be a finite positive number"),
    (dict(lr=float("inf")), "lr must be a finite positive number"),
    (dict(beta1=1.0), r"beta1 must be in \[0, 1\)"),
    (dict(d_steps=0), "d-steps must be an integer >= 1"),
    (dict(model="vae"), "unknown model 'vae'"),
    (dict(dataset="cifar"), "unknown dataset 'cifar'"),
    (dict(g_loss="wasserstein"), "unknown g_loss"),
    (dict(model="dcgan", image_size=20), "image size 20x20 is not supported"),
    (dict(model="dcgan", dataset="ring8"), "for the 2-D dataset ring8 use --model mlp"),
    (dict(model="cmlp", dataset="folder:x"), "conditional, but folder:x has no labels"),
    (dict(dataset="ring8", image_size=28), "2-D points"),
    (dict(channels=2), "channels must be 1"),
    (dict(steps=3, epochs=1), "not both"),
    (dict(seed=-1), "seed must be an integer >= 0"),
])
def test_bad_settings_are_clear_value_errors(changes, message):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**changes).validate()


def test_batch_larger_than_the_dataset_is_refused(tmp_path, image_folder):
    with pytest.raises(ValueError, match="batch size 9 is larger than the dataset"):
        training.train(tiny(tmp_path, dataset=f"folder:{image_folder}", image_size=8,
                         batch_size=9), progress=False)


@pytest.mark.skipif(minigan.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_a_device_error():
    with pytest.raises(minigan.DeviceError):
        TrainConfig(device="cuda").validate()


def test_batch_size_and_lr_defaults_depend_on_the_data_kind():
    """2-D points get the settings tuned on ring8; images keep DCGAN's; given values stay."""
    assert (training.TrainConfig().batch_size, training.TrainConfig().lr) == (64, 2e-4)
    for name in ("ring8", "grid25"):
        config = training.TrainConfig(dataset=name)
        assert (config.batch_size, config.lr) == (256, 1e-3)
    config = training.TrainConfig(dataset="ring8", batch_size=32, lr=5e-4)
    assert (config.batch_size, config.lr) == (32, 5e-4)
    saved = training.TrainConfig.from_dict(training.TrainConfig(dataset="ring8").to_dict())
    assert (saved.batch_size, saved.lr) == (256, 1e-3)
