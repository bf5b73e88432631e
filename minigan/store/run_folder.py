"""The run folder: its paths, its lock, and the few things done to them.

    DIR/metrics.jsonl          one JSON object per logged step
    DIR/samples/step_NNNNNN.png   a grid (or scatter plot) from the run's fixed noise
    DIR/samples.gif, DIR/losses.png   made from those at the end
    DIR/checkpoints/last.npz   see checkpoint.py
    DIR/checkpoints/best.npz   the best evaluation so far (--eval-every;
                               training/extensions/best_snapshot.py)
    DIR/.minigan.lock          "PID HOST" of the run writing DIR, while it runs

A run killed at any moment can be prepared again (RunFiles.prepare). A run folder is never
given to a second run, and a new run never replaces an old one. How a run stops early
(Ctrl-C, SIGTERM, a non-finite loss, a failed write) is minigan/training/stops.py.
"""
import atexit
import contextlib
import errno
import json
import os
import re
import socket
import stat
import time

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
            self.check_no_links()
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

    def check_no_links(self):
        """Refuse a run folder whose entries minigan writes or cleans are symbolic links:
        through a link to a shared folder, the cleanup of grids above a resumed step and
        of temporary files would delete there, and the log would grow there. Only the
        run folder itself may be a link (the user chose it as --out)."""
        for path in (self.samples, os.path.dirname(self.checkpoint), self.checkpoint,
                     self.metrics, self.gif, self.losses_plot):
            if os.path.islink(path):
                raise RunFolderError(
                    f"{path} is a symbolic link (to {os.readlink(path)}); minigan writes and "
                    f"deletes only inside the run folder: replace the link by a real "
                    f"{'file' if os.path.splitext(path)[1] else 'folder'}, or choose "
                    f"another --out")

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
        if same_file(resumed_from, self.best):
            raise RunFolderError(
                f"{resumed_from} is this run's best checkpoint, kept for sample and eval; "
                f"--resume continues a run from its last one (--resume {self.out}): to "
                f"train on from the best step instead, give it a new, empty --out")
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
MAX_PID = 2 ** 22  # Linux's largest pid_max; no process has a larger pid


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
            text = read_regular_file(path)
        except FileNotFoundError:
            return None
        parts = text.split()
        if len(parts) == 2 and parts[0].isascii() and parts[0].isdigit():
            return int(parts[0]), parts[1]
        if time.monotonic() > deadline:
            return -1, socket.gethostname()  # garbled for too long: its writer is gone
        time.sleep(0.02)


def read_regular_file(path, limit=4096):
    """The first `limit` bytes of the regular file `path` as text. A FIFO, a device or a
    folder at the lock's name is refused (opened without blocking: a FIFO with no writer
    would wait forever), as is anything that cannot be read."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except IsADirectoryError:
        raise RunFolderError(f"{path} is not a regular file (a folder); minigan keeps its "
                             f"lock there: remove it, or choose another --out") from None
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise RunFolderError(f"{path} is not a regular file (a FIFO, a device or a "
                                 f"folder); minigan keeps its lock there: remove it, or "
                                 f"choose another --out")
        return os.read(fd, limit).decode(errors="replace")
    finally:
        os.close(fd)


def check_not_in_use(path):
    """Refuse to write `path` inside a run folder that another live process is training
    (the lock of the file's folder or of any folder above it): `minigan sample --out
    RUN/x.png` beside a running `minigan train --out RUN`."""
    folder = os.path.dirname(os.path.abspath(path))
    while True:
        lock = os.path.join(folder, RunFiles.LOCK)
        if os.path.lexists(lock):
            owner = read_lock(lock)
            if owner is not None and not lock_is_stale(*owner):
                raise RunFolderError(f"{folder} is in use by another minigan run (pid "
                                     f"{owner[0]} on {owner[1]}); write {path} elsewhere, or "
                                     f"wait for that run to end")
        parent = os.path.dirname(folder)
        if parent == folder:
            return
        folder = parent


def lock_is_stale(pid, host):
    if host != socket.gethostname():
        return False
    return pid == os.getpid() or not pid_alive(pid)


def pid_alive(pid):
    """Whether a process with this pid runs on this host (a zombie counts as dead)."""
    if not 0 < pid <= MAX_PID:  # (os.kill of a pid beyond a C int raises OverflowError)
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
        with contextlib.suppress(OSError, RunFolderError):
            if read_lock(path, patience_s=0) == (os.getpid(), socket.gethostname()):
                os.remove(path)


def release_all_locks():
    for path in list(_held_locks):
        release_lock(path)
