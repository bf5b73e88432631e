"""Training a GAN, arranged as Chainer's trainer: a setup, a step, periodic actions.

    setup(config, resume)  builds the run (Run): data and its batches, G and D, both
                           optimizers, the method (minigan.methods), the run folder, and
                           the state of a resumed run
    GANUpdater.update      one step of Algorithm 1 (Goodfellow et al. 2014) with the run's
                           method: k D steps, then one G step (minigan/updater.py)
    periodic actions       log, sample grid, checkpoint, evaluate (minigan/extensions.py)
    Trainer.train          the loop: a step, then the actions that are due; Ctrl-C,
                           SIGTERM and non-finite losses handled between steps

Every random number has a named source, which makes runs repeat and resumes exact:
weights come from minigan.manual_seed(seed); step s draws its noise and fake labels on
the device from Generator(device, seed=[seed, s]) (GANUpdater.draw); the real batches of
epoch e follow a permutation made from (seed, e). A checkpoint therefore needs only the
step (and the seed) besides the weights and optimizer states to continue exactly where
the uninterrupted run would have been.
"""
import contextlib
import dataclasses
import math
import os
import signal
import time

import numpy as np

from .. import backend
from ..data import datasets as data
from ..evaluation.sampling import build_models, fixed_batch
from ..methods import build_method, check_method_settings, uses_penalty
from ..optim import Adam
from ..parallel.data_parallel import SingleProcess, data_parallel
from ..store import checkpoint
from ..store.run_folder import (DeferredInterrupt, FirstBadStep, NonFiniteLossError, RunFiles,
                                TrainingInterrupted, default_out, interrupted, write_failed)
from ..tensor import is_finite_number
from .extensions import Evaluate, LogMetrics, SampleGrid, Snapshot, log_line
from .tensorboard import TensorBoard, summary_writer_class
from .updater import GANUpdater, RealBatches

DEFAULT_STEPS = 4000  # mlp on mnist-sample: recognisable digits in a few minutes on 2 cores
POINT_DATASETS = ("ring8", "grid25")
# batch_size and lr when not given, by data kind. Images: DCGAN's (Radford et al. 2015).
# 2-D points: tuned on ring8 (4,000 steps, nz 2, the 3x256 toy MLPs, beta1 0.5). With the
# image values (64, 2e-4) seeds 0/1/2 reached 1/7/8 of the 8 modes with 0.1%/45%/58% of
# samples within 3 std of a mode; with 256 and 1e-3 all three reach all 8 modes with 96/93/93%
# such samples, in about a minute each on one core (`minigan eval`). Tried and not taken:
# nz 16 with 256 and 5e-4 (8 modes but 9% high quality on seed 0); 6,000 steps (93/93% on
# seeds 1/2, no better). TrainConfig fills these in when it is made (__post_init__), so
# TrainConfig(dataset="ring8") and `minigan train --dataset ring8` both get them.
DEFAULT_BATCH_SIZE = {"image": 64, "points": 256}
DEFAULT_LR = {"image": 2e-4, "points": 1e-3}
G_LOSSES = ("non-saturating", "saturating")
CONDITIONAL_MODELS = ("cmlp", "cdcgan")
INT64_MAX = 2 ** 63 - 1  # checkpoints store steps and the seed as int64
MAX_IMAGE_SIZE = 1024  # far beyond what these models train on; bigger only exhausts memory
# Flags that may change when a run is resumed: none of them changes what the steps compute.
RESUME_OVERRIDES = ("steps", "epochs", "out", "sample_every", "checkpoint_every", "log_every",
                    "eval_every", "device", "tensorboard")
__all__ = ["TrainConfig", "train", "setup", "Run", "Trainer", "config_for_resume",
           "make_optimizers", "NonFiniteLossError", "TrainingInterrupted"]


