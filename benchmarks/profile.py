"""Where minigan's time goes: `python -m benchmarks.profile [--steps N] [--threads N]`.

1. The MLP GAN training step (batch 64) under cProfile, grouped by function, beside
   the same step's matrix products done in plain NumPy (the floor any NumPy engine
   sits on) and in PyTorch, and both frameworks' Adam updates, all timed alternately
   in one process.
2. Every layer of the MLP GAN alone (forward + backward at its in-step input) against
   PyTorch's, each Linear beside its three products in plain NumPy: where the step's gap
   sits, layer by layer.
3. Every conv and conv-transpose layer of the DCGANs: the three matrix products of
   its forward + backward (im2col's GEMMs) in plain NumPy, against PyTorch's whole
   convolution and minigan's. Where the GEMMs alone are slower than PyTorch, no
   im2col engine on that BLAS can meet PyTorch; the rest is im2col/col2im overhead.
"""
import argparse
import cProfile
import io
import pstats
import statistics
import sys
import time

from .machine import available_cores, set_thread_env


def _alternate(fns, repeats, inner=20, pause=0.3):
    """Median seconds of one call of each callable, timed `inner` calls at a time, in turns,
    `pause` seconds apart: a framework's pool threads spin after its own work (OpenBLAS's
    about 0.1 s, libgomp's), so a block started right after the other framework's would
    run beside its spinning threads. One untimed call after the pause wakes the pools."""
    times = {name: [] for name in fns}
    for _ in range(repeats):
        for name, fn in fns.items():
            time.sleep(pause)
            fn()
            start = time.perf_counter()
            for _ in range(inner):
                fn()
            times[name].append((time.perf_counter() - start) / inner)
    return {name: statistics.median(t) for name, t in times.items()}


def mlp_step_matmuls(batch):
    """The (m, k, n) of every matrix product in one MLP GAN D + G step, as minigan does it:
    G forward once, D forward three times (real, fake.detach(), fake), and their backward
    passes (no input gradient where the input needs none: z, real, fake.detach())."""
    g_layers = [(100, 128), (128, 256), (256, 512), (512, 1024), (1024, 784)]
    d_layers = [(784, 512), (512, 256), (256, 1)]
    products = [(batch, i, o) for i, o in g_layers] + [(batch, i, o) for i, o in d_layers] * 3
    for j, (i, o) in enumerate(g_layers):
        products += [(o, batch, i)] + ([(batch, o, i)] if j > 0 else [])  # grad_w, grad_x
    for d_pass in range(3):
        for j, (i, o) in enumerate(d_layers):
            products += [(o, batch, i)] + ([(batch, o, i)] if j > 0 or d_pass == 2 else [])
    return products


def profile_mlp_step(steps, batch=64):
    import numpy as np
    import torch

    from .steps import gan_contenders

    contenders = gan_contenders("mlp", (1, 28, 28), batch, "cpu")
    m, t = contenders["minigan"], contenders["torch"]
    rng = np.random.default_rng(0)
    products = mlp_step_matmuls(batch)
    arrays = [(rng.standard_normal((a, b), dtype=np.float32),
               rng.standard_normal((b, c), dtype=np.float32)) for a, b, c in products]
    tensors = [(torch.from_numpy(a), torch.from_numpy(b)) for a, b in arrays]

    def closure_value(run, name):  # the optimizers that train_step's closure holds
        return dict(zip(run.__code__.co_freevars, (c.cell_contents for c in run.__closure__)))[name]

    m_opts = [closure_value(m.run, n) for n in ("opt_g", "opt_d")]
    t_opts = [closure_value(t.run, n) for n in ("opt_g", "opt_d")]
    for _ in range(3):
        m.run(), t.run()
    times = _alternate({
        "minigan step": m.run, "PyTorch step": t.run,
        "its GEMMs in NumPy": lambda: [a @ b for a, b in arrays],
        "its GEMMs in PyTorch": lambda: [a @ b for a, b in tensors],
        "minigan Adam (G and D)": lambda: [o.step() for o in m_opts],
        "PyTorch Adam (G and D)": lambda: [o.step() for o in t_opts]}, repeats=steps, inner=5)
    flops = sum(2 * a * b * c for a, b, c in products)
    print(f"## MLP GAN step, batch {batch}: {len(products)} matrix products, "
          f"{flops / 1e9:.2f} GFLOP\n")
    for name, seconds in times.items():
        print(f"- {name}: {1e3 * seconds:.2f} ms")
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(steps):
        m.run()
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(14)
    print(f"\ncProfile of {steps} minigan steps (tottime: time in the function itself):\n")
    print("```\n" + out.getvalue().strip().split("\n\n", 1)[-1] + "\n```")


def forward_backward(layer, x, dy, copy):
    """One layer's forward and backward in either framework, from the leaf x (through a
    copy, x * 1, where the layer works in place)."""
    x.grad = None
    layer(x * 1 if copy else x).backward(dy)


