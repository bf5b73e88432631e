"""The command line and run folders tried as a hostile file and a careless user would
(issue 27, the application items): each case is refused with one line naming the cause and
the file, bounded before it allocates, never deletes or writes outside the run folder
(symlinks included), and never reads a path that a file chose.
"""
import json
import os
import signal
import socket
import subprocess
import sys
import tracemalloc

import numpy as np
import pytest
from PIL import Image

from minigan.cli import main as cli
from minigan.data import datasets as data
from minigan.store.checkpoint import read_checkpoint

RING = ["train", "--dataset", "ring8", "--batch-size", "8", "--no-progress",
        "--sample-every", "1", "--log-every", "1"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def one_line_error(capsys, args, status=1):
    """Run the command line; it must fail with `status` and one line on stderr."""
    assert cli.main([str(a) for a in args]) == status, capsys.readouterr()
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("minigan: error: "), err
    return err


def ok(capsys, args):
    assert cli.main([str(a) for a in args]) == 0, capsys.readouterr().err
    return capsys.readouterr()


@pytest.fixture
def ring(tmp_path, capsys):
    """A finished 2-step ring8 run, R."""
    out = tmp_path / "R"
    ok(capsys, RING + ["--steps", "2", "--out", out])
    return out


def arrays_of(path):
    with np.load(path, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def edit_checkpoint(run, config=None, drop=(), **arrays):
    """Rewrite run's checkpoint with config fields changed, entries dropped or replaced."""
    path = run / "checkpoints" / "last.npz"
    saved = arrays_of(path)
    if config:
        saved["meta/config"] = np.array(json.dumps({**json.loads(str(saved["meta/config"])),
                                                    **config}))
    for key in drop:
        saved.pop(key, None)
    saved.update({k.replace("__", "/"): v for k, v in arrays.items()})
    with open(path, "wb") as f:
        np.savez(f, **saved)
    return path


def images(folder, n, size=8):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        Image.new("RGB", (size, size), (30 * i % 255, 0, 0)).save(folder / f"{i}.png")
    return folder


def listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size) for p in folder.rglob("*")
                  if p.is_file() or p.is_symlink())


def minigan_subprocess(args, timeout=120, **env):
    environment = dict(os.environ, PYTHONPATH=REPO, **env)
    return subprocess.run([sys.executable, "-m", "minigan", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=environment)


# ---------------------------------------------------------- trust and data loss (1-5)
def test_a_checkpoint_cannot_choose_the_folder_a_resume_reads(ring, tmp_path, capsys):
    """Was: "dataset": "folder:/any/path" in meta/config, meta/data dropped: the resume
    walked and trained on that folder (folder:/: the whole filesystem), exit 0."""
    secret = images(tmp_path / "secret", 4)
    edit_checkpoint(ring, config={"dataset": f"folder:{secret}"}, drop=["meta/data"])
    err = one_line_error(capsys, ["train", "--resume", ring, "--steps", "3", "--no-progress"])
    assert str(ring) in err and f"folder:{secret}" in err
    assert read_checkpoint(ring).step == 2


def test_a_folder_run_resumes_only_with_its_folder_typed(tmp_path, capsys, monkeypatch):
    imgs = images(tmp_path / "imgs", 4)
    out = tmp_path / "run"
    common = ["--no-progress", "--model", "mlp", "--image-size", "8", "--batch-size", "2"]
    ok(capsys, ["train", "--dataset", f"folder:{imgs}", "--steps", "1", "--out", out] + common)
    err = one_line_error(capsys, ["train", "--resume", out, "--steps", "2", "--no-progress"])
    assert f"--dataset folder:{imgs}" in err  # the way out, typed by the user
    ok(capsys, ["train", "--resume", out, "--steps", "2", "--dataset", f"folder:{imgs}",
                "--no-progress"])
    assert read_checkpoint(out).step == 2


def test_resume_never_deletes_through_a_symlinked_samples_folder(ring, tmp_path, capsys):
    """Was: with RUN/samples a symlink to a shared folder, resuming deleted step_N.png
    files above the resumed step there, and temporary-looking names too."""
    shared = tmp_path / "shared"
    (ring / "samples").rename(shared)
    (ring / "samples").symlink_to(shared)
    (shared / "step_000009.png").write_bytes(b"someone's picture")
    (shared / ".step_000003.png.abc.part").write_bytes(b"someone's file")
    before = listing(shared)
    err = one_line_error(capsys, ["train", "--resume", ring, "--steps", "3", "--no-progress"])
    assert "samples" in err and "symbolic link" in err
    assert listing(shared) == before


def test_a_fresh_run_never_cleans_a_symlinked_folder(tmp_path, capsys):
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / ".step_000001.png.abc.part").write_bytes(b"someone's file")
    (tmp_path / "R").mkdir()
    (tmp_path / "R" / "samples").symlink_to(shared)
    err = one_line_error(capsys, RING + ["--steps", "1", "--out", tmp_path / "R"])
    assert "symbolic link" in err
    assert listing(shared) == [(".step_000001.png.abc.part", 14)]