@dataclasses.dataclass
class TrainConfig:
    """Every setting of a run; the command line's flags are these fields."""

    model: str = "mlp"
    dataset: str = "mnist-sample"
    image_size: int | None = None  # None: the dataset's own size
    channels: int | None = None  # None: the dataset's own channels
    steps: int | None = None  # generator steps; None: from epochs, else DEFAULT_STEPS
    epochs: float | None = None  # passes over the data by the discriminator
    batch_size: int | None = None  # None: DEFAULT_BATCH_SIZE of the dataset's kind
    lr: float | None = None  # None: DEFAULT_LR of the dataset's kind
    beta1: float = 0.5
    beta2: float = 0.999
    nz: int | None = None  # None: the model's default noise size
    d_steps: int = 1
    g_loss: str = "non-saturating"
    bn_eps: float = 1e-5
    device: str = "cpu"
    seed: int = 0
    out: str | None = None  # None: runs/<model>-<dataset>
    sample_every: int = 500
    checkpoint_every: int = 1000
    log_every: int = 50
    eval_every: int = 0  # 0: never during training (minigan eval scores a checkpoint)
    skip_nonfinite: bool = False
    tensorboard: bool = False  # also write TensorBoard event files (minigan/tensorboard.py)
    # GAN methods (minigan/methods): the defaults are the original GAN
    loss: str = "gan"  # gan | lsgan | hinge | wgan
    gp: float = 0.0  # WGAN-GP's lambda; 0: off
    r1: float = 0.0  # R1's gamma; 0: off
    clip: float | None = None  # WGAN's weight clipping bound c; None: off
    spectral_norm: bool = False  # spectral normalisation of every conv/linear layer of D
    ema: float | None = None  # decay of the EMA of G's weights; None: off
    lr_d: float | None = None  # D's learning rate (TTUR); None: lr
    lr_g: float | None = None  # G's learning rate; None: lr
    conditioning: str = "concat"  # cmlp/cdcgan: concat, acgan or projection (methods/)

    def __post_init__(self):
        kind = "points" if self.dataset in POINT_DATASETS else "image"
        if self.batch_size is None:
            self.batch_size = DEFAULT_BATCH_SIZE[kind]
        if self.lr is None:
            self.lr = DEFAULT_LR[kind]

    def validate(self):
        """Raise ValueError (or DeviceError for an unusable device) for a bad setting."""
        from ..models import MODELS  # noqa: PLC0415 - models import nn, which is heavy-ish

        if self.model not in MODELS:
            raise ValueError(f"unknown model {self.model!r}: choose one of {', '.join(MODELS)}")
        if not isinstance(self.dataset, str) or (self.dataset not in data.DATASETS and
                                                  not self.dataset.startswith("folder:")):
            names = ", ".join(data.DATASETS)
            raise ValueError(f"unknown dataset {self.dataset!r}: choose one of {names}")
        positive_ints = ["batch_size", "d_steps", "sample_every", "checkpoint_every", "log_every"]
        positive_ints += [name for name in ("steps", "image_size", "channels", "nz")
                          if getattr(self, name) is not None]
        for name in positive_ints:
            check_int(name, getattr(self, name), minimum=1)
        check_int("eval_every", self.eval_every, minimum=0)
        check_int("seed", self.seed, minimum=0)
        if self.image_size is not None:
            check_int("image_size", self.image_size, minimum=1, maximum=MAX_IMAGE_SIZE)
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give --steps or --epochs, not both")
        if self.epochs is not None and not (is_finite_number(self.epochs) and self.epochs > 0):
            raise ValueError(f"epochs must be a positive number, got {self.epochs!r}")
        if not (is_finite_number(self.lr) and self.lr > 0):
            raise ValueError(f"lr must be a finite positive number, got {self.lr!r}")
        for name in ("beta1", "beta2"):
            if not (is_finite_number(getattr(self, name)) and 0 <= getattr(self, name) < 1):
                raise ValueError(f"{name} must be in [0, 1), got {getattr(self, name)!r}")
        if not (is_finite_number(self.bn_eps) and self.bn_eps > 0):
            raise ValueError(f"bn_eps must be a finite positive number, got {self.bn_eps!r}")
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"unknown g_loss {self.g_loss!r}: choose {' or '.join(G_LOSSES)}")
        check_method_settings(self)
        self.check_model_fits_data()
        self.device = backend.check_device(self.device)
        if self.tensorboard:
            summary_writer_class()  # a clear error now when the extra is not installed
        return self

    def check_model_fits_data(self):
        """The combinations build_gan and load_dataset would refuse, refused before any work."""
        from ..models.dcgan import dcgan_stages  # noqa: PLC0415

        points = self.dataset in POINT_DATASETS
        if points and self.model != "mlp":
            raise ValueError(f"model {self.model} works on images; for the 2-D dataset "
                             f"{self.dataset} use --model mlp")
        if points and (self.image_size is not None or self.channels is not None):
            raise ValueError(f"{self.dataset} is 2-D points: --image-size and --channels "
                             f"apply to image datasets only")
        if self.channels is not None and self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        if self.model in CONDITIONAL_MODELS and self.dataset.startswith("folder:"):
            raise ValueError(f"model {self.model} is conditional, but {self.dataset} has no "
                             f"labels; use mlp or dcgan")
        if self.model in ("dcgan", "cdcgan") and self.image_size is not None:
            dcgan_stages(f"model {self.model}", (1, self.image_size, self.image_size))

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}")
        return cls(**values)


