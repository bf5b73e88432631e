"""The machine a benchmark ran on, and equal thread counts for both frameworks.

numpy's OpenBLAS reads OPENBLAS_NUM_THREADS once, when numpy is imported, so
`set_thread_env` must run before that import (`__main__` calls it first). After the
import, `set_threads` sets PyTorch's intra-op pool to the same number and, where
threadpoolctl is installed, OpenBLAS's pool too; `machine_info` reports what both
libraries actually use, read back from them rather than from what was asked.
"""
import ctypes
import datetime
import os
import platform
import subprocess
import sys

THREAD_ENV = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def available_cores():
    """The cores this process may run on: every core, the default thread count."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_thread_env(n):
    """Ask every BLAS and OpenMP runtime for n threads; only works before numpy is imported."""
    for name in THREAD_ENV:
        os.environ[name] = str(n)


def set_threads(n, default=False):
    """After the imports: PyTorch's pool to n threads, OpenBLAS's too, and minigan's count:
    set_num_threads(n), or with `default` (n is every core) minigan's default count, which
    is every core adapted to the machine's load (minigan/threads.py), as users run it."""
    import torch  # noqa: PLC0415 - torch is optional for minigan, required here

    torch.set_num_threads(n)
    try:
        import threadpoolctl  # noqa: PLC0415 - optional
    except ImportError:
        pass  # OPENBLAS_NUM_THREADS, set before numpy's import, did it
    else:
        threadpoolctl.threadpool_limits(limits=n, user_api="blas")
    from minigan import threads  # noqa: PLC0415

    if default:
        threads.use_default()  # the default: the BLAS's count now (n), less busy cores
    else:
        threads.set_num_threads(n)


# The busy machine of `python -m benchmarks --busy`: one more process that keeps one core
# busy for as long as a row is timed, a pure-Python loop (no memory traffic, no threads:
# the mildest load that takes a whole core), or a 1-thread numpy matrix product loop
# (256 x 256 float64, which also uses the caches and the memory bus).
BUSY_LOADS = {
    "python": "while True: pass",
    "matmul": "import os; os.environ['OPENBLAS_NUM_THREADS'] = '1'\n"
              "import numpy as np\na = np.ones((256, 256))\nwhile True: a @ a",
}


class busy_load:
    """A child process running BUSY_LOADS[kind] for the duration of the block; it is given
    a second to start, so that minigan's look at the load (every 0.5 s) sees it."""

    def __init__(self, kind="python"):
        self.kind = kind

    def __enter__(self):
        self.process = subprocess.Popen([sys.executable, "-c", BUSY_LOADS[self.kind]])
        import time  # noqa: PLC0415

        time.sleep(1.0)
        return self

    def __exit__(self, *exc):
        self.process.kill()
        self.process.wait()


def set_torch_cuda():
    """PyTorch CUDA as the comparison needs it: float32 without TF32 (as CuPy computes), and
    cuDNN's autotuner on, as pytorch/examples' dcgan runs it (cudnn.benchmark = True)."""
    import torch  # noqa: PLC0415

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cudnn.benchmark = True


def _openblas_library():
    """The OpenBLAS that this process loaded (numpy's), as a ctypes handle, or None."""
    try:
        with open("/proc/self/maps") as maps:
            paths = {line.split()[-1] for line in maps if "openblas" in line.lower()}
    except OSError:  # not Linux
        return None
    for path in sorted(paths):
        try:
            return ctypes.CDLL(path)
        except OSError:
            continue
    return None


def _call(lib, names, restype):
    """The first of `names` (OpenBLAS's symbols differ between builds) that the library has."""
    for name in names:
        fn = getattr(lib, name, None)
        if fn is not None:
            fn.restype = restype
            value = fn()
            return value.decode() if isinstance(value, bytes) else value
    return None


def openblas_runtime():
    """What numpy's OpenBLAS says of itself now: kernel set (core type), threads, build."""
    lib = _openblas_library()
    if lib is None:
        return {}
    prefixes = ("scipy_openblas_", "openblas_")  # numpy wheels rename the symbols
    suffixes = ("64_", "_64_", "")
    names = lambda base: [p + base + s for p in prefixes for s in suffixes]  # noqa: E731
    return {"corename": _call(lib, names("get_corename"), ctypes.c_char_p),
            "num_threads": _call(lib, names("get_num_threads"), ctypes.c_int),
            "config": _call(lib, names("get_config"), ctypes.c_char_p)}


def git_revision():
    """The commit of the working tree benchmarked, with "+changes" if it has any."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, text=True,
                              capture_output=True, check=True).stdout.strip()
        changed = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                 cwd=root, text=True, capture_output=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" +changes" if changed else "")


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cpu_flags():
    """The AVX-512 and AVX2 flags of this CPU (which kernels each library could use)."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = next(line for line in f if line.startswith("flags")).split(":", 1)[1].split()
    except (OSError, StopIteration):
        return []
    return sorted(f for f in flags if f in ("avx2", "fma", "avx512f", "avx512bw", "avx512_bf16"))


def numpy_blas():
    import numpy as np  # noqa: PLC0415 - after set_thread_env

    try:
        config = np.show_config(mode="dicts")
        blas = config["Build Dependencies"]["blas"]
        return {"name": blas.get("name"), "version": blas.get("version"),
                "build": " ".join(str(blas.get("openblas configuration", "")).split())}
    except (TypeError, KeyError):  # an old numpy without mode="dicts"
        return {"name": "unknown (see numpy.show_config())"}


