"""Datasets: shapes, dtypes and ranges of every kind, the IDX parser, the verified download
(served from a local HTTP server or a monkeypatched urlopen, never the real mirrors),
image folders with unreadable files, exact data order, and the 2-D mixtures' statistics.
"""
import functools
import gzip
import hashlib
import http.server
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from minigan.data import datasets as data
from minigan.data.datasets import DatasetError, load_dataset

IMAGES, LABELS = "train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"


def check_images(ds, shape):
    assert ds.kind == "image" and ds.x.shape == shape and ds.x.dtype == np.float32
    assert ds.image_shape == shape[1:] and len(ds) == shape[0]
    assert -1.0 <= ds.x.min() and ds.x.max() <= 1.0


# ---------------------------------------------------------------- bundled sample

def test_mnist_sample_is_the_default_with_5000_digits_500_per_class():
    ds = load_dataset()
    assert ds.name == "mnist-sample" and ds.num_classes == 10
    check_images(ds, (5000, 1, 28, 28))
    assert ds.x.min() == -1.0 and ds.x.max() == 1.0  # pixel 0 -> -1, 255 -> 1
    assert ds.labels.dtype == np.int64 and np.bincount(ds.labels).tolist() == [500] * 10


@pytest.mark.parametrize("size, channels", [(32, 1), (64, 3)])
def test_mnist_sample_resizes_and_repeats_gray_into_rgb(size, channels):
    ds = load_dataset("mnist-sample", image_size=size, channels=channels)
    check_images(ds, (5000, channels, size, size))
    if channels == 3:
        assert np.array_equal(ds.x[:, 0], ds.x[:, 2])


@pytest.mark.parametrize("kwargs, word", [
    ({"image_size": 0}, "image_size"), ({"image_size": 2.5}, "image_size"),
    ({"image_size": True}, "image_size"), ({"image_size": "32"}, "image_size"),
    ({"channels": 2}, "channels"), ({"channels": 4}, "channels")])
def test_bad_image_size_or_channels_names_the_value(kwargs, word):
    with pytest.raises(ValueError, match=word) as err:
        load_dataset("mnist-sample", **kwargs)
    assert repr(next(iter(kwargs.values()))) in str(err.value)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError, match="'cifar10'") as err:
        load_dataset("cifar10")
    for name in ("mnist-sample", "fashion-mnist", "folder:PATH", "ring8", "grid25"):
        assert name in str(err.value)


# ---------------------------------------------------------------- 2-D mixtures

@pytest.mark.parametrize("name, k", [("ring8", 8), ("grid25", 25)])
def test_mixture_dataset_is_a_fixed_draw_of_points(name, k):
    ds = load_dataset(name)
    assert ds.kind == "points" and ds.image_shape is None and ds.num_classes == k
    assert ds.x.shape == (data.MIXTURE_SIZE, 2) and ds.x.dtype == np.float32
    assert ds.labels.dtype == np.int64 and set(np.unique(ds.labels)) == set(range(k))
    assert np.array_equal(ds.x, load_dataset(name).x)
    modes = data.mixture_modes(name)
    # labels are the mode each point was drawn from
    assert np.abs(ds.x - modes[ds.labels]).max() < 10 * data.mixture_std(name)
    with pytest.raises(ValueError, match="image"):
        load_dataset(name, image_size=32)


def test_mixture_modes_are_the_ring_and_the_grid():
    ring = data.mixture_modes("ring8")
    assert np.allclose(np.hypot(ring[:, 0], ring[:, 1]), 2.0)
    assert np.allclose(ring[2], [0.0, 2.0])  # angle 2*pi*2/8
    grid = data.mixture_modes("grid25")
    assert sorted(set(grid[:, 0])) == [-4, -2, 0, 2, 4] and len(np.unique(grid, axis=0)) == 25
    assert data.mixture_std("ring8") == 0.02 and data.mixture_std("grid25") == 0.05
    with pytest.raises(ValueError, match="swiss"):
        data.mixture_modes("swiss")


@pytest.mark.parametrize("name", ["ring8", "grid25"])
def test_mixture_samples_sit_at_std_distance_from_balanced_modes(name):
    n, modes, std = 40_000, data.mixture_modes(name), data.mixture_std(name)
    x = data.sample_mixture(name, n, np.random.default_rng(1))
    assert x.shape == (n, 2) and x.dtype == np.float32
    dist = np.linalg.norm(x[:, None, :] - modes[None], axis=2)        # (n, K)
    nearest = dist.argmin(axis=1)
    # The distance to the mode of an isotropic 2-D Gaussian is Rayleigh: mean std*sqrt(pi/2).
    assert dist.min(axis=1).mean() == pytest.approx(std * np.sqrt(np.pi / 2), rel=0.03)
    counts = np.bincount(nearest, minlength=len(modes))
    assert np.all(np.abs(counts - n / len(modes)) < 0.15 * n / len(modes))
    assert np.array_equal(x, data.sample_mixture(name, n, 1))  # a seed works as well


