"""Data parallelism over processes: the basics of torch.distributed (and of ChainerMN).

`mpiexec -n N python script.py` starts N copies of one program; each is a rank, 0..N-1.
Every rank holds the whole model and takes 1/N of each batch. With the batch loss a mean,

    L = (1/N) sum_r L_r   (L_r: the mean over rank r's B/N examples)
    grad L = (1/N) sum_r grad L_r

so averaging the gradients over the ranks (an all-reduce: every rank ends with the sum of
every rank's array) before each optimizer step gives each rank the whole batch's gradient,
and the N copies of the model stay identical step after step. BatchNorm couples the
examples of a batch; minigan.nn.SyncBatchNorm takes its statistics over the global batch.

Two transports behind one ProcessGroup: MPI (mpi4py) for host arrays, NCCL (through
CuPy) for GPU arrays, where MPI only starts the ranks and hands out NCCL's id. mpi4py is
imported only by init_process_group, so a plain single-process run never loads it.

    import minigan.distributed as dist
    dist.init_process_group()                       # under mpiexec -n N
    dist.broadcast_module(model)                    # rank 0's weights everywhere
    loss.backward(); dist.average_gradients(model.parameters()); opt.step()
"""
import os

from . import backend
from .tensor import Tensor

# (variable with the rank, variable with the world size), for each launcher we know
LAUNCHER_ENV = (("PMI_RANK", "PMI_SIZE"),  # MPICH's mpiexec (Hydra), Intel MPI
                ("OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE"),  # Open MPI
                ("PMIX_RANK", "PMIX_SIZE"),  # PMIx launchers
                ("MV2_COMM_WORLD_RANK", "MV2_COMM_WORLD_SIZE"))  # MVAPICH
INSTALL_HINT = 'pip install "minigan[mpi]"'
BUCKET_BYTES = 25 * 2 ** 20  # as DistributedDataParallel's default bucket_cap_mb
OPS = ("sum", "mean", "max", "min")

_group = None  # the default process group, as torch.distributed keeps one


class DistributedError(RuntimeError):
    """Data parallelism cannot start or go on (no mpi4py, a mismatched MPI, no group)."""


def launcher_world_size():
    """The number of processes an MPI launcher says it started (1 when none did).

    Read from the environment, without importing mpi4py: this is how `minigan train`
    notices that it runs under mpiexec even where mpi4py is missing."""
    for _, size in LAUNCHER_ENV:
        if os.environ.get(size, "").isdigit():
            return int(os.environ[size])
    return 1


def launcher_rank():
    """This process's rank as the launcher's environment says (0 when none did)."""
    for rank, _ in LAUNCHER_ENV:
        if os.environ.get(rank, "").isdigit():
            return int(os.environ[rank])
    return 0


# ----------------------------------------------------------------------------- the group
class ProcessGroup:
    """Every rank of MPI's COMM_WORLD, and how arrays travel between them.

    Collectives take one contiguous array and work in place; every rank must call the
    same collectives in the same order (that is what keeps them matched)."""

    def __init__(self, mpi, device):
        self.mpi, self.comm = mpi, mpi.COMM_WORLD
        self.rank, self.size = self.comm.Get_rank(), self.comm.Get_size()
        self.device = backend.check_device(device)
        self.nccl = NcclTransport(self) if self.device == "cuda" else None

    def all_reduce(self, flat, op="sum"):
        """flat <- op over the ranks of flat, elementwise ("mean": the sum / size)."""
        if self.nccl is not None:
            self.nccl.all_reduce(flat, "sum" if op == "mean" else op)
        else:
            mpi_op = {"sum": self.mpi.SUM, "mean": self.mpi.SUM, "max": self.mpi.MAX,
                      "min": self.mpi.MIN}[op]
            self.comm.Allreduce(self.mpi.IN_PLACE, flat, op=mpi_op)
        if op == "mean":
            flat /= self.size

    def broadcast(self, flat, src=0):
        """flat <- rank src's flat, on every rank."""
        if self.nccl is not None:
            self.nccl.broadcast(flat, src)
        else:
            self.comm.Bcast(flat, root=src)

    def host_all_reduce(self, value, op="sum"):
        """A Python number reduced over the ranks through MPI, without touching a GPU."""
        mpi_op = {"sum": self.mpi.SUM, "max": self.mpi.MAX, "min": self.mpi.MIN}[op]
        return self.comm.allreduce(value, op=mpi_op)

    def all_gather_object(self, value):
        """[rank 0's value, rank 1's, ...] on every rank (small picklable values only)."""
        return self.comm.allgather(value)

    def barrier(self):
        self.comm.Barrier()

    def abort(self, status=1):
        """End every rank of the job now (MPI_Abort): what a rank does when it fails alone,
        since the others would wait for it forever in their next collective."""
        self.comm.Abort(status)


