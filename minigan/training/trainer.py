"""The training loop (Chainer's Trainer): a step, then the extensions that are due.

    train(config)        setup (setup.py), the updater (updater.py), the standard extensions
                         (extensions/), then Trainer.train
    Trainer.train        for each step: updater.update(step); the due extensions in order
                         of priority. Ctrl-C and SIGTERM stop it between steps with a
                         checkpoint; a non-finite loss (watched on the device) stops it at
                         the next host read
The trainer holds what the extensions read: the run, the step and its result (`last`), the
skipped updates, the reporter (what this step's extensions made) and the writer (the run
folder).
"""
import signal
import time

from ..store.run_folder import (DeferredInterrupt, FirstBadStep, NonFiniteLossError,
                                interrupted, write_failed)
from ..data import datasets as data
from .extensions import (BestSnapshot, Evaluate, LogMetrics, ProgressBar, SampleGrid, Snapshot,
                         TensorBoard)
from .extensions.best_snapshot import best_value_trigger
from .extensions.log_metrics import log_line
from .reporter import Reporter
from .setup import setup
from .updater import GANUpdater, StepSettings


def standard_extensions(config):
    """The extensions every run has, as its config schedules them."""
    evaluate = Evaluate(config.eval_every)
    best = BestSnapshot(evaluate, best_value_trigger(data.dataset_entry(config.dataset).kind))
    extensions = [evaluate, best, LogMetrics(config.log_every, also=[evaluate]),
                  SampleGrid(config.sample_every)]
    if config.tensorboard:  # writes what LogMetrics and SampleGrid made at this step
        extensions.append(TensorBoard(config.log_every, config.sample_every))
    return extensions + [Snapshot(config.checkpoint_every)]


class Trainer:
    """Runs the updater's steps from run.start + 1 to config.steps, each followed by the
    extensions that are due."""

    def __init__(self, run, updater, extensions=()):
        self.run, self.updater = run, updater
        self.writer = run.writer
        self.extensions = []
        for extension in extensions:
            self.extend(extension)
        self.reporter = Reporter()
        self.skipped = run.skipped
        self.step = run.start
        self.last = None  # the last StepResult
        self.t0 = None

    def extend(self, extension):
        """Add an extension; among those due at a step, a higher priority runs first, and
        equal priorities run in the order they were added."""
        self.extensions.append(extension)
        self.extensions.sort(key=lambda e: -e.priority)  # a stable sort keeps that order

    def seconds(self):
        return time.perf_counter() - self.t0

    def run_steps(self, bad, interrupt):
        """The loop itself; returns the last step whose updates are all applied."""
        run, steps = self.run, self.run.config.steps
        for step in range(run.start + 1, steps + 1):
            self.step = step
            self.last = self.updater.update(step)
            self.skipped += self.last.skipped
            self.done = step
            if not run.config.skip_nonfinite:
                bad.update(step, self.last.loss_d, self.last.loss_g)
            due = [e for e in self.extensions if e.trigger(step, step == steps)]
            if any(e.reads_state for e in due):
                check_finite(bad, run)  # the only host read between logged steps
            self.reporter.clear()
            for extension in due:
                extension(self)
            self.stop = run.parallel.any(interrupt.requested)
            if self.stop:  # Ctrl-C or SIGTERM during this step: stop here
                check_finite(bad, run)
                raise KeyboardInterrupt

    def train(self):
        """The loop; returns a summary dict (see summarise)."""
        run, config = self.run, self.run.config
        bad = FirstBadStep(config.device)
        self.t0 = time.perf_counter()
        self.done = run.start  # the last step whose updates are all applied
        self.stop = False  # agreed by every data-parallel rank, so that they stop together
        for extension in self.extensions:
            extension.initialize(self)
        with DeferredInterrupt() as interrupt:
            try:
                self.run_steps(bad, interrupt)
            except KeyboardInterrupt:
                self.finalize()
                error = interrupted(self.step, self.done, run.start, bad, run.paths,
                                    lambda at: self.writer.checkpoint(run, at, self.skipped),
                                    interrupt.signal or signal.SIGINT)
                error.agreed = self.stop  # every rank stops here alike (not after a 2nd Ctrl-C)
                raise error from None
            except OSError as err:  # a full disk, a folder made read-only, ... while writing
                raise write_failed(err, run.paths) from err
            finally:
                self.finalize()
        seconds = self.seconds()
        try:
            self.writer.finish()
        except OSError as err:
            raise write_failed(err, run.paths) from err
        summary = summarise(self.step, run.start, config.steps, seconds, run.paths,
                            self.skipped)
        line = log_line(self.step, self.last, seconds, self.skipped, run.parallel)
        summary.update({k: v for k, v in line.items() if k.startswith(("loss", "d_"))})
        return summary

    def finalize(self):
        for extension in self.extensions:
            extension.finalize()


def check_finite(bad, run):
    """FirstBadStep.check, with the first bad step agreed by every data-parallel rank;
    one host read."""
    first = run.parallel.first_bad_step(bad.get())
    bad.first = bad.xp.asarray(first)
    try:
        bad.check(run.paths, first)
    except NonFiniteLossError as err:
        err.agreed = True  # every rank raises it at the same step
        raise


def train(config, progress=True, resume=None):
    """Train a GAN as `config` says; returns a summary dict.

    resume: a checkpoint file or run directory to continue from (see config_for_resume).
    Raises NonFiniteLossError, or TrainingInterrupted (a KeyboardInterrupt) on Ctrl-C or
    SIGTERM after writing a checkpoint.
    """
    run = setup(config, resume)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real,
                         StepSettings.of(run.config), run.method, run.parallel)
    trainer = Trainer(run, updater, standard_extensions(run.config))
    if progress and run.parallel.is_main:  # one progress bar for a data-parallel run
        trainer.extend(ProgressBar())
    return trainer.train()


def summarise(step, start, steps, seconds, paths, skipped):
    return {"out": paths.out, "step": step, "steps": steps, "start_step": start,
            "seconds": seconds, "steps_per_second": (step - start) / seconds if seconds else 0.0,
            "checkpoint": paths.checkpoint, "samples": paths.samples, "gif": paths.gif,
            "losses_plot": paths.losses_plot, "metrics": paths.metrics,
            "skipped_updates": skipped}
