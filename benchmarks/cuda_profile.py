"""Where minigan's GPU time goes: `python -m benchmarks.cuda_profile [--repeats N]`.

For each training step of the benchmark (steps.py's `train_step`, both frameworks on
identical work), three numbers, then a breakdown:
  1. step ms: the whole step, one synchronisation at its end (what users get);
  2. host ms: the same step timed on the host without waiting for the GPU at the end, so
     the Python, autograd and kernel-launch time that the GPU cannot hide; where it is
     close to the step's, the step is launch-bound (more GPU speed would not help);
  3. the breakdown: every op's forward and backward (Function subclasses), the
     optimizers' step and zero_grad, each wrapped with a synchronisation before and
     after, so each one's GPU time lands on it. The wrapping adds waits, so the
     instrumented total is above the step's; the shares are what to read.
"""
import argparse
import collections
import statistics
import sys
import time

from .machine import set_torch_cuda
from .steps import gan_contenders

ROWS = (("MLP GAN b64", "mlp", (1, 28, 28), 64), ("MLP GAN b256", "mlp", (1, 28, 28), 256),
        ("DCGAN-28 b64", "dcgan", (1, 28, 28), 64),
        ("DCGAN-64 3ch b128", "dcgan", (3, 64, 64), 128))


def median_ms(fn, sync, repeats, wait_at_end=True):
    times = []
    for _ in range(repeats):
        sync()
        start = time.perf_counter()
        fn()
        if wait_at_end:
            sync()
        times.append(time.perf_counter() - start)
    sync()
    return 1e3 * statistics.median(times)


def all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from all_subclasses(sub)


def instrumented(sync):
    """Wrap every op's forward/backward (the definitions and the faster versions that
    minigan/fast/ registers for them) and the optimizers' methods with synchronised
    timers; returns (totals dict name -> [seconds, calls], undo function)."""
    from minigan import autograd, optim
    from minigan.autograd import Function

    totals = collections.defaultdict(lambda: [0.0, 0])
    originals = []  # (restore function, original)
    running = set()  # labels being timed: a fast version that calls its definition counts once

    def timer(original, label):
        def timed(*args, **kwargs):
            if label in running:
                return original(*args, **kwargs)
            running.add(label)
            sync()
            start = time.perf_counter()
            try:
                result = original(*args, **kwargs)
                sync()
            finally:
                running.discard(label)
            entry = totals[label]
            entry[0] += time.perf_counter() - start
            entry[1] += 1
            return result
        return timed

    def wrap(owner, attr, label):
        original = owner.__dict__[attr]
        originals.append((lambda value, o=owner, a=attr: setattr(o, a, value), original))
        setattr(owner, attr, timer(original, label))

    for cls in all_subclasses(Function):
        for attr in ("forward", "backward"):
            if attr in cls.__dict__:
                wrap(cls, attr, f"{cls.__name__}.{attr}")
    for table, attr in ((autograd.FAST_FORWARD, "forward"), (autograd.FAST_BACKWARD, "backward")):
        for key, original in list(table.items()):
            originals.append((lambda value, t=table, k=key: t.__setitem__(k, value), original))
            table[key] = timer(original, f"{key[0].__name__}.{attr}")
    for cls in (optim.Adam, optim.Optimizer):
        for attr in ("step", "zero_grad"):
            if attr in cls.__dict__:
                wrap(cls, attr, f"{cls.__name__}.{attr}")

    def undo():
        for restore, original in originals:
            restore(original)
    return totals, undo


def profile_row(label, model, shape, batch, repeats, device="cuda"):
    from minigan import backend

    contenders = gan_contenders(model, shape, batch, device)
    m, t = contenders["minigan"], contenders["torch"]
    for _ in range(3):  # warm-up: kernel compilation, cuBLAS handles, Adam's state
        m.run(), t.run()
    lines = [f"## {label}", ""]
    step = {name: median_ms(c.run, c.sync, repeats) for name, c in (("torch", t), ("minigan", m))}
    host = {name: median_ms(c.run, c.sync, repeats, wait_at_end=False)
            for name, c in (("torch", t), ("minigan", m))}
    lines.append(f"step ms: PyTorch {step['torch']:.3f}, minigan {step['minigan']:.3f} "
                 f"(ratio {step['minigan'] / step['torch']:.2f}); host ms without the final "
                 f"wait: PyTorch {host['torch']:.3f}, minigan {host['minigan']:.3f}")
    totals, undo = instrumented(backend.synchronize)
    try:
        start = time.perf_counter()
        for _ in range(repeats):
            m.run()
        backend.synchronize()
        wall = (time.perf_counter() - start) / repeats
    finally:
        undo()
    listed = sum(seconds for seconds, _ in totals.values()) / repeats  # in the table
    lines += ["", f"instrumented step {1e3 * wall:.3f} ms (synchronised around every op)",
              f"ops and optimizers {1e3 * listed:.3f} ms of it; the rest, "
              f"{1e3 * (wall - listed):.3f} ms, is autograd's graph walk and Python between them",
              "", "| where | calls/step | ms/step | share |", "|---|---|---|---|"]
    for name, (seconds, calls) in sorted(totals.items(), key=lambda kv: -kv[1][0]):
        share = seconds / repeats / wall
        if share < 0.005:
            continue
        lines.append(f"| {name} | {calls / repeats:.0f} | {1e3 * seconds / repeats:.3f} | "
                     f"{100 * share:.1f}% |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cuda_profile")
    parser.add_argument("--repeats", type=int, default=20)
    parser.add_argument("--only", help="only rows whose label contains this")
    parser.add_argument("--device", default="cuda", help="cpu only tries this script out")
    parser.add_argument("--no-fused", action="store_true",
                        help="minigan's plain array code instead of its fused kernels")
    args = parser.parse_args(argv)
    import torch

    import minigan
    from minigan.fast import kernels

    if args.device == "cuda" and not (minigan.cuda.is_available() and
                                      torch.cuda.is_available()):
        print("needs a GPU seen by both CuPy and PyTorch", file=sys.stderr)
        return 2
    set_torch_cuda()
    kernels.USE_FUSED = not args.no_fused
    print(f"# minigan on the GPU, fused kernels {'on' if kernels.USE_FUSED else 'off'}; "
          f"{torch.cuda.get_device_name() if args.device == 'cuda' else 'cpu'}\n")
    for label, model, shape, batch in ROWS:
        if args.only is None or args.only in label:
            print(profile_row(label, model, shape, batch, args.repeats, args.device), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
