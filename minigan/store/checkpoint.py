"""Checkpoints: a whole training run (both networks, both Adams, the step) in one .npz file.

An .npz is a zip of .npy arrays, written with np.savez. Every value is an array under a
flat key:

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
    meta/data                     a folder: dataset's fingerprint (data.folder_fingerprint)
    meta/best                     best.npz only: the score it was kept for, as JSON
                                  {"key", "mode": "min"|"max", "value", "step"}

Writes are atomic (temporary file, fsync, os.replace): a crash or a full disk leaves the
previous checkpoint whole.

A checkpoint is a file users download, so reading treats it as data, never as
instructions: no Python object is ever unpickled (it cannot run code); only the entries
above are accepted (read_arrays, member_key), each .npy header is checked and each
member's bytes are counted as they come out of the zip stream, within a bounded total
(no zip bomb, no lying size); the model description is an allow-list of fields, each
type- and range-checked (check_model_spec), and models are built within what the file's
arrays can fill (Checkpoint.bounding_allocations); no path is ever taken from a file
(PATH_FIELDS); the optimizer state is checked by name before it is loaded. Everything is
checked before anything is assigned.
"""
import contextlib
import json
import math
import os
import stat
import zipfile
import zlib

import numpy as np

from .. import creation
from ..methods.conditioning import CONDITIONINGS
from ..models.registry import DATA_KINDS, MAX_IMAGE_SIZE, MODELS
from .atomic import atomic_write, reason
from ..validators import int_in, is_finite_number

FORMAT_VERSION = 1
ZIP_SIGNATURE = b"PK\x03\x04"  # how every zip file, and so every .npz, begins
ADAM_STATE = ("exp_avg", "exp_avg_sq", "step")
PATH_FIELDS = ("out",)  # settings that are places, never read back from a checkpoint
ALLOCATION_MARGIN = 1 << 20  # elements a model may make beyond what its file stores


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
                    data_fingerprint=None, G_ema=None, best=None):
    """Write the run's state to `path` atomically; returns the path.

    data_fingerprint: a folder: dataset's data.fingerprint, checked when the run resumes.
    G_ema: the EMA copy of G (--ema), saved under G_ema/. best: the best-value trigger's
    state (best.npz, minigan/training/extensions/best_snapshot.py), saved as meta/best."""
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
    if data_fingerprint is not None:
        arrays["meta/data"] = json_array({"fingerprint": data_fingerprint})
    if best is not None:
        arrays["meta/best"] = json_array(best)
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
        config = read_json(path, arrays, "meta/config")
        self.model_spec = read_json(path, arrays, "meta/model")
        self.step = read_int(path, arrays, "meta/step")
        self.seed = read_int(path, arrays, "meta/seed")
        self.skipped_updates = read_int(path, arrays, "meta/skipped_updates")
        if not isinstance(config, dict) or not isinstance(self.model_spec, dict):
            raise refuse(path, "meta/config and meta/model must be JSON objects")
        # Paths are never taken from a file: where a run writes comes from the command line
        # or from where the checkpoint itself lies (config_for_resume).
        self.config = {k: v for k, v in config.items() if k not in PATH_FIELDS}
        check_model_spec(path, self.model_spec)
        self.data = check_data_record(path, read_json(path, arrays, "meta/data", required=False))
        self.best = check_best_record(path, read_json(path, arrays, "meta/best", required=False))

    def stored_elements(self):
        """How many numbers the file stores for G and D (and G's EMA copy): a bound on the
        models it can fill."""
        return sum(v.size for k, v in self.arrays.items()
                   if k.startswith(("G/", "D/", "G_ema/")))

    @contextlib.contextmanager
    def bounding_allocations(self):
        """Build models inside this block: together they may make at most about what the
        file's G/ and D/ arrays hold (twice that, plus a margin), so a model description
        that asks for more (an nz of millions in a small file) is refused before its
        memory is taken, and never after seconds of work."""
        stored = self.stored_elements()
        try:
            with creation.element_limit(2 * stored + ALLOCATION_MARGIN):
                yield
        except creation.ElementLimitError:
            raise refuse(self.path, f"its settings ({describe(self.model_spec)}) make models "
                                    f"far larger than the {stored} weights the file stores"
                         ) from None

    def check_data(self, fingerprint):
        """Refuse to resume on other data than the run's (a folder: dataset that changed)."""
        saved = None if self.data is None else self.data["fingerprint"]
        if saved is not None and fingerprint is not None and saved["digest"] != \
                fingerprint["digest"]:
            raise ValueError(f"the dataset changed since {self.path} was written: "
                             f"{saved['files']} files of {saved['bytes']} bytes then, "
                             f"{fingerprint['files']} files of {fingerprint['bytes']} bytes "
                             f"now; resuming on other images would not continue the same run. "
                             f"Restore the images, or start a new run with another --out")

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
    if not stat.S_ISREG(os.stat(path).st_mode):  # open() of a FIFO would wait forever
        raise refuse(path, "it is not a regular file (a FIFO, a device or a socket)")
    try:
        with open(path, "rb") as f:
            head = f.read(4)
    except OSError as err:
        raise OSError(f"cannot read {path}: {reason(err)}") from None
    if head != ZIP_SIGNATURE:
        raise refuse(path, "not an .npz archive (it does not start with the zip signature)")
    arrays = read_arrays(path)
    version = arrays.get("meta/format_version")
    if version is None:
        raise refuse(path, "it has no meta/format_version entry")
    if version.shape != () or version.dtype.kind not in "iu" or int(version) != FORMAT_VERSION:
        raise refuse(path, f"format version {version!r}, but this minigan reads version "
                           f"{FORMAT_VERSION}")
    return Checkpoint(path, arrays)