def check_int(name, value, minimum, maximum=INT64_MAX):
    """An int in [minimum, maximum]; the default maximum is what a checkpoint can store."""
    flag = name.replace("_", "-")
    if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{flag} must be an integer >= {minimum}, got {value!r}")
    if value > maximum:
        raise ValueError(f"{flag} must be an integer <= {maximum}, got {value!r}")


# ----------------------------------------------------------------------------- the run
def resolve_steps(config, batches_per_epoch):
    """--steps, or --epochs converted: an epoch is batches_per_epoch discriminator batches."""
    if config.steps is not None:
        return config.steps
    if config.epochs is not None:
        steps = max(1, math.ceil(config.epochs * batches_per_epoch / config.d_steps))
        if steps > INT64_MAX:  # checkpoints count steps in int64
            raise ValueError(f"--epochs {config.epochs:g} is {steps:.3g} steps, more than a run "
                             f"can count ({INT64_MAX})")
        return steps
    return DEFAULT_STEPS


def config_for_resume(path, **overrides):
    """(TrainConfig, checkpoint path) to continue the run saved at `path`.

    The saved config is used as it was; only the fields in RESUME_OVERRIDES may be
    changed (None means "not given")."""
    ckpt = checkpoint.read_checkpoint(path)
    try:
        config = TrainConfig.from_dict(ckpt.config)
    except (TypeError, ValueError) as err:
        raise checkpoint.refuse(ckpt.path, f"its saved config is unusable ({err})") from None
    for name, value in overrides.items():
        if name not in RESUME_OVERRIDES:
            raise ValueError(f"--{name.replace('_', '-')} cannot be changed when resuming (the "
                             f"run's saved settings are used); allowed with --resume: "
                             + ", ".join("--" + n.replace("_", "-") for n in RESUME_OVERRIDES))
        if value is not None:
            setattr(config, name, value)
    if overrides.get("epochs") is not None and overrides.get("steps") is None:
        config.steps = None
    if config.out is None:  # next to the checkpoint: DIR/checkpoints/last.npz -> DIR
        folder = os.path.dirname(os.path.abspath(ckpt.path))
        in_checkpoints = os.path.basename(folder) == "checkpoints"
        config.out = os.path.dirname(folder) if in_checkpoints else folder
    return config, ckpt.path




# ----------------------------------------------------------------------------- the setup
def make_optimizers(G, D, config):
    """Adam for G and for D, each with its own learning rate (TTUR, Heusel et al. 2017:
    --lr-g, --lr-d; both --lr when not given)."""
    betas = (config.beta1, config.beta2)
    lr_g = config.lr if config.lr_g is None else config.lr_g
    lr_d = config.lr if config.lr_d is None else config.lr_d
    return Adam(G.parameters(), lr=lr_g, betas=betas), Adam(D.parameters(), lr=lr_d,
                                                             betas=betas)


def model_spec_for(config, dataset):
    """The arguments of build_gan for this run (stored in checkpoints as meta/model).

    The D variants appear only when asked for, so the original GAN's spec is unchanged:
    d_batch_norm False when a gradient penalty is on (WGAN-GP and R1 use a critic without
    BatchNorm), spectral_norm True with --spectral-norm."""
    conditional = config.model in CONDITIONAL_MODELS
    spec = dict(model=config.model, data_kind=dataset.kind, nz=config.nz,
                num_classes=dataset.num_classes if conditional else 0, bn_eps=config.bn_eps)
    if dataset.kind == "image":
        spec["image_shape"] = list(dataset.image_shape)
    if uses_penalty(config):
        spec["d_batch_norm"] = False
    if config.spectral_norm:
        spec["spectral_norm"] = True
    if config.conditioning != "concat":  # concat's spec (and checkpoints) stay as they were
        spec["conditioning"] = config.conditioning
    return spec


