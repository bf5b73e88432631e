"""The setup of a run: everything a TrainConfig describes, built once before the first step.

    setup(config, resume)  the Run: data and its batches, G and D, both optimizers, the
                           method (minigan.methods), the run folder's writer, and the state
                           of a resumed run
    resolve_config         the settings the run really uses, fixed once: the steps (from
                           --epochs), the run folder, the dataset's absolute name
    config_for_resume      the saved settings of a run to continue, with the few a resumed
                           run may change

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

from ..data import datasets as data
from ..data.batches import RealBatches
from ..evaluation.sampling import fixed_batch
from ..methods import build_method, uses_penalty
from ..models import build_models, model_entry
from ..optim import Adam
from ..parallel.data_parallel import SingleProcess, data_parallel
from ..store import checkpoint
from ..store.run_folder import RunFiles, default_out
from .config import DEFAULT_STEPS, INT64_MAX, RESUME_OVERRIDES, TrainConfig
from .writer import writer_for


@dataclasses.dataclass
class Run:
    """Everything a run is built from; `setup` makes it, the step and the extensions use it."""

    config: TrainConfig  # resolved: what the run really uses
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
    writer: object  # training/writer.py: RunWriter, or MutedWriter on other ranks
    start: int  # the last step already done (0, or the resumed checkpoint's)
    skipped: int  # updates skipped so far (--skip-nonfinite)
    fixed_z: object
    fixed_labels: object
    parallel: object = SingleProcess()  # parallel/data_parallel.py: mpiexec's ranks, or one

    @property
    def sampler(self):
        """The generator that samples are drawn from: the EMA copy when there is one."""
        return self.G if self.G_ema is None else self.G_ema


def setup(config, resume=None):
    """Build the run `config` describes (validated), continuing the checkpoint `resume`.

    Under mpiexec every rank builds the same run (parallel/data_parallel.py); if one cannot,
    every rank stops with its error (parallel.agreed)."""
    config = config.validate()
    parallel = data_parallel(config.device)  # a single process unless under mpiexec
    with parallel.agreed():
        return build_run(config, resume, parallel)


def build_run(config, resume, parallel):
    parallel.check_batch_size(config.batch_size)
    dataset = data.load_dataset(config.dataset, image_size=config.image_size,
                                channels=config.channels)
    real = RealBatches(dataset, config.batch_size, config.seed, config.device,
                       with_labels=model_entry(config.model).conditional)
    config = resolve_config(config, real.per_epoch)
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
        if start >= config.steps:
            raise ValueError(f"{ckpt.path} is at step {start}, which already reaches --steps "
                             f"{config.steps}; pass a larger --steps to continue")
    parallel.prepare(G, D, G_ema)  # data-parallel: SyncBatchNorm, rank 0's weights everywhere

    paths = RunFiles(config.out)
    writer = writer_for(paths, parallel)
    writer.prepare(resumed_at=None if ckpt is None else start,
                   resumed_from=None if ckpt is None else ckpt.path)
    fixed_z, fixed_labels = fixed_batch(G, dataset.kind, config.seed, config.device)
    return Run(config, dataset, real, model_spec, G, D, G_ema, opt_g, opt_d,
               build_method(config, G, D, G_ema), paths, writer, start, skipped, fixed_z,
               fixed_labels, parallel)


def resolve_config(config, batches_per_epoch):
    """The config the run uses, resolved once: the steps (what checkpoints store), the run
    folder, and the dataset named by where it is rather than as it was typed."""
    return dataclasses.replace(config, steps=resolve_steps(config, batches_per_epoch),
                               epochs=None,
                               out=config.out or default_out(config.model, config.dataset),
                               dataset=data.absolute_name(config.dataset))


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
    for name in overrides:
        if name not in RESUME_OVERRIDES:
            raise ValueError(f"--{name.replace('_', '-')} cannot be changed when resuming (the "
                             f"run's saved settings are used); allowed with --resume: "
                             + ", ".join("--" + n.replace("_", "-") for n in RESUME_OVERRIDES))
    config = dataclasses.replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if overrides.get("epochs") is not None and overrides.get("steps") is None:
        config = dataclasses.replace(config, steps=None)
    if config.out is None:  # next to the checkpoint: DIR/checkpoints/last.npz -> DIR
        folder = os.path.dirname(os.path.abspath(ckpt.path))
        in_checkpoints = os.path.basename(folder) == "checkpoints"
        config = dataclasses.replace(config, out=os.path.dirname(folder) if in_checkpoints
                                     else folder)
    return config, ckpt.path


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
    conditional = model_entry(config.model).conditional
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