# ----------------------------------------------------------------------------- the archive
# What a checkpoint may hold: arrays under these sections, and these meta entries. Anything
# else is refused by name (a feature that stores more adds its name here).
SECTIONS = ("G", "D", "optG", "optD", "G_ema")  # G_ema: runs with --ema
META_KEYS = ("format_version", "config", "model", "step", "seed", "skipped_updates", "data",
             "best")  # best: best.npz only
DTYPE_KINDS = "fiubU"  # floats, ints, bools, and unicode for the JSON entries
MAX_MEMBERS = 100_000
MAX_TOTAL_BYTES = 1 << 36  # 64 GiB: no minigan model comes near it
MAX_EXPANSION = 64  # a compressed archive may unpack to at most 64 x its size (+ 1 MiB)
READ_CHUNK = 1 << 20


def read_arrays(path):
    """{key: array} of every member, checked while it is read, before anything is built.

    np.load would trust the archive: it allocates what a member's .npy header declares
    and zipfile unpacks what the zip directory promises. Here every header is parsed
    first (no object dtypes, only the kinds minigan writes), the running total of
    declared bytes is bounded by what a file of this size can hold (uncompressed: its
    size; compressed by np.savez_compressed: MAX_EXPANSION times it, so a zip bomb stops
    at once), and each member's data is read from the real stream in chunks, which must
    give exactly the declared bytes, no fewer and no more.
    """
    size = os.path.getsize(path)
    limit = min(MAX_TOTAL_BYTES, MAX_EXPANSION * size + READ_CHUNK)
    arrays, total = {}, 0
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise refuse(path, f"it has {len(members)} entries, more than the "
                                   f"{MAX_MEMBERS} minigan reads")
            for info in members:
                key = member_key(path, info.filename, arrays)
                with archive.open(info) as member:
                    shape, fortran_order, dtype = read_npy_header(path, info.filename, member)
                    nbytes = math.prod(shape) * dtype.itemsize
                    total += nbytes
                    if total > limit:
                        raise refuse(path, f"{info.filename} declares {nbytes} bytes of data, "
                                           f"beyond what a {size}-byte archive can hold "
                                           f"({limit} bytes in all)")
                    data = read_exactly(path, info.filename, member, nbytes, size)
                array = np.frombuffer(data, dtype).reshape(shape, order="F" if fortran_order
                                                           else "C")
                arrays[key] = array if dtype.isnative else array.astype(dtype.newbyteorder("="))
    except CheckpointError:
        raise
    except OSError as err:
        if err.errno is not None:  # the system could not read the file (EIO, EACCES, ...)
            raise OSError(f"cannot read {path}: {reason(err)}") from None
        raise refuse(path, f"the .npz archive is truncated or corrupt ({err})") from None
    # NotImplementedError: a compression zipfile lacks; RuntimeError: an encrypted member
    except (zipfile.BadZipFile, zlib.error, EOFError, KeyError, OSError, ValueError,
            NotImplementedError, RuntimeError) as err:
        raise refuse(path, f"the .npz archive is truncated or corrupt ({err})") from None
    return arrays


def member_key(path, name, seen):
    """The array key of a zip member ("G/model.0.weight.npy" -> "G/model.0.weight"),
    refused unless it is one minigan writes, and given once."""
    key = name[:-len(".npy")] if name.endswith(".npy") else None
    section, _, rest = (key or "").partition("/")
    known = rest and (section in SECTIONS or (section == "meta" and rest in META_KEYS))
    if not known:
        raise refuse(path, f"it holds an entry {name!r} that minigan does not write (it "
                           f"reads only {', '.join(s + '/' for s in SECTIONS)} and meta/ "
                           f"{', '.join(META_KEYS)})")
    if key in seen:
        raise refuse(path, f"it holds the entry {name!r} twice")
    return key