def mlp_layer_rows(repeats, batch=64):
    """Every layer of the MLP GAN (G and D) alone, forward + backward at the input it sees
    in a step, both frameworks alternated, beside the NumPy GEMMs of each Linear: where the
    whole step's gap sits, layer by layer. Each Linear's three products (y = x W^T, grad_W =
    dy^T x, grad_x = dy W) in plain NumPy are the floor any NumPy engine stands on."""
    import numpy as np
    import torch

    import minigan
    from minigan.models import build_gan

    from .twins import torch_twin

    minigan.manual_seed(0)
    m_g, m_d = build_gan("mlp", "image", (1, 28, 28), nz=100)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch, 100), dtype=np.float32)
    print(f"\n## MLP GAN layers, batch {batch}: forward + backward of each layer alone\n")
    print("| layer | input | PyTorch ms | minigan ms | minigan/PyTorch | NumPy GEMMs ms "
          "| GEMMs/PyTorch |\n|---|---|---|---|---|---|---|")
    totals = {"torch": 0.0, "minigan": 0.0}
    for prefix, net in (("G", m_g), ("D", m_d)):
        twin = torch_twin(net)
        if prefix == "D":  # D sees G's images, flattened by its first layer's view
            x = np.tanh(rng.standard_normal((batch, 784), dtype=np.float32))
        for (path, m_layer), t_layer in zip(net.model.named_children(), twin.model.children()):
            # the twin's activations are in place, as PyTorch-GAN writes them: they need
            # a non-leaf input, so both sides take theirs through one copy (x * 1)
            copy = getattr(t_layer, "inplace", False)
            m_x, t_x = minigan.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
            t_y = t_layer(t_x * 1 if copy else t_x)
            dy = rng.standard_normal(tuple(t_y.shape), dtype=np.float32)
            m_dy, t_dy = minigan.tensor(dy), torch.tensor(dy)

            fns = {"torch": lambda: forward_backward(t_layer, t_x, t_dy, copy),
                   "minigan": lambda: forward_backward(m_layer, m_x, m_dy, copy)}
            if type(m_layer).__name__ == "Linear":  # its three products, in plain NumPy
                w = m_layer.weight.detach().numpy()
                fns["gemm"] = lambda: (x @ w.T, dy.T @ x, dy @ w)
            t = _alternate(fns, repeats)  # (each lambda runs within this iteration)
            totals["torch"] += t["torch"]
            totals["minigan"] += t["minigan"]
            gemm = f"{1e3 * t['gemm']:.3f} | {t['gemm'] / t['torch']:.2f}" if "gemm" in t else \
                "- | -"
            name = f"{prefix}.model.{path} {m_layer!r}" + (" (input copied)" if copy else "")
            print(f"| {name} | {'x'.join(map(str, x.shape))} | "
                  f"{1e3 * t['torch']:.3f} | {1e3 * t['minigan']:.3f} | "
                  f"{t['minigan'] / t['torch']:.2f} | {gemm} |")
            x = t_y.detach().numpy()
    print(f"| all layers, summed | | {1e3 * totals['torch']:.2f} | "
          f"{1e3 * totals['minigan']:.2f} | {totals['minigan'] / totals['torch']:.2f} | | |")


def conv_gemm_floor(repeats=5):
    import numpy as np

    from .ops import op_rows
    from .suite import op_layers

    rng = np.random.default_rng(0)
    layers = [x for x in op_layers() if x["op"] in ("conv2d", "conv_transpose2d")]
    print("\n## Conv layers: im2col's three GEMMs in NumPy against the whole op\n")
    print("| layer | GFLOP | NumPy GEMMs ms | PyTorch op ms | minigan op ms | GEMMs/PyTorch "
          "| minigan/PyTorch |\n|---|---|---|---|---|---|---|")
    for row, layer in zip(op_rows(layers), layers):
        n, _, h, w = layer["x"]
        s, p = layer["stride"], layer["padding"]
        if layer["op"] == "conv2d":
            c_out, c_in, kh, kw = layer["weight"]
            cols = n * ((h + 2 * p - kh) // s + 1) * ((w + 2 * p - kw) // s + 1)
            k = c_in * kh * kw  # out = w (C_out, K) @ cols (K, NP); grad_w; grad_cols
            shapes = [(c_out, k, cols), (c_out, cols, k), (k, c_out, cols)]
        else:
            c_in, c_out, kh, kw = layer["weight"]
            cols, k = n * h * w, c_out * kh * kw  # cols = w^T (K, C_in) @ x (C_in, NHW); ...
            shapes = [(k, c_in, cols), (c_in, k, cols), (c_in, cols, k)]
        mats = [(rng.standard_normal((a, b), dtype=np.float32),
                 rng.standard_normal((b, c), dtype=np.float32)) for a, b, c in shapes]
        contenders = row.setup("cpu")
        for c in contenders.values():
            c.run()
        t = _alternate({"gemm": lambda: [a @ b for a, b in mats],
                        "torch": contenders["torch"].run,
                        "minigan": contenders["minigan"].run}, repeats, inner=2)
        gflop = sum(2 * a * b * c for a, b, c in shapes) / 1e9
        print(f"| {row.name} | {gflop:.2f} | {1e3 * t['gemm']:.1f} | {1e3 * t['torch']:.1f} | "
              f"{1e3 * t['minigan']:.1f} | {t['gemm'] / t['torch']:.2f} | "
              f"{t['minigan'] / t['torch']:.2f} |")


def main():
    parser = argparse.ArgumentParser(prog="python -m benchmarks.profile")
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for both frameworks (default: every core)")
    parser.add_argument("--no-conv", action="store_true", help="skip the conv GEMM table")
    args = parser.parse_args()
    set_thread_env(args.threads)
    from .machine import describe, machine_info, set_threads

    set_threads(args.threads)
    command = " ".join(["python -m benchmarks.profile"] + sys.argv[1:])
    print(describe(machine_info("cpu", args.threads, command)) + "\n")
    profile_mlp_step(args.steps)
    mlp_layer_rows(args.steps)
    if not args.no_conv:
        conv_gemm_floor()


if __name__ == "__main__":
    main()
