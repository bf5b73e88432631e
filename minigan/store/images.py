"""The pictures a training run writes: sample grids, 2-D scatter plots, GIFs, loss curves.

Pillow only (no matplotlib): plots are drawn with PIL.ImageDraw. Images come in as host
NumPy arrays `(N, C, H, W)` in [-1, 1] and map to pixels by round((x + 1) * 127.5).
Every file is written atomically (a temp file in the same folder, then os.replace), so a
viewer or a crash never sees half a PNG.
"""
import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .atomic import atomic_write

# tab10's first colours: series and points take them in order.
PALETTE = ((31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189),
           (140, 86, 75), (227, 119, 194), (127, 127, 127))


def to_uint8(images):
    """[-1, 1] floats -> uint8 pixels; out-of-range values clip, NaN becomes black."""
    x = np.nan_to_num(np.asarray(images, dtype=np.float32), nan=-1.0)
    return np.clip(np.rint((x + 1.0) * 127.5), 0, 255).astype(np.uint8)


def make_grid(images, nrow=None, padding=2, pad_value=-1.0):
    """Tile `(N, C, H, W)` images (C 1 or 3, values in [-1, 1]) into one uint8 picture
    `(rows * (H + padding) + padding, cols * (W + padding) + padding, C)`.

    Laid out as torchvision.utils.make_grid: nrow images per row, row-major, `padding`
    pixels of pad_value (in the images' [-1, 1] scale; -1 is black) around every tile.
    nrow defaults to ceil(sqrt(N)), a square grid (torchvision's default is 8).
    """
    images = np.asarray(images)
    if images.ndim != 4 or images.shape[1] not in (1, 3) or len(images) == 0:
        raise ValueError(f"make_grid expects images (N, C, H, W) with N >= 1 and C 1 or 3, "
                         f"got shape {images.shape}")
    n, c, h, w = images.shape
    ncol = min(nrow or math.ceil(math.sqrt(n)), n)
    nrows = math.ceil(n / ncol)
    fill = to_uint8(pad_value)
    grid = np.full((nrows * (h + padding) + padding, ncol * (w + padding) + padding, c),
                   fill, np.uint8)
    tiles = to_uint8(images).transpose(0, 2, 3, 1)                     # (N, H, W, C)
    for i, tile in enumerate(tiles):
        top = (i // ncol) * (h + padding) + padding
        left = (i % ncol) * (w + padding) + padding
        grid[top:top + h, left:left + w] = tile
    return grid


def save_image_grid(images, path, nrow=None, padding=2, pad_value=-1.0):
    """Write `make_grid(images)` as a PNG (grayscale for C=1, RGB for C=3)."""
    grid = make_grid(images, nrow, padding, pad_value)
    img = Image.fromarray(grid[..., 0] if grid.shape[2] == 1 else grid)
    return _save(img, path)


def save_points_plot(points, path, reference=None, limits=None, size=512, title=None):
    """Scatter plot of 2-D samples `(N, 2)` on a square canvas `size` pixels wide.

    reference: optional `(K, 2)` points (the real modes) drawn as red rings on top.
    limits: the visible range, (lo, hi) for both axes or ((xlo, xhi), (ylo, yhi)). Default:
    1.5 x the reference's extent, else the samples'; pass fixed limits for GIF frames.
    Points outside the limits or not finite are left out.
    """
    points = np.asarray(points, dtype=np.float64).reshape(-1, 2)
    ref = None if reference is None else np.asarray(reference, np.float64).reshape(-1, 2)
    (xlo, xhi), (ylo, yhi) = _point_limits(points, ref, limits)
    img = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(img)
    box = _Axes(draw, (48, 24 if title else 12, size - 12, size - 36), (xlo, xhi), (ylo, yhi))
    box.draw_frame(title)
    for x, y in box.to_pixels(points):
        draw.rectangle((x - 1, y - 1, x + 1, y + 1), fill=PALETTE[0])   # 3x3 px dot
    if ref is not None:
        for x, y in box.to_pixels(ref):
            draw.ellipse((x - 5, y - 5, x + 5, y + 5), outline=PALETTE[3], width=2)
    return _save(img, path)


def save_gif(png_paths, path, duration_ms=200):
    """An animated GIF (looping forever) of the given frames, in order.

    Frames are resized to the first one's size. Pillow merges consecutive identical
    frames into one longer frame.
    """
    if not png_paths:
        raise ValueError("save_gif needs at least one frame")
    frames = []
    for p in png_paths:
        with Image.open(p) as img:
            frames.append(img.convert("RGB"))
    frames = [f if f.size == frames[0].size else f.resize(frames[0].size) for f in frames]
    return _save(frames[0], path, save_all=True, append_images=frames[1:],
                 duration=duration_ms, loop=0)


def save_loss_plot(steps, series, path, title="losses", size=(640, 400)):
    """Line plot of each named series (e.g. {"loss_d": [...], "loss_g": [...]}) against
    step, with axes, tick labels and a legend. NaN/inf values break the line."""
    steps = np.asarray(steps, dtype=np.float64)
    ys = {name: np.asarray(v, dtype=np.float64) for name, v in series.items()}
    for name, y in ys.items():
        if y.shape != steps.shape:
            raise ValueError(f"series {name!r} has {y.size} values for {steps.size} steps")
    width, height = size
    img = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(img)
    finite_y = np.concatenate([y[np.isfinite(y)] for y in ys.values()] + [np.empty(0)])
    box = _Axes(draw, (64, 28, width - 16, height - 36),
                _span(steps[np.isfinite(steps)]), _span(finite_y))
    box.draw_frame(title, xlabel="step")
    for k, (name, y) in enumerate(ys.items()):
        ok = np.isfinite(y) & np.isfinite(steps)
        pixels = box.to_pixels(np.stack([steps, y], axis=1), keep_all=True)  # (T, 2)
        for run in _runs(ok):  # a NaN ends a line; the next finite value starts another
            line = [tuple(pixels[i]) for i in run]
            if len(line) == 1:
                (x, yy), = line
                draw.ellipse((x - 2, yy - 2, x + 2, yy + 2), fill=_color(k))
            else:
                draw.line(line, fill=_color(k), width=2, joint="curve")
    # Legend, top right inside the plot: a colour swatch and the name of each series.
    text_w = max([draw.textlength(name, font=_FONT) for name in ys] + [0])
    lx, ly = box.right - text_w - 40, box.top + 6
    if ys:
        draw.rectangle((lx - 4, ly - 2, box.right - 6, ly + 16 * len(ys)), fill="white",
                       outline=(200, 200, 200))
    for k, name in enumerate(ys):
        draw.line([(lx, ly + 16 * k + 7), (lx + 20, ly + 16 * k + 7)], fill=_color(k), width=3)
        draw.text((lx + 26, ly + 16 * k), name, fill="black", font=_FONT)
    return _save(img, path)


# ---------------------------------------------------------------- drawing helpers

_FONT = ImageFont.load_default()


class _Axes:
    """A data rectangle mapped onto the pixel box (left, top, right, bottom)."""

    def __init__(self, draw, box, xlim, ylim):
        self.draw = draw
        self.left, self.top, self.right, self.bottom = box
        self.xlim, self.ylim = xlim, ylim

    def to_pixels(self, xy, keep_all=False):
        """(N, 2) data -> (M, 2) int pixels; drops points outside or non-finite unless
        keep_all (then non-finite rows come back as 0 and the caller masks them)."""
        (x0, x1), (y0, y1) = self.xlim, self.ylim
        with np.errstate(invalid="ignore"):
            inside = np.isfinite(xy).all(axis=1) & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) \
                & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        xy = np.where(np.isfinite(xy), xy, 0.0) if keep_all else xy[inside]
        px = self.left + (xy[:, 0] - x0) / (x1 - x0) * (self.right - self.left)
        py = self.bottom - (xy[:, 1] - y0) / (y1 - y0) * (self.bottom - self.top)  # y up
        return np.rint(np.stack([px, py], axis=1)).astype(int).tolist()

    def draw_frame(self, title=None, xlabel=None):
        """The box, tick marks with labels on both axes, the title and the x label."""
        d = self.draw
        d.rectangle((self.left, self.top, self.right, self.bottom), outline="black")
        for value in _ticks(*self.xlim):
            (x, _), = self.to_pixels(np.array([[value, self.ylim[0]]]), keep_all=True)
            d.line([(x, self.bottom), (x, self.bottom + 4)], fill="black")
            d.text((x, self.bottom + 6), f"{value:g}", fill="black", font=_FONT, anchor="mt")
        for value in _ticks(*self.ylim):
            (_, y), = self.to_pixels(np.array([[self.xlim[0], value]]), keep_all=True)
            d.line([(self.left - 4, y), (self.left, y)], fill="black")
            d.text((self.left - 6, y), f"{value:g}", fill="black", font=_FONT, anchor="rm")
        if title:
            d.text(((self.left + self.right) // 2, self.top - 4), title, fill="black",
                   font=_FONT, anchor="mb")
        if xlabel:
            d.text(((self.left + self.right) // 2, self.bottom + 20), xlabel, fill="black",
                   font=_FONT, anchor="mt")


def _color(k):
    return PALETTE[k % len(PALETTE)]


def _runs(mask):
    """Index ranges of the consecutive True stretches of a boolean mask."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return [range(a, b) for a, b in zip(edges[::2], edges[1::2])]


def _span(values):
    """(lo, hi) covering the values, widened when empty or constant."""
    if values.size == 0:
        return (0.0, 1.0)
    lo, hi = float(values.min()), float(values.max())
    if hi - lo < 1e-12 * max(1.0, abs(lo)):
        pad = max(1.0, abs(lo)) * 0.5  # a constant series sits mid-height
        return (lo - pad, hi + pad)
    pad = (hi - lo) * 0.05
    return (lo - pad, hi + pad)


def _ticks(lo, hi, target=5):
    """Round tick values (1, 2 or 5 times a power of ten) inside [lo, hi]."""
    raw = (hi - lo) / target
    step = 10 ** math.floor(math.log10(raw))
    step *= next(m for m in (1, 2, 5, 10) if m * step >= raw)
    first = math.ceil(lo / step) * step
    count = int(math.floor((hi - first) / step + 1e-9)) + 1
    return [round(first + i * step, 12) for i in range(count)]


def _point_limits(points, ref, limits):
    """((xlo, xhi), (ylo, yhi)) for a scatter plot (see save_points_plot)."""
    if limits is not None:
        limits = np.asarray(limits, dtype=np.float64)
        return tuple(map(tuple, limits)) if limits.shape == (2, 2) else (tuple(limits),) * 2
    source = ref if ref is not None and len(ref) else points[np.isfinite(points).all(axis=1)]
    extent = float(np.abs(source).max()) if len(source) else 1.0
    extent = 1.5 * extent if extent > 0 else 1.0
    return ((-extent, extent), (-extent, extent))


def _save(img, path, **options):
    """img.save to a temp file beside `path`, then an atomic rename onto it (atomic.py)."""
    path = Path(path)
    fmt = Image.registered_extensions().get(path.suffix.lower())
    if fmt is None:
        raise ValueError(f"cannot tell the image format of {path}: use .png or .gif")
    with atomic_write(path) as f:
        img.save(f, format=fmt, **options)
    return path
