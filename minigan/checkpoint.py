"""Checkpoints: a whole training run (both networks, both Adams, the step) in one .npz file.

An .npz is a zip of .npy arrays, written with np.savez and read with
np.load(allow_pickle=False): no Python object is ever unpickled, so a checkpoint from a
stranger cannot run code. Every value is an array under a flat key:

    G/<state_dict key>            the generator's weights and buffers ("G/main.0.weight")
    D/<state_dict key>            the discriminator's
    optG/state/<i>/<name>         Adam's state of G's i-th parameter: exp_avg, exp_avg_sq, step
    optG/param_groups             the hyper-parameters (lr, betas, eps, weight_decay) as JSON
    optD/...                      the same for D's optimizer
    G_ema/<state_dict key>        the EMA of G's weights (runs with --ema only)
    meta/format_version           FORMAT_VERSION
    meta/config                   the run's TrainConfig as JSON (a 0-d unicode array)
    meta/model                    the arguments build_gan was called with, as JSON
    meta/step, meta/seed          steps completed, and the seed: together they rebuild every
                                  random stream of the run (see train.py)
    meta/skipped_updates          updates skipped for a non-finite loss (--skip-nonfinite)

Writes are atomic (temporary file, fsync, os.replace): a crash or a full disk leaves the
previous checkpoint whole. Reads check everything before anything is assigned.
"""
import json
import math
import os
import zipfile
import zlib

import numpy as np

from .atomic import atomic_write, reason

FORMAT_VERSION = 1
ZIP_SIGNATURE = b"PK\x03\x04"  # how every zip file, and so every .npz, begins
ADAM_STATE = ("exp_avg", "exp_avg_sq", "step")


class CheckpointError(ValueError):
    """A file that is not a usable minigan checkpoint (corrupt, foreign, or another model's)."""


def refuse(path, reason):
    """The one shape of every CheckpointError message: the file, then why."""
    return CheckpointError(f"{path} is not a usable minigan checkpoint: {reason}")


# ----------------------------------------------------------------------------- writing
def optimizer_arrays(prefix, optimizer):
    """An optimizer's state_dict flattened into {key: array} (see the module docstring)."""
    state = optimizer.state_dict()
    arrays = {}
    for index, entry in state["state"].items():
        for name, value in entry.items():
            arrays[f"{prefix}/state/{index}/{name}"] = np.asarray(value)
    arrays[f"{prefix}/param_groups"] = json_array(state["param_groups"])
    return arrays


def json_array(value):
    """A JSON document as a 0-d unicode array: np.load reads it without pickle."""
    return np.array(json.dumps(value, sort_keys=True))


def save_checkpoint(path, G, D, opt_g, opt_d, *, step, config, model_spec, skipped_updates=0,
                    G_ema=None):
    """Write the run's state to `path` atomically; returns the path."""
    arrays = {f"G/{k}": v for k, v in G.state_dict().items()}
    arrays.update({f"D/{k}": v for k, v in D.state_dict().items()})
    if G_ema is not None:
        arrays.update({f"G_ema/{k}": v for k, v in G_ema.state_dict().items()})
    arrays.update(optimizer_arrays("optG", opt_g))
    arrays.update(optimizer_arrays("optD", opt_d))
    arrays["meta/format_version"] = np.array(FORMAT_VERSION, dtype=np.int64)
    arrays["meta/config"] = json_array(config)
    arrays["meta/model"] = json_array(model_spec)
    arrays["meta/step"] = np.array(step, dtype=np.int64)
    arrays["meta/seed"] = np.array(config["seed"], dtype=np.int64)
    arrays["meta/skipped_updates"] = np.array(skipped_updates, dtype=np.int64)
    write_arrays_atomically(path, arrays)
    return path


def write_arrays_atomically(path, arrays):
    """np.savez into a temporary file beside `path`, fsync it, then os.replace (atomic.py).

    Readers see the old file or the new one, never half of one. On failure the temporary
    file is removed and an OSError says what happened; the previous file at `path` is
    untouched.
    """
    try:
        with atomic_write(path, suffix=".tmp", durable=True) as f:
            np.savez(f, **arrays)  # a file object: savez adds no ".npz" to the name
    except OSError as err:
        raise OSError(f"cannot write checkpoint {path}: {reason(err)}; "
                      f"any previous checkpoint there is unchanged") from err


