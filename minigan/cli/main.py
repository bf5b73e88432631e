"""The command line: `minigan train | sample | eval` (API.md, "The command line").

    minigan train  [--recipe NAME] [--model M] [--dataset NAME] [--steps N | --epochs N] ...
                   [--resume PATH]
    minigan sample --checkpoint PATH [--n N] [--seed N] [--label L] [--device D] --out FILE
    minigan eval   --checkpoint PATH [--n N] [--seed N]
    minigan recipes                  (the named configurations: minigan/training/recipes.py)
    minigan export --checkpoint PATH --format onnx|safetensors --out FILE [--net G|D] [--no-ema]

A user's mistake (an unknown name, a missing file, an unusable checkpoint, "cuda" without
a GPU, a bad number) ends with one line on stderr, "minigan: error: ...", and exit status
2 for a misused flag or 1 for anything else. Ctrl-C during training saves a checkpoint and
exits with 130, SIGTERM likewise with 143 (128 + the signal's number, the shell's status
for a process a signal ended; PyTorch Lightning exits with 143 on SIGTERM too).
Unexpected exceptions (bugs) still show their traceback; a Ctrl-C before main runs (while
the imports load) is one line too (startup.py).

With --resume, the flags of the run may be typed again as they were (users repeat their
command line with --resume added): a repeated flag with its saved value is accepted, one
with another value is refused naming both; RESUME_OVERRIDES may change.

Under `mpiexec -n N` (data-parallel training, minigan.parallel) an error that every
rank meets alike (a bad flag, an agreed stop) is reported by rank 0 alone; an error of one
rank is reported with its rank and ends the whole job (MPI_Abort), so that no rank waits
forever for a failed one.
"""
from . import startup

startup.begin()  # ended at the bottom of this module
import argparse  # noqa: E402
import contextlib
import json
import math
import os
import sys
import traceback

from .. import __version__, distributed
from ..backend import DeviceError
from ..data import datasets as data
from ..evaluation.metrics import N_SAMPLES
from ..evaluation.sampling import (draw_samples, generator_from_checkpoint, sample_shape,
                                  save_picture, write_samples_npy)
from ..models.registry import conditional_models
from ..store import atomic, checkpoint, limits, run_folder
from ..store.checkpoint import CheckpointError
from ..threads import available_cores, set_num_threads
from ..training import (RESUME_OVERRIDES, SECTIONS, NonFiniteLossError, TrainConfig,
                        TrainingInterrupted, config_for_resume, recipes, train)
from .flags import add_config_flags, flag, given_settings

EXIT_ERROR, EXIT_USAGE, EXIT_INTERRUPTED = 1, 2, 130
DEFAULT_SAMPLES = 64
DEFAULT_EVAL_SAMPLES = N_SAMPLES  # what the metrics are defined on, as --eval-every scores


class UsageError(Exception):
    """A flag used wrongly: exit status 2."""


class ArgumentParser(argparse.ArgumentParser):
    """argparse, but errors become one line (no usage block) and no sys.exit mid-way."""

    def error(self, message):
        raise UsageError(f"{message} (see '{self.prog} --help')")


