"""folder: datasets as users have them: 16-bit PNGs, odd shapes, damaged files, a run
started inside its own dataset, a dataset that changes between a run and its resume.

Issue 12's reproductions, each now read correctly, skipped and named, or refused."""
import os
import struct
import zlib

import numpy as np
import pytest
from PIL import Image, ImageOps

from minigan.data import datasets as data
from minigan import training
from minigan.data.datasets import load_dataset


def png_with_size(path, width, height):
    """A PNG whose header says width x height, with one tiny (wrong) data chunk: Pillow
    opens it (the size is in the header) but cannot decode it."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) +
                     chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_a_16_bit_gradient_is_scaled_not_clipped(tmp_path):
    """Was: 98.4% of the pixels white (convert("L") clips 16-bit values at 255)."""
    ramp = np.tile(np.linspace(0, 65535, 64).round().astype(np.uint16), (64, 1))
    Image.fromarray(ramp).save(tmp_path / "ramp16.png")
    assert Image.open(tmp_path / "ramp16.png").mode.startswith("I")
    x = load_dataset(f"folder:{tmp_path}", image_size=64, channels=1).x[0, 0]
    pixels = (x + 1) * 127.5
    assert pixels.min() < 3 and pixels.max() > 252
    assert np.mean(pixels > 250) < 0.05
    expected = np.linspace(0, 255, 64)
    assert np.abs(pixels.mean(axis=0) - expected).max() < 6  # bilinear rounding only


@pytest.mark.parametrize("mode", ["1", "P", "LA", "RGBA", "CMYK", "I", "F"])
def test_other_modes_keep_their_range(tmp_path, mode):
    grey = np.tile(np.linspace(0, 1, 16), (16, 1))
    if mode == "F":
        img = Image.fromarray(grey.astype(np.float32), "F")
    elif mode == "I":
        img = Image.fromarray((grey * 65535).astype(np.int32), "I")
    else:
        img = Image.fromarray((grey * 255).astype(np.uint8)).convert(mode)
    if mode not in ("CMYK", "F", "I"):
        img.save(tmp_path / "x.png")
    if mode in ("CMYK", "F", "I"):  # PNG does not store these: test the conversion itself
        out = np.asarray(data._to_8bit(img).convert("L"), np.float64)
    else:
        out = (load_dataset(f"folder:{tmp_path}", image_size=16, channels=1).x[0, 0] + 1) \
            * 127.5
    assert out.max() > 200 and out.min() < 60, (mode, out.min(), out.max())


@pytest.mark.parametrize("width", [200_000, 2_000_000])
def test_a_long_thin_picture_is_cropped_before_it_is_resized(tmp_path, width):
    """Was: 20 s and 3.7 GB (200000x1), "out of memory ()" (2000000x1): the short side was
    resized to 64 first, making a 12,800,000 x 64 picture. Now its 1x1 center is resized."""
    Image.new("L", (width, 1), 200).save(tmp_path / "thin.png")
    x = load_dataset(f"folder:{tmp_path}", image_size=64, channels=1).x
    assert x.shape == (1, 1, 64, 64)
    assert np.allclose((x + 1) * 127.5, 200, atol=0.5)


def test_crop_then_resize_matches_the_center_square(tmp_path):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, (30, 50, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(tmp_path / "wide.png")
    x = load_dataset(f"folder:{tmp_path}", image_size=30).x[0]
    center = pixels[:, 10:40]  # already 30x30: nothing to resample
    assert np.array_equal(np.rint((x.transpose(1, 2, 0) + 1) * 127.5).astype(np.uint8), center)


def test_a_picture_beyond_the_pixel_bound_is_skipped_before_decoding(tmp_path, capfd):
    Image.new("RGB", (8, 8), "red").save(tmp_path / "ok.png")
    png_with_size(tmp_path / "huge.png", 100_000, 100_000)  # 10^10 pixels, 100 bytes
    png_with_size(tmp_path / "big.png", 10_000, 9_000)  # beyond minigan's bound, not Pillow's
    with pytest.warns(UserWarning, match=r"skipped 2 of 3 file\(s\): big.png .*huge.png "
                                         r"\(10000000000 pixels, more than the"):
        ds = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert len(ds) == 1 and ds.skipped == 2
    err = capfd.readouterr().err.splitlines()
    for name in ("huge.png", "big.png"):
        notice = [line for line in err if name in line]
        assert len(notice) == 1 and notice[0].startswith("minigan: skipped"), err
    assert any("10000x9000 pixels, more than the" in line for line in err)


def test_any_pillow_failure_skips_the_file_and_names_it(tmp_path, monkeypatch):
    """A damaged EXIF block made exif_transpose raise TypeError (the reproduction's JPEG;
    the Pillow installed here reads it, so the failure is simulated for one file)."""
    for name in ("a.jpg", "b.jpg", "c.png"):
        Image.new("RGB", (8, 8), "blue").save(tmp_path / name)
    (tmp_path / "d.png").write_bytes(b"\x89PNG\r\n\x1a\n garbage")
    real = ImageOps.exif_transpose

    def damaged(img, **kwargs):
        if os.path.basename(img.filename) == "b.jpg":
            raise TypeError("unsupported operand type(s) for +: 'int' and 'IFDRational'")
        return real(img, **kwargs)

    monkeypatch.setattr(ImageOps, "exif_transpose", damaged)
    with pytest.warns(UserWarning, match=r"skipped 2 of 4 file\(s\): b.jpg \(Pillow cannot "
                                         r"read it: TypeError\), d.png \(Pillow cannot read"):
        ds = load_dataset(f"folder:{tmp_path}", image_size=8)
    assert len(ds) == 2 and ds.skipped == 2 and len(ds.skipped_names) == 2


def test_a_run_folder_inside_the_dataset_is_left_out(tmp_path, monkeypatch):
    """Was: `cd imgs; minigan train --dataset folder:.` twice trained the second run on
    its own sample grid and losses.png (6 examples instead of 4)."""
    for i in range(4):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(tmp_path / f"{i}.png")
    monkeypatch.chdir(tmp_path)
    config = dict(model="mlp", dataset="folder:.", image_size=8, steps=1, batch_size=2,
                  out="runs/first")
    training.train(training.TrainConfig(**config), progress=False)
    assert len(load_dataset("folder:.", image_size=8)) == 4
    training.train(training.TrainConfig(**dict(config, out="runs/second")), progress=False)
    assert len(load_dataset("folder:.", image_size=8)) == 4


def folder_run(tmp_path, n=4):
    imgs = tmp_path / "imgs"
    imgs.mkdir()
    for i in range(n):
        Image.new("RGB", (8, 8), (60 * i, 0, 0)).save(imgs / f"{i}.png")
    out = tmp_path / "run"
    training.train(training.TrainConfig(model="mlp", dataset="folder:imgs", image_size=8, steps=1,
                                  batch_size=2, out=str(out)), progress=False)
    return imgs, out


def test_a_relative_folder_is_stored_absolute_and_resumes_from_anywhere(tmp_path,
                                                                       monkeypatch):
    """Was: stored as typed, so resuming from another directory trained on other images."""
    monkeypatch.chdir(tmp_path)
    imgs, out = folder_run(tmp_path)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "imgs").mkdir(parents=True)
    Image.new("RGB", (8, 8)).save(elsewhere / "imgs" / "other.png")
    monkeypatch.chdir(elsewhere)
    config, path = training.config_for_resume(out, steps=2)
    assert config.dataset == f"folder:{imgs}"
    training.train(config, progress=False, resume=path)


@pytest.mark.parametrize("change", ["add", "remove", "resize"])
def test_a_changed_dataset_is_refused_on_resume(tmp_path, monkeypatch, change):
    monkeypatch.chdir(tmp_path)
    imgs, out = folder_run(tmp_path)
    if change == "add":
        Image.new("RGB", (8, 8)).save(imgs / "new.png")
    elif change == "remove":
        (imgs / "0.png").unlink()
    else:
        Image.new("RGB", (9, 9)).save(imgs / "1.png")
    config, path = training.config_for_resume(out, steps=2)
    with pytest.raises(ValueError, match="the dataset changed since .* files of .* bytes then"):
        training.train(config, progress=False, resume=path)


def test_the_fingerprint_lists_names_and_sizes(tmp_path):
    (tmp_path / "a.png").write_bytes(b"12")
    paths = data.image_files(tmp_path)
    fp = data.folder_fingerprint(tmp_path, paths)
    assert (fp["files"], fp["bytes"]) == (1, 2) and len(fp["digest"]) == 64
    (tmp_path / "a.png").write_bytes(b"21")  # same size, other bytes: not a new dataset
    assert data.folder_fingerprint(tmp_path, paths) == fp
