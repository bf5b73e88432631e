"""What surrounds a training loop: the run folder, and the two ways a run can stop early.

    DIR/metrics.jsonl          one JSON object per logged step
    DIR/samples/step_NNNNNN.png   a grid (or scatter plot) from the run's fixed noise
    DIR/samples.gif, DIR/losses.png   made from those at the end
    DIR/checkpoints/last.npz   see checkpoint.py
    DIR/checkpoints/best.npz   the best evaluation so far (--eval-every;
                               training/extensions/best_snapshot.py)
    DIR/.minigan.lock          "PID HOST" of the run writing DIR, while it runs

Ctrl-C (SIGINT) and SIGTERM (what `kill`, a job scheduler or a container stop sends) are
deferred to the end of the current step (DeferredInterrupt), so the checkpoint written then
is a state the run really passed through. A NaN or infinite loss is noticed on the device
(FirstBadStep) and read back only when the host reads anyway, so watching for it costs no
GPU synchronisation. A write that fails (a full disk) stops the run saying what was kept
(write_failed), and a run killed at any moment can be prepared again (RunFiles.prepare).
A run folder is never given to a second run, and a new run never replaces an old one.
"""
import atexit
import contextlib
import errno
import json
import os
import re
import signal
import socket
import threading
import time

import numpy as np

from .. import backend
from . import images
from .atomic import atomic_write, reason, remove_leftovers


def default_out(model, dataset):
    """runs/<model>-<dataset>, the dataset name made safe for a folder name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset.rstrip("/\\")).strip("-.")
    return os.path.join("runs", f"{model}-{name}")


class RunFolderError(ValueError):
    """A run folder that this run must not use: it holds another run, or another process
    is writing it."""


class RunFiles:
    """The paths of a run folder, and the few things done to them.

    Nothing is lost: a new run never goes into a folder that holds a run (it refuses and
    names --resume and --out; see prepare), a resumed run never replaces another run, a
    lock file keeps a second process out, and the cleanup of a killed run's leftovers
    removes only temporary files of names minigan writes."""

    LOCK = ".minigan.lock"
    # the temporary files atomic_write leaves for these, by folder (regular expressions)
    OWN_NAMES = {"out": r"metrics\.jsonl|samples\.gif|losses\.png", "samples": r"step_\d+\.png",
                 "checkpoints": r"last\.npz|best\.npz"}

    def __init__(self, out):
        self.out = out
        self.metrics = os.path.join(out, "metrics.jsonl")
        self.samples = os.path.join(out, "samples")
        self.gif = os.path.join(out, "samples.gif")
        self.losses_plot = os.path.join(out, "losses.png")
        self.checkpoint = os.path.join(out, "checkpoints", "last.npz")
        self.best = os.path.join(out, "checkpoints", "best.npz")  # with --eval-every
        self.lock = os.path.join(out, self.LOCK)

    def sample(self, step):
        return os.path.join(self.samples, f"step_{step:06d}.png")

    def sample_steps(self):
        if not os.path.isdir(self.samples):
            return []
        found = (re.fullmatch(r"step_(\d+)\.png", name) for name in os.listdir(self.samples))
        return sorted(int(m.group(1)) for m in found if m)

    def run_files(self):
        """The files of a run this folder holds (an empty list: none; empty logs and folders
        left by a run killed before it logged anything do not count)."""
        found = [path for path in (self.checkpoint, self.gif, self.losses_plot)
                 if os.path.exists(path)]
        if os.path.exists(self.metrics) and os.path.getsize(self.metrics) > 0:
            found.append(self.metrics)
        found += [self.sample(s) for s in self.sample_steps()[:1]]
        return found

    def prepare(self, resumed_at=None, resumed_from=None):
        """Lock the folder and make its subfolders.

        A fresh run (resumed_at None) refuses a folder that holds a run: continuing it is
        --resume, and starting afresh is another --out (we refuse rather than keep the
        old run aside: a renamed copy would be found by nobody and fill the disk, and the
        user, told both commands, loses nothing). A resumed run (from the checkpoint file
        resumed_from) refuses a folder that holds another run, and in its own folder
        keeps the metrics and grids up to the step it resumes from, so a run that crashed
        after its last checkpoint logs those steps only once.

        A run killed at any moment (even inside this method) can be prepared again: its
        stale lock is taken over, the metrics are rewritten whole or not at all, a torn
        last line is dropped, and the temporary files of writes cut short are removed."""
        try:
            os.makedirs(self.out, exist_ok=True)
            acquire_lock(self.lock)
            try:
                self.check_not_another_run(resumed_at, resumed_from)
            except RunFolderError:
                release_lock(self.lock)
                raise
            os.makedirs(self.samples, exist_ok=True)
            os.makedirs(os.path.dirname(self.checkpoint), exist_ok=True)
            keep = resumed_at or 0
            lines = self.metrics_lines(up_to=keep) if keep else []
            with atomic_write(self.metrics) as f:
                f.write("".join(json.dumps(line) + "\n" for line in lines).encode())
            for step in self.sample_steps():
                if step > keep:
                    os.remove(self.sample(step))
            for folder, names in self.OWN_NAMES.items():
                remove_leftovers({"out": self.out, "samples": self.samples,
                                  "checkpoints": os.path.dirname(self.checkpoint)}[folder], names)
        except OSError as err:
            raise OSError(f"cannot write the run folder {self.out}: {reason(err)}; "
                          f"choose another --out") from err

    def check_not_another_run(self, resumed_at, resumed_from):
        held = self.run_files()
        if not held:
            return
        shown = ", ".join(os.path.relpath(p, self.out) for p in held[:3])
        if resumed_at is None:
            if os.path.exists(self.checkpoint):
                raise RunFolderError(
                    f"{self.out} already holds a run ({shown}); continue it with "
                    f"--resume {self.out}, or start a new run with another --out "
                    f"(minigan never deletes a run)")
            raise RunFolderError(
                f"{self.out} already holds a run without a checkpoint ({shown}); start a "
                f"new run with another --out, or delete that folder first")
        if not same_file(resumed_from, self.checkpoint):
            raise RunFolderError(
                f"--out {self.out} holds another run ({shown}); resuming {resumed_from} "
                f"there would replace it: choose an empty --out, or resume that run "
                f"itself with --resume {self.out}")

    def release(self):
        """Give the folder's lock back (finish does; a process exit does too)."""
        release_lock(self.lock)

    def metrics_lines(self, up_to=None):
        """The logged records (of steps <= up_to), skipping a line a crash left unfinished."""
        if not os.path.exists(self.metrics):
            return []
        records = []
        with open(self.metrics) as f:
            for line in f:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    continue  # torn by a kill or a full disk mid-write
                if isinstance(record, dict) and isinstance(record.get("step"), int) and \
                        (up_to is None or record["step"] <= up_to):
                    records.append(record)
        return records

    def append_metrics(self, line):
        """One record, appended by one write() to a file opened O_APPEND: the line lands
        whole after the others (a crash can at worst cut the last line, which
        metrics_lines skips and prepare drops); the whole file is only ever replaced
        atomically (prepare)."""
        data = (json.dumps(line) + "\n").encode()
        fd = os.open(self.metrics, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)
        try:
            written = os.write(fd, data)
            if written != len(data):
                raise OSError(errno.ENOSPC, "the log line was cut short", self.metrics)
        finally:
            os.close(fd)

    def finish(self):
        """samples.gif from the grids, losses.png from metrics.jsonl; then the lock goes."""
        images.save_gif([self.sample(s) for s in self.sample_steps()], self.gif)
        lines = self.metrics_lines()
        series = {"D loss": [line["loss_d"] for line in lines],
                  "G loss": [line["loss_g"] for line in lines]}
        images.save_loss_plot([line["step"] for line in lines], series, self.losses_plot)
        self.release()


