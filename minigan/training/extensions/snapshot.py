"""Snapshot: the run's checkpoint (checkpoints/last.npz), every --checkpoint-every steps.

Written atomically: the previous checkpoint stays until the new one is whole. The ranks of
a data-parallel run hold the same state, and the writer of rank 0 alone writes it.
"""
from ..triggers import IntervalTrigger
from .extension import PRIORITY_READER, Extension


class Snapshot(Extension):
    priority = PRIORITY_READER

    def __init__(self, every):
        self.trigger = IntervalTrigger(every)

    def __call__(self, trainer):
        trainer.writer.checkpoint(trainer.run, trainer.step, trainer.skipped)
