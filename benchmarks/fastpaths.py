"""Each CPU fast path against the plain code it stands in for, alternately in one process:
`python -m benchmarks.fastpaths [--repeats N] [--threads N]`.

What issue 15 asks of every kept change: old and new timed in turns in one process (so
both see the same drift of a shared machine), the median of the per-repeat ratios
new/old. Rows:
- Adam: the plain whole-array `adam_update` against `adam_update_blocked` at several
  slice sizes, over every parameter (G and D) of the MLP GAN and of the DCGAN-64.
- LeakyReLU's forward: the mask arithmetic `x * derivative(x > 0)` against
  `leaky_relu_max`, at the shapes the DCGANs' and the MLP GAN's discriminators feed it.
"""
import argparse
import os
import statistics
import sys
import time

from .machine import available_cores, set_thread_env


def alternate(fns, repeats, reference):
    """{name: (median ms, median of per-repeat ratio to reference)}, timed in turns; the
    order of the callables rotates every repeat."""
    names, times = list(fns), {name: [] for name in fns}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return {name: (1e3 * statistics.median(t), statistics.median(
        a / b for a, b in zip(t, times[reference]))) for name, t in times.items()}


def adam_rows(repeats):
    import numpy as np

    from minigan.models import build_gan
    from minigan.optim import adam

    rng = np.random.default_rng(0)
    settings = dict(b1=0.5, b2=0.999, bias2_sqrt=0.0447, eps=1e-8, step_size=2e-4)
    for label, model, shape in (("MLP GAN", "mlp", (1, 28, 28)),
                                ("DCGAN-64", "dcgan", (3, 64, 64))):
        g, d = build_gan(model, "image", shape, nz=100)
        arrays = []
        for p in list(g.parameters()) + list(d.parameters()):
            value = p.data.copy()
            arrays.append([value, rng.standard_normal(value.shape).astype(value.dtype),
                           np.zeros_like(value), np.zeros_like(value)])
        count = sum(a[0].size for a in arrays)
        for _ in range(3):  # moments as after a few steps (the work does not depend on them)
            for a in arrays:
                adam.adam_update(*a, **settings)
        fns = {"adam_update (whole arrays)": lambda: [adam.adam_update(*a, **settings)
                                                      for a in arrays]}
        for chunk in (1 << 15, 1 << 16, 1 << 18):
            fns[f"adam_update_blocked, {chunk // 1024} K"] = (
                lambda chunk=chunk: [adam.adam_update_blocked(*a, **settings, chunk=chunk)
                                     for a in arrays])
        result = alternate(fns, repeats, "adam_update (whole arrays)")
        print(f"\n### Adam over the {label}'s {count / 1e6:.2f} M parameters (G and D)\n")
        print("| update | ms (median) | ratio to whole arrays (median) |\n|---|---|---|")
        for name, (ms, ratio) in result.items():
            print(f"| {name} | {ms:.2f} | {ratio:.3f} |")


def leaky_relu_rows(repeats):
    import numpy as np

    from minigan.ops.activation import LeakyReLU, leaky_relu_max

    rng = np.random.default_rng(0)
    op = LeakyReLU()
    op.slope = np.float32(0.2)
    print("\n### LeakyReLU forward (slope 0.2), float32\n")
    print("| input | mask arithmetic ms | leaky_relu_max ms | ratio (median) |\n|---|---|---|---|")
    for shape in ((64, 64, 32, 32), (64, 128, 16, 16), (64, 256, 8, 8), (64, 64, 14, 14),
                  (64, 512), (256, 256)):
        x = rng.standard_normal(shape, dtype=np.float32)
        result = alternate({"plain": lambda: x * op.derivative(x > 0),
                            "fast": lambda: (x > 0, leaky_relu_max(x, op.slope))},
                           repeats, "plain")
        print(f"| {'x'.join(map(str, shape))} | {result['plain'][0]:.3f} | "
              f"{result['fast'][0]:.3f} | {result['fast'][1]:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpaths")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for numpy's BLAS (default: every core)")
    args = parser.parse_args(argv)
    set_thread_env(args.threads)
    import numpy  # noqa: F401 - after set_thread_env

    from minigan import set_num_threads

    set_num_threads(args.threads)
    from .machine import openblas_runtime

    print(f"## Fast paths against their reference, {args.repeats} repeats, "
          f"{args.threads} thread(s)\n\n- OpenBLAS kernels: "
          f"{openblas_runtime().get('corename')} (OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE')}); load average at start "
          f"{' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    adam_rows(args.repeats)
    leaky_relu_rows(args.repeats)
    print(f"\n- load average at end {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
