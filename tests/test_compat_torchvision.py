"""The torchvision subset of minigan.compat: transforms against PIL and NumPy done by hand,
make_grid's layout as torchvision's, save_image's pixels, and the datasets read from local
files (never downloaded here), the bundled digits, a folder and FakeData."""
import gzip

import numpy as np
import pytest
from PIL import Image

import minigan
from minigan.data import datasets as minigan_data
from minigan.compat import CompatError
from minigan.compat.torchvision import datasets, transforms, utils


def _gray(h=6, w=8, seed=0):
    return Image.fromarray(np.random.default_rng(seed).integers(0, 256, (h, w), np.uint8))


# -- transforms --------------------------------------------------------------------------
def test_to_tensor_scales_uint8_to_unit_range_in_chw():
    rgb = np.random.default_rng(1).integers(0, 256, (5, 7, 3), np.uint8)
    x = transforms.ToTensor()(Image.fromarray(rgb))
    assert x.shape == (3, 5, 7) and x.dtype == np.float32
    np.testing.assert_array_equal(x.numpy(), rgb.transpose(2, 0, 1).astype(np.float32) / 255)
    gray = transforms.ToTensor()(_gray())
    assert gray.shape == (1, 6, 8)


def test_normalize_maps_each_channel():
    x = minigan.tensor(np.random.default_rng(2).random((3, 4, 4)).astype(np.float32))
    mean, std = (0.1, 0.2, 0.3), (0.5, 0.25, 2.0)
    out = transforms.Normalize(mean, std)(x)
    expected = (x.numpy() - np.array(mean, np.float32)[:, None, None]) / \
        np.array(std, np.float32)[:, None, None]
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)
    with pytest.raises(ValueError, match="2 means"):
        transforms.Normalize((0.5, 0.5), (0.5, 0.5))(x)


def test_resize_matches_the_smaller_edge_as_torchvision():
    img = _gray(6, 9)  # h 6, w 9: the height becomes 4, the width int(4 * 9 / 6) = 6
    out = transforms.Resize(4)(img)
    assert out.size == (6, 4)
    np.testing.assert_array_equal(np.asarray(out), np.asarray(img.resize((6, 4),
                                                              Image.Resampling.BILINEAR)))
    assert transforms.Resize((3, 5))(img).size == (5, 3)
    with pytest.raises(AttributeError, match="minigan's takes PIL images"):
        transforms.Resize(4)(minigan.zeros(1, 6, 9))


def test_center_crop_takes_the_middle_and_pads_a_small_image():
    img = _gray(6, 8)
    out = np.asarray(transforms.CenterCrop(4)(img))
    np.testing.assert_array_equal(out, np.asarray(img)[1:5, 2:6])
    padded = np.asarray(transforms.CenterCrop((8, 8))(img))
    assert padded.shape == (8, 8) and (padded[0] == 0).all()
    np.testing.assert_array_equal(padded[1:7], np.asarray(img))


def test_compose_applies_in_order():
    pipeline = transforms.Compose([transforms.Resize(4), transforms.CenterCrop(4),
                                   transforms.ToTensor(), transforms.Normalize([0.5], [0.5])])
    x = pipeline(_gray(6, 8))
    assert x.shape == (1, 4, 4) and -1 <= x.numpy().min() and x.numpy().max() <= 1


