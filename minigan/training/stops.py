"""How a training run stops early, and what it says and keeps when it does.

Ctrl-C (SIGINT) and SIGTERM (what `kill`, a job scheduler or a container stop sends) are
deferred to the end of the current step (DeferredInterrupt), so the checkpoint written then
is a state the run really passed through. A NaN or infinite loss is noticed on the device
(FirstBadStep) and read back only when the host reads anyway, so watching for it costs no
GPU synchronisation. A write that fails (a full disk) stops the run saying what was kept
(write_failed). Each gives the run folder's lock back (store/run_folder.py).
"""
import os
import signal
import threading

import numpy as np

from .. import backend
from ..store.atomic import reason


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
