"""TrainConfig: every setting of a run, each field carrying its own command-line flag.

A field is declared with `setting(default, help, ...)`: its help text, metavar, choices (read
from the registries when the parser is built) and whether --resume may change it live in the
field's metadata, and minigan/cli/flags.py makes the parser from them. So every setting has
a flag (`--beta2` for beta2, `--d-steps` for d_steps), and a new setting gets its flag by
being declared here. TrainConfig is frozen: a run's settings are resolved once (setup.py's
resolve_config) and never change while it trains.
"""
import dataclasses
import os

from .. import backend
from ..data import datasets as data
from ..methods import CONDITIONINGS, LOSSES, PENALTIES, check_method_settings
from ..models import MODELS, model_entry
from ..models.registry import MAX_IMAGE_SIZE
from ..validators import finite_real, integer
from .recipes import RECIPES, recipe_settings

DEFAULT_STEPS = 4000  # mlp on mnist-sample: recognisable digits in a few minutes on 2 cores
# batch_size and lr when not given, by data kind. Images: DCGAN's (Radford et al. 2015);
# 2-D points: tuned on ring8 (benchmarks/RESULTS.md, "2-D defaults"). TrainConfig fills
# these in when it is made, so TrainConfig(dataset="ring8") and `minigan train --dataset
# ring8` both get them.
DEFAULT_BATCH_SIZE = {"image": 64, "points": 256}
DEFAULT_LR = {"image": 2e-4, "points": 1e-3}
G_LOSSES = ("non-saturating", "saturating")
INT64_MAX = 2 ** 63 - 1  # checkpoints store steps and the seed as int64
METHODS = "GAN methods"  # the --help section of the methods' flags
SECTIONS = {METHODS: "Defaults are the original GAN. A gradient penalty (--gp, --r1) uses a "
            "critic without BatchNorm, as the papers do: --model dcgan/cdcgan then drop D's "
            "BatchNorm layers."}