def build_parser():
    parser = ArgumentParser(prog="minigan", description="Train and sample the classic GANs "
                            "on minigan, a from-scratch NumPy/CuPy deep-learning engine.")
    parser.add_argument("--version", action="version", version=f"minigan {__version__}")
    verbs = parser.add_subparsers(dest="command", metavar="{train,sample,eval,recipes,export}")

    t = verbs.add_parser("train", help="train a GAN", description=(
        "Train a GAN (Goodfellow et al. 2014, Algorithm 1). Writes DIR/metrics.jsonl, "
        "DIR/samples/step_NNNNNN.png, DIR/samples.gif, DIR/losses.png and "
        "DIR/checkpoints/last.npz. With --resume, the run's saved settings are used: its other "
        "flags may be repeated with their saved values; only "
        + ", ".join(flag(n) for n in RESUME_OVERRIDES) + " may change."))
    add_config_flags(t, TrainConfig, SECTIONS)
    t.add_argument("--resume", metavar="PATH", help="continue the run saved in a checkpoint "
                   "file or run folder, up to --steps")
    t.add_argument("--threads", type=int, metavar="N", help="CPU threads for minigan's ops "
                   "(minigan.set_num_threads; default: every core). Not saved with the run: "
                   "a resumed run may use another count")
    t.add_argument("--no-progress", action="store_true", help="no progress bar")

    s = verbs.add_parser("sample", help="draw samples from a checkpoint",
                         description="Draw samples from a checkpoint's generator (BatchNorm in "
                         "eval mode). FILE.npy: float32 (N, C, H, W) in [-1, 1] or (N, 2) "
                         "points; FILE.png: a grid, or a scatter plot for 2-D data.")
    add_checkpoint_args(s, DEFAULT_SAMPLES)
    s.add_argument("--label", type=int, metavar="L", help="the class to draw (conditional "
                   "models only; default: the classes in turn)")
    s.add_argument("--out", required=True, metavar="FILE", help=".npy or .png")

    e = verbs.add_parser("eval", help="score a checkpoint's samples (one JSON line)",
                         description="Print minigan.evaluation.metrics.evaluate_samples of N "
                         "samples as one JSON line.")
    add_checkpoint_args(e, DEFAULT_EVAL_SAMPLES)

    verbs.add_parser("recipes", help="list the named configurations of train --recipe",
                     description="The named configurations of `minigan train --recipe NAME`, "
                     "each with its settings, papers, measured figures and CPU cost.")
    add_export_parser(verbs)
    return parser


def add_export_parser(verbs):
    x = verbs.add_parser("export", help="write G (or D) as ONNX or safetensors",
                         description="Write a checkpoint's generator (its EMA weights when "
                         "the run kept them) or discriminator for use outside minigan: an "
                         "ONNX model (minigan[onnx]) that ONNX Runtime runs, or the "
                         "state_dict under PyTorch's keys as safetensors "
                         "(minigan[safetensors]).")
    x.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint file "
                   "or a run folder")
    x.add_argument("--format", required=True, choices=("onnx", "safetensors"))
    x.add_argument("--out", required=True, metavar="FILE", help="the file to write")
    x.add_argument("--net", choices=("G", "D"), default="G", help="(default: G)")
    x.add_argument("--no-ema", action="store_true", help="G's trained weights, not their "
                   "EMA (runs with --ema)")


def add_checkpoint_args(p, default_n):
    p.add_argument("--checkpoint", required=True, metavar="PATH", help="a checkpoint file "
                   "or a run folder")
    p.add_argument("--n", type=int, default=default_n, metavar="N",
                   help=f"number of samples (default: {default_n})")
    p.add_argument("--seed", type=int, default=0, metavar="N", help="noise seed (default: 0)")
    p.add_argument("--device", default="cpu", metavar="cpu|cuda", help="(default: cpu)")


