"""Peak memory of training steps, one fresh subprocess per framework and per row.

tracemalloc cannot see PyTorch's allocations, and one process running both frameworks
would mix their memory, so each measurement is its own `python -m benchmarks.memory`:
it imports both libraries, builds the row and drops the other framework's side, then

  CPU:  runs one step (Adam's moments appear, library code is paged in), resets the
        kernel's resident-set high-water mark (writing 5 to /proc/self/clear_refs), runs
        the steps, and reports VmHWM - VmRSS before them: the most memory a step needs
        at once beyond what lives between steps (weights, Adam's moments): activations
        kept for backward, gradients, temporaries. glibc's mmap threshold is
        fixed at 64 KiB (MALLOC_MMAP_THRESHOLD_) for both, so every large buffer is
        mapped on allocation and unmapped on free and the RSS follows live memory
        instead of what malloc keeps cached. Where clear_refs is refused, the fallback
        is ru_maxrss minus the RSS before the steps (an upper bound).
  CUDA: the allocators' own counts of bytes in live arrays: torch.cuda.max_memory_allocated
        and, for CuPy, the memory pool's used_bytes() checked after every allocation.
The first step is left out of the peak: what it adds for good (Adam's moments, the same
size in both frameworks) is reported apart, as first_step_mb on the CPU. minigan's
workspace (the block its conv ops reuse for their columns, minigan/fast/workspace.py) also
lives between steps, but it is a step's temporary memory: it is given back after the first
step, so that the peak of the steps counts it.
"""
import argparse
import gc
import json
import os
import resource
import subprocess
import sys

MMAP_THRESHOLD = 65536
STEPS = 3


def _status_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise KeyError(field)


def measure_cpu(run):
    setup = _status_kib("VmRSS")
    run()  # the first step: Adam's moments, and the library code pages it touches first
    for name in ("minigan.fast.workspace", "minigan.ops.workspace"):  # (now, and before)
        if name in sys.modules:  # its columns' block is a step's memory too:
            sys.modules[name].release()  # given back, so the steps count it
    before = _status_kib("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # reset VmHWM to the current RSS
        method = "VmHWM after clear_refs minus VmRSS before the steps"
    except OSError:
        method = "ru_maxrss minus VmRSS before the steps (no HWM reset: an upper bound)"
    for _ in range(STEPS):
        run()
    peak = _status_kib("VmHWM") if "VmHWM" in method else \
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {"peak_mb": (peak - before) / 1024, "first_step_mb": (before - setup) / 1024,
            "method": method}


def measure_cuda(framework, run, sync):
    run()  # the first step allocates Adam's moments
    sync()
    if framework == "torch":
        import torch

        torch.cuda.reset_peak_memory_stats()
        before = torch.cuda.memory_allocated()
        for _ in range(STEPS):
            run()
        sync()
        peak = torch.cuda.max_memory_allocated()
        method = "torch.cuda.max_memory_allocated minus memory_allocated before the steps"
    else:
        from minigan.backend import cp

        pool = cp.get_default_memory_pool()
        before = pool.used_bytes()
        highest = [before]

        def tracking_malloc(nbytes):  # the pool's used bytes peak right after an allocation
            memory = pool.malloc(nbytes)
            highest[0] = max(highest[0], pool.used_bytes())
            return memory
        cp.cuda.set_allocator(tracking_malloc)
        try:
            for _ in range(STEPS):
                run()
            sync()
        finally:
            cp.cuda.set_allocator(pool.malloc)
        peak = highest[0]
        method = "CuPy pool used_bytes peak (checked at each malloc) minus used before the steps"
    return {"peak_mb": (peak - before) / 2**20, "persistent_mb": before / 2**20,
            "method": method}


def child(args):
    """In the subprocess: build the row for one framework, measure, print one JSON line."""
    from .machine import set_thread_env, set_threads, set_torch_cuda

    set_thread_env(args.threads)
    from .suite import all_rows

    set_threads(args.threads)
    from minigan.fast import kernels

    kernels.USE_FUSED = not args.no_fused
    if args.device == "cuda":
        set_torch_cuda()  # the settings the parent times under
    row = next(r for r in all_rows(args.device, quick=False, one_thread_rows=True)
               if r.name == args.row)
    contenders = row.setup(args.device)
    contender = contenders.pop(args.framework)
    contenders.clear()  # the other framework's models and inputs go before the baseline
    gc.collect()
    if args.device == "cuda":
        result = measure_cuda(args.framework, contender.run, contender.sync)
    else:
        result = measure_cpu(contender.run)
    print(json.dumps(result))


def peak_memory(row_name, framework, device, threads, timeout=600):
    """Run the measurement in a fresh interpreter; its result dict, or {"error": ...}."""
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_=str(MMAP_THRESHOLD))
    from minigan.fast import kernels

    command = [sys.executable, "-m", "benchmarks.memory", "--row", row_name,
               "--framework", framework, "--device", device, "--threads", str(threads)]
    if not kernels.USE_FUSED:  # the child measures the code the parent times
        command.append("--no-fused")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    try:
        done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=root,
                              timeout=timeout)
    except subprocess.TimeoutExpired:
        return {"error": f"timed out after {timeout} s"}
    if done.returncode != 0:
        return {"error": done.stderr.strip().splitlines()[-1] if done.stderr.strip()
                else f"exit {done.returncode}"}
    return json.loads(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="peak memory of one step row (internal)")
    parser.add_argument("--row", required=True)
    parser.add_argument("--framework", choices=("torch", "minigan"), required=True)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-fused", action="store_true")
    child(parser.parse_args())
    sys.exit(0)
