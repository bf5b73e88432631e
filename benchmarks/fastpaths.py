"""Each CPU fast path against the plain code it stands in for, alternately in one process:
`python -m benchmarks.fastpaths [--repeats N] [--threads N]`.

What issue 15 asks of every kept change: old and new timed in turns in one process (so
both see the same drift of a shared machine), the median of the per-repeat ratios
new/old. Rows:
- Adam: the plain whole-array `adam_update` against `adam_update_blocked` at several
  slice sizes, over every parameter (G and D) of the MLP GAN and of the DCGAN-64.
- LeakyReLU's forward: the mask arithmetic `x * derivative(x > 0)` against
  `leaky_relu_max`, at the shapes the DCGANs' and the MLP GAN's discriminators feed it.
- The transposed convolution: matmul + col2im against the sub-pixel phases
  (minigan/fast/subpixel.py), at DCGAN's shapes where `pays` says yes and two where no.
- im2col's columns: a fresh array per call against the reused workspace block
  (minigan/fast/workspace.py).
- Every conv layer of the DCGANs, forward + backward (d/dx, d/dweight) in a step's
  memory layout: serially (OpenBLAS at the run's thread count) against in shares, one per
  thread, OpenBLAS at one thread (minigan/fast/threaded.py); at 1 thread both are serial.
  `--only shares` runs only these rows.
"""
import argparse
import os
import statistics
import sys
import time

from .machine import available_cores, set_thread_env


def alternate(fns, repeats, reference, pause=0.0):
    """{name: (median ms, median of per-repeat ratio to reference)}, timed in turns; the
    order of the callables rotates every repeat. `pause` seconds before each sample let
    the BLAS's threads, which spin for a while after a product, go to sleep."""
    names, times = list(fns), {name: [] for name in fns}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            time.sleep(pause)
            start = time.perf_counter()
            fns[name]()
            times[name].append(time.perf_counter() - start)
    return {name: (1e3 * statistics.median(t), statistics.median(
        a / b for a, b in zip(t, times[reference]))) for name, t in times.items()}


def adam_rows(repeats):
    import numpy as np

    from minigan.fast import adam as fast_adam
    from minigan.models import build_gan
    from minigan.optim import adam

    rng = np.random.default_rng(0)
    settings = dict(b1=0.5, b2=0.999, bias2_sqrt=0.0447, eps=1e-8, step_size=2e-4)
    for label, model, shape in (("MLP GAN", "mlp", (1, 28, 28)),
                                ("DCGAN-64", "dcgan", (3, 64, 64))):
        g, d = build_gan(model, "image", shape, nz=100)
        arrays = []
        for p in list(g.parameters()) + list(d.parameters()):
            value = p.numpy().copy()
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
                lambda chunk=chunk: [fast_adam.adam_update_blocked(*a, **settings, chunk=chunk)
                                     for a in arrays])
        result = alternate(fns, repeats, "adam_update (whole arrays)")
        print(f"\n### Adam over the {label}'s {count / 1e6:.2f} M parameters (G and D)\n")
        print("| update | ms (median) | ratio to whole arrays (median) |\n|---|---|---|")
        for name, (ms, ratio) in result.items():
            print(f"| {name} | {ms:.2f} | {ratio:.3f} |")


def leaky_relu_rows(repeats):
    import numpy as np

    from minigan.fast.activation import derivative, leaky_relu_max

    rng = np.random.default_rng(0)
    slope = np.float32(0.2)
    print("\n### LeakyReLU forward (slope 0.2), float32\n")
    print("| input | mask arithmetic ms | leaky_relu_max ms | ratio (median) |\n|---|---|---|---|")
    for shape in ((64, 64, 32, 32), (64, 128, 16, 16), (64, 256, 8, 8), (64, 64, 14, 14),
                  (64, 512), (256, 256)):
        x = rng.standard_normal(shape, dtype=np.float32)
        result = alternate({"plain": lambda: x * derivative(x > 0, slope),
                            "fast": lambda: (x > 0, leaky_relu_max(x, slope))},
                           repeats, "plain")
        print(f"| {'x'.join(map(str, shape))} | {result['plain'][0]:.3f} | "
              f"{result['fast'][0]:.3f} | {result['fast'][1]:.3f} |")


# DCGAN's transposed convolutions (G's forward) and conv's input gradients (D's backward):
# (x shape, weight shape), k 4, s 2, p 1; where subpixel.pays says yes, and two where no
SUBPIXEL_SHAPES = (((64, 128, 16, 16), (128, 64, 4, 4)), ((64, 256, 8, 8), (256, 128, 4, 4)),
                   ((64, 128, 7, 7), (128, 64, 4, 4)), ((64, 512, 4, 4), (512, 256, 4, 4)),
                   ((64, 64, 32, 32), (64, 3, 4, 4)))