class NcclTransport:
    """All-reduce and broadcast of GPU arrays through NCCL, on CuPy's current stream.

    Each rank takes one GPU: its rank on its node, modulo the GPUs it sees. Rank 0 makes
    NCCL's unique id and MPI broadcasts it; from then on NCCL alone moves the data."""

    def __init__(self, group):
        cp, self.nccl = backend.cp, backend.nccl()
        node = group.comm.Split_type(group.mpi.COMM_TYPE_SHARED)  # the ranks on this machine
        self.gpu = node.Get_rank() % cp.cuda.runtime.getDeviceCount()
        node.Free()
        cp.cuda.Device(self.gpu).use()  # before anything is allocated on a GPU
        uid = self.nccl.get_unique_id() if group.rank == 0 else None
        uid = group.comm.bcast(uid, root=0)
        self.comm = self.nccl.NcclCommunicator(group.size, uid, group.rank)
        self.types = {"float16": self.nccl.NCCL_FLOAT16, "float32": self.nccl.NCCL_FLOAT32,
                      "float64": self.nccl.NCCL_FLOAT64, "int32": self.nccl.NCCL_INT32,
                      "int64": self.nccl.NCCL_INT64}
        self.ops = {"sum": self.nccl.NCCL_SUM, "max": self.nccl.NCCL_MAX,
                    "min": self.nccl.NCCL_MIN}

    def all_reduce(self, flat, op):
        stream = backend.cp.cuda.get_current_stream().ptr
        self.comm.allReduce(flat.data.ptr, flat.data.ptr, flat.size, self.types[flat.dtype.name],
                            self.ops[op], stream)

    def broadcast(self, flat, src):
        stream = backend.cp.cuda.get_current_stream().ptr
        self.comm.bcast(flat.data.ptr, flat.size, self.types[flat.dtype.name], src, stream)


# ----------------------------------------------------------------------------- set-up
def init_process_group(device="cpu"):
    """Join the ranks mpiexec started (as torch.distributed.init_process_group): MPI for
    "cpu", NCCL for "cuda" (one GPU per rank). Returns the ProcessGroup."""
    global _group
    if _group is not None:
        raise DistributedError("init_process_group: the process group is already initialised")
    device = backend.check_device(device)
    launched = launcher_world_size()
    try:
        from mpi4py import MPI  # noqa: PLC0415 - optional: minigan[mpi]
    except ImportError as err:
        raise DistributedError(f"data-parallel training needs mpi4py ({launched} processes "
                               f"were started): {INSTALL_HINT} ({err})") from None
    size = MPI.COMM_WORLD.Get_size()
    if launched > 1 and size != launched:
        names = [f"{size_var}={os.environ[size_var]}" for _, size_var in LAUNCHER_ENV
                 if os.environ.get(size_var, "").isdigit()]
        raise DistributedError(
            f"the environment says {launched} processes were started ({', '.join(names)}) "
            f"but MPI sees {size}: either that variable is left over from another job (unset "
            f"it to train in one process), or the mpiexec used belongs to another MPI than "
            f"mpi4py's ({MPI.Get_library_version().splitlines()[0].strip()}; use the mpiexec "
            f"installed with minigan[mpi])")
    _group = ProcessGroup(MPI, device)
    return _group


def destroy_process_group():
    """Forget the group (MPI itself is finalised when the process exits)."""
    global _group
    _group = None


def is_initialized():
    return _group is not None


