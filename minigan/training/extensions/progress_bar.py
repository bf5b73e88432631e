"""ProgressBar: the run's first line, then a tqdm bar with the last logged losses.

Added by `train` only where the run shows progress (not with --no-progress, and on one
rank of a data-parallel run). It reads the log line LogMetrics reported, so it runs after
it; it reads nothing on the device, so it costs no GPU synchronisation per step.
"""
from ..triggers import EVERY_STEP
from .extension import PRIORITY_READER, Extension


class ProgressBar(Extension):
    trigger = EVERY_STEP
    priority = PRIORITY_READER
    reads_state = False

    def __init__(self):
        self.bar = None

    def initialize(self, trainer):
        from tqdm import tqdm  # noqa: PLC0415

        run, config = trainer.run, trainer.run.config
        sampler = " (samples from the EMA of G)" if run.G_ema is not None else ""
        print(f"minigan train: {config.model} on {config.dataset} ({len(run.dataset.x)} "
              f"examples), steps {run.start + 1}-{config.steps}, batch {config.batch_size}, "
              f"{config.device}; writing to {config.out}{sampler}")
        self.bar = tqdm(total=config.steps, initial=run.start, unit="step", dynamic_ncols=True)

    def __call__(self, trainer):
        line = trainer.reporter.observation.get("line")
        if line is not None:
            self.bar.set_postfix({"D": f"{line['loss_d']:.3f}", "G": f"{line['loss_g']:.3f}",
                                  "D(x)": f"{line['d_real']:.2f}",
                                  "D(G(z))": f"{line['d_fake']:.2f}"}, refresh=False)
        self.bar.update(1)

    def finalize(self):
        if self.bar is not None:
            self.bar.close()