def test_a_run_into_its_own_dataset_folder_is_refused(tmp_path, capsys, monkeypatch):
    """Was: `cd imgs; minigan train --dataset folder:. --out .` trained, and its own grids
    and plot changed the dataset's fingerprint: it could never be resumed."""
    imgs = images(tmp_path / "imgs", 4)
    monkeypatch.chdir(imgs)
    before = listing(imgs)
    err = one_line_error(capsys, ["train", "--dataset", "folder:.", "--out", ".", "--model",
                                  "mlp", "--image-size", "8", "--batch-size", "2", "--steps",
                                  "1", "--no-progress"], status=2)
    assert "--out" in err and "dataset" in err
    assert listing(imgs) == before


def test_a_tensorboard_run_resumes_without_the_extra_with_no_tensorboard(tmp_path, capsys,
                                                                         monkeypatch):
    """Was: refused on a machine without tensorboardX, and no flag turned it off."""
    from conftest import require_extra
    require_extra("tensorboardX", "tensorboard")
    out = tmp_path / "R"
    ok(capsys, RING + ["--steps", "1", "--tensorboard", "--out", out])
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    err = one_line_error(capsys, ["train", "--resume", out, "--steps", "2", "--no-progress"],
                         status=2)
    assert "--no-tensorboard" in err
    ok(capsys, ["train", "--resume", out, "--steps", "2", "--no-tensorboard", "--no-progress"])
    assert read_checkpoint(out).step == 2


@pytest.fixture
def live_lock_of(tmp_path):
    """A function writing RUN/.minigan.lock for a live process other than this one."""
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(300)"])

    def lock(run):
        (run / ".minigan.lock").write_text(f"{sleeper.pid} {socket.gethostname()}\n")
    yield lock
    sleeper.kill()
    sleeper.wait()


@pytest.mark.parametrize("target", ["x.png", "samples/x.npy"])
def test_sample_refuses_to_write_into_a_run_folder_in_use(ring, capsys, live_lock_of, target):
    """Was: `minigan sample` ignored the lock of a run that was training."""
    live_lock_of(ring)
    before = listing(ring)
    err = one_line_error(capsys, ["sample", "--checkpoint", ring, "--n", "4", "--out",
                                  ring / target])
    assert "in use by another minigan run" in err
    assert listing(ring) == before
    ok(capsys, ["sample", "--checkpoint", ring, "--n", "4", "--out", ring.parent / "x.npy"])


# ----------------------------------------------------------------- image folders (10)
def test_a_subfolder_with_a_file_named_metrics_jsonl_is_not_a_run_folder(tmp_path, capfd):
    """Was: any subfolder holding a file named metrics.jsonl was taken for a run folder and
    left out silently (8 of 16 images)."""
    imgs = images(tmp_path / "imgs", 8)
    images(imgs / "more", 8)
    (imgs / "more" / "metrics.jsonl").write_text("my own notes\n")
    assert len(data.load_dataset(f"folder:{imgs}", image_size=8)) == 16


def test_a_real_run_folder_inside_the_dataset_is_left_out_with_a_notice(tmp_path, capfd):
    imgs = images(tmp_path / "imgs", 4)
    ok(capfd, ["train", "--dataset", f"folder:{imgs}", "--out", imgs / "run", "--model",
                "mlp", "--image-size", "8", "--batch-size", "2", "--steps", "1",
                "--no-progress"])
    capfd.readouterr()
    assert len(data.load_dataset(f"folder:{imgs}", image_size=8)) == 4
    err = capfd.readouterr().err
    assert "left out" in err and str(imgs / "run") in err


