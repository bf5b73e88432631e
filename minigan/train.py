"""Training a GAN: Algorithm 1 of Goodfellow et al. (2014), with what a real tool adds.

    for step = 1 .. steps:
        for k = 1 .. d_steps:                                     (discriminator_step)
            x ~ data, z ~ N(0, I)
            loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0)     i.e. ascend log D(x) + log(1 - D(G(z)))
            Adam step on D's weights
        z ~ N(0, I)                                               (generator_step)
        loss_G = BCE(D(G(z)), 1)                        non-saturating: ascend log D(G(z))
              or -BCE(D(G(z)), 0)                       saturating: descend log(1 - D(G(z)))
        Adam step on G's weights

Every random number has a named source, which makes runs repeat and resumes exact:
weights come from minigan.manual_seed(seed); step s draws its noise and fake labels on
the device from Generator(device, seed=[seed, s]); the real batches of epoch e follow a
permutation made from (seed, e). A checkpoint therefore needs only the step (and the
seed) to continue exactly where the uninterrupted run would have been.
"""
import contextlib
import dataclasses
import math
import os
import signal
import sys
import time

import numpy as np

from . import backend, checkpoint, data
from .autograd import no_grad
from .backend import Generator
from .creation import ones, randn, zeros
from .nn import functional as F
from .optim import Adam
from .runs import (DeferredInterrupt, FirstBadStep, NonFiniteLossError, RunFiles,
                   TrainingInterrupted, default_out, interrupted, write_failed)
from .sampling import (EVAL_STREAM, build_models, draw_samples, fixed_batch, generate,
                       save_picture)
from .tensor import Tensor, is_finite_number

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
EVAL_SAMPLES = 2500  # for --eval-every: as many as the 2-D mixture metrics are defined on
INT64_MAX = 2 ** 63 - 1  # checkpoints store steps and the seed as int64
MAX_IMAGE_SIZE = 1024  # far beyond what these models train on; bigger only exhausts memory
# Flags that may change when a run is resumed: none of them changes what the steps compute.
RESUME_OVERRIDES = ("steps", "epochs", "out", "sample_every", "checkpoint_every", "log_every",
                    "eval_every", "device")
__all__ = ["TrainConfig", "train", "config_for_resume", "NonFiniteLossError",
           "TrainingInterrupted", "discriminator_step", "generator_step", "gan_step"]


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

    def __post_init__(self):
        kind = "points" if self.dataset in POINT_DATASETS else "image"
        if self.batch_size is None:
            self.batch_size = DEFAULT_BATCH_SIZE[kind]
        if self.lr is None:
            self.lr = DEFAULT_LR[kind]

    def validate(self):
        """Raise ValueError (or DeviceError for an unusable device) for a bad setting."""
        from .models import MODELS  # noqa: PLC0415 - models import nn, which is heavy-ish

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
        self.check_model_fits_data()
        self.device = backend.check_device(self.device)
        return self

    def check_model_fits_data(self):
        """The combinations build_gan and load_dataset would refuse, refused before any work."""
        from .models.dcgan import dcgan_stages  # noqa: PLC0415

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


# ----------------------------------------------------------------------------- the algorithm
def discriminator_step(G, D, opt_d, x, real_labels, z, fake_labels, skip_nonfinite=False):
    """One Adam step of D on loss_D = BCE(D(x), 1) + BCE(D(G(z)), 0).

    Returns (loss_D, real_logits, fake_logits, updated)."""
    real_logits = D(x, real_labels)
    fake = G(z, fake_labels)
    # detach(): D's step must not send gradients into G. Cut here, the backward walk stops
    # at the fake images, so it neither touches G's weights' .grad nor pays for G's backward.
    fake_logits = D(fake.detach(), fake_labels)
    loss_d = (F.binary_cross_entropy_with_logits(real_logits, ones_like(real_logits)) +
              F.binary_cross_entropy_with_logits(fake_logits, zeros_like(fake_logits)))
    opt_d.zero_grad()  # also clears what the last generator step left in D's .grad
    if skip_nonfinite and not is_finite(loss_d):
        return loss_d, real_logits, fake_logits, False
    loss_d.backward()
    opt_d.step()
    return loss_d, real_logits, fake_logits, True