def group():
    """The default ProcessGroup; an error before init_process_group."""
    if _group is None:
        raise DistributedError("the default process group is not initialised: call "
                               "minigan.distributed.init_process_group() first")
    return _group


def get_rank():
    return group().rank


def get_world_size():
    return group().size


def barrier():
    group().barrier()


# ----------------------------------------------------------------------------- collectives
def all_reduce(tensors, op="sum"):
    """Reduce Tensors or arrays over the ranks, in place (as torch.distributed.all_reduce).

    One array, or a list: a list travels packed in flat buckets of up to BUCKET_BYTES
    (one collective per bucket, not one per array). op: "sum", "mean", "max" or "min"."""
    if op not in OPS:
        raise ValueError(f"all_reduce: op must be one of {', '.join(OPS)}, got {op!r}")
    arrays = _arrays("all_reduce", tensors)
    if op == "mean" and any(a.dtype.kind != "f" for a in arrays):
        raise TypeError("all_reduce: op 'mean' needs floating-point arrays; use 'sum' for "
                        "integers")
    g = group()
    for bucket in buckets(arrays):
        for array, reduced in zip(bucket, _flat_collective(bucket, lambda f: g.all_reduce(f, op))):
            array[...] = reduced


def broadcast(tensors, src=0):
    """Overwrite Tensors or arrays on every rank with rank src's (in place, bucketed)."""
    g = group()
    if not (isinstance(src, int) and 0 <= src < g.size):
        raise ValueError(f"broadcast: src must be a rank in 0..{g.size - 1}, got {src!r}")
    arrays = _arrays("broadcast", tensors)
    for bucket in buckets(arrays):
        for array, received in zip(bucket, _flat_collective(bucket, lambda f: g.broadcast(f, src))):
            array[...] = received


def broadcast_module(module, src=0):
    """Every parameter and buffer of `module` (e.g. BatchNorm's running statistics) set to
    rank src's, so all ranks start from the same model (as DistributedDataParallel does)."""
    broadcast(list(module.parameters()) + list(module.buffers()), src)
    return module


def average_gradients(parameters):
    """p.grad <- the mean of p.grad over the ranks, for every parameter with a gradient:
    the step from "this rank's slice" to "the whole batch". Bucketed; afterwards each
    .grad is a view into its bucket (as DDP's gradient_as_bucket_view), nothing copied back.
    """
    params = [p for p in parameters if p.grad is not None]
    g = group()
    averaged = []
    for bucket in buckets([p.grad._data for p in params]):
        averaged += _flat_collective(bucket, lambda f: g.all_reduce(f, "mean"))
    for p, grad in zip(params, averaged):
        p.grad = Tensor(grad)


def buckets(arrays, cap=BUCKET_BYTES):
    """Consecutive arrays grouped into lists of one dtype and at most `cap` bytes (an array
    bigger than cap has a bucket of its own)."""
    bucket, size = [], 0
    for a in arrays:
        if bucket and (a.dtype != bucket[0].dtype or size + a.nbytes > cap):
            yield bucket
            bucket, size = [], 0
        bucket.append(a)
        size += a.nbytes
    if bucket:
        yield bucket


def _flat_collective(bucket, collective):
    """Pack the arrays into one flat array, run the collective on it, and return the
    pieces (views of it, shaped as the arrays)."""
    xp = backend.xp_of(bucket[0])
    flat = xp.concatenate([a.reshape(-1) for a in bucket])  # (sum of sizes,), a copy
    collective(flat)
    pieces, offset = [], 0
    for a in bucket:
        pieces.append(flat[offset:offset + a.size].reshape(a.shape))
        offset += a.size
    return pieces


def _arrays(name, tensors):
    """The raw arrays of one Tensor/array or of a list of them."""
    items = tensors if isinstance(tensors, (list, tuple)) else [tensors]
    arrays = [t._data if isinstance(t, Tensor) else t for t in items]
    for a in arrays:
        if not hasattr(a, "dtype") or backend.xp_of(a).ndarray is not type(a):
            raise TypeError(f"{name}: expected minigan Tensors or arrays, got "
                            f"{type(a).__name__}")
    return arrays
