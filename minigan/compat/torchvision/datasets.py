"""torchvision.datasets' MNIST, FashionMNIST, ImageFolder and FakeData, as minigan Datasets.

Each sample is `(PIL image, int label)` passed through `transform` / `target_transform`,
as torchvision gives it. MNIST and FashionMNIST read the IDX files from torchvision's
layout under root (`root/MNIST/raw/train-images-idx3-ubyte[.gz]`, ...) or from minigan's
own data folder (minigan.data.datasets.dataset_folder); without either, `download=True`
downloads the training set through minigan.data.datasets.fetch (sha256-verified), and a
failed download is one clear error. Under `python -m minigan.compat --bundled-digits`, an
MNIST without a local copy is minigan's bundled 5,000 digits instead: no network.
"""
import os
from importlib import resources
from pathlib import Path

import numpy as np
from PIL import Image

from ...data import datasets as minigan_data
from ...utils.data import Dataset
from ..aliases import CompatError

BUNDLED_DIGITS = False  # set by the runner's --bundled-digits
IMG_EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")


class VisionDataset(Dataset):
    """root, transform and target_transform, applied as torchvision applies them."""

    def __init__(self, root=None, transform=None, target_transform=None):
        self.root = os.path.expanduser(root) if isinstance(root, (str, os.PathLike)) else root
        self.transform, self.target_transform = transform, target_transform

    def _finish(self, img, target):
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target


class MNIST(VisionDataset):
    """The MNIST digits: 28 x 28 gray PIL images (mode "L") and int labels 0-9."""

    minigan_name = "mnist"  # minigan.data's name for the set
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five",
               "6 - six", "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform, target_transform)
        self.train = train
        images, labels = self._load(download)
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise CompatError(f"{type(self).__name__}: images {images.shape} and labels "
                              f"{labels.shape} do not form an (N, H, W) / (N,) pair")
        self.data, self.targets = images, labels.astype(np.int64)

    @property
    def raw_folder(self):
        return os.path.join(self.root, type(self).__name__, "raw")

    def _load(self, download):
        prefix = "train" if self.train else "t10k"
        names = (f"{prefix}-images-idx3-ubyte", f"{prefix}-labels-idx1-ubyte")
        folders = [Path(self.raw_folder), Path(self.root)]
        if self.train:
            folders.append(minigan_data.dataset_folder(self.minigan_name))
        for folder in folders:
            found = [_idx_file(folder / name) for name in names]
            if all(found):
                try:
                    return tuple(minigan_data.read_idx(path) for path in found)
                except minigan_data.DatasetError as error:
                    raise CompatError(f"{type(self).__name__}: {error}") from None
        if BUNDLED_DIGITS and self.minigan_name == "mnist":
            return _bundled_digits()
        if not download:
            raise CompatError(f"{type(self).__name__}: Dataset not found in {self.raw_folder}."
                              f" You can use download=True to download it (or, for MNIST, run "
                              f"with python -m minigan.compat --bundled-digits)")
        if not self.train:
            raise CompatError(f"{type(self).__name__}(train=False): minigan downloads the "
                              f"training set only; put {names[0]}.gz and {names[1]}.gz in "
                              f"{self.raw_folder}")
        try:
            folder = minigan_data.fetch(self.minigan_name)
        except minigan_data.DatasetError as error:
            raise CompatError(f"{type(self).__name__}: no local copy in {self.raw_folder} and "
                              f"the download failed ({str(error).splitlines()[0]}); put the "
                              f"IDX files there, or run with python -m minigan.compat "
                              f"--bundled-digits for minigan's 5,000 digits") from None
        return tuple(minigan_data.read_idx(folder / f"{name}.gz") for name in names)

    def __len__(self):
        return len(self.data)

    def __getitem__(self, index):
        img = Image.fromarray(self.data[index])  # uint8 (H, W): mode "L"
        return self._finish(img, int(self.targets[index]))


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28 x 28 gray pictures of clothes, labels 0-9."""

    minigan_name = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
               "Sneaker", "Bag", "Ankle boot"]


def _idx_file(path):
    """The IDX file at path, gzipped or not, or None."""
    for candidate in (path, path.with_name(path.name + ".gz")):
        if candidate.is_file():
            return candidate
    return None


def _bundled_digits():
    """minigan's 5,000 bundled MNIST training digits (uint8 (N, 28, 28), labels)."""
    with resources.files("minigan.assets").joinpath("mnist_5k.npz").open("rb") as f:
        with np.load(f, allow_pickle=False) as npz:
            return npz["images"], npz["labels"]


class ImageFolder(VisionDataset):
    """root/CLASS/IMAGE files: classes are the sorted sub-folder names, each sample an RGB
    PIL image and its class index (as torchvision.datasets.ImageFolder)."""

    def __init__(self, root, transform=None, target_transform=None, loader=None,
                 is_valid_file=None, allow_empty=False):
        super().__init__(root, transform, target_transform)
        if not os.path.isdir(self.root):
            raise CompatError(f"ImageFolder: {self.root} is not a folder")
        self.classes = sorted(e.name for e in os.scandir(self.root) if e.is_dir())
        if not self.classes:
            raise CompatError(f"ImageFolder: Couldn't find any class folder in {self.root}.")
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        valid = is_valid_file or (lambda path: path.lower().endswith(IMG_EXTENSIONS))
        self.samples = []
        for name in self.classes:
            for folder, dirs, files in sorted(os.walk(os.path.join(self.root, name),
                                                      followlinks=True)):
                dirs.sort()
                self.samples += [(os.path.join(folder, f), self.class_to_idx[name])
                                 for f in sorted(files) if valid(os.path.join(folder, f))]
        if not self.samples and not allow_empty:
            raise CompatError(f"ImageFolder: Found no valid file in {self.root} "
                              f"(extensions {', '.join(IMG_EXTENSIONS)})")
        self.imgs, self.targets = self.samples, [target for _, target in self.samples]
        self.loader = loader or _rgb

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, index):
        path, target = self.samples[index]
        return self._finish(self.loader(path), target)


def _rgb(path):
    """The image at path as RGB (Pillow's own decompression-bomb bound applies)."""
    with open(path, "rb") as f:
        return Image.open(f).convert("RGB")


class FakeData(VisionDataset):
    """`size` random pictures of image_size (C, H, W) and random labels; sample i is the
    same on every call (drawn from a generator seeded with i + random_offset). torchvision
    draws them with torch's generator, so the pixels differ from torchvision's."""

    def __init__(self, size=1000, image_size=(3, 224, 224), num_classes=10, transform=None,
                 target_transform=None, random_offset=0):
        super().__init__(None, transform, target_transform)
        if len(image_size) != 3 or image_size[0] not in (1, 3):
            raise CompatError(f"FakeData: image_size must be (C, H, W) with C 1 or 3, got "
                              f"{image_size}")
        self.size, self.image_size = size, tuple(image_size)
        self.num_classes, self.random_offset = num_classes, random_offset

    def __len__(self):
        return self.size

    def __getitem__(self, index):
        if not -self.size <= index < self.size:
            raise IndexError(f"FakeData index {index} out of range")
        rng = np.random.default_rng(index % self.size + self.random_offset)
        c, h, w = self.image_size
        pixels = rng.integers(0, 256, (h, w, c), dtype=np.uint8)
        img = Image.fromarray(pixels[:, :, 0] if c == 1 else pixels)  # "L" or "RGB"
        return self._finish(img, int(rng.integers(0, self.num_classes)))