def generator_step(G, D, opt_g, z, fake_labels, g_loss="non-saturating", skip_nonfinite=False):
    """One Adam step of G: the gradient flows back through D (whose weights stay put).

    non-saturating: BCE(D(G(z)), 1) = -log D(G(z)), strong gradients while D wins (the
    paper's recommendation). saturating: -BCE(D(G(z)), 0) = log(1 - D(G(z))), the minimax
    objective itself, whose gradient vanishes when D confidently rejects the fakes.
    Returns (loss_G, updated)."""
    logits = D(G(z, fake_labels), fake_labels)
    if g_loss == "non-saturating":
        loss_g = F.binary_cross_entropy_with_logits(logits, ones_like(logits))
    else:
        loss_g = -F.binary_cross_entropy_with_logits(logits, zeros_like(logits))
    opt_g.zero_grad()
    if skip_nonfinite and not is_finite(loss_g):
        return loss_g, False
    loss_g.backward()  # D's weights get .grad too; the next opt_d.zero_grad() drops them
    opt_g.step()
    return loss_g, True


class StepResult:
    """What one step leaves for logging: device tensors, read back only when logged."""

    def __init__(self, loss_d, loss_g, real_logits, fake_logits, skipped):
        self.loss_d, self.loss_g, self.skipped = loss_d, loss_g, skipped
        self.real_logits, self.fake_logits = real_logits, fake_logits


def gan_step(G, D, opt_g, opt_d, real, step, config):
    """Step `step` of Algorithm 1: config.d_steps updates of D, then one of G."""
    gen = Generator(config.device, seed=[config.seed, step])  # every draw of this step
    n, skipped = config.batch_size, 0
    for k in range(config.d_steps):
        x, real_labels = real.batch((step - 1) * config.d_steps + k)
        z, fake_labels = draw_noise(gen, n, G, config.device)
        loss_d, real_logits, fake_logits, ok = discriminator_step(
            G, D, opt_d, x, real_labels, z, fake_labels, config.skip_nonfinite)
        skipped += not ok
    z, fake_labels = draw_noise(gen, n, G, config.device)  # fresh noise, as in Algorithm 1
    loss_g, ok = generator_step(G, D, opt_g, z, fake_labels, config.g_loss,
                                config.skip_nonfinite)
    return StepResult(loss_d, loss_g, real_logits, fake_logits, skipped + (not ok))


def ones_like(t):
    return ones(*t.shape, dtype=t.dtype, device=t.device)


def zeros_like(t):
    return zeros(*t.shape, dtype=t.dtype, device=t.device)


def is_finite(loss):
    """A host read (a GPU sync): used per step only with --skip-nonfinite."""
    return bool(backend.xp_of(loss.data).isfinite(loss.data))


# ----------------------------------------------------------------------------- the pieces
def make_optimizers(G, D, config):
    betas = (config.beta1, config.beta2)
    return Adam(G.parameters(), lr=config.lr, betas=betas), Adam(D.parameters(), lr=config.lr,
                                                                   betas=betas)


def model_spec_for(config, dataset):
    """The arguments of build_gan for this run (stored in checkpoints as meta/model)."""
    conditional = config.model in CONDITIONAL_MODELS
    spec = dict(model=config.model, data_kind=dataset.kind, nz=config.nz,
                num_classes=dataset.num_classes if conditional else 0, bn_eps=config.bn_eps)
    if dataset.kind == "image":
        spec["image_shape"] = list(dataset.image_shape)
    return spec


