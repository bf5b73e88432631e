"""The torchvision subset that GAN scripts use, on minigan: what `import torchvision` gives
under `python -m minigan.compat`.

datasets.py: MNIST, FashionMNIST (local files, or the bundled digits), ImageFolder, FakeData.
transforms.py: Compose, Resize, CenterCrop, ToTensor, Normalize (on PIL images, as torchvision).
utils.py: make_grid and save_image, writing through minigan/store/images.py.
"""
from . import datasets, transforms, utils

__version__ = "0.0+minigan"
__all__ = ["datasets", "transforms", "utils"]
