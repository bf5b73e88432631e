"""Faults from outside the program: kill -9, SIGTERM, writes that fail, files left half-done.

The kill tests run `python -m minigan train` in a child process on ring8 (small MLPs, about
100 steps a second on one core, a 3 MB checkpoint every 5 steps, so a good share of the
run is spent inside checkpoint writes) and kill it: right after a checkpoint appears, and
at random moments. Whatever the moment, the checkpoint left must load, and resuming must
end with the very bytes of an uninterrupted run (exact CPU resume).
"""
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from minigan.store import checkpoint, images
from minigan.cli import main as cli
from minigan import training
from minigan.models import build_models
from minigan.store.checkpoint import read_checkpoint

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
STEPS = 200
RUN = ["train", "--dataset", "ring8", "--steps", str(STEPS), "--batch-size", "8",
       "--checkpoint-every", "5", "--sample-every", "50", "--log-every", "10", "--no-progress"]
TIMEOUT = 120  # seconds for any one child; generous, for a loaded machine

posix_only = pytest.mark.skipif(os.name != "posix", reason="POSIX signals")


def start(*args):
    """`python -m minigan ARGS` in a child process, one BLAS thread, this checkout."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=REPO + os.pathsep + os.environ.get("PYTHONPATH", ""))
    return subprocess.Popen([sys.executable, "-m", "minigan", *map(str, args)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc):
    """Wait for a child; (exit status, stderr)."""
    _, err = proc.communicate(timeout=TIMEOUT)
    return proc.returncode, err


def run_to_end(*args):
    status, err = finish(start(*args))
    assert status == 0, err
    return err


def checkpoint_identity(path):
    """Changes with every checkpoint write: os.replace puts a new file (inode) there."""
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def wait_for_new_checkpoint(proc, path, deadline_s=TIMEOUT):
    """Poll until the checkpoint at `path` has been replaced at least once (and twice if it
    existed when we started looking): that second write is a fresh one we did not race."""
    seen = checkpoint_identity(path)
    changes_needed = 1 if seen is None else 2
    deadline = time.monotonic() + deadline_s
    while changes_needed:
        assert proc.poll() is None, f"the run ended before it was killed: {finish(proc)}"
        assert time.monotonic() < deadline, "no checkpoint appeared in time"
        now = checkpoint_identity(path)
        if now is not None and now != seen:
            seen, changes_needed = now, changes_needed - 1
        time.sleep(0.002)


def kill_9(proc):
    proc.send_signal(signal.SIGKILL)
    status, _ = finish(proc)
    return status


def metrics_without_time(out):
    with open(os.path.join(out, "metrics.jsonl")) as f:
        return [{k: v for k, v in json.loads(line).items() if k != "time"} for line in f]


def assert_same_run(a, b):
    """Two run folders hold bit-identical checkpoints and the same logged numbers."""
    arrays_a, arrays_b = read_checkpoint(a).arrays, read_checkpoint(b).arrays
    assert arrays_a.keys() == arrays_b.keys()
    for key in arrays_a:
        assert arrays_a[key].dtype == arrays_b[key].dtype, key
        assert np.array_equal(arrays_a[key], arrays_b[key]), key
    assert metrics_without_time(a) == metrics_without_time(b)


def leftover_temporaries(out, folders=("checkpoints", "samples", ".")):
    """Files a write cut short leaves: checkpoints' ".tmp", pictures' ".part"."""
    return [name for folder in folders
            for name in os.listdir(os.path.join(out, folder)) if name.endswith((".tmp", ".part"))]


@pytest.fixture(scope="module")
def straight_run(tmp_path_factory):
    """The uninterrupted run, in a child process like the runs it is compared with."""
    out = tmp_path_factory.mktemp("straight")
    run_to_end(*RUN, "--out", out)
    return out


# ----------------------------------------------------------------------------- kill -9
@posix_only
def test_kill_9_right_after_a_checkpoint_leaves_it_loadable_and_resume_is_exact(
        tmp_path, straight_run):
    proc = start(*RUN, "--out", tmp_path)
    last = tmp_path / "checkpoints" / "last.npz"
    wait_for_new_checkpoint(proc, last)
    assert kill_9(proc) == -signal.SIGKILL
    ckpt = read_checkpoint(tmp_path)  # loads and passes every check
    assert 0 < ckpt.step < STEPS and ckpt.step % 5 == 0
    config, path = training.config_for_resume(tmp_path)
    G, D = build_models(ckpt.model_spec, "cpu", config.seed)
    ckpt.load_into(G, D, *training.make_optimizers(G, D, config))
    assert len(metrics_without_time(tmp_path)) >= ckpt.step // 10  # the log reached it
    err = run_to_end("train", "--resume", tmp_path, "--no-progress")
    assert "Traceback" not in err
    assert_same_run(tmp_path, straight_run)


def wait_for_checkpoint_write(proc, out, deadline_s=TIMEOUT):
    """Poll until a checkpoint write is under way (its temporary file exists)."""
    deadline = time.monotonic() + deadline_s
    folder = os.path.join(out, "checkpoints")
    while not (os.path.isdir(folder) and any(n.endswith(".tmp") for n in os.listdir(folder))):
        assert proc.poll() is None, f"the run ended before it was killed: {finish(proc)}"
        assert time.monotonic() < deadline, "no checkpoint write was seen in time"
        time.sleep(0.001)


@posix_only
def test_kill_9_at_random_moments_always_leaves_a_loadable_checkpoint(tmp_path, straight_run):
    """Kill inside a checkpoint write, then at random moments, checking and resuming after
    each kill; then finish, and compare with the straight run."""
    rng = random.Random(20240611)  # fixed delays; the moments they hit still vary with load
    last = tmp_path / "checkpoints" / "last.npz"
    steps_seen = []
    for kill in range(5):
        resume = ["--resume", tmp_path] if last.exists() else list(RUN[1:]) + ["--out", tmp_path]
        proc = start("train", *resume, "--no-progress")
        if kill == 0:
            wait_for_new_checkpoint(proc, last)
            wait_for_checkpoint_write(proc, tmp_path)  # the second write is under way
        else:
            time.sleep(rng.uniform(0.3, 2.5))  # the interpreter starts in about a second
        if proc.poll() is not None:  # finished before the kill: nothing left to interrupt
            break
        kill_9(proc)
        if last.exists():
            steps_seen.append(read_checkpoint(last).step)  # never half-written
    if not last.exists() or read_checkpoint(last).step < STEPS:
        run_to_end("train", *(["--resume", tmp_path] if last.exists() else
                              list(RUN[1:]) + ["--out", tmp_path]), "--no-progress")
    assert steps_seen[0] >= 5  # step 5's (or, if the write won the race, a later one)
    assert steps_seen == sorted(steps_seen)  # no kill ever lost a checkpoint already made
    # resuming removes what a cut-short write left (not checked in the run folder itself: a
    # kill during the final GIF leaves a complete run, which is not resumed again)
    assert leftover_temporaries(tmp_path, folders=("checkpoints", "samples")) == []
    assert_same_run(tmp_path, straight_run)


def test_resume_drops_a_torn_metrics_line_and_a_half_written_checkpoint(tmp_path):
    """What a kill can leave: a metrics line cut short, a checkpoint's temporary file."""
    config = training.TrainConfig(dataset="ring8", steps=2, batch_size=8, log_every=1,
                               out=str(tmp_path))
    training.train(config, progress=False)
    with open(tmp_path / "metrics.jsonl", "a") as f:
        f.write('{"step": 3, "loss_d": 0.6')  # the kill came mid-line
    (tmp_path / "checkpoints" / ".last.npz.k1ll3d.tmp").write_bytes(b"PK\x03\x04 cut")
    (tmp_path / "samples" / ".step_000003.png.k1ll3d.part").write_bytes(b"\x89PNG cut")
    (tmp_path / ".samples.gif.k1ll3d.part").write_bytes(b"GIF89a cut")
    config, path = training.config_for_resume(tmp_path, steps=3)
    training.train(config, progress=False, resume=path)
    assert [line["step"] for line in metrics_without_time(tmp_path)] == [1, 2, 3]
    assert leftover_temporaries(tmp_path) == []


