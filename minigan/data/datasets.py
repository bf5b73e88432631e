"""Datasets: everything a training run learns from, as host NumPy arrays.

`load_dataset(name)` returns a `Dataset`: images `(N, C, H, W)` float32 scaled to [-1, 1]
(x = pixel / 127.5 - 1, the range of a tanh generator), or 2-D points `(N, 2)` float32.
MNIST-like sets are parsed from IDX files (downloaded once, sha256-verified); `folder:PATH`
reads any image folder with pillow; ring8/grid25 are Gaussian mixtures, sampled exactly.
Data order is a function of (seed, epoch) alone (`epoch_permutation`), so resume is exact.
DATASETS maps each name to a DatasetEntry: its kind, whether it has labels, a line for
--help, and its loader; the command line, TrainConfig's checks and load_dataset read it.
"""
import gzip
import hashlib
import http.client
import os
import re
import sys
import urllib.request
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..store.atomic import atomic_write
from ..validators import is_int

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MIXTURE_SIZE = 50_000   # points in load_dataset("ring8"/"grid25"): a fixed draw ...
MIXTURE_SEED = 0        # ... from np.random.default_rng(MIXTURE_SEED)
DOWNLOAD_TIMEOUT_S = 60  # per blocking socket operation, not for the whole file

# The full training sets: one mirror and the sha256 of each gzipped IDX file.
# The hashes are those TFDS and other loaders pin; torchvision pins the same files by md5.
IDX_SOURCES = {
    "mnist": ("https://ossci-datasets.s3.amazonaws.com/mnist/", {
        "train-images-idx3-ubyte.gz":
            "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
        "train-labels-idx1-ubyte.gz":
            "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c"}),
    "fashion-mnist": ("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/", {
        "train-images-idx3-ubyte.gz":
            "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
        "train-labels-idx1-ubyte.gz":
            "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"}),
}


class DatasetError(ValueError):
    """A dataset cannot be loaded for a reason the user can fix (name, file, network)."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """A whole dataset in host memory.

    x: float32, images `(N, C, H, W)` in [-1, 1] or points `(N, 2)` (not rescaled).
    labels: int64 `(N,)` (digit class, or mixture mode index for points) or None.
    skipped: files of a `folder:` dataset that could not be read (skipped_names: which).
    fingerprint: for a `folder:` dataset, what it was read from (folder_fingerprint),
    stored in checkpoints and checked on resume; None for the built-in sets, which are
    fixed (and verified by sha256 when downloaded).
    """
    name: str
    x: np.ndarray
    labels: np.ndarray | None
    num_classes: int
    kind: str  # "image" or "points"
    skipped: int = 0
    skipped_names: tuple = ()
    fingerprint: dict | None = None

    def __len__(self):
        return len(self.x)

    @property
    def image_shape(self):
        """(C, H, W) of one image; None for a points dataset."""
        return tuple(self.x.shape[1:]) if self.kind == "image" else None


def load_dataset(name="mnist-sample", image_size=None, channels=None, root=None):
    """Load a dataset by name (see DATASETS); unknown names raise DatasetError.

    image_size/channels apply to image sets only (MNIST-like: 28 and 1 by default,
    folder: 64 and 3). root is the download cache for mnist/fashion-mnist.
    """
    entry = dataset_entry(name)
    if entry.kind == "points" and (image_size is not None or channels is not None):
        raise DatasetError(f"dataset {name!r} is 2-D points: image_size and channels "
                           "apply to image datasets only")
    return entry.load(name, image_size, channels, root)


def dataset_entry(name):
    """The DatasetEntry of `name` ("folder:PATH" for every folder), or a DatasetError."""
    if not isinstance(name, str):
        raise DatasetError(f"dataset name must be a string, got {name!r}")
    key = FOLDER if name.startswith("folder:") else name
    if key not in DATASETS:
        raise DatasetError(f"unknown dataset {name!r}: expected one of {', '.join(DATASETS)}")
    return DATASETS[key]


def load_mixture(name, image_size, channels, root):
    """A fixed draw, the same on every call; labels are each point's mode index."""
    x, mode = _sample_mixture(name, MIXTURE_SIZE, np.random.default_rng(MIXTURE_SEED))
    return Dataset(name, x, mode, len(mixture_modes(name)), "points")