def same_file(a, b):
    try:
        return a is not None and os.path.samefile(a, b)
    except OSError:
        return False


# ----------------------------------------------------------------------------- the lock
_held_locks = set()  # lock files this process holds, released at exit


def acquire_lock(path):
    """Create `path` holding "PID HOST", or refuse if a live run holds it.

    O_CREAT | O_EXCL makes creation atomic: of two runs starting at once, one wins. A lock
    whose run is gone (a dead pid on this host, or this very process after an earlier
    train() that raised) is stale: it is taken over. A lock from another host cannot be
    checked, so it is refused with the way out (delete it)."""
    me = f"{os.getpid()} {socket.gethostname()}"
    for _ in range(50):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        except FileExistsError:
            owner = read_lock(path)
            if owner is None:  # vanished, or being written this instant: look again
                time.sleep(0.02)
                continue
            if not lock_is_stale(*owner):
                pid, host = owner
                raise RunFolderError(
                    f"{os.path.dirname(path) or '.'} is in use by another minigan run (pid "
                    f"{pid} on {host}); wait for it to end or choose another --out (if that "
                    f"run is gone, delete {path})") from None
            take_over(path, owner)
            continue
        with os.fdopen(fd, "w") as f:
            f.write(me + "\n")
        if not _held_locks:
            atexit.register(release_all_locks)
        _held_locks.add(path)
        return
    raise RunFolderError(f"cannot take the lock {path}: it keeps changing; is another "
                         f"run starting in {os.path.dirname(path)}?")


def read_lock(path, patience_s=1.0):
    """(pid, host) from a lock file; None if it vanished. A file that stays unreadable or
    garbled for patience_s (a run killed between creating and writing it) is stale."""
    deadline = time.monotonic() + patience_s
    while True:
        try:
            with open(path) as f:
                text = f.read()
        except FileNotFoundError:
            return None
        parts = text.split()
        if len(parts) == 2 and parts[0].isdigit():
            return int(parts[0]), parts[1]
        if time.monotonic() > deadline:
            return -1, socket.gethostname()  # garbled for too long: its writer is gone
        time.sleep(0.02)


def lock_is_stale(pid, host):
    if host != socket.gethostname():
        return False
    return pid == os.getpid() or not pid_alive(pid)


