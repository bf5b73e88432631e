"""The best checkpoint: checkpoints/best.npz follows the run's best evaluation score.

BestSnapshot runs right after each evaluation (--eval-every), before the log line and
last.npz are written. When its trigger (minigan/training/triggers.py: the Frechet distance on the
digits, the share of samples near a mode on the 2-D mixtures) fires, the run's whole state
is written to best.npz, atomically as every checkpoint, with the best value, its key and
its step under meta/best; the log line gets the best so far (e.g. best_frechet_distance).

A resumed run continues from last.npz and first reads meta/best back from best.npz, so
best.npz is only ever replaced by a better checkpoint. best.npz is a full checkpoint:
`minigan sample/eval --checkpoint RUN/checkpoints/best.npz` use it as they use last.npz.
"""
import os

from ..store import checkpoint
from .extensions import PeriodicAction
from .triggers import best_value_trigger


class BestSnapshot(PeriodicAction):
    """Writes best.npz when `evaluate` (the run's Evaluate action) has just scored a new best.

    Due exactly when `evaluate` is (it may switch itself off after a failure)."""

    def __init__(self, evaluate, trigger):
        super().__init__(0)
        self.evaluate, self.trigger = evaluate, trigger

    def due(self, step, is_last):
        return self.evaluate.due(step, is_last)

    def restore(self, run):
        """Take over the best value of an existing best.npz of this run (a resumed run)."""
        path = run.paths.best
        if run.start > 0 and os.path.exists(path):
            self.trigger.restore(checkpoint.read_best(path))

    def __call__(self, trainer, step):
        run = trainer.run
        if self.trigger(trainer.observation, step):
            run.save(step, trainer.skipped, path=run.paths.best, best=self.trigger.state())
        if self.trigger.best is not None:
            trainer.observation[f"best_{self.trigger.key}"] = self.trigger.best
            trainer.observation["best_step"] = self.trigger.step


def best_snapshot(evaluate, kind):
    """The BestSnapshot of a run whose data is of `kind` ("image" or "points")."""
    return BestSnapshot(evaluate, best_value_trigger(kind))
