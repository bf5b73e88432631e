"""The scripts of tests/compat_scripts, run unchanged under PyTorch and under
`python -m minigan.compat`, from the same initial weights, batches and noise (twin.py injects
them): their losses agree step by step (float64: 1e-10; float32: 1e-4). A script PyTorch
refuses, minigan refuses the same way. Without the twin injection, each also runs alone
on minigan from torchvision's datasets (the bundled digits, FakeData, an image folder)."""
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

import minigan
from conftest import require_extra, require_torch

SCRIPTS = os.path.join(os.path.dirname(__file__), "compat_scripts")
ROOT = os.path.dirname(os.path.dirname(minigan.__file__))
TOLERANCE = {False: 1e-4, True: 1e-10}  # float32, float64
N_IMAGES = 48

# script, image size, arguments (small models, a few steps, Dropout2d's p 0: its masks are
# drawn by each engine's own generator)
CASES = {
    "gan": ("gan.py", 28, ["--n_epochs", "1", "--batch_size", "16", "--hidden", "32",
                           "--latent_dim", "16"]),
    "dcgan": ("dcgan.py", 16, ["--n_epochs", "1", "--batch_size", "16", "--img_size", "16",
                               "--width", "4", "--latent_dim", "16", "--dropout", "0"]),
    "wgan": ("wgan.py", 28, ["--n_epochs", "1", "--batch_size", "8", "--n_critic", "2",
                             "--hidden", "32", "--latent_dim", "16"]),
    "wgan_gp": ("wgan_gp.py", 28, ["--n_epochs", "1", "--batch_size", "8", "--n_critic", "2",
                                   "--hidden", "32", "--latent_dim", "16"]),
    "acgan": ("acgan.py", 16, ["--n_epochs", "1", "--batch_size", "16", "--img_size", "16",
                               "--width", "4", "--latent_dim", "16", "--dropout", "0"]),
    "dcgan_examples": ("dcgan_examples.py", 16, [
        "--dataset", "mnist", "--dataroot", "unused", "--imageSize", "16", "--ngf", "8",
        "--ndf", "8", "--nz", "16", "--batchSize", "16", "--niter", "1", "--outf", "out"]),
}


def _digits(folder, size):
    """The first N_IMAGES bundled digits, resized as transforms.Resize does, in [-1, 1]."""
    with np.load(os.path.join(os.path.dirname(minigan.__file__), "assets", "mnist_5k.npz")) as npz:
        pixels, labels = npz["images"][:N_IMAGES], npz["labels"][:N_IMAGES]
    if size != 28:
        pixels = np.stack([np.asarray(Image.fromarray(p).resize((size, size),
                                                                Image.Resampling.BILINEAR))
                           for p in pixels])
    images = (pixels.astype(np.float32) / 255 - 0.5) / 0.5                # ToTensor, Normalize
    np.save(folder / "images.npy", images[:, None])                        # (N, 1, H, W)
    np.save(folder / "labels.npy", labels.astype(np.int64))


def _run(folder, engine, script, args, twin=True):
    env = dict(os.environ)
    if twin:
        env["TWIN_DIR"] = str(folder)
    if engine == "torch":
        paths = [ROOT]
        try:
            import torchvision  # noqa: F401
        except ImportError:  # CI installs torch alone: the scripts' imports need a stand-in
            paths.insert(0, os.path.join(SCRIPTS, "torch_stubs"))
        env["PYTHONPATH"] = os.pathsep.join(paths)
        command = [sys.executable, os.path.join(SCRIPTS, script), *args]
    else:
        env["PYTHONPATH"] = ROOT
        command = [sys.executable, "-m", "minigan.compat", *(["--bundled-digits"] if not twin
                                                             else []),
                   os.path.join(SCRIPTS, script), *args]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True,
                          timeout=300)


def _losses(folder, engine):
    with open(folder / f"losses.{engine}.jsonl") as f:
        return [json.loads(line) for line in f]


@pytest.mark.parametrize("double", [False, True], ids=["float32", "float64"])
@pytest.mark.parametrize("case", list(CASES))
def test_losses_track_pytorch_from_the_same_weights_and_batches(tmp_path, case, double):
    require_torch()
    require_extra("safetensors", "safetensors")
    script, size, args = CASES[case]
    args = args + (["--double"] if double else [])
    _digits(tmp_path, size)
    for engine in ("torch", "minigan"):  # torch first: it writes the initial weights
        done = _run(tmp_path, engine, script, args)
        assert done.returncode == 0, f"{engine}:\n{done.stderr[-3000:]}"
    theirs, ours = _losses(tmp_path, "torch"), _losses(tmp_path, "minigan")
    assert len(ours) == len(theirs) >= 3
    for step, (a, b) in enumerate(zip(ours, theirs)):
        assert a.keys() == b.keys()
        for key in a:
            np.testing.assert_allclose(a[key], b[key], rtol=TOLERANCE[double],
                                       atol=TOLERANCE[double], err_msg=f"step {step}: {key}")