# ----------------------------------------------------------------------------- SIGTERM
@posix_only
def test_sigterm_writes_a_checkpoint_and_exits_143(tmp_path):
    proc = start("train", "--dataset", "ring8", "--steps", "100000", "--batch-size", "8",
                 "--log-every", "1", "--out", tmp_path, "--no-progress")
    metrics = tmp_path / "metrics.jsonl"
    deadline = time.monotonic() + TIMEOUT
    while not (metrics.exists() and metrics.read_text().count("\n") >= 3):
        assert proc.poll() is None and time.monotonic() < deadline, finish(proc)
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    status, err = finish(proc)
    assert status == 128 + signal.SIGTERM, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err
    assert lines[0].startswith("minigan: terminated (SIGTERM) after step ")
    assert "checkpoint written to" in lines[0] and "--resume" in lines[0]
    step = read_checkpoint(tmp_path).step
    assert step >= 3 and f"after step {step};" in lines[0]


@posix_only
def test_sigterm_in_process_stops_after_the_step_and_restores_the_handlers(tmp_path,
                                                                           monkeypatch):
    save_points = images.save_points_plot

    def send_sigterm_at_step_2(points, path, *args, **kwargs):
        save_points(points, path, *args, **kwargs)
        if path.endswith("step_000002.png"):
            os.kill(os.getpid(), signal.SIGTERM)  # train's handler: stop after this step

    monkeypatch.setattr(images, "save_points_plot", send_sigterm_at_step_2)
    before = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    config = training.TrainConfig(dataset="ring8", steps=5, batch_size=8, sample_every=1,
                               out=str(tmp_path))
    with pytest.raises(training.TrainingInterrupted, match=r"terminated \(SIGTERM\) after step 2")\
            as info:
        training.train(config, progress=False)
    assert info.value.signal == signal.SIGTERM and info.value.step == 2
    assert read_checkpoint(tmp_path).step == 2
    assert {s: signal.getsignal(s) for s in before} == before