class RealBatches:
    """The real minibatches in a fixed order: batch b of the run is slice b % per_epoch of
    the permutation of epoch b // per_epoch, made from (seed, epoch) only. Incomplete last
    batches are dropped, so every batch has batch_size examples."""

    def __init__(self, dataset, batch_size, seed, device, with_labels):
        self.n = len(dataset.x)
        if batch_size > self.n:
            raise ValueError(f"batch size {batch_size} is larger than the dataset "
                             f"({self.n} examples)")
        self.batch_size, self.seed, self.device = batch_size, seed, device
        self.per_epoch = self.n // batch_size
        self.x = backend.to_device(dataset.x, device)  # the whole set on the device, once
        self.labels = backend.to_device(dataset.labels, device) if with_labels else None
        self.epoch, self.order = None, None

    def batch(self, b):
        epoch, position = divmod(b, self.per_epoch)
        if epoch != self.epoch:
            perm = data.epoch_permutation(self.n, self.seed, epoch)
            self.epoch, self.order = epoch, backend.to_device(perm, self.device)
        index = self.order[position * self.batch_size:(position + 1) * self.batch_size]
        labels = None if self.labels is None else Tensor(self.labels[index])
        return Tensor(self.x[index]), labels


def draw_noise(gen, n, G, device):
    """z ~ N(0, I) of shape (n, G.nz) and, for a conditional G, uniform labels, on the device."""
    z = randn(n, G.nz, device=device, generator=gen)
    labels = Tensor(gen.integers(0, G.num_classes, (n,))) if G.conditional else None
    return z, labels


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


def train(config, progress=True, resume=None):
    """Train a GAN as `config` says; returns a summary dict.

    resume: a checkpoint file or run directory to continue from (see config_for_resume).
    Raises NonFiniteLossError, or TrainingInterrupted (a KeyboardInterrupt) on Ctrl-C or
    SIGTERM after writing a checkpoint.
    """
    from tqdm import tqdm  # noqa: PLC0415

    config = dataclasses.replace(config).validate()
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
    with contextlib.nullcontext() if ckpt is None else ckpt.bounding_allocations():
        G, D = build_models(model_spec, config.device, config.seed)
    model_spec["nz"] = G.nz
    opt_g, opt_d = make_optimizers(G, D, config)

    start, skipped = 0, 0
    if ckpt is not None:
        ckpt.check_data(dataset.fingerprint)
        ckpt.load_into(G, D, opt_g, opt_d)
        start, skipped = ckpt.step, ckpt.skipped_updates
        if start >= steps:
            raise ValueError(f"{ckpt.path} is at step {start}, which already reaches --steps "
                             f"{steps}; pass a larger --steps to continue")

    paths = RunFiles(config.out)
    paths.prepare(resumed_at=None if ckpt is None else start,
                  resumed_from=None if ckpt is None else ckpt.path)
    stored_config = {k: v for k, v in config.to_dict().items() if k != "out"}  # the run, not
    # where it happens to live: a moved run folder resumes the same

    def save(step):
        return checkpoint.save_checkpoint(paths.checkpoint, G, D, opt_g, opt_d, step=step,
                                          config=stored_config, model_spec=model_spec,
                                          skipped_updates=skipped,
                                          data_fingerprint=dataset.fingerprint)

    fixed_z, fixed_labels = fixed_batch(G, dataset.kind, config.seed, config.device)
    bad = FirstBadStep(config.device)
    last, eval_every = None, config.eval_every
    t0 = time.perf_counter()
    if progress:
        print(f"minigan train: {config.model} on {config.dataset} ({len(dataset.x)} examples), "
              f"steps {start + 1}-{steps}, batch {config.batch_size}, {config.device}; "
              f"writing to {config.out}")
    bar = tqdm(total=steps, initial=start, disable=not progress, unit="step", dynamic_ncols=True)
    step = done = start  # done: the last step whose updates are all applied
    with DeferredInterrupt() as interrupt:
        try:
            for step in range(start + 1, steps + 1):
                last = gan_step(G, D, opt_g, opt_d, real, step, config)
                skipped += last.skipped
                done = step
                if not config.skip_nonfinite:
                    bad.update(step, last.loss_d, last.loss_g)
                bar.update(1)

                is_last = step == steps
                do_sample = step % config.sample_every == 0 or is_last
                do_checkpoint = step % config.checkpoint_every == 0 or is_last
                do_eval = eval_every > 0 and (step % eval_every == 0 or is_last)
                do_log = step % config.log_every == 0 or is_last or do_eval
                if do_log or do_sample or do_checkpoint or interrupt.requested:
                    bad.check(paths)  # the only host read between logged steps
                if do_log:
                    line = log_line(step, last, time.perf_counter() - t0, skipped)
                    if do_eval:
                        try:
                            line.update(evaluate(G, dataset, config))
                        except (ImportError, OSError, ValueError) as err:  # e.g. no classifier
                            tqdm.write(f"minigan train: metrics failed ({err}); --eval-every "
                                       f"is off for the rest of this run", file=sys.stderr)
                            eval_every = 0
                    paths.append_metrics(line)
                    bar.set_postfix({"D": f"{line['loss_d']:.3f}", "G": f"{line['loss_g']:.3f}",
                                     "D(x)": f"{line['d_real']:.2f}",
                                     "D(G(z))": f"{line['d_fake']:.2f}"}, refresh=False)
                if do_sample:
                    save_picture(generate(G, fixed_z, fixed_labels), paths.sample(step),
                                 dataset.kind, config.dataset, nrow=8)
                if do_checkpoint:
                    save(step)
                if interrupt.requested:  # Ctrl-C or SIGTERM during this step: stop between steps
                    raise KeyboardInterrupt
        except KeyboardInterrupt:
            bar.close()
            raise interrupted(step, done, start, bad, paths, save,
                              interrupt.signal or signal.SIGINT) from None
        except OSError as err:  # a full disk, a folder made read-only, ... while writing
            raise write_failed(err, paths) from err
        finally:
            bar.close()
    seconds = time.perf_counter() - t0
    try:
        paths.finish()
    except OSError as err:
        raise write_failed(err, paths) from err
    summary = summarise(step, start, steps, seconds, paths, skipped)
    summary.update({k: v for k, v in log_line(step, last, seconds, skipped).items()
                    if k.startswith(("loss", "d_"))})
    return summary


