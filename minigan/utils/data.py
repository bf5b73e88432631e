"""minigan.utils.data: datasets and the loader that batches them, as torch.utils.data.

A Dataset answers `len(ds)` and `ds[i]` (one sample, e.g. an `(image, label)` pair). A
sampler says in which order to visit the indices (in order, or a fresh permutation each
epoch); a BatchSampler groups them `batch_size` at a time; `default_collate` stacks a
batch of samples into tensors (a list of pairs becomes a pair of stacked tensors). The
DataLoader is these three in a loop. Workers are not used: `num_workers` is accepted and
every batch is made in this process, in the same order PyTorch's single process makes it.
"""
import math
import numbers

import numpy as np

from .. import backend
from ..tensor import Tensor
from ..validators import is_int


class Dataset:
    """A map from indices 0..len-1 to samples (as torch.utils.data.Dataset): subclasses
    define __getitem__ (and __len__, which the DataLoader needs)."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class Subset(Dataset):
    """The samples of `dataset` at `indices`, in that order (as torch.utils.data.Subset)."""

    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    """The datasets one after another (as torch.utils.data.ConcatDataset)."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("datasets should not be an empty iterable")
        self.cumulative_sizes = np.cumsum([len(d) for d in self.datasets]).tolist()

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        part = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        if part == len(self.datasets):
            raise IndexError(f"index {index} is out of range for a dataset of {len(self)}")
        start = self.cumulative_sizes[part - 1] if part else 0
        return self.datasets[part][index - start]


def random_split(dataset, lengths, generator=None):
    """Subsets of the given lengths (or fractions summing to 1, the remainder handed out
    one by one from the first, as PyTorch does) over one random permutation, drawn from
    `generator` or the default generator."""
    n = len(dataset)
    if all(isinstance(x, float) and 0 <= x <= 1 for x in lengths) and \
            abs(sum(lengths) - 1) < 1e-6 and sum(lengths) != n:
        sizes = [int(math.floor(n * fraction)) for fraction in lengths]
        for i in range(n - sum(sizes)):
            sizes[i % len(sizes)] += 1
        lengths = sizes
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = list(RandomSampler(range(n), generator))
    subsets, start = [], 0
    for length in lengths:
        subsets.append(Subset(dataset, order[start:start + length]))
        start += length
    return subsets


class TensorDataset(Dataset):
    """Sample i is `(t[i] for t in tensors)` (as torch.utils.data.TensorDataset); every
    tensor has the same first dimension."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: expected at least one tensor")
        for t in tensors:
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: expected Tensors, got {type(t).__name__}")
            if t.ndim == 0 or len(t) != len(tensors[0]):
                raise ValueError(f"TensorDataset: Size mismatch between tensors: shapes "
                                 f"{[tuple(x.shape) for x in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return len(self.tensors[0])


# -- samplers: the order of the indices -------------------------------------------------
class SequentialSampler:
    """0, 1, ..., len(dataset) - 1."""

    def __init__(self, data_source):
        self.data_source = data_source

    def __iter__(self):
        return iter(range(len(self.data_source)))

    def __len__(self):
        return len(self.data_source)


class RandomSampler:
    """A fresh permutation of the indices at every iteration (every epoch), drawn from
    `generator`, or from minigan's default generator (seeded by minigan.manual_seed). As
    PyTorch does, one integer is drawn from that generator per epoch and seeds the
    permutation, so reseeding repeats the epochs' orders."""

    def __init__(self, data_source, generator=None):
        if generator is not None and not isinstance(generator, backend.Generator):
            raise TypeError(f"RandomSampler: generator must be a minigan.Generator, got "
                            f"{type(generator).__name__}")
        self.data_source, self.generator = data_source, generator

    def __iter__(self):
        generator = self.generator or backend.default_generator("cpu")
        seed = int(generator.integers(0, 2 ** 63 - 1, ()))
        return iter(np.random.default_rng(seed).permutation(len(self.data_source)).tolist())

    def __len__(self):
        return len(self.data_source)


class BatchSampler:
    """Groups the indices of `sampler` into lists of batch_size (the last one shorter,
    or dropped with drop_last=True)."""

    def __init__(self, sampler, batch_size, drop_last):
        if not is_int(batch_size) or batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got "
                             f"batch_size={batch_size!r}")
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got "
                             f"drop_last={drop_last!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, drop_last

    def __iter__(self):
        batch = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self):
        if self.drop_last:
            return len(self.sampler) // self.batch_size
        return math.ceil(len(self.sampler) / self.batch_size)


