"""What surrounds a training loop: the run folder, and the two ways a run can stop early.

    DIR/metrics.jsonl          one JSON object per logged step
    DIR/samples/step_NNNNNN.png   a grid (or scatter plot) from the run's fixed noise
    DIR/samples.gif, DIR/losses.png   made from those at the end
    DIR/checkpoints/last.npz   see checkpoint.py

Ctrl-C (SIGINT) and SIGTERM (what `kill`, a job scheduler or a container stop sends) are
deferred to the end of the current step (DeferredInterrupt), so the checkpoint written then
is a state the run really passed through. A NaN or infinite loss is noticed on the device
(FirstBadStep) and read back only when the host reads anyway, so watching for it costs no
GPU synchronisation. A write that fails (a full disk) stops the run saying what was kept
(write_failed), and a run killed at any moment can be prepared again (RunFiles.prepare).
"""
import json
import os
import re
import signal
import threading

import numpy as np

from . import backend, images
from .atomic import atomic_write, reason, remove_leftovers


def default_out(model, dataset):
    """runs/<model>-<dataset>, the dataset name made safe for a folder name."""
    name = re.sub(r"[^A-Za-z0-9_.-]+", "-", dataset.rstrip("/\\")).strip("-.")
    return os.path.join("runs", f"{model}-{name}")


class RunFiles:
    """The paths of a run folder, and the few things done to them."""

    def __init__(self, out):
        self.out = out
        self.metrics = os.path.join(out, "metrics.jsonl")
        self.samples = os.path.join(out, "samples")
        self.gif = os.path.join(out, "samples.gif")
        self.losses_plot = os.path.join(out, "losses.png")
        self.checkpoint = os.path.join(out, "checkpoints", "last.npz")

    def sample(self, step):
        return os.path.join(self.samples, f"step_{step:06d}.png")

    def sample_steps(self):
        found = (re.fullmatch(r"step_(\d+)\.png", name) for name in os.listdir(self.samples))
        return sorted(int(m.group(1)) for m in found if m)

    def prepare(self, resumed_at=None):
        """Make the folders. A fresh run (resumed_at None) replaces an older run's metrics,
        grids and checkpoint; a resumed one keeps those up to the step it resumes from,
        so a run that crashed after its last checkpoint logs those steps only once.

        A run killed at any moment (even inside this method) can be prepared again: the
        metrics are rewritten whole or not at all, a torn last line is dropped, and the
        temporary files of a checkpoint or picture write cut short are removed."""
        try:
            os.makedirs(self.samples, exist_ok=True)
            os.makedirs(os.path.dirname(self.checkpoint), exist_ok=True)
            keep = resumed_at or 0
            lines = self.metrics_lines(up_to=keep) if keep else []
            with atomic_write(self.metrics) as f:
                f.write("".join(json.dumps(line) + "\n" for line in lines).encode())
            for step in self.sample_steps():
                if step > keep:
                    os.remove(self.sample(step))
            for folder in (self.out, self.samples, os.path.dirname(self.checkpoint)):
                remove_leftovers(folder)
            if resumed_at is None and os.path.exists(self.checkpoint):
                os.remove(self.checkpoint)  # an older run's: never "the last good checkpoint"
        except OSError as err:
            raise OSError(f"cannot write the run folder {self.out}: {reason(err)}; "
                          f"choose another --out") from err

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
        with open(self.metrics, "a") as f:
            f.write(json.dumps(line) + "\n")

    def finish(self):
        """samples.gif from the grids, losses.png from metrics.jsonl."""
        images.save_gif([self.sample(s) for s in self.sample_steps()], self.gif)
        lines = self.metrics_lines()
        series = {"D loss": [line["loss_d"] for line in lines],
                  "G loss": [line["loss_g"] for line in lines]}
        images.save_loss_plot([line["step"] for line in lines], series, self.losses_plot)


def write_failed(err, paths):
    """The OSError that ends a run whose write failed: what, why, and what is kept."""
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
        ok = self.xp.isfinite(losses[0].data)
        for loss in losses[1:]:
            ok = ok & self.xp.isfinite(loss.data)
        self.first = self.xp.where((self.first == 0) & ~ok, step, self.first)

    def get(self):
        return int(self.first)

    def check(self, paths):
        """Raise NonFiniteLossError if a step went bad."""
        first = self.get()
        if first:
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
