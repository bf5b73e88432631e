"""minigan.cuda: is a GPU usable here (as torch.cuda.is_available), wait for it, and the
legacy tensor types on it (minigan.cuda.FloatTensor, ...: on a machine without a GPU they
exist, as in PyTorch, and making a tensor with one fails with one clear line)."""
from .backend import cuda_available, manual_seed, synchronize
from .legacy import CUDA_TYPES

FloatTensor, DoubleTensor, LongTensor = (CUDA_TYPES[n] for n in
                                         ("FloatTensor", "DoubleTensor", "LongTensor"))
IntTensor, ByteTensor, BoolTensor = (CUDA_TYPES[n] for n in
                                     ("IntTensor", "ByteTensor", "BoolTensor"))


def is_available():
    """True where CuPy imports and sees a GPU."""
    return cuda_available()


def device_count():
    """The GPUs minigan uses: 1 where one is usable (minigan drives the current device)."""
    return 1 if cuda_available() else 0


def manual_seed_all(seed):
    """Seed every generator (as torch.cuda.manual_seed_all): minigan.manual_seed does."""
    manual_seed(seed)


__all__ = ["is_available", "synchronize", "device_count", "manual_seed", "manual_seed_all",
           "FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor",
           "BoolTensor"]
