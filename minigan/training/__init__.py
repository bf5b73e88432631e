"""The training application, as Chainer's trainer: a config, a setup that builds the run, an
updater that does one step, and extensions (log, samples, checkpoints, evaluation) that a
trigger schedules and a reporter lets talk to each other.

    config.py       TrainConfig: every setting, each with its command-line flag
    setup.py        setup(config) -> Run: data, models, optimizers, method, run folder
    updater.py      GANUpdater: one step of Algorithm 1, with the run's method
    trainer.py      Trainer: the loop; train(config), the whole run
    triggers.py     when an extension runs
    reporter.py     what the extensions of one step tell each other
    writer.py       the run folder's one writer (muted on a data-parallel run's other ranks)
    extensions/     one extension per file
"""
from ..store.run_folder import NonFiniteLossError, TrainingInterrupted
from .config import RESUME_OVERRIDES, SECTIONS, TrainConfig
from .setup import Run, config_for_resume, make_optimizers, setup
from .trainer import Trainer, standard_extensions, train
from .updater import GANUpdater, StepSettings

__all__ = ["TrainConfig", "RESUME_OVERRIDES", "SECTIONS", "Run", "setup", "config_for_resume",
           "make_optimizers", "Trainer", "standard_extensions", "train", "GANUpdater",
           "StepSettings", "NonFiniteLossError", "TrainingInterrupted"]