NPY_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                      (2, 0): np.lib.format.read_array_header_2_0}


def read_npy_header(path, name, member):
    """(shape, fortran_order, dtype) of one .npy member; refuses kinds minigan never writes."""
    version = np.lib.format.read_magic(member)
    if version not in NPY_HEADER_READERS:
        raise refuse(path, f"{name} is in .npy format {version}, which minigan does not write")
    shape, fortran_order, dtype = NPY_HEADER_READERS[version](member)
    if dtype.hasobject:
        raise refuse(path, "it holds pickled Python objects, which minigan never loads "
                           "(unpickling can run code)")
    if dtype.kind not in DTYPE_KINDS or dtype.fields is not None or dtype.subdtype:
        raise refuse(path, f"{name} has dtype {dtype}, which minigan does not write")
    return shape, fortran_order, dtype


def read_exactly(path, name, member, nbytes, file_size):
    """The member's next nbytes, read in chunks; refused if the stream is shorter or longer.

    Up to the file's own size the buffer is made whole at once (no lie can make it bigger
    than the file on disk); beyond it (a compressed member) it grows only as real data
    arrives."""
    if nbytes <= file_size:
        data = bytearray(nbytes)
        view, got = memoryview(data), 0
        while got < nbytes:
            n = member.readinto(view[got:got + READ_CHUNK])
            if not n:
                break
            got += n
    else:
        data = bytearray()
        while len(data) < nbytes:
            chunk = member.read(min(READ_CHUNK, nbytes - len(data)))
            if not chunk:
                break
            data += chunk
        got = len(data)
    if got < nbytes:
        raise refuse(path, f"{name} declares {nbytes} bytes of data but the archive "
                           f"holds only {got}")
    if member.read(1):
        raise refuse(path, f"{name} holds more data than its header declares ({nbytes} bytes)")
    return data


# ----------------------------------------------------------------------------- metadata
MAX_JSON_CHARS = 1 << 20


def read_json(path, arrays, key, required=True):
    value = arrays.get(key)
    if value is None and not required:
        return None
    if value is None or value.shape != () or value.dtype.kind != "U":
        raise refuse(path, f"{key} is missing or is not a JSON string")
    if value.dtype.itemsize // 4 > MAX_JSON_CHARS:
        raise refuse(path, f"{key} is longer than the {MAX_JSON_CHARS} characters minigan reads")
    try:
        return json.loads(str(value))
    except (json.JSONDecodeError, RecursionError) as err:  # RecursionError: [[[[...]]]]
        raise refuse(path, f"{key} is not valid JSON ({type(err).__name__})") from None


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
    """The saved arrays as an optimizer state_dict, and what does not fit `optimizer`.

    Everything is checked here, by name, before load_state_dict sees it: the groups are a
    list of objects with this optimizer's keys only, each "params" a list of indices of
    the right length, the hyper-parameters in range, and each step an integer >= 0."""
    raw = saved.pop("param_groups", None)
    if raw is None or raw.shape != () or raw.dtype.kind != "U":
        return None, [f"{name}/param_groups is missing or not a JSON string"]
    try:
        groups = json.loads(str(raw))
    except (json.JSONDecodeError, RecursionError):
        return None, [f"{name}/param_groups is not valid JSON"]
    problems = group_problems(name, groups, optimizer)
    if problems:
        return None, problems
    params = optimizer.params()
    state = {}
    for key, value in saved.items():
        parts = key.split("/")
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or \
                parts[2] not in ADAM_STATE or int(parts[1]) >= len(params):
            problems.append(f"{name}/{key} is not a known optimizer entry")
            continue
        p = params[int(parts[1])]
        if parts[2] == "step":
            if value.shape != () or value.dtype.kind not in "iu" or int(value) < 0:
                problems.append(f"{name}/{key} must be an integer step >= 0, got "
                                f"{value.dtype} {value.tolist() if value.size < 5 else '...'}")
        elif value.shape != p.shape or value.dtype != p.dtype:
            problems.append(f"{name}/{key} has {value.dtype} {value.shape}, "
                            f"the parameter {p.dtype} {p.shape}")
        state.setdefault(int(parts[1]), {})[parts[2]] = value
    for index, entry in state.items():
        if set(entry) != set(ADAM_STATE):
            problems.append(f"{name}/state/{index} lacks {sorted(set(ADAM_STATE) - set(entry))}")
    return {"state": state, "param_groups": groups}, problems


