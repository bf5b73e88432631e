"""A stand-in for torchvision where it is not installed (CI installs torch alone): the
twin tests run the scripts under PyTorch with data from twin.dataset(), so the scripts'
torchvision imports must succeed, and nothing here is ever called to make data."""
from . import datasets, transforms, utils  # noqa: F401
