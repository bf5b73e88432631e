"""Pictures a run writes: grid layout and pixel mapping, PNGs and GIFs read back,
scatter and loss plots of the right size in awkward cases (one point, constant, NaN),
and atomic writes that leave no temp file behind.
"""
import numpy as np
import pytest
from PIL import Image

from minigan.store.images import (make_grid, save_gif, save_image_grid, save_loss_plot,
                                  save_points_plot, to_uint8)


@pytest.mark.parametrize("channels", [1, 3])
def test_grid_of_64_images_is_8_by_8_with_2px_padding(channels):
    images = np.random.default_rng(0).uniform(-1, 1, (64, channels, 28, 28))
    grid = make_grid(images)
    assert grid.shape == (8 * 30 + 2, 8 * 30 + 2, channels) and grid.dtype == np.uint8
    assert np.array_equal(grid[2:30, 32:60], to_uint8(images[1]).transpose(1, 2, 0))


def test_grid_layout_and_pixel_mapping():
    images = np.stack([np.full((1, 3, 5), v) for v in np.linspace(-1, 1, 10)])  # (10,1,3,5)
    grid = make_grid(images, nrow=4, padding=1, pad_value=0.0)[..., 0]
    assert grid.shape == (3 * 4 + 1, 4 * 6 + 1)                     # 3 rows of 4
    assert grid[1, 1] == 0 and grid[1, 1 + 6] == to_uint8(images[1, 0, 0, 0])
    assert grid[1 + 2 * 4, 1 + 6] == 255                             # image 9: row 2, col 1
    assert grid[0, 0] == 128 and grid[-1, -1] == 128                 # pad 0.0 -> 128
    assert to_uint8(np.array([-1.0, 1.0, 3.0, np.nan])).tolist() == [0, 255, 255, 0]
    with pytest.raises(ValueError, match="C 1 or 3"):
        make_grid(np.zeros((4, 2, 8, 8)))


def test_grid_matches_torchvision_make_grid():
    torch = pytest.importorskip("torch")
    utils = pytest.importorskip("torchvision.utils")
    images = np.random.default_rng(1).uniform(-1, 1, (11, 3, 6, 7)).astype(np.float32)
    ours = make_grid(images, nrow=4, padding=3, pad_value=1.0)
    theirs = utils.make_grid(torch.from_numpy(images), nrow=4, padding=3, pad_value=1.0)
    assert np.array_equal(ours, to_uint8(theirs.numpy()).transpose(1, 2, 0))


@pytest.mark.parametrize("channels, mode", [(1, "L"), (3, "RGB")])
def test_saved_grid_reads_back_as_the_same_pixels(tmp_path, channels, mode):
    images = np.random.default_rng(2).uniform(-1, 1, (9, channels, 8, 8))
    path = save_image_grid(images, tmp_path / "out" / "grid.png", nrow=3)
    with Image.open(path) as img:
        assert img.format == "PNG" and img.mode == mode and img.size == (32, 32)
        back = np.asarray(img).reshape(32, 32, channels)
    assert np.array_equal(back, make_grid(images, nrow=3))
    assert sorted(p.name for p in path.parent.iterdir()) == ["grid.png"]  # no temp files


def test_gif_has_one_frame_per_png_and_loops(tmp_path):
    paths = []
    for i in range(4):
        paths.append(save_image_grid(np.full((4, 3, 8, 8), -1 + 0.5 * i), tmp_path / f"{i}.png"))
    gif = save_gif(paths, tmp_path / "samples.gif", duration_ms=100)
    with Image.open(gif) as img:
        assert img.format == "GIF" and img.n_frames == 4 and img.info["loop"] == 0
    with pytest.raises(ValueError):
        save_gif([], tmp_path / "empty.gif")


def test_points_plot_draws_samples_and_red_reference_modes(tmp_path):
    modes = np.array([[2.0, 0.0], [-2.0, 0.0]])
    points = np.concatenate([modes + 0.01, [[np.nan, 1.0], [100.0, 100.0]]])
    path = save_points_plot(points, tmp_path / "points.png", reference=modes, title="ring")
    with Image.open(path) as img:
        assert img.size == (512, 512)
        rgb = np.asarray(img.convert("RGB")).reshape(-1, 3)
    assert ((rgb == (214, 39, 40)).all(axis=1)).any()                # reference colour
    assert ((rgb == (31, 119, 180)).all(axis=1)).any()               # sample colour
    save_points_plot(np.full((3, 2), np.nan), tmp_path / "nan.png", limits=(-1, 1))


@pytest.mark.parametrize("steps, series", [
    (list(range(0, 500, 10)), {"loss_d": np.linspace(1.4, 0.3, 50),
                               "loss_g": np.linspace(0.7, 3.0, 50)}),
    ([7], {"loss_d": [0.69], "loss_g": [0.69]}),                       # one point
    ([1, 2, 3], {"loss_d": [1.0, 1.0, 1.0], "loss_g": [2.0, 2.0, 2.0]}),  # constant
    ([1, 2, 3, 4], {"loss_d": [1.0, np.nan, 0.5, np.inf], "loss_g": [np.nan] * 4}),
])
def test_loss_plot_writes_a_png_of_the_asked_size(tmp_path, steps, series):
    path = save_loss_plot(steps, series, tmp_path / "losses.png", size=(600, 300))
    with Image.open(path) as img:
        assert img.format == "PNG" and img.size == (600, 300)


def test_loss_plot_rejects_series_of_the_wrong_length(tmp_path):
    with pytest.raises(ValueError, match="loss_g"):
        save_loss_plot([1, 2], {"loss_g": [1.0]}, tmp_path / "l.png")