def group_problems(name, groups, optimizer):
    """What is wrong with saved param_groups for `optimizer` (an empty list: nothing)."""
    own = optimizer.param_groups
    if not isinstance(groups, list) or len(groups) != len(own) or \
            not all(isinstance(g, dict) for g in groups):
        return [f"{name}/param_groups must be a list of {len(own)} JSON object(s), as this "
                f"optimizer has"]
    problems = []
    for i, (group, mine) in enumerate(zip(groups, own)):
        where = f"{name}/param_groups[{i}]"
        unknown = sorted(set(group) - set(mine))
        if unknown:
            problems.append(f"{where} has unknown keys {unknown}")
            continue
        indices = group.get("params")
        if not isinstance(indices, list) or len(indices) != len(mine["params"]) or \
                not all(type(j) is int for j in indices):
            problems.append(f"{where}.params must be a list of {len(mine['params'])} "
                            f"parameter indices")
            continue
        merged = {**mine, **{k: (tuple(v) if isinstance(v, list) else v)
                             for k, v in group.items() if k != "params"}}
        try:
            optimizer.check_hyperparameters(merged)
        except (TypeError, ValueError) as err:
            problems.append(f"{where}: {err}")
            continue
        # the optimizer was built from the saved config: a hyper-parameter the groups give
        # otherwise (an lr of 0.5 beside a config of 2e-4) would silently win over it
        contradicted = [k for k in group if k != "params" and merged[k] != mine[k]]
        if contradicted:
            problems.append(f"{where} gives " + ", ".join(
                f"{k} {group[k]} where the saved config gives {mine[k]}" for k in contradicted)
                + ": the file contradicts itself")
    return problems


# ----------------------------------------------------------------------------- the model
MAX_SIZE = 2 ** 31  # a first bound on nz and num_classes; bounding_allocations is the real one


# The fields of meta/model (build_gan's arguments), each with the test its value must pass.
# A feature that adds an argument to build_gan adds its field here.
MODEL_FIELDS = {
    "model": lambda v: isinstance(v, str) and v in MODELS,
    "data_kind": lambda v: v in DATA_KINDS,
    "nz": lambda v: v is None or int_in(v, 1, MAX_SIZE),
    "num_classes": lambda v: int_in(v, 0, MAX_SIZE),
    "bn_eps": lambda v: type(v) in (int, float) and is_finite_number(v) and v > 0,
    "d_batch_norm": lambda v: type(v) is bool,  # False: the critic of --gp/--r1
    "spectral_norm": lambda v: type(v) is bool,  # --spectral-norm
    "conditioning": lambda v: isinstance(v, str) and v in CONDITIONINGS,  # --conditioning acgan|projection
    "image_shape": lambda v: v is None or (
        isinstance(v, list) and len(v) == 3 and v[0] in (1, 3) and type(v[0]) is int and
        all(int_in(n, 1, MAX_IMAGE_SIZE) for n in v[1:])),
}


def check_model_spec(path, spec):
    """The model description (meta/model) is data: only MODEL_FIELDS, each of its type and
    in range, before anything is built. Sizes are bounded further by what the file holds
    (Checkpoint.bounding_allocations)."""
    unknown = sorted(set(spec) - set(MODEL_FIELDS))
    if unknown:
        raise refuse(path, f"meta/model has unknown fields {unknown}")
    for field in ("model", "data_kind"):
        if field not in spec:
            raise refuse(path, f"meta/model lacks {field!r}")
    for field, ok in MODEL_FIELDS.items():
        if field in spec and not ok(spec[field]):
            raise refuse(path, f"meta/model {field} is {spec[field]!r}, which minigan does not "
                               f"make")
    if spec["data_kind"] == "image" and spec.get("image_shape") is None:
        raise refuse(path, "meta/model describes an image model without image_shape")


def describe(spec):
    return ", ".join(f"{k} {v}" for k, v in spec.items())


def read_best(path):
    """meta/best of the checkpoint at `path` (None when it has none): what best.npz was
    kept for."""
    return read_checkpoint(path).best


def check_best_record(path, record):
    """meta/best: {"key": str, "mode": "min"|"max", "value": finite number, "step": int}."""
    if record is None:
        return None
    ok = isinstance(record, dict) and set(record) == {"key", "mode", "value", "step"} and \
        isinstance(record["key"], str) and record["mode"] in ("min", "max") and \
        is_finite_number(record["value"]) and type(record["step"]) is int and \
        record["step"] >= 0
    if not ok:
        raise refuse(path, "meta/best is not a best-value record")
    return record


def check_data_record(path, record):
    """meta/data: {"fingerprint": {"digest": hex, "files": n, "bytes": n}} or absent."""
    if record is None:
        return None
    fp = record.get("fingerprint") if isinstance(record, dict) else None
    ok = isinstance(fp, dict) and set(fp) == {"digest", "files", "bytes"} and \
        isinstance(fp["digest"], str) and len(fp["digest"]) == 64 and \
        all(type(fp[k]) is int and fp[k] >= 0 for k in ("files", "bytes"))
    if not ok or set(record) != {"fingerprint"}:
        raise refuse(path, "meta/data is not a dataset fingerprint")
    return record