def log_line(step, last, seconds, skipped):
    """One metrics.jsonl record; float() reads the values back from the device (a GPU sync).

    time: wall seconds since this process started (or resumed) the run."""
    with no_grad():
        line = {"step": step, "loss_d": float(last.loss_d), "loss_g": float(last.loss_g),
                "d_real": float(F.sigmoid(last.real_logits).mean()),  # mean D(x)
                "d_fake": float(F.sigmoid(last.fake_logits).mean()),  # mean D(G(z))
                "time": round(seconds, 3)}
    if skipped:
        line["skipped_updates"] = skipped
    return line


def evaluate(G, dataset, config):
    """minigan.metrics.evaluate_samples on EVAL_SAMPLES fresh samples (its own stream)."""
    from . import metrics  # noqa: PLC0415 - optional until the metrics module exists

    samples, labels = draw_samples(G, EVAL_SAMPLES, [config.seed, *EVAL_STREAM], config.device)
    scores = metrics.evaluate_samples(samples, dataset.kind, config.dataset, labels=labels)
    return {k: float(v) for k, v in scores.items()}


def summarise(step, start, steps, seconds, paths, skipped):
    return {"out": paths.out, "step": step, "steps": steps, "start_step": start,
            "seconds": seconds, "steps_per_second": (step - start) / seconds if seconds else 0.0,
            "checkpoint": paths.checkpoint, "samples": paths.samples, "gif": paths.gif,
            "losses_plot": paths.losses_plot, "metrics": paths.metrics,
            "skipped_updates": skipped}