@dataclasses.dataclass
class Run:
    """Everything a run is built from; `setup` makes it, the step and the actions use it."""

    config: TrainConfig
    dataset: object
    real: RealBatches
    model_spec: dict
    G: object
    D: object
    G_ema: object  # the EMA copy of G (--ema), or None
    opt_g: object
    opt_d: object
    method: object  # minigan.methods.Method
    paths: RunFiles
    start: int  # the last step already done (0, or the resumed checkpoint's)
    skipped: int  # updates skipped so far (--skip-nonfinite)
    fixed_z: object
    fixed_labels: object
    parallel: object = SingleProcess()  # minigan.data_parallel: the ranks of mpiexec, or one

    @property
    def sampler(self):
        """The generator that samples are drawn from: the EMA copy when there is one."""
        return self.G if self.G_ema is None else self.G_ema

    def save(self, step, skipped):
        if not self.parallel.is_main:  # the ranks hold the same state: rank 0 writes it
            return None
        # the stored config leaves out `out`: the run, not where it happens to live (a moved
        # run folder resumes the same)
        stored_config = {k: v for k, v in self.config.to_dict().items() if k != "out"}
        return checkpoint.save_checkpoint(self.paths.checkpoint, self.G, self.D, self.opt_g,
                                          self.opt_d, step=step, config=stored_config,
                                          model_spec=self.model_spec, skipped_updates=skipped,
                                          data_fingerprint=self.dataset.fingerprint,
                                          G_ema=self.G_ema)


def setup(config, resume=None, progress=False):
    """Build the run `config` describes (validated), continuing the checkpoint `resume`.

    Under mpiexec every rank builds the same run (minigan.data_parallel); if one cannot,
    every rank stops with its error (parallel.agreed)."""
    config = dataclasses.replace(config).validate()
    parallel = data_parallel(config.device)  # a single process unless under mpiexec
    with parallel.agreed():
        return build_run(config, resume, progress and parallel.is_main, parallel)


def build_run(config, resume, progress, parallel):
    parallel.check_batch_size(config.batch_size)
    dataset = data.load_dataset(config.dataset, image_size=config.image_size,
                                channels=config.channels)
    real = RealBatches(dataset, config.batch_size, config.seed, config.device,
                       with_labels=config.model in CONDITIONAL_MODELS)
    steps = resolve_steps(config, real.per_epoch)
    config.out = config.out or default_out(config.model, config.dataset)
    config.steps, config.epochs = steps, None  # what checkpoints store: the resolved step count
    config.dataset = data.absolute_name(config.dataset)  # where, not what was typed
    model_spec = model_spec_for(config, dataset)
    ckpt = None if resume is None else checkpoint.read_checkpoint(resume)
    G_ema = None
    with contextlib.nullcontext() if ckpt is None else ckpt.bounding_allocations():
        G, D = build_models(model_spec, config.device, config.seed)
        if config.ema is not None:  # starts as a copy of G
            G_ema, _ = build_models(model_spec, config.device, config.seed)
            G_ema.load_state_dict(G.state_dict())
    model_spec["nz"] = G.nz
    opt_g, opt_d = make_optimizers(G, D, config)

    start, skipped = 0, 0
    if ckpt is not None:
        ckpt.check_data(dataset.fingerprint)
        ckpt.load_into(G, D, opt_g, opt_d, G_ema=G_ema)
        start, skipped = ckpt.step, ckpt.skipped_updates
        if start >= steps:
            raise ValueError(f"{ckpt.path} is at step {start}, which already reaches --steps "
                             f"{steps}; pass a larger --steps to continue")
    parallel.prepare(G, D, G_ema)  # data-parallel: SyncBatchNorm, rank 0's weights everywhere

    paths = RunFiles(config.out)
    if parallel.is_main:  # the ranks' runs are one: rank 0 alone writes the folder
        paths.prepare(resumed_at=None if ckpt is None else start,
                      resumed_from=None if ckpt is None else ckpt.path)
    fixed_z, fixed_labels = fixed_batch(G, dataset.kind, config.seed, config.device)
    return Run(config, dataset, real, model_spec, G, D, G_ema, opt_g, opt_d,
               build_method(config, G, D, G_ema), paths, start, skipped, fixed_z, fixed_labels,
               parallel)


def periodic_actions(config):
    """The run's actions in the order they run after a step (see minigan/extensions.py)."""
    evaluate = Evaluate(config.eval_every)
    actions = [evaluate, LogMetrics(config.log_every, also=[evaluate]),
               SampleGrid(config.sample_every)]
    if config.tensorboard:  # writes what LogMetrics and SampleGrid made at this step
        actions.append(TensorBoard(config.log_every, config.sample_every))
    return actions + [Snapshot(config.checkpoint_every)]


