"""The run folder's one writer: every file a training run writes, and its messages, go
through it.

    RunWriter    writes: the folder's preparation and lock, metrics.jsonl lines, sample
                 grids, checkpoints, TensorBoard events, samples.gif and losses.png at the
                 end, and the messages shown beside the progress bar
    MutedWriter  the same calls, doing nothing: the other ranks of a data-parallel run, whose
                 run is rank 0's (they hold the same state)
`writer_for` is the one place that asks which rank this is; the extensions call the writer
alike on every rank. A muted writer is also not asked to draw a grid it would not save.
"""
import sys

from ..evaluation.sampling import save_picture
from ..store import checkpoint


class RunWriter:
    def __init__(self, files):
        self.files = files  # store.run_folder.RunFiles: the folder's paths

    def prepare(self, resumed_at=None, resumed_from=None):
        self.files.prepare(resumed_at=resumed_at, resumed_from=resumed_from)

    def metrics(self, line):
        self.files.append_metrics(line)

    def sample_grid(self, step, draw, kind, dataset_name, nrow):
        """Save draw()'s samples as the grid of `step`; returns its path."""
        path = self.files.sample(step)
        save_picture(draw(), path, kind, dataset_name, nrow=nrow)
        return path

    def checkpoint(self, run, step, skipped, best=None):
        """The run's state at `step` (see store/checkpoint.py) in checkpoints/last.npz, or
        with `best` (a best-value trigger's state) in checkpoints/best.npz; returns its path.
        The stored config leaves out `out`: the run, not where it happens to live (a moved
        run folder resumes the same)."""
        stored_config = {k: v for k, v in run.config.to_dict().items() if k != "out"}
        path = self.files.checkpoint if best is None else self.files.best
        return checkpoint.save_checkpoint(path, run.G, run.D, run.opt_g, run.opt_d, step=step,
                                          config=stored_config, model_spec=run.model_spec,
                                          skipped_updates=skipped,
                                          data_fingerprint=run.dataset.fingerprint,
                                          G_ema=run.G_ema, best=best)

    def open_events(self, open_writer):
        """A TensorBoard event writer, made by open_writer()."""
        return open_writer()

    def say(self, message):
        """One line on stderr, above the progress bar."""
        from tqdm import tqdm  # noqa: PLC0415

        tqdm.write(message, file=sys.stderr)

    def finish(self):
        """samples.gif and losses.png; the folder's lock goes."""
        self.files.finish()


class NoEvents:
    """A TensorBoard event writer that writes nothing."""

    def add_scalar(self, *args, **kwargs):
        pass

    def add_image(self, *args, **kwargs):
        pass

    def flush(self):
        pass

    def close(self):
        pass


class MutedWriter(RunWriter):
    """RunWriter's calls, writing nothing (and drawing nothing)."""

    def prepare(self, resumed_at=None, resumed_from=None):
        pass

    def metrics(self, line):
        pass

    def sample_grid(self, step, draw, kind, dataset_name, nrow):
        return None

    def checkpoint(self, run, step, skipped, best=None):
        return None

    def open_events(self, open_writer):
        return NoEvents()

    def say(self, message):
        pass

    def finish(self):
        pass


def writer_for(files, parallel):
    """The writer of this process: rank 0 (or a single process) writes the run folder."""
    return RunWriter(files) if parallel.is_main else MutedWriter(files)
