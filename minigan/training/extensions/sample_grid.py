"""SampleGrid: samples/step_NNNNNN.png from the run's fixed noise, every --sample-every steps.

The sampling generator (the EMA copy with --ema) draws the grid in eval mode; the writer
saves it (and draws nothing where it writes nothing). The path is reported as
"sample_grid" for TensorBoard.
"""
from ...evaluation.sampling import generate
from ..triggers import IntervalTrigger
from .extension import PRIORITY_EDITOR, Extension

GRID_COLUMNS = 8


class SampleGrid(Extension):
    priority = PRIORITY_EDITOR

    def __init__(self, every):
        self.trigger = IntervalTrigger(every)

    def __call__(self, trainer):
        run = trainer.run
        path = trainer.writer.sample_grid(
            trainer.step, lambda: generate(run.sampler, run.fixed_z, run.fixed_labels),
            run.dataset.kind, run.config.dataset, GRID_COLUMNS)
        trainer.reporter.report({"sample_grid": path})