# ----------------------------------------------------------------------------- verbs
def run_train(args):
    given = given_settings(args, TrainConfig)
    resume = None
    if args.resume is not None:
        changes = {k: v for k, v in given.items() if k in RESUME_OVERRIDES}
        config, resume = config_for_resume(args.resume, dataset=given.get("dataset"),
                                           **changes)
        check_repeated_flags({k: v for k, v in given.items() if k not in RESUME_OVERRIDES},
                             config, resume)
    elif args.recipe is not None:
        config = TrainConfig.from_recipe(given.pop("recipe"), **given)
    else:
        config = TrainConfig(**given)
    try:
        config = config.validate()
    except ValueError as err:
        raise UsageError(str(err)) from None
    if args.threads is not None:
        cores = available_cores()  # more threads than cores only wait for each other
        if not 1 <= args.threads <= cores:
            raise UsageError(f"--threads must be at least 1 and at most the {cores} cores this "
                             f"process may use, got {args.threads}")
        set_num_threads(args.threads)
    if config.recipe is not None and is_main_process():
        print(f"minigan train: recipe {config.recipe}{overrides_note(config.to_dict())}")
    summary = train(config, progress=not args.no_progress, resume=resume)
    if not is_main_process():
        return 0
    say(f"trained steps {summary['start_step'] + 1}-{summary['step']} in "
          f"{summary['seconds']:.1f} s ({summary['steps_per_second']:.1f} steps/s); "
          f"D loss {summary['loss_d']:.3f}, G loss {summary['loss_g']:.3f}, "
          f"D(x) {summary['d_real']:.2f}, D(G(z)) {summary['d_fake']:.2f}")
    say(f"wrote {summary['samples']}{os.sep}, {summary['gif']}, {summary['losses_plot']}, "
          f"{summary['metrics']} and {summary['checkpoint']}")
    return 0


def overrides_note(config):
    """" (overridden: --steps 100 (the recipe has 12000))" where a run differs from its
    recipe; nothing for a run without one or one that follows it."""
    changed = recipes.overrides(config)
    if not changed:
        return ""
    return " (overridden: " + ", ".join(f"{flag(k)} {run} (the recipe has {recipe})"
                                         for k, (recipe, run) in changed.items()) + ")"


def run_recipes(args):
    print(recipes.listing(), end="")
    return 0


def check_repeated_flags(repeated, config, path):
    """Flags typed again with --resume: accepted when they equal the run's saved values,
    else one UsageError naming each flag, the saved and the given value.

    Settings saved as None ("the default") are compared with what the run really used,
    from its model description: nz, image_size and channels."""
    spec = None
    conflicts = []
    for name, given in repeated.items():
        saved = getattr(config, name)
        if saved is None and name in ("nz", "image_size", "channels"):
            spec = spec or checkpoint.read_checkpoint(path).model_spec
            shape = spec.get("image_shape") or [None, None, None]
            saved = {"nz": spec.get("nz"), "image_size": shape[1] if shape[1] == shape[2]
                     else None, "channels": shape[0]}[name]
        if name == "dataset":
            same = data.absolute_name(given) == data.absolute_name(saved)
        else:
            same = given == saved and type(given) is not bool or given is saved
        if not same:
            shown = "on" if given is True else given
            conflicts.append(f"{flag(name)} {shown} (the run has {saved})")
    if conflicts:
        raise UsageError(f"{', '.join(conflicts)} cannot be changed when resuming: a resumed "
                         f"run keeps its saved settings; repeat them as they were or leave "
                         f"them out (with --resume, only "
                         + ", ".join(flag(n) for n in RESUME_OVERRIDES) + " may change)")


def check_sample_args(args):
    if args.n < 1:
        raise UsageError(f"--n must be at least 1, got {args.n}")
    if args.seed < 0:
        raise UsageError(f"--seed must be >= 0, got {args.seed}")


MAX_PLOT_POINTS = 100_000  # a scatter plot of more shows nothing more, slowly


def out_suffix(out):
    """".npy" or ".png" (any case) for sample --out; ".npy" alone names a file too."""
    name = os.path.basename(out).lower()
    suffix = name if name in (".npy", ".png") else os.path.splitext(name)[1]
    if suffix not in (".npy", ".png"):
        raise UsageError(f"--out {out}: the file must end in .npy (raw samples) or "
                         f".png (a picture), not {suffix or 'nothing'!r}")
    return suffix


