"""BestSnapshot: checkpoints/best.npz follows the run's best evaluation score.

It runs right after Evaluate, at the same steps (it shares Evaluate's trigger, so it stops
when evaluation does), and before the log line. When its best-value trigger
(training/triggers.py: MinValueTrigger on the Frechet distance for the digits,
MaxValueTrigger on the share of samples near a mode for the 2-D mixtures) fires, the
writer writes the run's whole state to best.npz, atomically as every checkpoint, with the
value, its key and its step under meta/best. It reports the best so far under "best"
(best_frechet_distance or best_high_quality, and best_step) for the log line.

A resumed run continues from last.npz and first reads meta/best back from best.npz, so
best.npz is only ever replaced by a better checkpoint. best.npz is a full checkpoint:
`minigan sample/eval --checkpoint RUN/checkpoints/best.npz` use it as they use last.npz.
"""
import os

from ...store import checkpoint
from ..triggers import MaxValueTrigger, MinValueTrigger
from .extension import PRIORITY_WRITER, Extension


class BestSnapshot(Extension):
    """best.npz when the scores Evaluate reported at this step beat the best so far."""

    priority = PRIORITY_WRITER  # added after Evaluate: runs after it, before the log line

    def __init__(self, evaluate, best):
        self.trigger = evaluate.trigger  # the same schedule, switched off with it
        self.best = best  # a best-value trigger

    def initialize(self, trainer):
        """A resumed run takes over the best value its best.npz was kept for."""
        path = trainer.run.paths.best
        if trainer.run.start > 0 and os.path.exists(path):
            self.best.restore(checkpoint.read_best(path))

    def __call__(self, trainer):
        scores = trainer.reporter.observation.get("eval", {})
        if self.best(scores, trainer.step):
            trainer.writer.checkpoint(trainer.run, trainer.step, trainer.skipped,
                                      best=self.best.state())
        if self.best.best is not None:
            trainer.reporter.report({"best": {f"best_{self.best.key}": self.best.best,
                                              "best_step": self.best.step}})


def best_value_trigger(kind):
    """The best-value trigger of a run whose data is of `kind`: the share of samples near a
    mode for the 2-D mixtures (higher is better), the Frechet distance of the digit
    classifier's features for images (lower is better; other image datasets have no
    classifier, so their scores never hold the key and nothing is written)."""
    if kind == "points":
        return MaxValueTrigger("high_quality")
    return MinValueTrigger("frechet_distance")