# ----------------------------------------------------------------------------- failing writes
def one_error_line(capsys):
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minigan: error: "), err
    assert "Traceback" not in err
    return lines[0]


TINY = ["train", "--dataset", "ring8", "--steps", "3", "--batch-size", "8", "--no-progress"]


def test_out_in_a_read_only_place_is_one_line(tmp_path, monkeypatch, capsys):
    """Simulated (root ignores permissions): the run folder cannot be made."""
    read_only = tmp_path / "read-only"
    make_dirs = os.makedirs

    def refuse_below_read_only(path, *args, **kwargs):
        if os.fspath(path).startswith(os.fspath(read_only)):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return make_dirs(path, *args, **kwargs)

    monkeypatch.setattr(os, "makedirs", refuse_below_read_only)
    assert cli.main(TINY + ["--out", str(read_only / "run")]) == 1
    line = one_error_line(capsys)
    assert f"cannot write the run folder {read_only / 'run'}: Permission denied" in line
    assert "choose another --out" in line


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="root ignores permissions")
def test_out_in_a_really_read_only_folder_is_one_line(tmp_path, capsys):
    os.chmod(tmp_path, 0o555)
    try:
        assert cli.main(TINY + ["--out", str(tmp_path / "run")]) == 1
    finally:
        os.chmod(tmp_path, 0o755)
    assert "Permission denied" in one_error_line(capsys)


def test_out_below_a_file_is_one_line(tmp_path, capsys):
    (tmp_path / "a-file").write_text("not a folder")
    assert cli.main(TINY + ["--out", str(tmp_path / "a-file" / "run")]) == 1
    assert "cannot write the run folder" in one_error_line(capsys)


def test_full_disk_at_a_checkpoint_stops_and_keeps_the_previous_one(tmp_path, monkeypatch,
                                                                    capsys):
    savez, calls = np.savez, []

    def full_after_the_first(f, **arrays):
        calls.append(1)
        if len(calls) > 1:
            f.write(b"PK\x03\x04 a partial archive")
            raise OSError(errno.ENOSPC, "No space left on device")
        savez(f, **arrays)

    monkeypatch.setattr(checkpoint.np, "savez", full_after_the_first)
    assert cli.main(TINY + ["--checkpoint-every", "1", "--out", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert "cannot write checkpoint" in line and "No space left on device" in line
    assert "is whole and resumable" in line
    assert read_checkpoint(tmp_path).step == 1  # the previous checkpoint, intact
    assert leftover_temporaries(tmp_path) == []


def test_full_disk_at_a_sample_picture_stops_and_keeps_the_checkpoint(tmp_path, monkeypatch,
                                                                      capsys):
    save_points = images.save_points_plot

    def full_at_step_2(points, path, *args, **kwargs):
        if path.endswith("step_000002.png"):
            raise OSError(errno.ENOSPC, "No space left on device", path)
        save_points(points, path, *args, **kwargs)

    monkeypatch.setattr(images, "save_points_plot", full_at_step_2)
    assert cli.main(TINY + ["--checkpoint-every", "1", "--sample-every", "1",
                            "--out", str(tmp_path)]) == 1
    line = one_error_line(capsys)
    assert "step_000002.png: No space left on device; training stopped" in line
    assert read_checkpoint(tmp_path).step == 1