def check_sample_sizes(args, suffix, ckpt):
    """Refuse an --n the output cannot hold before anything is drawn: a picture beyond
    the pixels minigan reads (or a scatter plot beyond MAX_PLOT_POINTS), a .npy beyond the
    free disk."""
    shape = sample_shape(ckpt)
    if suffix == ".png" and len(shape) == 3:
        pixels = args.n * (shape[1] + 2) * (shape[2] + 2)  # each image and its 2-pixel border
        if pixels > data.MAX_IMAGE_PIXELS:
            raise UsageError(f"--n {args.n} makes a grid of {pixels} pixels, more than the "
                             f"{data.MAX_IMAGE_PIXELS} of a picture minigan writes; write a "
                             f".npy for that many samples")
    elif suffix == ".png" and args.n > MAX_PLOT_POINTS:
        raise UsageError(f"--n {args.n} is more points than a scatter plot shows (at most "
                         f"{MAX_PLOT_POINTS}); write a .npy for that many samples")
    elif suffix == ".npy":
        limits.check_fits_disk(f"--n {args.n}", args.n * math.prod(shape) * 4, args.out)


def run_sample(args):
    check_sample_args(args)
    suffix = out_suffix(args.out)
    run_folder.check_not_in_use(args.out)
    G, ckpt = generator_from_checkpoint(args.checkpoint, args.device)
    if args.label is not None:
        if not G.conditional:
            raise UsageError(f"--label is only for conditional models "
                             f"({', '.join(conditional_models())}); "
                             f"{ckpt.path} holds a {ckpt.model_spec.get('model')} model")
        if not 0 <= args.label < G.num_classes:
            raise UsageError(f"--label must be in 0..{G.num_classes - 1}, got {args.label}")
    check_sample_sizes(args, suffix, ckpt)
    try:
        os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
        if suffix == ".npy":  # a file object: no ".npy" added (X.NPY stays X.NPY); streamed
            with atomic.atomic_write(args.out) as f:
                write_samples_npy(G, args.n, args.seed, args.device, args.label, f)
        else:  # classes in turn: with K columns, each column is one class
            samples, _ = draw_samples(G, args.n, args.seed, args.device, args.label)
            nrow = G.num_classes if G.conditional and args.label is None else None
            save_picture(samples, args.out, ckpt.model_spec.get("data_kind"),
                         ckpt.config.get("dataset"), nrow=nrow)
    except OSError as err:
        reason = (f"{err.filename} is a file, not a folder" if isinstance(err, FileExistsError)
                  else atomic.reason(err))
        raise OSError(f"cannot write {args.out}: {reason}") from err
    say(f"wrote {args.n} samples {sample_shape(ckpt)} from step {ckpt.step}"
          f"{ema_note(ckpt)} to {args.out}")
    return 0


def run_eval(args):
    check_sample_args(args)
    if args.n < 2:
        raise UsageError(f"--n must be at least 2 for eval (the statistics of one sample are "
                         f"undefined), got {args.n}")
    G, ckpt = generator_from_checkpoint(args.checkpoint, args.device)
    # the samples, and about as much again while they are scored, are held at once
    limits.check_fits_memory(f"--n {args.n}", 2 * args.n * math.prod(sample_shape(ckpt)) * 4)
    if ckpt.has_ema:
        print(f"minigan eval: scoring{ema_note(ckpt)}", file=sys.stderr)
    if ckpt.config.get("recipe") is not None:
        print(f"minigan eval: a run of recipe {ckpt.config['recipe']}"
              f"{overrides_note(ckpt.config)}, step {ckpt.step}", file=sys.stderr)
    samples, labels = draw_samples(G, args.n, args.seed, args.device)
    kind, dataset = ckpt.model_spec.get("data_kind"), ckpt.config.get("dataset")
    from ..evaluation import metrics  # noqa: PLC0415 - loads the classifier only when eval runs

    scores = metrics.evaluate_samples(samples, kind, dataset, labels=labels)
    say(json.dumps({k: json_number(v) for k, v in scores.items()}))
    return 0