def torch_info(device):
    import torch  # noqa: PLC0415

    config = torch.__config__.show()
    blas = next((part.split("=", 1)[1] for part in config.replace(",", "\n").split()
                 if part.startswith("BLAS_INFO=")), "unknown")
    onednn = next((line.strip(" -") for line in config.splitlines() if "MKL-DNN" in line
                   or "oneDNN" in line), "unknown")
    info = {"version": torch.__version__, "num_threads": torch.get_num_threads(),
            "blas": blas, "onednn": onednn,
            "cpu_capability": torch.backends.cpu.get_cpu_capability()}
    if device == "cuda":
        info.update(gpu=torch.cuda.get_device_name(), cuda=torch.version.cuda,
                    cudnn=torch.backends.cudnn.version(),
                    matmul_allow_tf32=torch.backends.cuda.matmul.allow_tf32,
                    cudnn_allow_tf32=torch.backends.cudnn.allow_tf32,
                    cudnn_benchmark=torch.backends.cudnn.benchmark)
    return info


def machine_info(device="cpu", threads=None, command=None):
    """A dict of everything a reader needs to judge (or reproduce) a run."""
    import numpy as np  # noqa: PLC0415

    import minigan  # noqa: PLC0415

    info = {
        "date": datetime.datetime.now().astimezone().isoformat(timespec="seconds"),
        "command": command or " ".join(["python -m benchmarks"] + sys.argv[1:]),
        "device": device,
        "cpu": cpu_model(), "cpu_flags": cpu_flags(), "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "threads_asked": threads,
        "load_average_at_start": os.getloadavg() if hasattr(os, "getloadavg") else None,
        "thread_env": {name: os.environ.get(name) for name in THREAD_ENV},
        "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "python": platform.python_version(), "platform": platform.platform(),
        "numpy": np.__version__, "numpy_blas": numpy_blas(), "openblas_runtime": openblas_runtime(),
        "minigan": minigan.__version__, "git": git_revision(), "torch": torch_info(device),
    }
    try:
        import threadpoolctl  # noqa: PLC0415

        info["threadpoolctl"] = [{k: pool.get(k) for k in ("internal_api", "num_threads",
                                                            "architecture", "version")}
                                 for pool in threadpoolctl.threadpool_info()]
    except ImportError:
        info["threadpoolctl"] = "not installed: OpenBLAS threads set by OPENBLAS_NUM_THREADS"
    if device == "cuda":
        from minigan import backend  # noqa: PLC0415

        cp = backend.cp
        info["cupy"] = {"version": cp.__version__,
                        "cuda_runtime": cp.cuda.runtime.runtimeGetVersion(),
                        "gpu": cp.cuda.runtime.getDeviceProperties(0)["name"].decode()}
    return info


def _loads(loads):
    return "?" if loads is None else " / ".join(f"{x:.1f}" for x in loads)


def describe(info):
    """The machine as a few markdown lines for the report."""
    t, ob = info["torch"], info.get("openblas_runtime") or {}
    lines = [
        f"- date: {info['date']}; command: `{info['command']}`",
        f"- CPU: {info['cpu']} ({info['logical_cores']} logical cores, {info['usable_cores']} "
        f"usable; flags {', '.join(info['cpu_flags'])})",
        f"- threads: PyTorch {t['num_threads']}, numpy's OpenBLAS {ob.get('num_threads')} "
        f"(env {info['thread_env']}); minigan {info.get('minigan_threads', '')}; rows named "
        f"\"(1 thread)\" at 1 thread for both; rows named \"(busy)\" with one more process "
        f"keeping a core busy ({info.get('busy_load') or 'none in this run'})",
        f"- numpy {info['numpy']} with {info['numpy_blas'].get('name')} "
        f"{info['numpy_blas'].get('version')}; OpenBLAS kernels in use: "
        f"{ob.get('corename')} (OPENBLAS_CORETYPE={info['OPENBLAS_CORETYPE']})",
        f"- torch {t['version']}: BLAS {t['blas']}, {t['onednn']}, CPU capability "
        f"{t['cpu_capability']}",
        f"- python {info['python']}, minigan {info['minigan']} (commit {info['git']}), "
        f"{info['platform']}",
        f"- load average (1, 5, 15 min) at start {_loads(info.get('load_average_at_start'))}, "
        f"at end {_loads(info.get('load_average_at_end'))}: other processes share the cores",
    ]
    if info["device"] == "cuda":
        cp = info["cupy"]
        lines.append(f"- GPU: {t['gpu']}; torch CUDA {t['cuda']}, cuDNN {t['cudnn']}; CuPy "
                     f"{cp['version']} (CUDA runtime {cp['cuda_runtime']}); TF32 off for both "
                     f"(matmul {t['matmul_allow_tf32']}, cudnn {t['cudnn_allow_tf32']}); "
                     f"cudnn.benchmark {t.get('cudnn_benchmark')}; minigan's "
                     f"fused kernels {'on' if info.get('fused_kernels') else 'off (--no-fused)'}")
    return "\n".join(lines)