def load_bundled_digits(name, image_size, channels, root):
    with resources.files("minigan.assets").joinpath("mnist_5k.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as npz:
            images, labels = npz["images"], npz["labels"]
    return _digits_dataset(name, images, labels, image_size, channels)


def load_idx_digits(name, image_size, channels, root):
    folder = fetch(name, root)
    images = read_idx(folder / "train-images-idx3-ubyte.gz")
    labels = read_idx(folder / "train-labels-idx1-ubyte.gz")
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise DatasetError(f"{folder}: images {images.shape} and labels {labels.shape} "
                           "do not form an (N, H, W) / (N,) pair")
    return _digits_dataset(name, images, labels, image_size, channels)


def load_folder(name, image_size, channels, root):
    return _folder_dataset(name, image_size, channels)


@dataclass(frozen=True)
class DatasetEntry:
    """What every layer needs to know of one dataset."""

    name: str  # as typed on the command line
    kind: str  # "image" (N, C, H, W) or "points" (N, 2)
    labelled: bool  # has class labels (a conditional model needs them)
    help: str
    load: Callable  # (name, image_size, channels, root) -> Dataset


FOLDER = "folder:PATH"
DATASETS = {entry.name: entry for entry in (
    DatasetEntry("mnist-sample", "image", True, "the bundled 5,000 MNIST digits",
                 load_bundled_digits),
    DatasetEntry("mnist", "image", True, "MNIST's 60,000 digits (downloaded once)",
                 load_idx_digits),
    DatasetEntry("fashion-mnist", "image", True, "Fashion-MNIST (downloaded once)",
                 load_idx_digits),
    DatasetEntry(FOLDER, "image", False, "a folder of images", load_folder),
    DatasetEntry("ring8", "points", True, "8 Gaussians on a ring (2-D)", load_mixture),
    DatasetEntry("grid25", "points", True, "25 Gaussians on a grid (2-D)", load_mixture),
)}


# ---------------------------------------------------------------- data order (exact resume)

def epoch_permutation(n, seed, epoch):
    """The order of the n examples in an epoch: a function of (seed, epoch) only."""
    if n < 1 or seed < 0 or epoch < 0:
        raise ValueError(f"need n >= 1, seed >= 0, epoch >= 0; got {n}, {seed}, {epoch}")
    return np.random.default_rng([seed, epoch]).permutation(n)


def steps_per_epoch(n, batch_size, drop_last=True):
    """How many batches `batches` yields for one epoch."""
    return n // batch_size if drop_last else -(-n // batch_size)


def batches(n, batch_size, seed, epoch, drop_last=True):
    """The index arrays of one epoch's batches, in order.

    drop_last (the default) keeps every batch the same size, which BatchNorm wants;
    step s of a run is batch s % steps_per_epoch of epoch s // steps_per_epoch.
    """
    if not 1 <= batch_size <= n:
        raise ValueError(f"batch_size must be between 1 and the dataset size {n}, "
                         f"got {batch_size}")
    order = epoch_permutation(n, seed, epoch)
    stop = steps_per_epoch(n, batch_size, drop_last) * batch_size
    return [order[i:i + batch_size] for i in range(0, min(stop, n), batch_size)]


# ---------------------------------------------------------------- 2-D Gaussian mixtures

def mixture_modes(name):
    """Means of the mixture components, (K, 2) float64: ring8 K=8, grid25 K=25."""
    if name == "ring8":
        angles = 2 * np.pi * np.arange(8) / 8
        return 2.0 * np.stack([np.cos(angles), np.sin(angles)], axis=1)  # (8, 2), radius 2
    if name == "grid25":
        grid = np.arange(-4.0, 5.0, 2.0)                                 # -4 -2 0 2 4
        return np.stack(np.meshgrid(grid, grid, indexing="ij"), axis=-1).reshape(25, 2)
    raise DatasetError(f"unknown mixture {name!r}: expected 'ring8' or 'grid25'")


def mixture_std(name):
    """Standard deviation of every component (isotropic)."""
    mixture_modes(name)  # validates the name
    return {"ring8": 0.02, "grid25": 0.05}[name]


def sample_mixture(name, n, rng):
    """n points (n, 2) float32 from the mixture: a uniform mode plus N(0, std^2 I).

    rng: a np.random.Generator (or a seed for np.random.default_rng).
    """
    return _sample_mixture(name, n, rng)[0]


def _sample_mixture(name, n, rng):
    rng = np.random.default_rng(rng)
    modes = mixture_modes(name)
    k = rng.integers(len(modes), size=n)
    points = modes[k] + mixture_std(name) * rng.standard_normal((n, 2))
    return points.astype(np.float32), k.astype(np.int64)


# ---------------------------------------------------------------- MNIST-like digits

def _digits_dataset(name, images, labels, image_size, channels):
    """uint8 (N, 28, 28) digits -> a Dataset; resized with pillow bilinear when asked."""
    size = _check_image_size(image_size, default=28)
    channels = _check_channels(channels, default=1)
    if size != images.shape[1] or size != images.shape[2]:
        # Bilinear resize, as torchvision's transforms.Resize does in the DCGAN recipes.
        resized = np.empty((len(images), size, size), np.uint8)
        for i, img in enumerate(images):
            resized[i] = np.asarray(Image.fromarray(img).resize((size, size),
                                                                Image.Resampling.BILINEAR))
        images = resized
    x = _scale(images[:, None])                                         # (N, 1, H, W)
    if channels == 3:
        x = np.repeat(x, 3, axis=1)                                     # gray -> (N, 3, H, W)
    return Dataset(name, x, labels.astype(np.int64), 10, "image")


def _scale(pixels):
    """uint8 [0, 255] -> float32 [-1, 1]."""
    x = pixels.astype(np.float32)
    x /= 127.5  # in place: no float temporaries the size of the dataset
    x -= 1.0
    return x


def dataset_folder(name, root=None):
    """Where a downloaded dataset lives: root, else $MINIGAN_DATA, else the user cache."""
    if root is None:
        root = os.environ.get("MINIGAN_DATA")
    if not root:
        cache = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        root = Path(cache) / "minigan"
    return Path(root).expanduser() / name


def fetch(name, root=None):
    """Make sure both IDX files of `name` are in its folder and verified; return the folder."""
    base_url, files = IDX_SOURCES[name]
    folder = dataset_folder(name, root)
    for filename, sha256 in files.items():
        path = folder / filename
        if not path.exists():
            _download(name, base_url + filename, path, sha256)  # verified as it arrives
            continue
        actual = sha256_of(path)  # a file put there earlier, by minigan or by hand
        if actual != sha256:
            raise DatasetError(f"{path} is corrupt or not the {name} file: its sha256 is "
                               f"{actual}, expected {sha256}. Delete it and run again to "
                               f"download it afresh from {base_url + filename}")
    return folder


def _download(name, url, path, sha256):
    """urllib download to a temp file beside `path`, verified, then renamed into place."""
    base_url, files = IDX_SOURCES[name]
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise DatasetError(f"cannot create the data folder {path.parent}: {err}") from err
    print(f"minigan: downloading {url} -> {path}", file=sys.stderr)
    # written whole or not at all: the file appears under `path` only once verified
    with atomic_write(path) as out:
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
                for chunk in iter(lambda: response.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as err:  # URLError, timeouts, resets
            by_hand = "\n".join(f"  {base_url}{f}" for f in files)
            raise DatasetError(
                f"could not download {url} ({err}).\nTo install {name} by hand, download\n"
                f"{by_hand}\ninto the folder {path.parent}\n(or point the MINIGAN_DATA "
                "environment variable at a folder holding a "
                f"{name}/ subfolder with them)") from err
        actual = digest.hexdigest()
        if actual != sha256:
            raise DatasetError(f"downloaded {url} but its sha256 is {actual}, expected "
                               f"{sha256}; nothing was saved. Try again, or put the file "
                               f"in {path.parent} by hand")


def sha256_of(path):
    """Hex sha256 of a file, read in 1 MiB chunks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


# IDX type codes (third magic byte) -> big-endian NumPy dtypes.
_IDX_DTYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


def read_idx(path):
    """Parse an IDX file (gzipped or not): magic 00 00 <type> <ndim>, ndim big-endian
    uint32 sizes, then the values big-endian in C order. Bad files raise DatasetError."""
    path = Path(path)
    try:
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:2] == b"\x1f\x8b":  # the gzip magic
            raw = gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as err:  # missing, bad gzip, truncated gzip
        raise DatasetError(f"cannot read IDX file {path}: {err}") from err
    if len(raw) < 4 or raw[:2] != b"\0\0" or raw[2] not in _IDX_DTYPES:
        raise DatasetError(f"{path} is not an IDX file (magic bytes {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DatasetError(f"{path} is truncated: its header needs {header} bytes")
    shape = tuple(int(d) for d in np.frombuffer(raw, ">u4", count=ndim, offset=4))
    dtype = np.dtype(_IDX_DTYPES[raw[2]])
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(raw) - header != expected:
        raise DatasetError(f"{path} is truncated or corrupt: shape {shape} needs {expected} "
                           f"bytes of data, found {len(raw) - header}")
    values = np.frombuffer(raw, dtype, offset=header).reshape(shape)
    return values.astype(dtype.newbyteorder("="))                   # native byte order


# ---------------------------------------------------------------- folder:PATH

MAX_IMAGE_PIXELS = 1 << 26  # 67 million (8192 x 8192): a bigger picture is skipped unread
SHOWN_NAMES = 5  # skipped files named in the summary warning


def absolute_name(name):
    """"folder:imgs" -> "folder:/abs/path/imgs" (what checkpoints store: a resumed run reads
    the same folder from wherever it is started); other names unchanged."""
    if isinstance(name, str) and name.startswith("folder:") and name[len("folder:"):]:
        return "folder:" + os.path.abspath(os.path.expanduser(name[len("folder:"):]))
    return name


def is_run_folder(folder):
    """Whether a folder holds a minigan run: its lock, its checkpoint, or its log beside
    its samples/ folder (a log alone is not enough: a file named metrics.jsonl among
    someone's pictures does not make their folder a run)."""
    def has(*parts):
        return os.path.exists(os.path.join(folder, *parts))
    return has(".minigan.lock") or has("checkpoints", "last.npz") or (
        has("metrics.jsonl") and os.path.isdir(os.path.join(folder, "samples")))


def image_files(folder):
    """The image files under `folder` (recursive, sorted), leaving out every minigan run
    folder inside it: a run started in its own dataset (`cd imgs; minigan train --dataset
    folder:.`) must not train on its sample grids and plots."""
    found = []
    for root, dirs, files in os.walk(folder):
        runs = {d for d in dirs if is_run_folder(os.path.join(root, d))}
        for run in sorted(runs):  # said, never silent: the user may not expect it
            print(f"minigan: left out {os.path.join(root, run)}: a minigan run folder inside "
                  f"the dataset (its grids and plots are not training images)", file=sys.stderr)
        dirs[:] = sorted(d for d in dirs if d not in runs)
        found += [Path(root) / f for f in files if Path(f).suffix.lower() in IMAGE_EXTENSIONS]
    return sorted(p for p in found if p.is_file())


def folder_fingerprint(folder, paths):
    """{"digest", "files", "bytes"}: sha256 over each file's path (relative to the folder)
    and size. Adding, removing, renaming or resizing an image changes it; reading the
    sizes costs one stat per file, not a read of every image."""
    digest, total = hashlib.sha256(), 0
    for path in paths:
        size = path.stat().st_size
        total += size
        digest.update(f"{path.relative_to(folder).as_posix()}\0{size}\n".encode())
    return {"digest": digest.hexdigest(), "files": len(paths), "bytes": total}


def _folder_dataset(name, image_size, channels):
    """Every image under the folder (recursive, sorted), center-cropped square then resized
    to image_size. Default 64 px, 3 channels (RGB). Files Pillow cannot read, or bigger
    than MAX_IMAGE_PIXELS, are skipped and named in one warning."""
    size = _check_image_size(image_size, default=64)
    channels = _check_channels(channels, default=3)
    folder = Path(name[len("folder:"):]).expanduser()
    if not name[len("folder:"):]:
        raise DatasetError("dataset 'folder:' needs a path, as in folder:/data/faces")
    if not folder.is_dir():
        raise DatasetError(f"image folder {folder} does not exist or is not a folder")
    paths = image_files(folder)
    pixels, bad = [], []
    for path in paths:
        image, why = read_image(path, size, channels)
        if image is None:
            bad.append(f"{path.relative_to(folder)} ({why})")
        else:
            pixels.append(image)
    if bad:
        shown = ", ".join(bad[:SHOWN_NAMES]) + (f" and {len(bad) - SHOWN_NAMES} more"
                                                 if len(bad) > SHOWN_NAMES else "")
        warnings.warn(f"{name}: skipped {len(bad)} of {len(paths)} file(s): {shown}",
                      stacklevel=3)
    if not pixels:
        raise DatasetError(f"no readable image ({', '.join(IMAGE_EXTENSIONS)}) in {folder}"
                           f" ({len(bad)} unreadable)")
    x = np.stack(pixels).reshape(len(pixels), size, size, channels)  # (N, H, W, C)
    x = _scale(x.transpose(0, 3, 1, 2))                                 # (N, C, H, W)
    return Dataset(name, x, None, 0, "image", skipped=len(bad), skipped_names=tuple(bad),
                   fingerprint=folder_fingerprint(folder, paths))


def read_image(path, size, channels):
    """(uint8 pixels (size, size[, C]), None), or (None, why it was skipped).

    The size is read from the header, before any pixel is decoded: a picture of more than
    MAX_IMAGE_PIXELS is skipped with a one-line notice. Pillow's decoders and its EXIF
    code raise many kinds of exception on damaged files (OSError, SyntaxError, TypeError
    from a bad EXIF tag, ...): any of them skips the file, so the try holds Pillow's calls
    only."""
    try:
        with warnings.catch_warnings():  # Pillow's own size warning: ours is the notice below
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            img = Image.open(path)
        with img:
            w, h = img.size
            if w * h > MAX_IMAGE_PIXELS:
                return None, too_big(path, f"{w}x{h} pixels")
            img = _to_8bit(ImageOps.exif_transpose(img))
            img = _crop_resize(img.convert("L" if channels == 1 else "RGB"), size)
            return np.asarray(img), None
    except Image.DecompressionBombError as err:  # beyond Pillow's own bound: not even opened
        found = re.search(r"\((\d+) pixels\)", str(err))
        return None, too_big(path, f"{found.group(1) if found else 'too many'} pixels")
    except Exception as err:  # noqa: BLE001 - see the docstring: Pillow's calls only
        return None, f"Pillow cannot read it: {type(err).__name__}"


def too_big(path, pixels):
    """The one-line notice for a picture skipped unread, and the reason to list."""
    why = f"{pixels}, more than the {MAX_IMAGE_PIXELS} minigan reads"
    print(f"minigan: skipped {path}: {why}", file=sys.stderr)
    return why


def _to_8bit(img):
    """8-bit modes as they are; 16- and 32-bit integer greys ("I;16", "I", as Pillow opens
    a 16-bit PNG) scaled from [0, 65535] and float greys ("F") from [0, 1] to [0, 255].
    Pillow's own convert("L") would clip them instead (a 16-bit black-to-white gradient
    became 98% white). Palette, 1-bit, CMYK and the alpha modes Pillow converts by scaling
    itself."""
    if img.mode.startswith("I;16") or img.mode == "I":
        top = 65535.0
    elif img.mode == "F":
        top = 1.0
    else:
        return img
    grey = np.asarray(img).astype(np.float64)
    return Image.fromarray(np.rint(np.clip(grey, 0, top) * (255.0 / top)).astype(np.uint8))


def _crop_resize(img, size):
    """The center square, resized to size x size (bilinear). Cropping first (Pillow's
    resize `box`) keeps the work at the square's size: a 200000 x 1 picture is resized
    from its 1 x 1 center, never first to 12,800,000 x 64."""
    w, h = img.size
    side = min(w, h)
    left, top = (w - side) // 2, (h - side) // 2
    return img.resize((size, size), Image.Resampling.BILINEAR,
                      box=(left, top, left + side, top + side))


def _check_image_size(image_size, default):
    if image_size is None:
        return default
    if not is_int(image_size) or image_size < 1:
        raise DatasetError(f"image_size must be a positive integer, got {image_size!r}")
    return int(image_size)


def _check_channels(channels, default):
    if channels is None:
        return default
    if not is_int(channels) or channels not in (1, 3):
        raise DatasetError(f"channels must be 1 (grayscale) or 3 (RGB), got {channels!r}")
    return int(channels)
