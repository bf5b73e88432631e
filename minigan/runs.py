"""What surrounds a training loop: the run folder, and the two ways a run can stop early.

    DIR/metrics.jsonl          one JSON object per logged step
    DIR/samples/step_NNNNNN.png   a grid (or scatter plot) from the run's fixed noise
    DIR/samples.gif, DIR/losses.png   made from those at the end
    DIR/checkpoints/last.npz   see checkpoint.py

Ctrl-C is deferred to the end of the current step (DeferredInterrupt), so the checkpoint
written then is a state the run really passed through. A NaN or infinite loss is noticed
on the device (FirstBadStep) and read back only when the host reads anyway, so watching
for it costs no GPU synchronisation.
"""
import json
import os
import re
import signal
import threading

import numpy as np

from . import backend, images


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
        so a run that crashed after its last checkpoint logs those steps only once."""
        os.makedirs(self.samples, exist_ok=True)
        os.makedirs(os.path.dirname(self.checkpoint), exist_ok=True)
        keep = resumed_at or 0
        lines = []
        if keep and os.path.exists(self.metrics):
            with open(self.metrics) as f:
                lines = [line for line in f if line.strip() and json.loads(line)["step"] <= keep]
        with open(self.metrics, "w") as f:
            f.writelines(lines)
        for step in self.sample_steps():
            if step > keep:
                os.remove(self.sample(step))
        if resumed_at is None and os.path.exists(self.checkpoint):
            os.remove(self.checkpoint)  # an older run's: never "the last good checkpoint" here

    def append_metrics(self, line):
        with open(self.metrics, "a") as f:
            f.write(json.dumps(line) + "\n")

    def finish(self):
        """samples.gif from the grids, losses.png from metrics.jsonl."""
        images.save_gif([self.sample(s) for s in self.sample_steps()], self.gif)
        with open(self.metrics) as f:
            lines = [json.loads(line) for line in f if line.strip()]
        series = {"D loss": [line["loss_d"] for line in lines],
                  "G loss": [line["loss_g"] for line in lines]}
        images.save_loss_plot([line["step"] for line in lines], series, self.losses_plot)


class NonFiniteLossError(ArithmeticError):
    """Training stopped because a loss became NaN or infinite."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C stopped the run; .checkpoint_path and .step say what was saved (None: nothing)."""

    def __init__(self, message, checkpoint_path=None, step=None):
        super().__init__(message)
        self.checkpoint_path, self.step = checkpoint_path, step


class DeferredInterrupt:
    """Inside this block, Ctrl-C (SIGINT) only sets .requested; the loop stops between
    steps. A second Ctrl-C interrupts at once. Signal handlers can only be installed from
    the main thread; elsewhere Ctrl-C keeps its usual effect."""

    def __init__(self):
        self.requested = False
        self.previous = None

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            self.previous = signal.signal(signal.SIGINT, self.handle)
        return self

    def handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.requested = True

    def __exit__(self, *exc):
        if self.previous is not None:
            signal.signal(signal.SIGINT, self.previous)
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


def interrupted(step, done, start, bad, paths, save):
    """The TrainingInterrupted for a Ctrl-C: saves the last finished step (`done`) when
    that state is whole and finite, and says where."""
    if bad.get():
        return TrainingInterrupted(f"interrupted; a non-finite loss appeared at step {bad.get()}, "
                                   f"so the last good checkpoint ({paths.checkpoint}) was kept")
    if done < step:  # a second Ctrl-C in the middle of a step: its weights are half-updated
        return TrainingInterrupted(f"interrupted during step {step}, whose updates were "
                                   f"partial; the last checkpoint ({paths.checkpoint}) was kept")
    if done == start:
        return TrainingInterrupted("interrupted before a step finished; nothing new to save")
    save(done)
    return TrainingInterrupted(f"interrupted after step {done}; checkpoint written to "
                               f"{paths.checkpoint} (continue with: minigan train --resume "
                               f"{paths.out})", paths.checkpoint, done)
