"""minigan.save / minigan.load: state dicts as safetensors files, never pickle.

torch.save pickles, and unpickling runs whatever code the file names, so minigan neither
writes nor reads pickle. A safetensors file is an 8-byte little-endian header length, a
JSON header (each tensor's dtype, shape and byte range) and the raw bytes. `save` writes
every tensor or array of a nested structure (dicts, lists, tuples, numbers, strings) under
its dotted path ("G.main.0.weight"; a flat state dict keeps its own keys, so
`safetensors.torch.load_file` gives PyTorch the same dict), and the structure itself as
JSON in the header's metadata. `load` checks the header against the file's size before
anything is allocated; nothing in a file names a path to open.
"""
import json
import math
import os
import struct

import numpy as np

from . import backend
from .tensor import Tensor

EXTRA = "pip install 'minigan[safetensors]'"
HEADER_LIMIT = 100 * 2 ** 20  # bytes of JSON header accepted (safetensors' own limit)
STRUCTURE_KEY = "minigan"  # the metadata entry holding the saved structure
DTYPES = {"BOOL": np.bool_, "U8": np.uint8, "I8": np.int8, "I16": np.int16, "U16": np.uint16,
          "I32": np.int32, "U32": np.uint32, "I64": np.int64, "U64": np.uint64,
          "F16": np.float16, "F32": np.float32, "F64": np.float64}


def _safetensors_numpy():
    try:
        import safetensors.numpy
    except ImportError:
        raise ImportError(f"minigan.save/load write safetensors files and need the safetensors "
                          f"package: {EXTRA}") from None
    return safetensors.numpy


# -- save -----------------------------------------------------------------------------------
def save(obj, f):
    """Write `obj` (a tensor, an array, or dicts/lists/tuples of them, numbers, strings,
    bools and None) to the path or binary file object `f` as safetensors (as torch.save,
    in the safe format). Tensors are saved detached, from the host."""
    arrays = {}
    structure = _encode(obj, (), arrays)
    metadata = {"format": "pt", STRUCTURE_KEY: json.dumps(structure)}
    data = _safetensors_numpy().save(arrays, metadata=metadata)
    if hasattr(f, "write"):
        f.write(data)
        return
    from .store.atomic import atomic_write
    with atomic_write(os.fspath(f)) as out:
        out.write(data)


def _encode(obj, path, arrays):
    """The JSON structure of obj; its tensors and arrays go into `arrays` by dotted path."""
    if isinstance(obj, (Tensor, np.ndarray)):
        key = ".".join(path) if path else "tensor"
        if key in arrays:
            raise ValueError(f"save: two entries are both named {key!r} once flattened; "
                             f"rename one")
        array = backend.asnumpy(obj._data if isinstance(obj, Tensor) else obj)
        if array.dtype.type not in DTYPES.values():
            raise TypeError(f"save: {key!r} has dtype {array.dtype}, which safetensors "
                            f"does not hold")
        arrays[key] = np.ascontiguousarray(array)
        return {"tensor" if isinstance(obj, Tensor) else "array": key}
    if isinstance(obj, np.generic):
        return _encode(np.asarray(obj), path, arrays)
    if obj is None or isinstance(obj, (bool, int, float, str)):
        return {"value": obj}
    if isinstance(obj, dict):
        items = []
        for key, value in obj.items():
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise TypeError(f"save: dict keys must be str or int, got {key!r}")
            items.append([key, _encode(value, path + (str(key),), arrays)])
        return {"dict": items}
    if isinstance(obj, (list, tuple)):
        kind = "tuple" if isinstance(obj, tuple) else "list"
        return {kind: [_encode(value, path + (str(i),), arrays) for i, value in enumerate(obj)]}
    raise TypeError(f"save: cannot save a {type(obj).__name__} (at {'.'.join(path) or 'top'}): "
                    f"minigan saves tensors, arrays, numbers, strings and dicts/lists of them, "
                    f"never pickled objects")