# -- collation: a list of samples -> one batch ------------------------------------------
def default_collate(batch):
    """Stack a list of samples into a batch, as torch.utils.data.default_collate: tensors
    and arrays stack along a new first dimension; Python floats become a float64 tensor,
    ints an int64 one; strings are left as they come; a tuple or list of fields is collated field by
    field (returned as a list, as PyTorch does); a dict key by key."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _stack([t for t in batch], "tensors")
    if isinstance(first, (np.ndarray, np.generic)) and first.dtype.kind in "biuf":
        return _stack([Tensor(np.asarray(a)) for a in batch], "arrays")
    if isinstance(first, bool):
        return Tensor(np.array(batch, dtype=np.bool_))
    if isinstance(first, numbers.Integral):
        return Tensor(np.array(batch, dtype=np.int64))
    if isinstance(first, numbers.Real):
        return Tensor(np.array(batch, dtype=np.float64))
    if isinstance(first, (str, bytes)):
        return batch  # as given (a tuple for a field of tuple samples), as PyTorch does
    if isinstance(first, dict):
        return {key: default_collate([sample[key] for sample in batch]) for key in first}
    if isinstance(first, (tuple, list)):
        if any(len(sample) != len(first) for sample in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        fields = [default_collate(samples) for samples in zip(*batch)]
        return type(first)(*fields) if hasattr(first, "_fields") else fields  # namedtuple
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, "
                    f"dicts or lists; found {type(first).__name__}")


def _stack(tensors, what):
    """One tensor (N, *shape) from N tensors of one shape; differentiable where one
    requires grad (then through minigan.cat), else one array stack."""
    shape, device = tensors[0].shape, tensors[0].device
    for t in tensors:
        if t.shape != shape:
            raise RuntimeError(f"stack expects each tensor to be equal size, but got "
                               f"{tuple(shape)} at entry 0 and {tuple(t.shape)} at another")
        if t.device != device:
            raise RuntimeError(f"default_collate: {what} on different devices "
                               f"({device} and {t.device})")
    if any(t.requires_grad for t in tensors):
        from ..tensor import cat
        return cat([t.reshape((1,) + tuple(shape)) for t in tensors])
    xp = backend.xp_of(tensors[0]._data)
    return Tensor(xp.stack([t._data for t in tensors]))                  # (N, *shape)


# -- the loader ---------------------------------------------------------------------------
class DataLoader:
    """Batches of a dataset, as torch.utils.data.DataLoader: `for x, y in loader:` with
    len(loader) batches per epoch. shuffle=True draws a new order every epoch (from
    `generator`, or from the default generator that minigan.manual_seed seeds).

    num_workers, pin_memory, timeout, worker_init_fn, prefetch_factor and
    persistent_workers are accepted for PyTorch code and change nothing: every batch is
    made in this process, in the order a single-process PyTorch loader makes it."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, *, prefetch_factor=None,
                 persistent_workers=False):
        if not hasattr(dataset, "__getitem__"):
            raise TypeError(f"DataLoader: dataset must define __getitem__ (a map-style "
                            f"dataset), got {type(dataset).__name__}")
        if not is_int(num_workers) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; got "
                             f"num_workers={num_workers!r}")
        if not isinstance(shuffle, bool):
            raise TypeError(f"DataLoader: shuffle must be a bool, got {shuffle!r}")
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None
                                          or drop_last):
            raise ValueError("batch_sampler option is mutually exclusive with batch_size, "
                             "shuffle, sampler, and drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_sampler is None and batch_size is not None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.dataset, self.batch_size, self.drop_last = dataset, batch_size, drop_last
        self.num_workers, self.generator = num_workers, generator
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn or (default_collate if batch_sampler is not None
                                         else _no_collate)

    def __iter__(self):
        if self.batch_sampler is None:  # batch_size=None: samples one by one
            for index in self.sampler:
                yield self.collate_fn(self.dataset[index])
            return
        for indices in self.batch_sampler:
            yield self.collate_fn([self.dataset[i] for i in indices])

    def __len__(self):
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)


def _no_collate(sample):
    return sample


__all__ = ["Dataset", "TensorDataset", "Subset", "ConcatDataset", "random_split", "DataLoader",
           "SequentialSampler", "RandomSampler", "BatchSampler", "default_collate"]