def pid_alive(pid):
    """Whether a process with this pid runs on this host (a zombie counts as dead)."""
    if pid <= 0:
        return False
    if os.name == "nt":
        return True  # no safe check without ctypes: never take over on Windows
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # another user's process
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def take_over(path, owner):
    """Remove a stale lock, unless another run replaced it meanwhile (then it stays)."""
    aside = f"{path}.{os.getpid()}.stale"
    try:
        os.rename(path, aside)
    except FileNotFoundError:
        return  # another run took it over first
    if read_lock(aside) != owner:  # not the lock we judged: put it back
        with contextlib.suppress(OSError):
            os.link(aside, path)
    os.remove(aside)


def release_lock(path):
    if path in _held_locks:
        _held_locks.discard(path)
        with contextlib.suppress(OSError):
            if read_lock(path, patience_s=0) == (os.getpid(), socket.gethostname()):
                os.remove(path)


def release_all_locks():
    for path in list(_held_locks):
        release_lock(path)


def write_failed(err, paths):
    """The OSError that ends a run whose write failed: what, why, and what is kept. The
    run is over, so its folder's lock goes (as in interrupted and FirstBadStep.check)."""
    paths.release()
    what = str(err) if err.filename is None else f"cannot write {err.filename}: {reason(err)}"
    kept = (f"the last checkpoint ({paths.checkpoint}) is whole and resumable"
            if os.path.exists(paths.checkpoint) else "no checkpoint had been written")
    return OSError(f"{what}; training stopped and {kept}")


class NonFiniteLossError(ArithmeticError):
    """Training stopped because a loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C or SIGTERM stopped the run; .checkpoint_path and .step say what was saved
    (None: nothing), .signal which signal asked (signal.SIGINT or signal.SIGTERM)."""

    def __init__(self, message, checkpoint_path=None, step=None, signal_number=signal.SIGINT):
        super().__init__(message)
        self.checkpoint_path, self.step = checkpoint_path, step
        self.signal = signal.Signals(signal_number)


STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


class DeferredInterrupt:
    """Inside this block, Ctrl-C (SIGINT) or SIGTERM only sets .requested (and .signal);
    the loop stops between steps. A second one interrupts at once. The handlers that were
    there before are put back on exit. Signal handlers can only be installed from the main
    thread; elsewhere both signals keep their usual effect."""

    def __init__(self):
        self.requested = False
        self.signal = None
        self.previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in STOP_SIGNALS:
                self.previous[signum] = signal.signal(signum, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested, self.signal = True, signal.Signals(signum)

    def __exit__(self, *exc):
        for signum, handler in self.previous.items():
            signal.signal(signum, handler if handler is not None else signal.SIG_DFL)
        self.previous = {}
        return False


class FirstBadStep:
    """The first step whose losses were not all finite (0: none yet), kept as a device
    scalar: updating it queues two tiny ops, and only .get() waits for the device."""

    def __init__(self, device):
        self.xp = backend.xp_for(device)
        self.first = self.xp.zeros((), dtype=np.int64)

    def update(self, step, *losses):
        ok = self.xp.isfinite(losses[0]._data)
        for loss in losses[1:]:
            ok = ok & self.xp.isfinite(loss._data)
        self.first = self.xp.where((self.first == 0) & ~ok, step, self.first)

    def get(self):
        return int(self.first)

    def check(self, paths, first=None):
        """Raise NonFiniteLossError if a step went bad (`first`: get()'s value, if the
        caller has read it already: each read waits for the device)."""
        first = self.get() if first is None else first
        if first:
            paths.release()
            kept = (f"the last good checkpoint is {paths.checkpoint}"
                    if os.path.exists(paths.checkpoint) else "no checkpoint had been written")
            raise NonFiniteLossError(f"the loss became non-finite (NaN or inf) at step {first}; "
                                     f"training stopped and {kept}. Try a smaller --lr, or "
                                     f"--skip-nonfinite to skip such steps")


def interrupted(step, done, start, bad, paths, save, signal_number=signal.SIGINT):
    """The TrainingInterrupted for a Ctrl-C or SIGTERM: saves the last finished step
    (`done`) when that state is whole and finite, and says where."""
    stopped = "interrupted" if signal_number == signal.SIGINT else "terminated (SIGTERM)"

    def stop(message, *saved):
        return TrainingInterrupted(stopped + message, *saved, signal_number=signal_number)

    try:
        return interrupted_as(step, done, start, bad, paths, save, stop)
    finally:
        paths.release()


def interrupted_as(step, done, start, bad, paths, save, stop):
    """interrupted's work: save what can be saved, and say what was."""
    if bad.get():
        return stop(f"; a non-finite loss appeared at step {bad.get()}, so the last good "
                    f"checkpoint ({paths.checkpoint}) was kept")
    if done < step:  # a second signal in the middle of a step: its weights are half-updated
        return stop(f" during step {step}, whose updates were partial; the last checkpoint "
                    f"({paths.checkpoint}) was kept")
    if done == start:
        return stop(" before a step finished; nothing new to save")
    save(done)
    return stop(f" after step {done}; checkpoint written to {paths.checkpoint} (continue "
                f"with: minigan train --resume {paths.out})", paths.checkpoint, done)