# ---------------------------------------------------------------- data order

def test_epoch_permutation_depends_only_on_seed_and_epoch():
    p = data.epoch_permutation(1000, seed=3, epoch=5)
    assert np.array_equal(np.sort(p), np.arange(1000))
    np.random.seed(123)  # global NumPy state must not matter
    assert np.array_equal(p, data.epoch_permutation(1000, seed=3, epoch=5))
    assert not np.array_equal(p, data.epoch_permutation(1000, seed=3, epoch=6))
    assert not np.array_equal(p, data.epoch_permutation(1000, seed=4, epoch=5))


def test_batches_split_the_epoch_order():
    order = data.epoch_permutation(10, 0, 2)
    full = data.batches(10, 4, seed=0, epoch=2)
    assert [len(b) for b in full] == [4, 4] and data.steps_per_epoch(10, 4) == 2
    assert np.array_equal(np.concatenate(full), order[:8])
    last = data.batches(10, 4, seed=0, epoch=2, drop_last=False)
    assert [len(b) for b in last] == [4, 4, 2] and data.steps_per_epoch(10, 4, False) == 3
    with pytest.raises(ValueError, match="batch_size"):
        data.batches(10, 11, 0, 0)


# ---------------------------------------------------------------- folder:PATH

@pytest.fixture
def image_folder(tmp_path):
    """Five readable images of different sizes, modes and formats, one corrupt, one text."""
    rng = np.random.default_rng(0)
    (tmp_path / "sub").mkdir()
    Image.fromarray(rng.integers(0, 255, (30, 40, 3), np.uint8)).save(tmp_path / "a.png")
    Image.fromarray(rng.integers(0, 255, (50, 20), np.uint8)).save(tmp_path / "sub/b.PNG")
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), np.uint8)).save(tmp_path / "c.jpg")
    Image.new("RGBA", (17, 33), (10, 200, 30, 128)).save(tmp_path / "sub/d.png")
    Image.new("P", (25, 25), 3).save(tmp_path / "e.bmp")
    (tmp_path / "broken.jpeg").write_bytes(b"\xff\xd8 not really a jpeg")
    (tmp_path / "notes.txt").write_text("not an image, ignored")
    return tmp_path


@pytest.mark.parametrize("size, channels", [(None, None), (16, 1), (16, 3)])
def test_folder_loads_every_readable_image_and_counts_the_rest(image_folder, size, channels):
    with pytest.warns(UserWarning, match="skipped 1"):
        ds = load_dataset(f"folder:{image_folder}", image_size=size, channels=channels)
    check_images(ds, (5, channels or 3, size or 64, size or 64))
    assert ds.skipped == 1 and ds.labels is None and ds.num_classes == 0


def test_folder_resizes_the_short_side_and_crops_the_center(tmp_path):
    pixels = np.zeros((20, 60), np.uint8)
    pixels[:, 20:40] = 255  # a white center square between black sides
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    ds = load_dataset(f"folder:{tmp_path}", image_size=10, channels=1)
    assert ds.x.shape == (1, 1, 10, 10) and ds.x.mean() > 0.9


def test_empty_missing_or_unreadable_folders_raise_naming_the_folder(tmp_path):
    with pytest.raises(DatasetError, match=str(tmp_path)):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(DatasetError, match="does not exist"):
        load_dataset(f"folder:{tmp_path / 'nope'}")
    (tmp_path / "bad.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning), pytest.raises(DatasetError, match="1 unreadable"):
        load_dataset(f"folder:{tmp_path}")
    with pytest.raises(DatasetError, match="needs a path"):
        load_dataset("folder:")


# ---------------------------------------------------------------- IDX files

def idx_bytes(array, type_code=0x08):
    """Handmade IDX: 00 00 type ndim, big-endian uint32 sizes, big-endian values."""
    header = bytes([0, 0, type_code, array.ndim])
    header += np.array(array.shape, ">u4").tobytes()
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


def write_idx_pair(folder, n=20):
    """A tiny gzipped MNIST-like pair; returns {filename: sha256}."""
    rng = np.random.default_rng(0)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {IMAGES: rng.integers(0, 256, (n, 28, 28), np.uint8),
              LABELS: (np.arange(n) % 10).astype(np.uint8)}
    for name, array in arrays.items():
        (folder / name).write_bytes(gzip.compress(idx_bytes(array)))
    return {name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in arrays}


def test_read_idx_parses_gzipped_and_plain_files_of_any_type(tmp_path):
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "i.gz").write_bytes(gzip.compress(idx_bytes(images)))
    assert np.array_equal(data.read_idx(tmp_path / "i.gz"), images)
    wide = np.array([[-300, 7], [1, 2000]], np.int16)
    (tmp_path / "w.idx").write_bytes(idx_bytes(wide, 0x0B))
    out = data.read_idx(tmp_path / "w.idx")
    assert out.dtype == np.int16 and np.array_equal(out, wide)