def run_export(args):
    from . import export  # noqa: PLC0415 - only this verb needs it

    try:
        print(export.export_checkpoint(args.checkpoint, args.format, args.out, args.net,
                                          ema=not args.no_ema))
    except ImportError as err:  # the extra is not installed: say which
        raise ValueError(str(err)) from None
    return 0


def ema_note(ckpt):
    """" (the EMA generator, decay D)" for a run with --ema, else nothing."""
    if not ckpt.has_ema:
        return ""
    return f" (the EMA generator, decay {ckpt.config.get('ema')})"


def json_number(value):
    """A float for JSON; NaN and inf (a diverged model) become null, which JSON allows."""
    value = float(value)
    return value if math.isfinite(value) else None


# ----------------------------------------------------------------------------- main
def main(argv=None):
    """Run the command line; returns the exit status (the console script exits with it)."""
    try:
        return run_command(argv)
    except BaseException:
        if not in_process_group():
            raise
        traceback.print_exc()  # a bug on one rank: end the job rather than leave it waiting
        distributed.group().abort(EXIT_ERROR)
        raise


def run_command(argv):
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 0
        verb = {"train": run_train, "sample": run_sample, "eval": run_eval,
                "recipes": run_recipes,
                "export": run_export}[args.command]
        return verb(args)
    except SystemExit as exit_:  # --help, and argparse's own exits
        return exit_.code if isinstance(exit_.code, int) else EXIT_ERROR
    except UsageError as err:
        return fail(err, EXIT_USAGE)
    except TrainingInterrupted as err:
        return report(err, f"minigan: {err}", 128 + err.signal)  # 130 for Ctrl-C, 143 SIGTERM
    except KeyboardInterrupt as err:
        return report(err, "minigan: interrupted", EXIT_INTERRUPTED)
    except (CheckpointError, data.DatasetError, NonFiniteLossError, DeviceError, ValueError,
            OSError, distributed.DistributedError) as err:
        return fail(err, EXIT_ERROR)
    except limits.SizeError as err:  # a size given, refused before it was allocated
        return fail(err, EXIT_ERROR)
    except MemoryError as err:  # sizes beyond this machine: numpy says how much it wanted
        return fail(f"out of memory ({err}); try a smaller --image-size, --batch-size, --nz "
                    f"or --n", EXIT_ERROR)


def say(line):
    """Print a verb's result on stdout, flushed: an OSError there (a full disk, a closed
    pipe) names standard output (it had no name: "[Errno 28] No space left on device"), and
    stdout then points at os.devnull, so that Python's own flush at exit does not fail a
    second time with a traceback."""
    try:
        print(line, flush=True)
    except OSError as err:
        with contextlib.suppress(OSError, ValueError):
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        raise OSError(f"cannot write to standard output: {atomic.reason(err)}") from None


def fail(err, status):
    """One line on stderr: the message, newlines folded."""
    message = " ".join(str(err).split()) or type(err).__name__
    return report(err, f"minigan: error: {message}", status)


def report(err, line, status):
    """Print `line` on stderr and return `status`; under mpiexec, see the module docstring."""
    if not in_process_group():
        # before the ranks joined, every rank meets the same error: rank 0 says it, except
        # when it is that data parallelism cannot start (then each rank says why it stops)
        if distributed.launcher_rank() == 0 or isinstance(err, distributed.DistributedError):
            print(line, file=sys.stderr)
        return status
    if getattr(err, "agreed", False):  # met by every rank alike
        if distributed.get_rank() == 0:
            print(line, file=sys.stderr)
        return status
    print(line.replace("minigan: ", f"minigan: rank {distributed.get_rank()}: ", 1),
          file=sys.stderr, flush=True)
    distributed.group().abort(status)  # the other ranks would wait for this one forever
    return status


def in_process_group():
    return distributed.is_initialized() and distributed.get_world_size() > 1


def is_main_process():
    return not in_process_group() or distributed.get_rank() == 0


startup.end()

if __name__ == "__main__":  # python -m minigan.cli.main
    sys.exit(main())