# ----------------------------------------------------------------------------- the loop
class Trainer:
    """Runs the updater's steps from run.start + 1 to config.steps, each followed by the
    periodic actions that are due. Ctrl-C and SIGTERM stop it between steps with a
    checkpoint; a non-finite loss (watched on the device) stops it at the next host read."""

    def __init__(self, run, updater, actions, progress=True):
        self.run, self.updater, self.actions, self.progress = run, updater, actions, progress
        self.skipped = run.skipped
        self.last = None  # the last StepResult
        self.observation = {}  # what this step's actions report (see extensions.py)
        self.bar = None
        self.t0 = None

    def seconds(self):
        return time.perf_counter() - self.t0

    def train(self):
        """The loop; returns a summary dict (see summarise)."""
        from tqdm import tqdm  # noqa: PLC0415

        run, config, parallel = self.run, self.run.config, self.run.parallel
        start, steps = run.start, config.steps
        bad = FirstBadStep(config.device)
        self.t0 = time.perf_counter()
        if self.progress:
            sampler = " (samples from the EMA of G)" if run.G_ema is not None else ""
            print(f"minigan train: {config.model} on {config.dataset} ({len(run.dataset.x)} "
                  f"examples), steps {start + 1}-{steps}, batch {config.batch_size}, "
                  f"{config.device}; writing to {config.out}{sampler}")
        self.bar = tqdm(total=steps, initial=start, disable=not self.progress, unit="step",
                        dynamic_ncols=True)
        step = done = start  # done: the last step whose updates are all applied
        stop = False  # agreed by every data-parallel rank, so that they stop together
        with DeferredInterrupt() as interrupt:
            try:
                for step in range(start + 1, steps + 1):
                    self.last = self.updater.update(step)
                    self.skipped += self.last.skipped
                    done = step
                    if not config.skip_nonfinite:
                        bad.update(step, self.last.loss_d, self.last.loss_g)
                    self.bar.update(1)
                    due = [a for a in self.actions if a.due(step, step == steps)]
                    if due:
                        check_finite(bad, run)  # the only host read between logged steps
                    self.observation = {}
                    for action in due:
                        action(self, step)
                    stop = parallel.any(interrupt.requested)
                    if stop:  # Ctrl-C or SIGTERM during this step: stop here
                        check_finite(bad, run)
                        raise KeyboardInterrupt
            except KeyboardInterrupt:
                self.bar.close()
                error = interrupted(step, done, start, bad, run.paths,
                                    lambda at: run.save(at, self.skipped),
                                    interrupt.signal or signal.SIGINT)
                error.agreed = stop  # every rank stops here alike (not after a second Ctrl-C)
                raise error from None
            except OSError as err:  # a full disk, a folder made read-only, ... while writing
                raise write_failed(err, run.paths) from err
            finally:
                self.bar.close()
        seconds = self.seconds()
        try:
            if parallel.is_main:
                run.paths.finish()
        except OSError as err:
            raise write_failed(err, run.paths) from err
        summary = summarise(step, start, steps, seconds, run.paths, self.skipped)
        line = log_line(step, self.last, seconds, self.skipped, parallel)
        summary.update({k: v for k, v in line.items() if k.startswith(("loss", "d_"))})
        return summary


def check_finite(bad, run):
    """FirstBadStep.check, with the first bad step agreed by every data-parallel rank."""
    bad.first = bad.xp.asarray(run.parallel.first_bad_step(bad.get()))
    try:
        bad.check(run.paths)
    except NonFiniteLossError as err:
        err.agreed = True  # every rank raises it at the same step
        raise


def train(config, progress=True, resume=None):
    """Train a GAN as `config` says; returns a summary dict.

    resume: a checkpoint file or run directory to continue from (see config_for_resume).
    Raises NonFiniteLossError, or TrainingInterrupted (a KeyboardInterrupt) on Ctrl-C or
    SIGTERM after writing a checkpoint.
    """
    run = setup(config, resume, progress)
    updater = GANUpdater(run.G, run.D, run.opt_g, run.opt_d, run.real, run.config, run.method,
                         run.parallel)
    progress = progress and run.parallel.is_main  # rank 0 alone shows the progress bar
    return Trainer(run, updater, periodic_actions(run.config), progress).train()


def summarise(step, start, steps, seconds, paths, skipped):
    return {"out": paths.out, "step": step, "steps": steps, "start_step": start,
            "seconds": seconds, "steps_per_second": (step - start) / seconds if seconds else 0.0,
            "checkpoint": paths.checkpoint, "samples": paths.samples, "gif": paths.gif,
            "losses_plot": paths.losses_plot, "metrics": paths.metrics,
            "skipped_updates": skipped}
