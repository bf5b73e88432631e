"""The Extension base class: a trigger, a priority, and what to do (Chainer's extension).

The trainer runs the extensions due after a step in order of priority, highest first, and
in the order they were added among equals (Chainer's three levels):
    PRIORITY_WRITER  makes an observation others read (Evaluate's scores)
    PRIORITY_EDITOR  turns observations into a record (the log line, the sample grid)
    PRIORITY_READER  only reads them (TensorBoard, the progress bar, the checkpoint)
"""
from ..triggers import IntervalTrigger

PRIORITY_WRITER, PRIORITY_EDITOR, PRIORITY_READER = 300, 200, 100


class Extension:
    """Subclasses set `trigger` (training/triggers.py) and define __call__(trainer)."""

    trigger = IntervalTrigger(0)  # never
    priority = PRIORITY_READER
    reads_state = True  # it reads the run's state: the trainer first checks that the losses
    #                     are finite (a host read) so that nothing is made from a broken run

    def initialize(self, trainer):
        """Once, before the first step."""

    def __call__(self, trainer):
        raise NotImplementedError

    def finalize(self):
        """Once, when the loop ends (also on an error or Ctrl-C)."""
