"""cupy.cuda of the stand-in: one device, its runtime, streams, events and memory pools.

Everything CUDA does is already done when a stand-in call returns, so synchronising
does nothing; the names and shapes of the calls are CuPy's, so minigan's code that
picks devices, streams and pools runs unchanged. NCCL (cupy.cuda.nccl) is absent.
"""
import contextlib

DEVICE_COUNT = 1


class CUDARuntimeError(RuntimeError):
    pass


class _Runtime:
    """cupy.cuda.runtime: the few calls minigan and its tests make."""

    CUDARuntimeError = CUDARuntimeError

    @staticmethod
    def getDeviceCount():
        return DEVICE_COUNT

    @staticmethod
    def getDevice():
        return Device._current

    @staticmethod
    def deviceSynchronize():
        pass

    @staticmethod
    def getDeviceProperties(device):
        return {"name": b"minigan fake CUDA device (NumPy)", "major": 9, "minor": 0,
                "totalGlobalMem": 2 ** 34, "multiProcessorCount": 1}

    @staticmethod
    def memGetInfo():
        return 2 ** 34, 2 ** 34

    @staticmethod
    def runtimeGetVersion():
        return 12000


runtime = _Runtime()


class Device:
    """cupy.cuda.Device: a device id; `use()` makes it current, as a context too."""

    _current = 0

    def __init__(self, device=None):
        self.id = Device._current if device is None else int(device)
        if not 0 <= self.id < DEVICE_COUNT:
            raise CUDARuntimeError("cudaErrorInvalidDevice: invalid device ordinal")
        self._previous = []

    compute_capability = property(lambda self: "90")
    mem_info = property(lambda self: runtime.memGetInfo())

    def use(self):
        Device._current = self.id

    def synchronize(self):
        pass

    def __enter__(self):
        self._previous.append(Device._current)
        self.use()
        return self

    def __exit__(self, *exc):
        Device._current = self._previous.pop()

    def __eq__(self, other):
        return isinstance(other, Device) and other.id == self.id

    def __hash__(self):
        return hash(self.id)

    def __repr__(self):
        return f"<CUDA Device {self.id}>"


class Stream:
    """cupy.cuda.Stream: work queued on it is done when the stand-in's call returns."""

    _stack = []

    def __init__(self, null=False, non_blocking=False, ptr=None):
        self.ptr = 0 if null else id(self)

    def synchronize(self):
        pass

    def use(self):
        Stream._stack[-1:] = [self]
        return self

    def __enter__(self):
        Stream._stack.append(self)
        return self

    def __exit__(self, *exc):
        Stream._stack.pop()

    def record(self, event=None):
        return event or Event()

    def wait_event(self, event):
        pass


Stream.null = Stream(null=True)


def get_current_stream():
    return Stream._stack[-1] if Stream._stack else Stream.null


class Event:
    def __init__(self, block=False, disable_timing=False, interprocess=False):
        self.done = True

    def record(self, stream=None):
        pass

    def synchronize(self):
        pass


def get_elapsed_time(start, end):
    return 0.0


class MemoryPointer:
    """What ndarray.data returns: the address of the first element (for NCCL calls)."""

    def __init__(self, ptr):
        self.ptr = ptr


class MemoryPool:
    """cupy.cuda.MemoryPool: NumPy allocates; the pool only answers CuPy's questions."""

    def __init__(self, allocator=None):
        self._limit = 0

    def used_bytes(self):
        return 0

    def total_bytes(self):
        return 0

    def free_bytes(self):
        return 0

    def n_free_blocks(self):
        return 0

    def free_all_blocks(self, stream=None):
        pass

    def set_limit(self, size=None, fraction=None):
        self._limit = size or 0

    def get_limit(self):
        return self._limit

    def malloc(self, size):
        raise NotImplementedError("the stand-in allocates through NumPy")


class PinnedMemoryPool(MemoryPool):
    pass


_memory_pool, _pinned_memory_pool = MemoryPool(), PinnedMemoryPool()


def get_default_memory_pool():
    return _memory_pool


def get_default_pinned_memory_pool():
    return _pinned_memory_pool


def set_allocator(allocator=None):
    pass


def set_pinned_memory_allocator(allocator=None):
    pass


def is_available():
    return DEVICE_COUNT > 0


@contextlib.contextmanager
def profile():
    yield
