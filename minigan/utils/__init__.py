"""minigan.utils: what torch.utils holds that GAN scripts use (utils.data: datasets, loaders)."""
from . import data

__all__ = ["data"]