def test_the_examples_dcgan_checkpoints_are_pytorchs_weights(tmp_path):
    """torch.save under minigan writes safetensors; PyTorch reads it, and the weights after
    the run equal PyTorch's own run's (float64)."""
    torch = require_torch()
    safetensors = require_extra("safetensors.torch", "safetensors")
    script, size, args = CASES["dcgan_examples"]
    _digits(tmp_path, size)
    saved = {}
    for engine in ("torch", "minigan"):
        done = _run(tmp_path, engine, script, args + ["--double", "--outf", engine])
        assert done.returncode == 0, done.stderr[-3000:]
    for net in ("netG", "netD"):
        theirs = torch.load(tmp_path / "torch" / f"{net}_epoch_0.pth", weights_only=True)
        ours = safetensors.load_file(str(tmp_path / "minigan" / f"{net}_epoch_0.pth"))
        assert set(ours) == {k for k in theirs if not k.endswith("num_batches_tracked")}
        for key, value in ours.items():
            assert value.dtype == torch.float64
            np.testing.assert_allclose(value.numpy(), theirs[key].numpy(), rtol=1e-9,
                                       atol=1e-10, err_msg=key)
        saved[net] = tmp_path / "minigan" / f"{net}_epoch_0.pth"
    # and minigan resumes from its own checkpoints (torch.load of --netG / --netD)
    done = _run(tmp_path, "minigan", script, args + ["--netG", str(saved["netG"]), "--netD",
                                                     str(saved["netD"]), "--outf", "again"],
                twin=False)
    assert done.returncode == 0, done.stderr[-3000:]


@pytest.mark.parametrize("script, detail", [
    ("inplace_refused.py", "is at version 1; expected version 0 instead"),  # clamp_ on an output
    ("step_then_backward_refused.py", "is at version 2; expected version 1 instead"),  # a step
])
def test_a_script_pytorch_refuses_minigan_refuses_the_same_way(tmp_path, script, detail):
    require_torch()
    for engine in ("torch", "minigan"):
        done = _run(tmp_path, engine, script, [])
        assert done.returncode == 1, f"{engine} trained a step it must refuse"
        last = done.stderr.strip().splitlines()[-1]
        assert last.startswith("RuntimeError: one of the variables needed for gradient "
                               "computation has been modified by an inplace operation"), last
        assert detail in last, last
        assert "trained a step" not in done.stdout


# each script alone on minigan, as a user runs it: torchvision's MNIST (the bundled digits),
# Dropout2d at its default p, sample grids written through save_image
ALONE = {
    "gan": ("gan.py", ["--batch_size", "32", "--hidden", "32", "--max_batches", "2"]),
    "dcgan": ("dcgan.py", ["--batch_size", "16", "--width", "4", "--max_batches", "2"]),
    "wgan": ("wgan.py", ["--batch_size", "32", "--hidden", "32", "--max_batches", "2"]),
    "wgan_gp": ("wgan_gp.py", ["--batch_size", "32", "--hidden", "32", "--max_batches", "2"]),
    "acgan": ("acgan.py", ["--batch_size", "16", "--width", "4", "--max_batches", "1"]),
}


@pytest.mark.parametrize("case", list(ALONE))
def test_each_script_trains_alone_on_the_bundled_digits(tmp_path, case):
    script, args = ALONE[case]
    work = tmp_path / "run"
    work.mkdir()
    done = _run(work, "minigan", script, args, twin=False)
    assert done.returncode == 0, done.stderr[-3000:]
    losses = [float(x) for x in re.findall(r"loss: (-?[0-9.]+|nan|inf)", done.stdout)]
    assert losses and all(np.isfinite(losses))
    grid = np.asarray(Image.open(work / "images" / "0.png"))
    assert grid.ndim == 3 and grid.shape[2] == 3 and grid.std() > 0


@pytest.mark.parametrize("dataset", ["fake", "folder"])
def test_the_examples_dcgan_runs_on_fakedata_and_an_image_folder(tmp_path, dataset):
    root = tmp_path / "pictures"
    rng = np.random.default_rng(0)
    for kind in ("cats", "dogs"):
        (root / kind).mkdir(parents=True)
        for i in range(5):
            Image.fromarray(rng.integers(0, 256, (20, 24, 3), dtype=np.uint8)).save(
                root / kind / f"{i}.png")
    script, size, _ = CASES["dcgan_examples"]
    done = _run(tmp_path, "minigan", script, [
        "--dataset", dataset, "--dataroot", str(root), "--imageSize", "16", "--ngf", "4",
        "--ndf", "4", "--nz", "8", "--batchSize", "4", "--dry-run", "--outf", "out"],
        twin=False)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "out" / "netG_epoch_0.pth").is_file()
    real = np.asarray(Image.open(tmp_path / "out" / "real_samples.png"))
    assert real.shape == (2 + 18, 2 + 4 * 18, 3)  # 4 images of 16 px in a row, 2 px apart