# -- make_grid / save_image ----------------------------------------------------------------
def test_make_grid_lays_out_images_as_torchvision():
    x = np.arange(3 * 1 * 2 * 2, dtype=np.float32).reshape(3, 1, 2, 2) / 12
    grid = utils.make_grid(minigan.tensor(x), nrow=2, padding=1, pad_value=0.5).numpy()
    assert grid.shape == (3, 1 + 2 * 3, 1 + 2 * 3)  # 2 rows, 2 columns, gray made RGB
    for i in range(3):
        top, left = 1 + (i // 2) * 3, 1 + (i % 2) * 3
        for c in range(3):
            np.testing.assert_array_equal(grid[c, top:top + 2, left:left + 2], x[i, 0])
    assert (grid[:, 0] == 0.5).all() and (grid[:, 4:, 4:] == 0.5).all()  # padding, empty cell
    one = utils.make_grid(minigan.tensor(x[:1]))
    assert one.shape == (3, 2, 2)  # one image: no padding, as torchvision


def test_make_grid_normalize_maps_min_max_or_value_range_to_unit():
    x = np.array([[[[-2.0, 0.0], [1.0, 2.0]]]] * 2, np.float32)
    grid = utils.make_grid(minigan.tensor(x), normalize=True, padding=0).numpy()
    np.testing.assert_allclose(grid[0, :, :2], [[0, 0.5], [0.75, 1]])
    clipped = utils.make_grid(minigan.tensor(x), normalize=True, value_range=(-1, 1),
                              padding=0).numpy()
    np.testing.assert_allclose(clipped[0, :, :2], [[0, 0.5], [1, 1]])


def test_save_image_writes_rounded_pixels(tmp_path):
    x = np.random.default_rng(3).random((4, 3, 5, 5)).astype(np.float32)
    utils.save_image(minigan.tensor(x), tmp_path / "g.png", nrow=2)
    saved = np.asarray(Image.open(tmp_path / "g.png"))
    grid = utils.make_grid(minigan.tensor(x), nrow=2).numpy()
    expected = np.clip(np.floor(grid * 255 + 0.5), 0, 255).transpose(1, 2, 0)
    assert saved.shape == expected.shape
    assert np.abs(saved.astype(int) - expected).max() <= 1  # ties round to even


# -- datasets ------------------------------------------------------------------------------
def _write_idx(path, array, zipped):
    dims = b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    raw = b"\0\0\x08" + bytes([array.ndim]) + dims + array.astype(np.uint8).tobytes()
    path.write_bytes(gzip.compress(raw) if zipped else raw)


@pytest.mark.parametrize("cls, folder", [(datasets.MNIST, "MNIST"),
                                         (datasets.FashionMNIST, "FashionMNIST")])
@pytest.mark.parametrize("train, zipped", [(True, True), (False, False)])
def test_mnist_reads_torchvisions_layout(tmp_path, cls, folder, train, zipped):
    raw = tmp_path / folder / "raw"
    raw.mkdir(parents=True)
    images = np.random.default_rng(4).integers(0, 256, (5, 28, 28), np.uint8)
    prefix = "train" if train else "t10k"
    suffix = ".gz" if zipped else ""
    _write_idx(raw / f"{prefix}-images-idx3-ubyte{suffix}", images, zipped)
    _write_idx(raw / f"{prefix}-labels-idx1-ubyte{suffix}", np.arange(5), zipped)
    ds = cls(str(tmp_path), train=train, transform=transforms.ToTensor(),
             target_transform=lambda y: y + 10)
    assert len(ds) == 5
    x, y = ds[3]
    assert y == 13 and x.shape == (1, 28, 28)
    np.testing.assert_array_equal(x.numpy()[0], images[3].astype(np.float32) / 255)
    img, _ = cls(str(tmp_path), train=train)[0]
    assert isinstance(img, Image.Image) and img.mode == "L"


def test_mnist_without_a_local_copy_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))  # minigan's own cache: empty
    with pytest.raises(CompatError, match="Dataset not found.*download=True"):
        datasets.MNIST(str(tmp_path))

    def offline(name, root=None):
        raise minigan_data.DatasetError("could not download https://x (no network).\nmore")
    monkeypatch.setattr(minigan_data, "fetch", offline)
    with pytest.raises(CompatError, match="download failed.*--bundled-digits") as info:
        datasets.MNIST(str(tmp_path), download=True)
    assert "\n" not in str(info.value)


def test_mnist_falls_back_on_the_bundled_digits_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("MINIGAN_DATA", str(tmp_path / "cache"))
    monkeypatch.setattr(datasets, "BUNDLED_DIGITS", True)
    ds = datasets.MNIST(str(tmp_path), download=True)
    assert len(ds) == 5000
    img, label = ds[0]
    assert img.size == (28, 28) and 0 <= label <= 9
    with pytest.raises(CompatError, match="Dataset not found"):
        datasets.FashionMNIST(str(tmp_path))  # the bundled set is digits only


def test_image_folder_lists_classes_and_samples_in_order(tmp_path):
    for kind, n in (("dogs", 2), ("cats", 3)):
        (tmp_path / kind).mkdir()
        for i in range(n):
            Image.fromarray(np.full((4, 6), i * 50, np.uint8)).save(tmp_path / kind / f"{i}.png")
    (tmp_path / "cats" / "notes.txt").write_text("not an image")
    ds = datasets.ImageFolder(str(tmp_path), transform=transforms.ToTensor())
    assert ds.classes == ["cats", "dogs"] and ds.class_to_idx == {"cats": 0, "dogs": 1}
    assert [t for _, t in ds.samples] == [0, 0, 0, 1, 1] and len(ds) == 5
    x, y = ds[4]
    assert y == 1 and x.shape == (3, 4, 6)  # converted to RGB
    np.testing.assert_allclose(x.numpy(), 50 / 255, rtol=1e-6)
    with pytest.raises(CompatError, match="Couldn't find any class folder"):
        datasets.ImageFolder(str(tmp_path / "cats"))


def test_fake_data_is_the_same_on_every_call():
    ds = datasets.FakeData(size=4, image_size=(3, 5, 6), num_classes=3)
    a, b = ds[2], ds[2]
    assert len(ds) == 4 and a[0].size == (6, 5) and 0 <= a[1] < 3
    np.testing.assert_array_equal(np.asarray(a[0]), np.asarray(b[0]))
    assert not np.array_equal(np.asarray(ds[1][0]), np.asarray(a[0]))
    with pytest.raises(IndexError):
        ds[4]