# ----------------------------------------------------------------------------- reading
def resolve_checkpoint_path(path):
    """A checkpoint file, or a run directory (its checkpoints/last.npz)."""
    path = os.fspath(path)
    if not path:
        raise FileNotFoundError("checkpoint not found: the path given is empty")
    if os.path.isdir(path):
        candidate = os.path.join(path, "checkpoints", "last.npz")
        if not os.path.isfile(candidate):
            raise FileNotFoundError(f"no checkpoint in run directory {path} "
                                    f"(expected {candidate})")
        return candidate
    if not os.path.exists(path):
        raise FileNotFoundError(f"checkpoint not found: {path}")
    return path


class Checkpoint:
    """A checkpoint read from disk and checked: .config, .model_spec, .step, .arrays."""

    def __init__(self, path, arrays):
        self.path = path
        self.arrays = arrays
        self.config = read_json(path, arrays, "meta/config")
        self.model_spec = read_json(path, arrays, "meta/model")
        self.step = read_int(path, arrays, "meta/step")
        self.seed = read_int(path, arrays, "meta/seed")
        self.skipped_updates = read_int(path, arrays, "meta/skipped_updates")
        if not isinstance(self.config, dict) or not isinstance(self.model_spec, dict):
            raise refuse(path, "meta/config and meta/model must be JSON objects")

    def section(self, prefix):
        """{key without "prefix/": array} for one part of the checkpoint."""
        start = prefix + "/"
        return {k[len(start):]: v for k, v in self.arrays.items() if k.startswith(start)}

    @property
    def has_ema(self):
        """Whether the run kept an EMA of G's weights (--ema)."""
        return any(k.startswith("G_ema/") for k in self.arrays)

    def load_into(self, G=None, D=None, opt_g=None, opt_d=None, G_ema=None):
        """Copy the saved state into the given modules and optimizers.

        Every key, shape and dtype is checked for all of them first, so a mismatch leaves
        every module and optimizer as it was.
        """
        problems = []
        modules = (("G", G), ("D", D), ("G_ema", G_ema))
        for name, module in modules:
            if module is not None:
                problems += module_mismatches(name, module, self.section(name))
        opt_states = {}
        for name, optimizer in (("optG", opt_g), ("optD", opt_d)):
            if optimizer is not None:
                state, found = optimizer_state(name, self.section(name), optimizer)
                problems += found
                opt_states[name] = (optimizer, state)
        if problems:
            shown = "; ".join(problems[:6]) + (f"; and {len(problems) - 6} more" if
                                               len(problems) > 6 else "")
            raise refuse(self.path, f"it does not fit this model ({shown})")
        for name, module in modules:
            if module is not None:
                module.load_state_dict(self.section(name))
        for optimizer, state in opt_states.values():
            optimizer.load_state_dict(state)


def read_checkpoint(path):
    """Read and check a checkpoint file (or run directory); raises CheckpointError."""
    path = resolve_checkpoint_path(path)
    with open(path, "rb") as f:
        head = f.read(4)
    if head != ZIP_SIGNATURE:
        raise refuse(path, "not an .npz archive (it does not start with the zip signature)")
    check_array_headers(path)
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}  # np.load is lazy: read it all now
    except ValueError as err:
        if "pickle" in str(err).lower():
            raise refuse(path, "it holds pickled Python objects, which minigan never loads "
                               "(unpickling can run code)") from None
        raise refuse(path, f"unreadable array data ({err})") from None
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError) as err:
        raise refuse(path, f"the .npz archive is truncated or corrupt ({err})") from None
    version = arrays.get("meta/format_version")
    if version is None:
        raise refuse(path, "it has no meta/format_version entry")
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise refuse(path, f"format version {version!r}, but this minigan reads version "
                           f"{FORMAT_VERSION}")
    return Checkpoint(path, arrays)


NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}