@pytest.mark.parametrize("content, message", [
    (idx_bytes(np.zeros((2, 3), np.uint8))[:-1], "truncated"),
    (idx_bytes(np.zeros((2, 3), np.uint8)) + b"x", "corrupt"),
    (idx_bytes(np.zeros((2, 3), np.uint8))[:9], "truncated"),
    (b"\x01\x02\x08\x01" + bytes(8), "not an IDX"),
    (gzip.compress(idx_bytes(np.zeros((2, 3), np.uint8)))[:-6], "cannot read"),
])
def test_read_idx_rejects_bad_files_naming_them(tmp_path, content, message):
    path = tmp_path / "bad-idx1-ubyte.gz"
    path.write_bytes(content)
    with pytest.raises(DatasetError, match=message) as err:
        data.read_idx(path)
    assert str(path) in str(err.value)


# ---------------------------------------------------------------- download and verification

@pytest.fixture
def mirror(tmp_path):
    """A local HTTP server over tmp_path/mirror; yields (base_url, {filename: sha256})."""
    hashes = write_idx_pair(tmp_path / "mirror")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    handler = functools.partial(Quiet, directory=str(tmp_path / "mirror"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/", hashes
    server.shutdown()
    server.server_close()


def test_download_verifies_and_caches_then_loads_offline(tmp_path, mirror, monkeypatch):
    monkeypatch.setitem(data.IDX_SOURCES, "mnist", mirror)
    ds = load_dataset("mnist", root=tmp_path / "cache", image_size=32)
    check_images(ds, (20, 1, 32, 32))
    assert ds.labels.tolist() == [i % 10 for i in range(20)]
    files = sorted(p.name for p in (tmp_path / "cache" / "mnist").iterdir())
    assert files == [IMAGES, LABELS]  # no temp files left behind

    def offline(*args, **kwargs):
        raise AssertionError("a cached dataset must not be downloaded again")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    assert np.array_equal(load_dataset("mnist", root=tmp_path / "cache", image_size=32).x,
                          ds.x)


def test_offline_error_names_the_files_urls_and_folder(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")
    monkeypatch.setattr(urllib.request, "urlopen", offline)
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path))
    with pytest.raises(DatasetError) as err:
        load_dataset("fashion-mnist")
    message = str(err.value)
    base_url = data.IDX_SOURCES["fashion-mnist"][0]
    assert "no network" in message and str(tmp_path / "fashion-mnist") in message
    assert base_url + IMAGES in message and base_url + LABELS in message
    assert list((tmp_path / "fashion-mnist").iterdir()) == []  # no partial file


def test_a_corrupt_cached_file_names_both_hashes_and_says_delete(tmp_path, monkeypatch):
    hashes = write_idx_pair(tmp_path / "mnist")
    monkeypatch.setitem(data.IDX_SOURCES, "mnist", ("http://127.0.0.1:9/", hashes))
    (tmp_path / "mnist" / LABELS).write_bytes(b"tampered")
    with pytest.raises(DatasetError, match="Delete it") as err:
        load_dataset("mnist", root=tmp_path)
    actual = hashlib.sha256(b"tampered").hexdigest()
    assert all(s in str(err.value) for s in (LABELS, hashes[LABELS], actual))


def test_a_download_with_the_wrong_checksum_is_not_kept(tmp_path, mirror, monkeypatch):
    base_url, hashes = mirror
    monkeypatch.setitem(data.IDX_SOURCES, "mnist", (base_url, {**hashes, IMAGES: "0" * 64}))
    with pytest.raises(DatasetError, match="0" * 64):
        load_dataset("mnist", root=tmp_path / "cache")
    assert not (tmp_path / "cache" / "mnist" / IMAGES).exists()
    assert not list((tmp_path / "cache" / "mnist").glob("*.part"))


def test_cache_folder_follows_root_then_env_then_xdg(tmp_path, monkeypatch):
    monkeypatch.delenv("MINIGAN_DATA", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert data.dataset_folder("mnist") == tmp_path / "xdg" / "minigan" / "mnist"
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "env"))
    assert data.dataset_folder("mnist") == tmp_path / "env" / "mnist"
    assert data.dataset_folder("mnist", tmp_path / "r") == tmp_path / "r" / "mnist"
