"""torchvision.transforms' common pipeline: PIL image -> resized, cropped -> Tensor -> normalised.

Resize and CenterCrop work on PIL images (as torchvision's do on them, through PIL's own
resampling); ToTensor turns an (H, W, C) uint8 picture into a float32 (C, H, W) Tensor in
[0, 1]; Normalize maps each channel to (x - mean) / std, so Normalize([0.5], [0.5]) gives
the [-1, 1] of a tanh generator.
"""
import numbers

import numpy as np
from PIL import Image

from ...tensor import Tensor
from ...validators import is_int
from ..aliases import Unsupported

# torchvision's InterpolationMode names -> PIL's filters
INTERPOLATIONS = {"nearest": Image.Resampling.NEAREST, "bilinear": Image.Resampling.BILINEAR,
                  "bicubic": Image.Resampling.BICUBIC, "box": Image.Resampling.BOX,
                  "hamming": Image.Resampling.HAMMING, "lanczos": Image.Resampling.LANCZOS}


class InterpolationMode:
    """torchvision.transforms.InterpolationMode's names, as strings."""
    NEAREST, BILINEAR, BICUBIC = "nearest", "bilinear", "bicubic"
    BOX, HAMMING, LANCZOS = "box", "hamming", "lanczos"


class Compose:
    """Apply the transforms in order."""

    def __init__(self, transforms):
        self.transforms = list(transforms)

    def __call__(self, img):
        for t in self.transforms:
            img = t(img)
        return img

    def __repr__(self):
        return "Compose(" + "".join(f"\n    {t!r}" for t in self.transforms) + "\n)"


class Lambda:
    """Apply a function (as torchvision.transforms.Lambda)."""

    def __init__(self, lambd):
        if not callable(lambd):
            raise TypeError(f"Lambda: argument should be callable, got {type(lambd).__name__}")
        self.lambd = lambd

    def __call__(self, img):
        return self.lambd(img)


def _pil(img, name):
    if not isinstance(img, Image.Image):
        raise Unsupported(f"torchvision.transforms.{name} on a {type(img).__name__}",
                          " (minigan's takes PIL images: put it before ToTensor)")
    return img


def _size_pair(size, name):
    """(h, w) from an int or a one- or two-element sequence."""
    if is_int(size) and size > 0:
        return None, int(size)
    if isinstance(size, (tuple, list)) and len(size) in (1, 2) and \
            all(is_int(s) and s > 0 for s in size):
        return (int(size[0]), int(size[-1])), None
    raise ValueError(f"{name}: size must be a positive int or a (h, w) pair, got {size!r}")


class Resize:
    """Resize a PIL image: an int size matches the smaller edge (keeping the aspect ratio),
    a pair (h, w) is the exact size; bilinear by default, as torchvision's."""

    def __init__(self, size, interpolation="bilinear", max_size=None, antialias=True):
        self.pair, self.edge = _size_pair(size, "Resize")
        self.size, self.max_size = size, max_size
        if isinstance(interpolation, str) and interpolation in INTERPOLATIONS:
            self.filter = INTERPOLATIONS[interpolation]
        elif isinstance(interpolation, numbers.Integral):  # a PIL constant (Image.BICUBIC)
            self.filter = Image.Resampling(interpolation)
        else:
            raise ValueError(f"Resize: unknown interpolation {interpolation!r}")

    def __call__(self, img):
        img = _pil(img, "Resize")
        w, h = img.size
        if self.pair is not None:
            oh, ow = self.pair
        elif w <= h:  # as torchvision: the short side becomes size, the long one is truncated
            ow, oh = self.edge, int(self.edge * h / w)
        else:
            oh, ow = self.edge, int(self.edge * w / h)
        if self.max_size is not None and max(oh, ow) > self.max_size:
            scale = self.max_size / max(oh, ow)
            oh, ow = int(oh * scale), int(ow * scale)
        return img if (ow, oh) == (w, h) else img.resize((ow, oh), self.filter)

    def __repr__(self):
        return f"Resize(size={self.size})"


class CenterCrop:
    """The centre (h, w) of a PIL image (an int: a square); zero-padded where the image is
    smaller, as torchvision's."""

    def __init__(self, size):
        pair, edge = _size_pair(size, "CenterCrop")
        self.size = pair or (edge, edge)

    def __call__(self, img):
        img = _pil(img, "CenterCrop")
        w, h = img.size
        th, tw = self.size
        top, left = int(round((h - th) / 2.0)), int(round((w - tw) / 2.0))
        return img.crop((left, top, left + tw, top + th))  # PIL fills outside with zeros

    def __repr__(self):
        return f"CenterCrop(size={self.size})"


class ToTensor:
    """PIL image or (H, W, C) array -> float32 Tensor (C, H, W); uint8 pixels scale to [0, 1]."""

    def __call__(self, pic):
        if isinstance(pic, Image.Image):
            if pic.mode not in ("L", "RGB", "RGBA", "I", "F", "1", "I;16"):
                pic = pic.convert("RGB")
            array = np.asarray(pic)
        elif isinstance(pic, np.ndarray):
            array = pic
        else:
            raise TypeError(f"ToTensor: pic should be a PIL Image or ndarray, got "
                            f"{type(pic).__name__}")
        if array.ndim == 2:
            array = array[:, :, None]                                      # (H, W, 1)
        if array.ndim != 3:
            raise ValueError(f"ToTensor: pic should be 2 or 3 dimensional, got {array.ndim}")
        chw = np.ascontiguousarray(array.transpose(2, 0, 1))               # (C, H, W)
        if chw.dtype == np.uint8 or chw.dtype == np.bool_:
            return Tensor(chw.astype(np.float32) / np.float32(255))
        return Tensor(chw.astype(np.float32 if chw.dtype.kind != "f" else chw.dtype))

    def __repr__(self):
        return "ToTensor()"


class Normalize:
    """(x - mean[c]) / std[c] for each channel c of a (C, H, W) or (N, C, H, W) Tensor."""

    def __init__(self, mean, std, inplace=False):
        self.mean, self.std = list(np.atleast_1d(mean)), list(np.atleast_1d(std))
        if any(s == 0 for s in self.std):
            raise ValueError(f"std evaluated to zero after conversion to float32, leading to "
                             f"division by zero: {std}")

    def __call__(self, x):
        if not isinstance(x, Tensor) or x.ndim < 3:
            raise TypeError(f"Normalize: expected a Tensor image (C, H, W), got "
                            f"{getattr(x, 'shape', type(x).__name__)}")
        c = x.shape[-3]
        if len(self.mean) not in (1, c) or len(self.std) not in (1, c):
            raise ValueError(f"Normalize: {len(self.mean)} means and {len(self.std)} stds "
                             f"for an image of {c} channels")
        mean = np.asarray(self.mean, x.dtype).reshape(-1, 1, 1)            # (C, 1, 1)
        std = np.asarray(self.std, x.dtype).reshape(-1, 1, 1)
        return Tensor((x.numpy() - mean) / std)

    def __repr__(self):
        return f"Normalize(mean={self.mean}, std={self.std})"