def setting(default, help, metavar=None, choices=None, section=None, resume=False,
            default_text=None, exclusive=None):
    """A TrainConfig field and its flag.

    help: the flag's help (or a function giving it, for a registry's list); "(default: ...)"
    is added from `default` or `default_text`.
    choices: a function giving the allowed names (a registry's keys). section: the --help
    group. resume: --resume may change it (it does not change what the steps compute).
    exclusive: flags of the same group name cannot be given together."""
    return dataclasses.field(default=default, metadata={
        "help": help, "metavar": metavar, "choices": choices, "section": section,
        "resume": resume, "default_text": default_text, "exclusive": exclusive})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """Every setting of a run; the command line's flags are these fields."""

    model: str = setting("mlp", lambda: "the GAN: " + "; ".join(
        f"{name} ({entry.help})" for name, entry in MODELS.items()), choices=lambda: MODELS)
    dataset: str = setting("mnist-sample", lambda: "; ".join(
        f"{name} ({entry.help})" for name, entry in data.DATASETS.items()), metavar="NAME")
    image_size: int | None = setting(
        None, "resize images to N x N", metavar="N",
        default_text="the dataset's, 28 for the MNISTs, 64 for folder:")
    channels: int | None = setting(None, "1 (grey) or 3 (RGB)", metavar="C",
                                   default_text="the dataset's")
    steps: int | None = setting(None, "generator steps", metavar="N", resume=True,
                                default_text=str(DEFAULT_STEPS), exclusive="length")
    epochs: float | None = setting(
        None, "passes of the discriminator over the data, instead of --steps", metavar="N",
        resume=True, default_text="", exclusive="length")
    batch_size: int | None = setting(
        None, "", metavar="N", default_text=f"{DEFAULT_BATCH_SIZE['image']}; "
        f"{DEFAULT_BATCH_SIZE['points']} for ring8 and grid25")
    lr: float | None = setting(
        None, "Adam's learning rate for both networks", metavar="F",
        default_text=f"{DEFAULT_LR['image']}; {DEFAULT_LR['points']} for ring8 and grid25")
    beta1: float = setting(0.5, "Adam's beta1", metavar="F")
    beta2: float = setting(0.999, "Adam's beta2 (WGAN-GP's paper: 0.9)", metavar="F")
    nz: int | None = setting(None, "noise size", metavar="N", default_text="the model's")
    d_steps: int = setting(1, "discriminator steps per generator step, k in Algorithm 1",
                           metavar="K")
    g_loss: str = setting("non-saturating", "generator loss of --loss gan",
                          choices=lambda: G_LOSSES)
    bn_eps: float = setting(1e-5, "BatchNorm eps", metavar="F")
    device: str = setting("cpu", "", metavar="cpu|cuda", resume=True)
    seed: int = setting(0, "", metavar="N")
    out: str | None = setting(
        None, "run folder", metavar="DIR", resume=True,
        default_text="runs/MODEL-DATASET; with --resume, the checkpoint's run folder")
    sample_every: int = setting(500, "write a sample grid every N steps", metavar="N",
                                resume=True)
    checkpoint_every: int = setting(1000, "", metavar="N", resume=True,
                                    default_text="1000; always at the end and on Ctrl-C")
    log_every: int = setting(50, "read the losses back and log them every N steps",
                             metavar="N", resume=True)
    eval_every: int = setting(0, "add minigan.evaluation.metrics scores to the log every N "
                              "steps", metavar="N", resume=True, default_text="0, never")
    skip_nonfinite: bool = setting(
        False, "skip the updates of a step whose loss is NaN/inf instead of stopping (costs "
        "a host read per step)")
    tensorboard: bool = setting(
        False, "also write TensorBoard event files to DIR/tensorboard (needs "
        "minigan[tensorboard]; view with: tensorboard --logdir runs)", resume=True)
    # GAN methods (minigan/methods): the defaults are the original GAN
    loss: str = setting("gan", lambda: "the objective: " + "; ".join(
        f"{name} ({cls.paper})" for name, cls in LOSSES.items()), choices=lambda: LOSSES,
        section=METHODS)
    # a penalty's setting is its weight (0: off); its help is the penalty's own (methods/)
    gp: float = setting(0.0, PENALTIES["gp"].help, metavar="LAMBDA", section=METHODS,
                        default_text="off")
    r1: float = setting(0.0, PENALTIES["r1"].help, metavar="GAMMA", section=METHODS,
                        default_text="off")
    clip: float | None = setting(None, "clip D's weights to [-C, C] after each D step (WGAN, "
                                 "Arjovsky et al. 2017: 0.01)", metavar="C", section=METHODS,
                                 default_text="off")
    spectral_norm: bool = setting(False, "spectral normalisation of every conv/linear layer "
                                  "of D (Miyato et al. 2018)", section=METHODS)
    ema: float | None = setting(None, "keep an exponential moving average of G's weights "
                                "(Yazici et al. 2019), e.g. 0.999; sample grids, sample and "
                                "eval use it", metavar="DECAY", section=METHODS,
                                default_text="off")
    lr_d: float | None = setting(None, "D's learning rate (TTUR, Heusel et al. 2017)",
                                 metavar="F", section=METHODS, default_text="--lr")
    lr_g: float | None = setting(None, "G's learning rate", metavar="F", section=METHODS,
                                 default_text="--lr")
    conditioning: str = setting("concat", lambda: "how a conditional model uses the label: " +
                                "; ".join(f"{name} ({c.help})" for name, c in
                                          CONDITIONINGS.items()),
                                choices=lambda: CONDITIONINGS, section=METHODS)
    # the recipe the run was made from (recipes.py; from_recipe applies its settings): a
    # record, so that resume and eval can tell what differs from the recipe
    recipe: str | None = setting(
        None, "start from a named, measured configuration (minigan recipes lists them); "
        "flags given beside it override it, and the run records both", metavar="NAME",
        choices=lambda: RECIPES, default_text="none")

    def __post_init__(self):
        # the defaults that depend on the data's kind, filled in once, as the config is made
        entry = data.DATASETS.get(self.dataset) if isinstance(self.dataset, str) else None
        kind = "image" if entry is None else entry.kind
        if self.batch_size is None:
            object.__setattr__(self, "batch_size", DEFAULT_BATCH_SIZE[kind])
        if self.lr is None:
            object.__setattr__(self, "lr", DEFAULT_LR[kind])

    def validate(self):
        """This config with its device checked and named as backend.check_device names it;
        ValueError (or DeviceError for an unusable device) for a bad setting."""
        model = model_entry(self.model)
        try:
            dataset = data.dataset_entry(self.dataset)
        except data.DatasetError:
            names = ", ".join(data.DATASETS)
            raise ValueError(f"unknown dataset {self.dataset!r}: choose one of {names}") from None
        if self.dataset.startswith("folder:") and self.out is not None and \
                same_folder(self.out, self.dataset[len("folder:"):]):
            raise ValueError(f"--out {self.out} is the dataset folder itself: the run's grids "
                             f"and plots would join its images (and change its fingerprint, "
                             f"so the run could never be resumed); choose an --out outside "
                             f"it, or a subfolder (run folders are left out of a dataset)")
        positive_ints = ["batch_size", "d_steps", "sample_every", "checkpoint_every", "log_every"]
        positive_ints += [name for name in ("steps", "image_size", "channels", "nz")
                          if getattr(self, name) is not None]
        bounds = [(name, 1, INT64_MAX) for name in positive_ints]  # INT64_MAX: what a
        bounds += [("eval_every", 0, INT64_MAX), ("seed", 0, INT64_MAX)]  # checkpoint stores
        if self.image_size is not None:
            bounds.append(("image_size", 1, MAX_IMAGE_SIZE))
        for name, low, high in bounds:  # errors name the flag (--batch-size)
            integer(None, name.replace("_", "-"), getattr(self, name), low, high)
        if self.steps is not None and self.epochs is not None:
            raise ValueError("give --steps or --epochs, not both")
        if self.epochs is not None:
            finite_real(None, "epochs", self.epochs, above=0)
        for name in ("lr", "bn_eps"):
            finite_real(None, name, getattr(self, name), above=0)
        for name in ("beta1", "beta2"):
            finite_real(None, name, getattr(self, name), minimum=0, below=1)
        if self.recipe is not None and self.recipe not in RECIPES:
            raise ValueError(f"unknown recipe {self.recipe!r}: choose one of "
                             f"{', '.join(RECIPES)}")
        if self.g_loss not in G_LOSSES:
            raise ValueError(f"unknown g_loss {self.g_loss!r}: choose {' or '.join(G_LOSSES)}")
        check_method_settings(self)
        if self.conditioning != "concat" and not model.conditional:
            raise ValueError(f"--conditioning {self.conditioning} needs a conditional model "
                             f"(--model {' or '.join(conditional_names())}); {self.model} has "
                             f"no labels")
        self.check_model_fits_data(model, dataset)
        config = dataclasses.replace(self, device=backend.check_device(self.device))
        if self.tensorboard:
            from .extensions.tensorboard import summary_writer_class  # noqa: PLC0415

            summary_writer_class()  # a clear error now when the extra is not installed
        return config

    def check_model_fits_data(self, model, dataset):
        """The combinations build_gan and load_dataset would refuse, refused before any work."""
        points = dataset.kind == "points"
        if dataset.kind not in model.data_kinds:
            raise ValueError(f"model {self.model} works on images; for the 2-D dataset "
                             f"{self.dataset} use --model mlp")
        if points and (self.image_size is not None or self.channels is not None):
            raise ValueError(f"{self.dataset} is 2-D points: --image-size and --channels "
                             f"apply to image datasets only")
        if self.channels is not None and self.channels not in (1, 3):
            raise ValueError(f"channels must be 1 (grey) or 3 (RGB), got {self.channels}")
        if model.conditional and not dataset.labelled:
            raise ValueError(f"model {self.model} is conditional, but {self.dataset} has no "
                             f"labels; use mlp or dcgan")
        if model.check_image_size is not None and self.image_size is not None:
            model.check_image_size(self.image_size)

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_recipe(cls, name, **flags):
        """The config of recipe `name` (training/recipes.py), `flags` (fields) overriding
        it; the run records the recipe's name."""
        return cls(**recipe_settings(name, **flags))

    @classmethod
    def from_dict(cls, values):
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - names)
        if unknown:
            raise ValueError(f"unknown training settings {unknown}")
        return cls(**values)


# Flags that may change when a run is resumed: none of them changes what the steps compute.
RESUME_OVERRIDES = tuple(f.name for f in dataclasses.fields(TrainConfig) if f.metadata["resume"])


def conditional_names():
    return [name for name, entry in MODELS.items() if entry.conditional]


def same_folder(a, b):
    """Whether two paths name one folder (after ~, links and relative parts)."""
    def resolve(path):
        return os.path.realpath(os.path.expanduser(path))
    return resolve(a) == resolve(b)

