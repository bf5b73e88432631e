"""minigan.cuda: is a GPU usable here (as torch.cuda.is_available), and wait for it."""
from .backend import cuda_available, synchronize


def is_available():
    """True where CuPy imports and sees a GPU."""
    return cuda_available()


__all__ = ["is_available", "synchronize"]
