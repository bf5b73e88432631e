"""The periodic actions of a training run (Chainer's trainer extensions), one per file.

Each is an Extension (extension.py): a trigger says when it runs, a priority where it runs
among the others due at the same step, and it tells the others what it made through the
trainer's reporter (training/reporter.py), never by reaching into them. What is written to
the run folder goes through the trainer's writer (training/writer.py), which on a
data-parallel run's other ranks writes nothing, so no extension asks which rank it is on.

    Evaluate     minigan.evaluation.metrics scores of fresh samples    every --eval-every
    BestSnapshot checkpoints/best.npz when the scores beat the best    after each Evaluate
    LogMetrics   a metrics.jsonl line                                 every --log-every
    SampleGrid   a picture from the run's fixed noise                 every --sample-every
    TensorBoard  event files of the line and the picture              with either
    Snapshot     the checkpoint (checkpoints/last.npz)                every --checkpoint-every
    ProgressBar  the progress bar and its text                        every step
Every periodic one is also due at the last step.
"""
from .best_snapshot import BestSnapshot
from .evaluate import Evaluate
from .extension import PRIORITY_EDITOR, PRIORITY_READER, PRIORITY_WRITER, Extension
from .log_metrics import LogMetrics, log_line
from .progress_bar import ProgressBar
from .sample_grid import SampleGrid
from .snapshot import Snapshot
from .tensorboard import TensorBoard

__all__ = ["Extension", "Evaluate", "BestSnapshot", "LogMetrics", "ProgressBar", "SampleGrid", "Snapshot",
           "TensorBoard", "log_line", "PRIORITY_WRITER", "PRIORITY_EDITOR", "PRIORITY_READER"]