def subpixel_rows(repeats):
    import numpy as np

    from minigan.fast import subpixel
    from minigan.ops import conv, im2col

    rng = np.random.default_rng(0)
    print("\n### Transposed convolution (k 4, s 2, p 1): matmul + col2im against sub-pixel "
          "phases, float32\n")
    print("| x -> channels out | pays | col2im ms | sub-pixel ms | ratio (median) |\n"
          "|---|---|---|---|---|")
    for x_shape, w_shape in SUBPIXEL_SHAPES:
        x = im2col.batch_last(rng.standard_normal(x_shape, dtype=np.float32))  # as in a step
        w = rng.standard_normal(w_shape, dtype=np.float32)
        args = (x, w, (2, 2), (1, 1), (0, 0))
        pays = subpixel.pays(x.shape, w.shape, *args[2:])
        result = alternate({"col2im": lambda: conv.conv_transpose_arrays(*args),
                            "subpixel": lambda: subpixel.conv_transpose_subpixel(*args)},
                           repeats, "col2im")
        print(f"| {'x'.join(map(str, x_shape))} -> {w_shape[1]} | {'yes' if pays else 'no'} | "
              f"{result['col2im'][0]:.2f} | {result['subpixel'][0]:.2f} | "
              f"{result['subpixel'][1]:.3f} |")


def workspace_rows(repeats):
    import numpy as np

    from minigan.fast import workspace
    from minigan.ops import im2col

    rng = np.random.default_rng(0)
    print("\n### im2col's columns: a fresh array each call against the reused workspace "
          "block, float32\n")
    print("| x (k 4, s 2, p 1) | columns MB | fresh ms | workspace ms | ratio (median) |\n"
          "|---|---|---|---|---|")
    for shape in ((64, 64, 32, 32), (64, 128, 16, 16), (64, 256, 8, 8), (64, 64, 14, 14),
                  (64, 3, 64, 64)):
        x = im2col.batch_last(rng.standard_normal(shape, dtype=np.float32))
        args = (x, (4, 4), (2, 2), (1, 1))
        result = alternate({"fresh": lambda: im2col.im2col(*args),
                            "workspace": lambda: workspace.im2col_reused(*args)},
                           repeats, "fresh")
        mb = im2col.im2col(*args).nbytes / 2 ** 20
        print(f"| {'x'.join(map(str, shape))} | {mb:.1f} | {result['fresh'][0]:.2f} | "
              f"{result['workspace'][0]:.2f} | {result['workspace'][1]:.3f} |")


def shares_rows(repeats):
    import numpy as np

    import minigan
    import minigan.nn.functional as F
    from minigan.fast import threaded

    from .ops import model_layers

    rng = np.random.default_rng(0)
    print("\n### Conv layers, forward + backward: serial against in shares (one per thread), "
          "float32\n")
    print("(3 calls a sample, 0.3 s apart; serial: OpenBLAS at the run's thread count)\n")
    print("| layer | MFLOP | shares now | serial ms | shares ms | ratio (median) |\n"
          "|---|---|---|---|---|---|")
    layers = model_layers("DCGAN-28", "dcgan", (1, 28, 28)) + \
        model_layers("DCGAN-64", "dcgan", (3, 64, 64))
    default, serially = threaded.MIN_FLOPS, threaded.serially
    for layer in layers:
        if layer["op"] not in ("conv2d", "conv_transpose2d"):
            continue
        conv = F.conv2d if layer["op"] == "conv2d" else F.conv_transpose2d
        # the input through a LeakyReLU, as in a step: batch-last memory but for G's z and
        # D's images
        x0 = rng.standard_normal(layer["x"], dtype=np.float32)
        w0 = rng.standard_normal(layer["weight"], dtype=np.float32) * 0.05
        x = minigan.tensor(x0, requires_grad=True)
        w = minigan.tensor(w0, requires_grad=True)
        first = layer["where"].endswith((".main.0",))
        h = x if first else F.leaky_relu(x, 0.2).detach().requires_grad_()
        out = conv(h, w, stride=layer["stride"], padding=layer["padding"])
        g = minigan.tensor(rng.standard_normal(out.shape, dtype=np.float32))
        # forward + backward: 3 products of 2 * weight * windows (conv2d: its output's
        # pixels, conv_transpose2d: its input's) FLOPs
        flops = 3 * 2 * w0.size * (out.numel() if layer["op"] == "conv2d" else h.numel()) \
            / w0.shape[0]

        def step(shares):
            threaded.MIN_FLOPS = 0 if shares else float("inf")
            # serial: the code before the shares, OpenBLAS at the run's thread count
            threaded.serially = serially if shares else lambda serial, *args: serial(*args)
            h.grad = w.grad = None
            for _ in range(3):
                conv(h, w, stride=layer["stride"], padding=layer["padding"]).backward(g)

        now = threaded.ways(flops / 3) > 1  # the forward's products: what decides
        result = alternate({"serial": lambda: step(False), "shares": lambda: step(True)},
                           repeats, "serial", pause=0.3)
        threaded.MIN_FLOPS, threaded.serially = default, serially
        print(f"| {layer['where']} {layer['op']} {'x'.join(map(str, layer['x']))} | "
              f"{flops / 1e6:.0f} | {'yes' if now else 'no'} | {result['serial'][0]:.2f} | "
              f"{result['shares'][0]:.2f} | {result['shares'][1]:.3f} |")


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fastpaths")
    parser.add_argument("--repeats", type=int, default=60)
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for numpy's BLAS (default: every core)")
    parser.add_argument("--only", choices=("shares",), help="only the conv layers in shares")
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
    if args.only is None:
        adam_rows(args.repeats)
        leaky_relu_rows(args.repeats)
        subpixel_rows(args.repeats)
        workspace_rows(args.repeats)
    shares_rows(args.repeats)
    print(f"\n- load average at end {' / '.join(f'{x:.1f}' for x in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
