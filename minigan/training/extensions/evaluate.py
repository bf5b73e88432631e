"""Evaluate: minigan.evaluation.metrics scores of fresh samples, every --eval-every steps.

The samples come from their own seeded stream ([seed, 0, 1]), so evaluating never changes
what training does next. The scores are reported under "eval" for the log line. Every
data-parallel rank holds the same weights and scores the same samples; if scoring fails
(no digit classifier, say) the ranks agree to stop evaluating for the rest of the run.
"""
from ...evaluation.sampling import EVAL_STREAM, draw_samples
from ..triggers import IntervalTrigger
from .extension import PRIORITY_WRITER, Extension

EVAL_SAMPLES = 2500  # as many as the 2-D mixture metrics are defined on


class Evaluate(Extension):
    """Scores EVAL_SAMPLES fresh samples of the sampling generator into the log line."""

    priority = PRIORITY_WRITER
    samples = EVAL_SAMPLES

    def __init__(self, every):
        self.trigger = IntervalTrigger(every)

    def __call__(self, trainer):
        error = None
        try:
            trainer.reporter.report({"eval": evaluate(trainer.run, self.samples)})
        except (ImportError, OSError, ValueError) as err:  # e.g. no digit classifier
            trainer.writer.say(f"minigan train: metrics failed ({err}); --eval-every is off "
                               f"for the rest of this run")
            error = err
        if trainer.run.parallel.any(error is not None):
            self.trigger.every = 0


def evaluate(run, n):
    """minigan.evaluation.metrics.evaluate_samples on n samples from their own stream."""
    from ...evaluation import metrics  # noqa: PLC0415 - loads the classifier only when used

    samples, labels = draw_samples(run.sampler, n, [run.config.seed, *EVAL_STREAM],
                                   run.config.device)
    scores = metrics.evaluate_samples(samples, run.dataset.kind, run.config.dataset,
                                      labels=labels)
    return {k: float(v) for k, v in scores.items()}
