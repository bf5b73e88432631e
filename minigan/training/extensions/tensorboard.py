"""TensorBoard event files for a training run: `minigan train --tensorboard`.

Writes, through tensorboardX (the extra minigan[tensorboard]), into DIR/tensorboard/:
    loss_d, loss_g, d_real, d_fake  scalars, every --log-every steps: metrics.jsonl's line
                                    (d_real = mean D(x), d_fake = mean D(G(z)))
    eval/<metric>                   scalars, every --eval-every steps (minigan eval's scores)
    samples                         the sample grid image, every --sample-every steps
The step axis is the run's generator step. A resumed run writes into the same folder,
continuing the same curves; its writer starts with a purge at the resumed step
(SessionLog START), so TensorBoard drops what a crashed run had logged after its last
checkpoint and shows those steps once. `tensorboard --logdir runs` shows every run side
by side.
"""
import os
import time

import numpy as np

from ..triggers import AnyOf, IntervalTrigger
from .extension import PRIORITY_READER, Extension

FOLDER = "tensorboard"


def summary_writer_class():
    """tensorboardX's SummaryWriter, or a ValueError saying how to install it."""
    try:
        from tensorboardX import SummaryWriter  # noqa: PLC0415 - an optional extra
    except ImportError as err:
        raise ValueError(f"--tensorboard needs minigan[tensorboard] (pip install "
                         f"'minigan[tensorboard]'), or leave it off (--no-tensorboard, "
                         f"also for a resumed run): {err}") from None
    return SummaryWriter


class TensorBoard(Extension):
    """Due whenever the log line or the sample grid is; runs after LogMetrics and SampleGrid
    (a lower priority), and writes what they reported: the line's values and the grid."""

    priority = PRIORITY_READER
    SCALARS = ("loss_d", "loss_g", "d_real", "d_fake")  # named as in metrics.jsonl (a
    # TensorBoard tag cannot hold parentheses: "D(x)" would become "D_x_")

    def __init__(self, log_every, sample_every):
        self.trigger = AnyOf(IntervalTrigger(log_every), IntervalTrigger(sample_every))
        self.events = None

    def __call__(self, trainer):
        if self.events is None:  # opened at the first step it is due
            self.events = trainer.writer.open_events(lambda: open_events(trainer.run))
        observation = trainer.reporter.observation
        line = observation.get("line")
        if line is not None:  # LogMetrics ran at this step (observations last one step)
            for key in self.SCALARS:
                self.events.add_scalar(key, line[key], trainer.step)
            for key, value in {**observation.get("eval", {}),  # Evaluate's scores
                               **observation.get("best", {})}.items():  # BestSnapshot's
                self.events.add_scalar(f"eval/{key}", value, trainer.step)
        picture = observation.get("sample_grid")
        if picture is not None:  # SampleGrid wrote one at this step
            from PIL import Image  # noqa: PLC0415

            with Image.open(picture) as image:
                pixels = np.asarray(image.convert("RGB"))  # (H, W, 3) uint8
            self.events.add_image("samples", pixels, trainer.step, dataformats="HWC")
        self.events.flush()  # readable now, and kept if the run is killed

    def finalize(self):
        if self.events is not None:
            self.events.close()
            self.events = None


def open_events(run):
    """The writer for DIR/tensorboard (a fresh run goes only into a folder that holds no
    run, see RunFiles.prepare, so there are no earlier curves to continue or remove)."""
    logdir = os.path.join(run.paths.out, FOLDER)
    SummaryWriter = summary_writer_class()
    # purge_step: TensorBoard forgets the events of steps >= it from earlier files.
    # tensorboardX names a file by the second it opens it, and a second writer in the
    # same second would truncate the first one's file: the suffix (pid, nanoseconds)
    # keeps every writer's file its own, and in the order TensorBoard must read them.
    return SummaryWriter(logdir=logdir, purge_step=run.start + 1 if run.start else None,
                         filename_suffix=f".{os.getpid()}.{time.time_ns()}")
