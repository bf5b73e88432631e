"""How many CPU threads minigan's ops may use: set_num_threads(n) / get_num_threads().

As torch.set_num_threads: one number for the whole process, every core by default. On
the CPU, minigan's parallel work is NumPy's matrix products, run by the BLAS library numpy
is built on (OpenBLAS in numpy's wheels), and the large convolutions, which
minigan/fast/threaded.py splits into one share per thread. So the number set here is the
BLAS's thread count (set through its own setter, openblas_set_num_threads) and the number
of shares.

The default: every core this process may run on (os.sched_getaffinity), as OpenBLAS
itself starts, unless OPENBLAS_NUM_THREADS / OMP_NUM_THREADS asked for fewer before
numpy was imported. A count set with set_num_threads is honoured exactly, as PyTorch's.

The default adapts to a busy machine (`ops_threads`), as OpenMP's OMP_DYNAMIC does from
the load average: every LOAD_INTERVAL_S at most, the ops read how much CPU time the
machine's cores spent outside this process since the last look (/proc/stat less this
process's own os.times()). Each core that other processes kept at least BUSY_SHARE busy
is left to them: minigan runs with one thread fewer per such core (at least one). A
thread that must share its core waits for it, and OpenBLAS's threads spin while a partner
is descheduled: on a loaded 2-core machine single products ran 5-1000x slower at 2 threads
than at 1, and a DCGAN-28 step 3-4x slower (benchmarks/RESULTS.md). Without /proc/stat
(not Linux) the default stays fixed.
"""
import ctypes
import os
import time

from .validators import is_int

MAX_THREADS = 2 ** 31 - 1  # a C int, as torch.set_num_threads takes (ctypes would overflow)
LOAD_INTERVAL_S = 0.5  # how often the default looks at the machine's load, at most
BUSY_SHARE = 0.5  # a core counts as taken when other processes used this share of it
ADAPT_TO_LOAD = True  # False: the default is every core whatever the load (tests)
_num_threads = None  # what set_num_threads asked for; None: the default
_state = {}  # the default's bookkeeping: see ops_threads


def available_cores():
    """The cores this process may run on (fewer than os.cpu_count() under taskset/cgroups)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _blas_pools():
    """threadpoolctl's controller of numpy's BLAS (imported here: only threads need it)."""
    import numpy  # noqa: F401, PLC0415 - loads the BLAS that threadpoolctl looks for
    from threadpoolctl import ThreadpoolController  # noqa: PLC0415

    return ThreadpoolController().select(user_api="blas")


class _Blas:
    """The BLAS's own thread-count getter and setter, called directly (about 1 us) for
    every library threadpoolctl finds (threadpoolctl's setter quietly does nothing when
    called from a thread other than the first that called it)."""

    def __init__(self):
        self.getters, self.setters = [], []
        for lib in _blas_pools().lib_controllers:
            dll = ctypes.CDLL(lib.filepath)
            for prefix in ("", "scipy_"):
                for suffix in ("", "64_", "_64"):
                    get = getattr(dll, f"{prefix}openblas_get_num_threads{suffix}", None)
                    put = getattr(dll, f"{prefix}openblas_set_num_threads{suffix}", None)
                    if get is not None and put is not None:
                        put.argtypes, put.restype = [ctypes.c_int], None
                        self.getters.append(get)
                        self.setters.append(put)
                        break
                else:
                    continue
                break
        self.known = bool(self.setters)  # else: threadpoolctl's limit, as before

    def get(self):
        if not self.known:
            counts = [pool["num_threads"] for pool in _blas_pools().info()]
            return max(counts) if counts else 1
        return max(get() for get in self.getters)

    def set(self, n):
        if not self.known:
            _blas_pools().limit(limits=n)
            return
        for put in self.setters:
            put(n)


_blas = None


def blas():
    """The process's _Blas (made at first use: numpy must be imported by then)."""
    global _blas
    if _blas is None:
        _blas = _Blas()
    return _blas


def set_num_threads(n):
    """Let minigan's ops use n CPU threads (numpy's BLAS pool), as torch.set_num_threads."""
    global _num_threads
    if not is_int(n):  # NumPy ints accepted
        raise TypeError(f"set_num_threads: n must be an int, got {type(n).__name__} {n!r}")
    n = int(n)
    if not 1 <= n <= MAX_THREADS:
        raise ValueError(f"set_num_threads: n must be a positive number of threads, got {n} "
                         f"(at most {MAX_THREADS}, a C int as torch's)")
    blas().set(n)
    _num_threads = n


def get_num_threads():
    """The CPU threads minigan's ops may use: the last set_num_threads, else the default
    (every core unless the environment asked for fewer; on a busy machine the ops may
    take fewer, see ops_threads)."""
    if _num_threads is not None:
        return _num_threads
    if "default" in _state and blas().get() == _state["applied"]:
        return _state["default"]  # the BLAS runs at the count the load left it
    return blas().get()


def use_default():
    """Forget set_num_threads: back to the default, adapted to the load (benchmarks/)."""
    global _num_threads
    _num_threads = None
    _state.clear()


def ops_threads():
    """How many threads the next op may use: the count set, else the default adapted to
    the machine's load (module docstring). Sets the BLAS's count to it when that changes."""
    if _num_threads is not None:
        return _num_threads
    now = time.monotonic()
    if _state and now - _state["time"] < LOAD_INTERVAL_S:
        return _state["applied"]
    count = blas().get()
    if not _state or count != _state["applied"]:
        _state["default"] = count  # first look, or someone set the BLAS since: its count
    default = _state["default"]
    sample = _cpu_sample()
    previous = _state.get("sample")
    _state.update(time=now, sample=sample)
    threads = default
    if ADAPT_TO_LOAD and default > 1 and sample is not None and previous is not None:
        others = _others_busy(previous, sample)  # cores' worth of other processes' work
        threads = max(1, min(default, available_cores() - int(others + 1 - BUSY_SHARE)))
    if threads != count:
        blas().set(threads)
    _state["applied"] = threads
    return threads


def _cpu_sample():
    """(wall s, busy s of this process's cores, this process's CPU s), or None off Linux."""
    try:
        cores = os.sched_getaffinity(0)
        busy = 0
        with open("/proc/stat") as f:
            for line in f:
                if not line.startswith("cpu"):
                    break
                name, *ticks = line.split()
                if name == "cpu" or int(name[3:]) not in cores:
                    continue
                user, nice, system, _idle, _iowait, irq, softirq = map(int, ticks[:7])
                busy += user + nice + system + irq + softirq
    except (OSError, ValueError, AttributeError):
        return None
    own = os.times()
    return time.monotonic(), busy / os.sysconf("SC_CLK_TCK"), own.user + own.system


def _others_busy(before, after):
    """How many cores other processes kept busy between two samples (0 when too close)."""
    wall = after[0] - before[0]
    if wall <= 0:
        return 0.0
    return max(0.0, (after[1] - before[1]) - (after[2] - before[2])) / wall