# -- load -----------------------------------------------------------------------------------
def load(f, map_location=None, weights_only=True, mmap=None, **kwargs):
    """What `save` wrote to the path or binary file `f`, tensors on `map_location` ("cpu"
    by default; "cuda" or a minigan.device too), as torch.load. A safetensors file written
    elsewhere (safetensors.torch.save_file) loads as a dict of tensors. A pickled
    PyTorch file is refused: minigan does not unpickle (weights_only is always true)."""
    name = getattr(f, "name", "<file>") if hasattr(f, "read") else os.fspath(f)
    data = f.read() if hasattr(f, "read") else _read(f)
    header = check_header(data, name)
    device = backend.check_device(str(map_location) if map_location is not None else "cpu")
    arrays = _safetensors_numpy().load(data)
    metadata = header.get("__metadata__") or {}
    if STRUCTURE_KEY not in metadata:  # a plain safetensors file: its flat dict of tensors
        return {key: _tensor(arrays[key], device) for key in header if key != "__metadata__"}
    try:
        structure = json.loads(metadata[STRUCTURE_KEY])
        return _decode(structure, arrays, device)
    except (ValueError, KeyError, TypeError, AttributeError, IndexError) as error:
        raise ValueError(f"load: {name}: its saved structure is damaged ({error})") from None


def _read(path):
    with open(path, "rb") as f:
        return f.read()


def check_header(data, name):
    """The JSON header of the safetensors bytes `data`, checked against their size: every
    tensor a known dtype, its shape's bytes its range's, every range inside the file.
    A pickled PyTorch file (a zip, or a pickle stream) is refused in one line."""
    looks_safe = data[8:9] == b"{"  # a header length, then the JSON header's "{"
    if not looks_safe and (data[:4] == b"PK\x03\x04" or data[:1] == b"\x80"):
        raise ValueError(f"load: {name} is a pickled PyTorch file (torch.save); minigan never "
                         f"unpickles (a pickle can run code). Save it as safetensors in "
                         f"PyTorch: safetensors.torch.save_file(model.state_dict(), "
                         f"'model.safetensors'), then minigan.load that file")
    bad = f"load: {name} is not a safetensors file"
    if len(data) < 8:
        raise ValueError(f"{bad} (only {len(data)} bytes)")
    n, = struct.unpack("<Q", data[:8])
    if n > min(HEADER_LIMIT, len(data) - 8):
        raise ValueError(f"{bad} (its header says {n} bytes; the file has {len(data)})")
    try:
        header = json.loads(data[8:8 + n])
    except (UnicodeDecodeError, ValueError):
        raise ValueError(f"{bad} (its header is not JSON)") from None
    if not isinstance(header, dict):
        raise ValueError(f"{bad} (its header is not a JSON object)")
    body = len(data) - 8 - n
    for key, entry in header.items():
        if key == "__metadata__":
            continue
        try:
            dtype, shape, (begin, end) = (np.dtype(DTYPES[entry["dtype"]]), entry["shape"],
                                          entry["data_offsets"])
            ok = all(type(d) is int and d >= 0 for d in shape) and type(begin) is int \
                and type(end) is int and 0 <= begin <= end <= body \
                and end - begin == math.prod(shape) * dtype.itemsize
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{bad} (entry {key!r} does not match the file: {entry!r:.200})")
    return header


def _tensor(array, device):
    return Tensor(backend.to_device(np.array(array), device))


def _decode(node, arrays, device):
    (kind, value), = node.items()
    if kind == "value":
        return value
    if kind == "tensor":
        return _tensor(arrays[value], device)
    if kind == "array":
        return np.array(arrays[value])
    if kind == "dict":
        return {key: _decode(item, arrays, device) for key, item in value}
    if kind == "list":
        return [_decode(item, arrays, device) for item in value]
    if kind == "tuple":
        return tuple(_decode(item, arrays, device) for item in value)
    raise ValueError(f"unknown entry kind {kind!r}")
