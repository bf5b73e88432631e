"""LogMetrics: one metrics.jsonl line every --log-every steps, and whenever Evaluate reports.

The line holds the step's losses and D's mean outputs, read back from the device (a GPU
synchronisation, hence only every N steps), and Evaluate's scores when it ran at this step
(with BestSnapshot's best so far).
It is reported as "line" (for the progress bar and TensorBoard) and written by the writer.
On a data-parallel run the values are the global batch's, means over the ranks: a
collective every rank joins, so LogMetrics runs on every rank alike.
"""
from ...autograd import no_grad
from ...nn import functional as F
from ...parallel.data_parallel import SingleProcess
from ..triggers import AnyOf, IntervalTrigger
from .extension import PRIORITY_EDITOR, Extension


class LogMetrics(Extension):
    """Due every `every` steps, and when any of the extensions in `also` is (they report
    into the line)."""

    priority = PRIORITY_EDITOR

    def __init__(self, every, also=()):
        self.trigger = AnyOf(IntervalTrigger(every), *(extension.trigger for extension in also))

    def __call__(self, trainer):
        line = log_line(trainer.step, trainer.last, trainer.seconds(), trainer.skipped,
                        trainer.run.parallel)
        line.update(trainer.reporter.observation.get("eval", {}))
        line.update(trainer.reporter.observation.get("best", {}))
        trainer.reporter.report({"line": line})
        trainer.writer.metrics(line)


def log_line(step, last, seconds, skipped, parallel=SingleProcess()):
    """One metrics.jsonl record; reading the values back from the device is a GPU sync.
    They are the global batch's: a data-parallel run's means over its ranks.

    d_real, d_fake: mean sigmoid(D(x)), mean sigmoid(D(G(z))) (for the non-GAN losses a
    squashed score, still "how real D finds them"). time: wall seconds since this process
    started (or resumed) the run."""
    with no_grad():
        values = parallel.global_means([last.loss_d, last.loss_g,
                                        F.sigmoid(last.real_logits).mean(),
                                        F.sigmoid(last.fake_logits).mean()])
    line = {"step": step, **dict(zip(("loss_d", "loss_g", "d_real", "d_fake"), values)),
            "time": round(seconds, 3)}
    if skipped:
        line["skipped_updates"] = skipped
    return line