# ---------------------------------------------------------------- hangs and blow-ups
def test_a_fifo_as_the_lock_does_not_block(tmp_path):
    run = tmp_path / "R"
    run.mkdir()
    os.mkfifo(run / ".minigan.lock")
    out = minigan_subprocess(RING + ["--steps", "1", "--out", run], timeout=60)
    assert out.returncode == 1, out
    assert ".minigan.lock" in out.stderr and "not a regular file" in out.stderr


@pytest.mark.parametrize("verb", ["sample", "resume"])
def test_a_fifo_as_the_checkpoint_does_not_block(tmp_path, verb):
    fifo = tmp_path / "last.npz"
    os.mkfifo(fifo)
    args = (["sample", "--checkpoint", fifo, "--out", tmp_path / "x.npy"] if verb == "sample"
            else ["train", "--resume", fifo, "--no-progress"])
    out = minigan_subprocess(args, timeout=60)
    assert out.returncode == 1, out
    assert str(fifo) in out.stderr and "not a regular file" in out.stderr


def test_d_steps_beyond_memory_is_refused_naming_the_flag(tmp_path, capsys):
    """Was: every D batch of a step allocated up front; the message named --image-size,
    --batch-size, --nz and --n, never --d-steps."""
    err = one_line_error(capsys, ["train", "--d-steps", "1000000", "--steps", "1",
                                  "--no-progress", "--out", tmp_path / "R"])
    assert "--d-steps" in err


def test_sample_n_beyond_a_picture_is_refused_before_sampling(ring, tmp_path, capsys):
    err = one_line_error(capsys, ["sample", "--checkpoint", ring, "--n", "3000000", "--out",
                                  tmp_path / "x.png"], status=2)
    assert "--n 3000000" in err


def test_sample_npy_beyond_the_free_disk_is_refused_before_sampling(ring, tmp_path, capsys,
                                                                    monkeypatch):
    import shutil
    monkeypatch.setattr(shutil, "disk_usage", lambda path: shutil._ntuple_diskusage(
        10 ** 9, 10 ** 9 - 1000, 1000))
    err = one_line_error(capsys, ["sample", "--checkpoint", ring, "--n", "3000000", "--out",
                                  tmp_path / "x.npy"])
    assert "--n 3000000" in err and "free" in err
    assert not (tmp_path / "x.npy").exists()


def test_sample_npy_streams_its_samples(ring, tmp_path, capsys):
    """The file holds every sample; memory holds one chunk at a time: 100,000 points (800
    KB) take no more memory than 5 do, beyond a chunk."""
    def peak(n, name):
        tracemalloc.start()
        try:
            ok(capsys, ["sample", "--checkpoint", ring, "--n", n, "--out", tmp_path / name])
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()

    small, big = peak(5, "y.npy"), peak(100_000, "x.npy")
    points = np.load(tmp_path / "x.npy")
    assert points.shape == (100_000, 2) and points.dtype == np.float32
    assert big - small < 100_000 * 2 * 4 / 2, (small, big)  # less than half the samples
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), points[:5])  # same stream


@pytest.mark.parametrize("n, status", [("10000", 2), (str(2 ** 64), 2)])
def test_threads_beyond_the_cores_are_refused(tmp_path, capsys, n, status):
    """Was: --threads 10000 accepted (2 steps: 48.6 s instead of 0.5 s); 2**64 a ctypes
    traceback."""
    err = one_line_error(capsys, RING + ["--steps", "1", "--threads", n, "--out",
                                         tmp_path / "R"], status=status)
    assert "--threads" in err and "cores" in err


# ------------------------------------------------------ tracebacks and unclear messages
def test_a_lock_of_an_impossible_pid_is_stale(ring, capsys):
    """Was: OverflowError from pid_alive for pid 2147483648."""
    (ring / ".minigan.lock").write_text(f"2147483648 {socket.gethostname()}\n")
    ok(capsys, ["train", "--resume", ring, "--steps", "3", "--no-progress"])


@pytest.mark.parametrize("field, value", [("ema", 1.5), ("loss", "evil"), ("seed", -1)])
def test_a_tampered_config_is_blamed_on_the_checkpoint(ring, capsys, field, value):
    """Was: blamed on flags the user never typed (`--ema must be a decay in (0, 1)`)."""
    path = edit_checkpoint(ring, config={field: value})
    err = one_line_error(capsys, ["train", "--resume", ring, "--steps", "3", "--no-progress"])
    assert str(path) in err and field in err


