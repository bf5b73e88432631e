"""Run folders: nothing is lost, and nothing in a checkpoint says where to write.

Issue 12's reproductions: a new run into an existing run folder, `--resume A --out B`
onto another run, two runs on one folder, the leftover cleanup, a checkpoint whose config
names another folder, and the minor items (a 254-byte file name, `--out X.NPY`,
`--epochs 1e20`, a Ctrl-C while minigan loads).
"""
import json
import os
import socket
import subprocess
import sys

import numpy as np
import pytest

import minigan
from minigan import training
from minigan.cli import main as cli
from minigan.store import atomic, run_folder as runs
from minigan.store.checkpoint import read_checkpoint
from minigan.store.run_folder import RunFiles, RunFolderError
from minigan.training import updater

RING = dict(dataset="ring8", steps=2, batch_size=8, sample_every=1, log_every=1,
            checkpoint_every=100)


def run(out, **changes):
    return training.train(training.TrainConfig(**{**RING, "out": str(out), **changes}),
                          progress=False)


def one_line_error(capsys, args, status=1):
    assert cli.main([str(a) for a in args]) == status
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and err.startswith("minigan: error: "), err
    return err


@pytest.fixture
def done(tmp_path):
    out = tmp_path / "R"
    run(out)
    return out


def listing(folder):
    return sorted((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in folder.rglob("*") if p.is_file())


# ----------------------------------------------------------------------------- nothing lost
def test_a_new_run_into_a_run_folder_is_refused_and_changes_nothing(done, capsys):
    """Was: `train --out R` twice deleted R's checkpoint, samples and log before step 1."""
    before = listing(done)
    err = one_line_error(capsys, ["train", "--dataset", "ring8", "--batch-size", "1",
                                  "--out", done])
    assert f"continue it with --resume {done}" in err and "another --out" in err
    assert listing(done) == before


def test_a_folder_left_by_a_run_killed_before_it_logged_counts_as_empty(tmp_path):
    out = tmp_path / "R"
    (out / "samples").mkdir(parents=True)
    (out / "checkpoints").mkdir()
    (out / "metrics.jsonl").write_text("")
    run(out)
    assert (out / "checkpoints" / "last.npz").exists()


def test_a_new_run_into_a_folder_of_other_files_keeps_them(tmp_path):
    (tmp_path / "notes.txt").write_text("mine")
    run(tmp_path)
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_resume_onto_another_run_is_refused(done, tmp_path, capsys):
    """Was: `--resume A --out B` silently replaced B's checkpoint."""
    other = tmp_path / "B"
    run(other, seed=3)
    before = listing(other)
    err = one_line_error(capsys, ["train", "--resume", done, "--out", other, "--steps", "4"],
                         status=1)
    assert "holds another run" in err and f"--resume {other}" in err
    assert listing(other) == before


def test_resume_from_the_runs_best_checkpoint_into_its_own_folder_says_what_to_do(
        done, tmp_path, capsys):
    """Was: `--resume RUN/checkpoints/best.npz` said the run's own folder "holds another
    run". best.npz stands in here as a copy of last.npz (what matters is its path)."""
    best = done / "checkpoints" / "best.npz"
    best.write_bytes((done / "checkpoints" / "last.npz").read_bytes())
    before = listing(done)
    err = one_line_error(capsys, ["train", "--resume", best, "--steps", "4"], status=1)
    assert "best checkpoint" in err and f"--resume {done}" in err and "--out" in err
    assert "another run" not in err
    assert listing(done) == before
    config, path = training.config_for_resume(best, steps=3, out=str(tmp_path / "branch"))
    training.train(config, progress=False, resume=path)
    assert read_checkpoint(tmp_path / "branch").step == 3


def test_resume_into_an_empty_out_and_into_its_own_folder_work(done, tmp_path):
    config, path = training.config_for_resume(done, steps=3, out=str(tmp_path / "copy"))
    training.train(config, progress=False, resume=path)
    assert read_checkpoint(tmp_path / "copy").step == 3
    config, path = training.config_for_resume(done, steps=4, out=str(done))
    training.train(config, progress=False, resume=path)
    assert read_checkpoint(done).step == 4


def test_cleanup_removes_only_temporary_files_of_names_minigan_writes(tmp_path):
    """Was: every ".*.tmp" and ".*.part" in --out went (a user's ".thesis.tex.part")."""
    theirs = [tmp_path / ".thesis.tex.part", tmp_path / ".x.tmp", tmp_path / "samples" /
              ".holiday.png.abc123.part", tmp_path / "checkpoints" / ".other.npz.k1ll3d.tmp"]
    ours = [tmp_path / ".metrics.jsonl.k1ll3d.part", tmp_path / ".losses.png.abcd1234.part",
            tmp_path / "samples" / ".step_000003.png.k1ll3d.part",
            tmp_path / "checkpoints" / ".last.npz.k1ll3d.tmp"]
    for path in theirs + ours:
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(b"x")
    RunFiles(str(tmp_path)).prepare()
    assert all(p.exists() for p in theirs) and not any(p.exists() for p in ours)
    runs.release_lock(RunFiles(str(tmp_path)).lock)


def test_a_checkpoint_that_names_a_folder_cannot_make_a_run_write_there(done, tmp_path):
    """Was: "out" in the stored config decided where `--resume evil.npz` wrote and deleted."""
    victim = tmp_path / "victim"
    (victim / "samples").mkdir(parents=True)
    (victim / ".notes.tmp").write_text("keep")
    (victim / "samples" / "step_000005.png").write_bytes(b"keep")
    with np.load(done / "checkpoints" / "last.npz", allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files}
    config = json.loads(str(arrays["meta/config"]))
    arrays["meta/config"] = np.array(json.dumps(dict(config, out=str(victim))))
    evil_folder = tmp_path / "download"
    evil_folder.mkdir()
    np.savez(evil_folder / "evil.npz", **arrays)
    config, path = training.config_for_resume(evil_folder / "evil.npz", steps=3)
    assert config.out == str(evil_folder)
    training.train(config, progress=False, resume=path)
    assert sorted(p.name for p in victim.rglob("*")) == [".notes.tmp", "samples",
                                                         "step_000005.png"]
    assert (evil_folder / "metrics.jsonl").exists()


# ----------------------------------------------------------------------------- the lock
def test_a_second_run_on_a_folder_in_use_is_refused(tmp_path, capsys):
    """Was: the second run's cleanup deleted the first's temporary checkpoint."""
    alive = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (tmp_path / ".minigan.lock").write_text(f"{alive.pid} {socket.gethostname()}\n")
        err = one_line_error(capsys, ["train", "--dataset", "ring8", "--out", tmp_path])
        assert f"in use by another minigan run (pid {alive.pid} on" in err
        assert not (tmp_path / "metrics.jsonl").exists()
    finally:
        alive.kill()
        alive.wait()


def test_a_stale_lock_of_a_killed_run_is_taken_over(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    (tmp_path / ".minigan.lock").write_text(f"{dead.pid} {socket.gethostname()}\n")
    run(tmp_path)
    assert not (tmp_path / ".minigan.lock").exists()  # released at the end


def test_a_garbled_lock_is_taken_over_and_another_hosts_lock_is_refused(tmp_path):
    (tmp_path / ".minigan.lock").write_text("")
    run(tmp_path / ".")
    other = tmp_path / "other"
    other.mkdir()
    (other / ".minigan.lock").write_text("12345 some-other-host\n")
    with pytest.raises(RunFolderError, match="pid 12345 on some-other-host.*delete"):
        run(other)


def test_the_lock_is_held_during_the_run_and_released_after(tmp_path, monkeypatch):
    seen = []
    real = runs.RunFiles.finish

    def finish(self):
        seen.append(open(self.lock).read().split())
        real(self)

    monkeypatch.setattr(runs.RunFiles, "finish", finish)
    run(tmp_path)
    assert seen == [[str(os.getpid()), socket.gethostname()]]
    assert not (tmp_path / ".minigan.lock").exists()


def test_a_run_that_failed_in_this_process_does_not_lock_its_folder_forever(tmp_path):
    with pytest.raises(ValueError, match="batch size"):
        run(tmp_path, batch_size=10 ** 6)
    run(tmp_path)


# ----------------------------------------------------------------------------- outputs
def test_sample_out_npy_is_written_atomically_under_the_name_given(done, tmp_path, capsys,
                                                                    monkeypatch):
    """Was: `--out X.NPY` wrote X.NPY.npy and said X.NPY; a kill mid-write lost the old one."""
    target = tmp_path / "x.NPY"
    assert cli.main(["sample", "--checkpoint", str(done), "--out", str(target)]) == 0
    assert f"to {target}" in capsys.readouterr().out
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix.lower() == ".npy") == ["x.NPY"]
    first = np.load(target)

    def killed(G, n, seed, device, label, f):  # the streamed write, cut short by a full disk
        f.write(b"\x93NUMPY half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(cli, "write_samples_npy", killed)
    assert cli.main(["sample", "--checkpoint", str(done), "--out", str(target),
                     "--seed", "1"]) == 1
    monkeypatch.undo()
    assert np.array_equal(np.load(target), first)  # the previous file is whole
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".x.NPY")]