def check_array_headers(path):
    """Read the header of every array in the archive before np.load reads any array.

    np.load allocates what a header declares before it reads the data, so a file of a few
    bytes could ask for terabytes: every array must fit in the bytes the archive stores
    for it (minigan writes arrays uncompressed), and none may hold Python objects.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    if version not in NPY_HEADER_READERS:
                        raise refuse(path, f"{info.filename} is in .npy format {version}, "
                                           f"which minigan does not write")
                    shape, _, dtype = NPY_HEADER_READERS[version](member)
                if dtype.hasobject:
                    raise refuse(path, "it holds pickled Python objects, which minigan never "
                                       "loads (unpickling can run code)")
                declared = math.prod(shape) * dtype.itemsize
                if declared > info.compress_size:
                    raise refuse(path, f"{info.filename} declares {declared} bytes of data but "
                                       f"the archive stores {info.compress_size}")
    except CheckpointError:
        raise
    # NotImplementedError: a compression zipfile lacks; RuntimeError: an encrypted member
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError,
            NotImplementedError, RuntimeError) as err:
        raise refuse(path, f"the .npz archive is truncated or corrupt ({err})") from None


def read_json(path, arrays, key):
    value = arrays.get(key)
    if value is None or value.shape != () or value.dtype.kind != "U":
        raise refuse(path, f"{key} is missing or is not a JSON string")
    try:
        return json.loads(str(value))
    except json.JSONDecodeError as err:
        raise refuse(path, f"{key} is not valid JSON ({err})") from None


def read_int(path, arrays, key):
    value = arrays.get(key)
    if value is None or value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
        raise refuse(path, f"{key} is missing or is not a non-negative integer")
    return int(value)


def module_mismatches(name, module, saved):
    """What differs between a module's parameters/buffers and the saved arrays."""
    own = dict(module.named_parameters())
    own.update(module.named_buffers())
    problems = []
    missing = [k for k in own if k not in saved]
    unexpected = [k for k in saved if k not in own]
    if missing:
        problems.append(f"{name} lacks {some(missing)}")
    if unexpected:
        problems.append(f"{name} has unknown {some(unexpected)}")
    for key, t in own.items():
        value = saved.get(key)
        if value is None:
            continue
        if value.shape != t.shape:
            problems.append(f"{name}/{key} has shape {value.shape}, the model {t.shape}")
        elif value.dtype != t.dtype:
            problems.append(f"{name}/{key} has dtype {value.dtype}, the model {t.dtype}")
    return problems


def some(keys, shown=4):
    """The first few keys, and "..." if there are more."""
    return ", ".join(keys[:shown]) + (" ..." if len(keys) > shown else "")


def optimizer_state(name, saved, optimizer):
    """The saved arrays as an optimizer state_dict, and what does not fit `optimizer`."""
    problems = []
    try:
        groups = json.loads(str(saved.pop("param_groups")))
    except (KeyError, json.JSONDecodeError):
        return None, [f"{name}/param_groups is missing or not JSON"]
    params = optimizer.params()
    if not isinstance(groups, list) or [len(g.get("params", ())) for g in groups] != \
            [len(g["params"]) for g in optimizer.param_groups]:
        return None, [f"{name} has param groups of another shape"]
    state = {}
    for key, value in saved.items():
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or \
                parts[2] not in ADAM_STATE or int(parts[1]) >= len(params):
            problems.append(f"{name}/{key} is not a known optimizer entry")
            continue
        p = params[int(parts[1])]
        if parts[2] == "step" and (value.shape != () or value.dtype.kind not in "iu"):
            problems.append(f"{name}/{key} is not an integer step")
        elif parts[2] != "step" and (value.shape != p.shape or value.dtype != p.dtype):
            problems.append(f"{name}/{key} has {value.dtype} {value.shape}, "
                            f"the parameter {p.dtype} {p.shape}")
        state.setdefault(int(parts[1]), {})[parts[2]] = value
    for index, entry in state.items():
        if set(entry) != set(ADAM_STATE):
            problems.append(f"{name}/state/{index} lacks {sorted(set(ADAM_STATE) - set(entry))}")
    return {"state": state, "param_groups": groups}, problems