def test_eval_of_non_finite_weights_gives_null_scores(ring, capsys):
    """Was: NumPy's "Eigenvalues did not converge"."""
    saved = arrays_of(ring / "checkpoints" / "last.npz")
    nan = {k.replace("/", "__"): np.full_like(v, np.nan) for k, v in saved.items()
           if k.startswith("G/") and v.dtype.kind == "f"}
    edit_checkpoint(ring, **nan)
    out = ok(capsys, ["eval", "--checkpoint", ring, "--n", "50"])
    scores = json.loads(out.out)
    assert all(v is None for v in scores.values()), scores


def test_an_unreadable_checkpoint_names_its_file(ring, capsys, monkeypatch):
    import zipfile

    def eio(*args, **kwargs):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(zipfile.ZipFile, "__init__", eio)
    err = one_line_error(capsys, ["eval", "--checkpoint", ring])
    assert "last.npz" in err and "Input/output error" in err


def test_output_to_a_full_device_names_standard_output(ring):
    """Was: "minigan: error: [Errno 28] No space left on device", naming nothing."""
    with open("/dev/full", "w") as full:
        out = subprocess.run([sys.executable, "-m", "minigan", "eval", "--checkpoint",
                              str(ring), "--n", "20"], stdout=full, stderr=subprocess.PIPE,
                             text=True, timeout=120, env=dict(os.environ, PYTHONPATH=REPO))
    assert out.returncode == 1
    assert out.stderr.strip().splitlines() == [
        "minigan: error: cannot write to standard output: No space left on device"]


def test_a_lock_that_is_a_directory_names_it(tmp_path, capsys):
    (tmp_path / "R" / ".minigan.lock").mkdir(parents=True)
    err = one_line_error(capsys, RING + ["--steps", "1", "--out", tmp_path / "R"])
    assert ".minigan.lock" in err and "not a regular file" in err


def test_sample_out_named_just_npy_is_written(ring, tmp_path, capsys):
    """Was: refused with "... not 'nothing'"."""
    ok(capsys, ["sample", "--checkpoint", ring, "--n", "3", "--out", tmp_path / ".npy"])
    assert np.load(tmp_path / ".npy").shape == (3, 2)


def test_a_leftover_pmi_size_does_not_blame_mpiexec(tmp_path):
    from conftest import require_extra
    require_extra("mpi4py", "mpi")
    out = minigan_subprocess(RING + ["--steps", "1", "--out", tmp_path / "R"], PMI_SIZE="2",
                             timeout=120)
    assert out.returncode == 1
    assert "PMI_SIZE" in out.stderr, out.stderr


def test_apply_spectral_norm_that_fails_changes_nothing():
    from minigan import nn
    model = nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Linear(4, 1))
    nn.utils.spectral_norm(model[2])
    before = sorted(k for k, _ in model.named_parameters())
    with pytest.raises(RuntimeError, match="already spectral-normalised"):
        nn.utils.apply_spectral_norm(model)
    assert sorted(k for k, _ in model.named_parameters()) == before  # layer 0 untouched


def test_a_learning_rate_in_param_groups_that_contradicts_the_config_is_refused(ring, capsys):
    path = ring / "checkpoints" / "last.npz"
    groups = json.loads(str(arrays_of(path)["optG/param_groups"]))
    groups[0]["lr"] = 0.5
    edit_checkpoint(ring, optG__param_groups=np.array(json.dumps(groups)))
    err = one_line_error(capsys, ["train", "--resume", ring, "--steps", "3", "--no-progress"])
    assert str(path) in err and "0.5" in err


def test_a_tensorboard_path_that_is_a_file_is_refused_before_the_run(tmp_path, capsys):
    from conftest import require_extra
    require_extra("tensorboardX", "tensorboard")
    out = tmp_path / "R"
    out.mkdir()
    (out / "tensorboard").write_text("a file")
    err = one_line_error(capsys, RING + ["--steps", "1", "--tensorboard", "--out", out])
    assert "tensorboard" in err
    assert sorted(p.name for p in out.iterdir()) == ["tensorboard"]  # nothing else written
