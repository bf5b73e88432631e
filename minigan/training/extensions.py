"""The periodic actions of a training run (Chainer's trainer extensions).

Each action has a schedule (`due(step, is_last)`) and a body (`__call__(trainer, step)`),
and knows nothing of the others; the Trainer (train.py) calls the due ones after each
step, in the order given. What a step wants logged goes into `trainer.observation` (a
dict, emptied after every step): Evaluate puts its scores there, and LogMetrics, run after
it, writes them into the same metrics.jsonl line and leaves the line in
`trainer.observation["line"]` for any later action (a TensorBoard writer, say).

    Evaluate      minigan.metrics scores of fresh samples        every --eval-every steps
    LogMetrics    a metrics.jsonl line, the progress bar's text  every --log-every steps
    SampleGrid    a picture from the run's fixed noise           every --sample-every steps
    Snapshot      the checkpoint (checkpoints/last.npz)          every --checkpoint-every steps
Every action is also due at the last step. A data-parallel run (minigan.data_parallel)
runs every action on every rank at the same steps, and the writing is rank 0's alone:
LogMetrics's losses are the means over the ranks (a collective every rank joins), and
whether Evaluate failed is agreed, so that the schedules stay the same on every rank.
"""
import sys

from ..autograd import no_grad
from ..evaluation.sampling import EVAL_STREAM, draw_samples, generate, save_picture
from ..nn import functional as F
from ..parallel.data_parallel import SingleProcess


class PeriodicAction:
    """Due every `every` steps (never when every is 0) and at the run's last step."""

    def __init__(self, every):
        self.every = every

    def due(self, step, is_last):
        return self.every > 0 and (step % self.every == 0 or is_last)


class Evaluate(PeriodicAction):
    """Scores EVAL_SAMPLES fresh samples of the sampling generator into the log line."""

    samples = 2500  # as many as the 2-D mixture metrics are defined on

    def __call__(self, trainer, step):
        from tqdm import tqdm  # noqa: PLC0415

        error, parallel = None, trainer.run.parallel
        if parallel.is_main:
            try:
                trainer.observation.update(evaluate(trainer.run, self.samples))
            except (ImportError, OSError, ValueError) as err:  # e.g. no digit classifier
                tqdm.write(f"minigan train: metrics failed ({err}); --eval-every is off for "
                           f"the rest of this run", file=sys.stderr)
                error = err
        if parallel.any(error is not None):
            self.every = 0


def evaluate(run, n):
    """minigan.metrics.evaluate_samples on n samples from their own stream."""
    from ..evaluation import metrics  # noqa: PLC0415 - loads the digit classifier only when used

    samples, labels = draw_samples(run.sampler, n, [run.config.seed, *EVAL_STREAM],
                                   run.config.device)
    scores = metrics.evaluate_samples(samples, run.dataset.kind, run.config.dataset,
                                      labels=labels)
    return {k: float(v) for k, v in scores.items()}


class LogMetrics(PeriodicAction):
    """One metrics.jsonl line, and the progress bar's text; also due when one of the
    actions in `also` is (they report into the line)."""

    def __init__(self, every, also=()):
        super().__init__(every)
        self.also = also

    def due(self, step, is_last):
        return super().due(step, is_last) or any(a.due(step, is_last) for a in self.also)

    def __call__(self, trainer, step):
        line = log_line(step, trainer.last, trainer.seconds(), trainer.skipped,
                        trainer.run.parallel)
        line.update(trainer.observation)
        trainer.observation["line"] = line
        if not trainer.run.parallel.is_main:
            return
        trainer.run.paths.append_metrics(line)
        trainer.bar.set_postfix({"D": f"{line['loss_d']:.3f}", "G": f"{line['loss_g']:.3f}",
                                 "D(x)": f"{line['d_real']:.2f}",
                                 "D(G(z))": f"{line['d_fake']:.2f}"}, refresh=False)


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


class SampleGrid(PeriodicAction):
    """samples/step_NNNNNN.png from the run's fixed noise, drawn by the sampling generator."""

    def __call__(self, trainer, step):
        run = trainer.run
        if not run.parallel.is_main:
            return
        save_picture(generate(run.sampler, run.fixed_z, run.fixed_labels),
                     run.paths.sample(step), run.dataset.kind, run.config.dataset, nrow=8)


class Snapshot(PeriodicAction):
    """The run's checkpoint at this step (atomic; the previous one stays until replaced)."""

    def __call__(self, trainer, step):
        trainer.run.save(step, trainer.skipped)
