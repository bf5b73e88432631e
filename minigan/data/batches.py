"""The real minibatches of a run, in an order that is a function of (seed, epoch) alone.

A resumed run knows only its step; since batch b is slice b % per_epoch of the permutation
of epoch b // per_epoch (datasets.epoch_permutation), it continues with exactly the batches
the uninterrupted run would have seen. The whole dataset is moved to the device once.
"""
from .. import backend
from ..tensor import Tensor
from .datasets import epoch_permutation


class RealBatches:
    """The real minibatches in a fixed order: batch b of the run is slice b % per_epoch of
    the permutation of epoch b // per_epoch, made from (seed, epoch) only. Incomplete last
    batches are dropped, so every batch has batch_size examples."""

    def __init__(self, dataset, batch_size, seed, device, with_labels):
        self.n = len(dataset.x)
        if batch_size > self.n:
            raise ValueError(f"batch size {batch_size} is larger than the dataset "
                             f"({self.n} examples)")
        self.batch_size, self.seed, self.device = batch_size, seed, device
        self.per_epoch = self.n // batch_size
        self.x = backend.to_device(dataset.x, device)  # the whole set on the device, once
        self.labels = backend.to_device(dataset.labels, device) if with_labels else None
        self.epoch, self.order = None, None

    def batch(self, b):
        epoch, position = divmod(b, self.per_epoch)
        if epoch != self.epoch:
            perm = epoch_permutation(self.n, self.seed, epoch)
            self.epoch, self.order = epoch, backend.to_device(perm, self.device)
        index = self.order[position * self.batch_size:(position + 1) * self.batch_size]
        labels = None if self.labels is None else Tensor(self.labels[index])
        return Tensor(self.x[index]), labels
