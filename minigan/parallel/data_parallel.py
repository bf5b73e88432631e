"""A training run over the N processes of `mpiexec -n N minigan train`: what train.py asks
of data parallelism, in one object (a single process gets one that does nothing).

    global batch (--batch-size B) = rank 0's rows | rank 1's rows | ... (B/N each)
    every rank draws the whole batch and noise of a step from the run's seeded streams
    and keeps its rows (`local`), so the N ranks together compute the single-process step;
    after each backward the gradients are averaged (`average_gradients`), BatchNorm takes
    its statistics over the global batch (SyncBatchNorm), and the logged losses are the
    means over the ranks, i.e. the global batch's (`global_means`).

Every decision that ends or changes the loop (a Ctrl-C, a non-finite loss, a skipped
update) is agreed by all ranks, so they stop together; rank 0 alone writes the run folder.
A rank that fails alone ends the job (`abort`), since the others would wait for it forever.
"""
import contextlib
import dataclasses

from .. import backend, distributed
from ..nn import SyncBatchNorm
from ..tensor import Tensor


def stack_float64(values):
    """Scalar Tensors on one device -> one float64 array (len,) on that device."""
    xp = backend.xp_of(values[0]._data)
    return xp.stack([xp.asarray(v._data, dtype=xp.float64) for v in values])  # (len,)


class SingleProcess:
    """A run in one process: everything is already global."""

    rank, size, is_main = 0, 1, True

    def check_batch_size(self, batch_size):
        pass

    def prepare(self, *modules):
        pass

    def local(self, inputs):
        return inputs

    def average_gradients(self, module):
        pass

    def global_means(self, values):
        """Scalar Tensors -> host floats, in one copy from the device (one GPU sync)."""
        return [float(v) for v in backend.asnumpy(stack_float64(values))]

    def any(self, flag):
        return bool(flag)

    def first_bad_step(self, first):
        return first

    @contextlib.contextmanager
    def agreed(self):
        yield

    def abort(self, status):
        pass


class DataParallel(SingleProcess):
    """A run over every rank of a minigan.distributed process group."""

    def __init__(self, group):
        self.group = group
        self.rank, self.size, self.is_main = group.rank, group.size, group.rank == 0

    def check_batch_size(self, batch_size):
        if batch_size % self.size:
            raise ValueError(f"--batch-size {batch_size} cannot be split evenly over "
                             f"{self.size} processes: give a multiple of {self.size} "
                             f"(it is the global batch)")

    def prepare(self, *modules):
        """BatchNorm layers made synchronised, then every weight and buffer set to rank 0's
        (at the start and after a resume, as DistributedDataParallel does)."""
        for module in modules:
            if module is not None:
                SyncBatchNorm.convert_sync_batchnorm(module)
                distributed.broadcast_module(module)

    def local(self, inputs):
        """This rank's rows of a global batch: of a Tensor, or of every Tensor in a
        dataclass, list or tuple of them (None stays None)."""
        if isinstance(inputs, Tensor):
            n = inputs.shape[0] // self.size
            return Tensor(inputs._data[self.rank * n:(self.rank + 1) * n])  # (B/N, ...)
        if dataclasses.is_dataclass(inputs):
            return dataclasses.replace(inputs, **{f.name: self.local(getattr(inputs, f.name))
                                                  for f in dataclasses.fields(inputs)})
        if isinstance(inputs, (list, tuple)):
            return type(inputs)(self.local(item) for item in inputs)
        return inputs

    def average_gradients(self, module):
        distributed.average_gradients(module.parameters())

    def global_means(self, values):
        """Scalar Tensors (means over this rank's rows) -> host floats, means over all ranks:
        the global batch's values, as the rows are split evenly. One all-reduce."""
        stacked = stack_float64(values)
        self.group.all_reduce(stacked, "mean")
        return [float(v) for v in backend.asnumpy(stacked)]

    def any(self, flag):
        """Whether `flag` is true on some rank (over MPI, no GPU sync)."""
        return bool(self.group.host_all_reduce(int(bool(flag)), "max"))

    def first_bad_step(self, first):
        """The first step any rank saw a non-finite loss at (0: none)."""
        earliest = self.group.host_all_reduce(first if first else 2 ** 62, "min")
        return 0 if earliest == 2 ** 62 else earliest

    @contextlib.contextmanager
    def agreed(self):
        """Run a block that every rank runs alike (set-up); if it fails on some ranks, it
        fails on every rank with the first failure's message, marked `agreed` so that only
        rank 0 reports it."""
        error = None
        try:
            yield
        except Exception as err:  # noqa: BLE001 - told to the others, then raised again
            error = err
        messages = self.group.all_gather_object(None if error is None else
                                                " ".join(str(error).split()))
        failed = [(r, m) for r, m in enumerate(messages) if m is not None]
        if not failed:
            return
        if error is None:
            rank, message = failed[0]
            error = distributed.DistributedError(f"rank {rank}: {message}")
        elif len(failed) < self.size:
            error.args = (f"rank {self.rank}: {messages[self.rank]}",)
        error.agreed = True
        raise error

    def abort(self, status):
        self.group.abort(status)


def data_parallel(device):
    """The run's DataParallel over the ranks mpiexec started, or SingleProcess when it
    was not launched by an MPI launcher (then mpi4py is never imported)."""
    if distributed.launcher_world_size() == 1:
        return SingleProcess()
    group = distributed.group() if distributed.is_initialized() else \
        distributed.init_process_group(device)
    return DataParallel(group)