def test_a_254_byte_file_name_does_not_fail_on_its_temporary_name(tmp_path):
    path = tmp_path / ("a" * 250 + ".png")
    with atomic.atomic_write(path) as f:
        f.write(b"ok")
    assert path.read_bytes() == b"ok"
    many = tmp_path / ("é" * 125 + ".png")  # 254 bytes in UTF-8
    with atomic.atomic_write(many, suffix=".tmp") as f:
        f.write(b"ok")
    assert many.read_bytes() == b"ok"


def test_epochs_beyond_what_a_checkpoint_counts_are_refused(tmp_path, capsys):
    err = one_line_error(capsys, ["train", "--dataset", "ring8", "--epochs", "1e20",
                                  "--out", tmp_path / "R"])
    assert "--epochs 1e+20 is" in err and "more than a run can count" in err
    assert not (tmp_path / "R" / "metrics.jsonl").exists()


def test_a_ctrl_c_while_minigan_loads_is_one_line_without_traceback():
    """The hook cli/startup.py installs while the imports run (timing a real Ctrl-C to land
    inside an import would make a flaky test; the hook is what such a Ctrl-C meets)."""
    code = "import minigan.cli.startup as s; s.begin(); raise KeyboardInterrupt"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stderr == "minigan: interrupted\n"
    assert done.returncode != 0


def test_importing_minigan_leaves_pythons_own_excepthook():
    import minigan.cli.main  # noqa: F401

    assert sys.excepthook is sys.__excepthook__ and minigan.cli.startup._installed == []


def test_a_run_stopped_by_ctrl_c_gives_its_lock_back_at_once(tmp_path, monkeypatch):
    """A notebook that caught the interrupt must not keep the folder from a terminal."""
    real = updater.GANUpdater.update

    def interrupted_at_2(self, step):
        if step == 2:
            raise KeyboardInterrupt
        return real(self, step)

    monkeypatch.setattr(updater.GANUpdater, "update", interrupted_at_2)
    with pytest.raises(minigan.training.TrainingInterrupted):
        run(tmp_path, steps=3)
    assert not (tmp_path / ".minigan.lock").exists()
