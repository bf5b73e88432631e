"""What BCE's value check costs: `python -m benchmarks.value_checks [--rounds N]`.

F.binary_cross_entropy checks that its input and target lie in [0, 1] (as PyTorch does),
one min and one max over each. This times one check on the MLP GAN's batch (64
probabilities and 64 targets), and the MLP GAN's D+G step (batch 64, Adam) with the loss
on probabilities, `bce(sigmoid(D(x)), t)`, three BCE calls a step, with the check on and
off, alternating in one process so that a busy machine slows both alike. (`minigan train`
uses the logits form, which checks nothing, as in PyTorch.)
"""
import argparse
import statistics
import time

import numpy as np


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.value_checks")
    parser.add_argument("--rounds", type=int, default=12, help="alternations of on and off")
    parser.add_argument("--steps", type=int, default=40, help="steps timed per round")
    args = parser.parse_args(argv)

    import minigan
    import minigan.nn.functional as F
    from minigan.models import build_gan

    from .steps import BETAS, LR, train_step

    minigan.manual_seed(0)
    g, d = build_gan("mlp", "image", (1, 28, 28), nz=100)
    opt_g = minigan.optim.Adam(g.parameters(), lr=LR, betas=BETAS)
    opt_d = minigan.optim.Adam(d.parameters(), lr=LR, betas=BETAS)
    rng = np.random.default_rng(0)
    real = minigan.tensor(rng.uniform(-1, 1, (64, 1, 28, 28)).astype(np.float32))
    z = minigan.tensor(rng.standard_normal((64, 100)).astype(np.float32))
    ones, zeros = minigan.ones(64), minigan.zeros(64)
    checker = F.binary_cross_entropy.contract  # its check_values is the [0, 1] check

    def bce_on_probabilities(logits, target):
        return F.binary_cross_entropy(F.sigmoid(logits), target)

    def per_step():
        start = time.perf_counter()
        for _ in range(args.steps):
            train_step(g, d, opt_g, opt_d, real, z, ones, zeros, bce_on_probabilities)
        return (time.perf_counter() - start) / args.steps

    per_step()  # warm up
    on, off = [], []
    try:
        for _ in range(args.rounds):
            vars(checker).pop("check_values", None)  # the class's method: checks on
            on.append(per_step())
            checker.check_values = lambda tensors: None  # this contract's, switched off
            off.append(per_step())
    finally:
        vars(checker).pop("check_values", None)
    p = F.sigmoid(d(real)).detach()
    n = 10000
    start = time.perf_counter()
    for _ in range(n):
        checker.check_values([("p", p), ("target", ones)])
    one = (time.perf_counter() - start) / n
    on_ms, off_ms = statistics.median(on) * 1e3, statistics.median(off) * 1e3
    print(f"one check of 64 probabilities and 64 targets: {one * 1e6:.1f} us")
    print(f"MLP GAN step, BCE on probabilities (3 checks a step): check on {on_ms:.2f} ms, "
          f"off {off_ms:.2f} ms (medians of {args.rounds}), on/off {on_ms / off_ms:.3f}; "
          f"3 checks are {3 * one * 1e3 / off_ms * 100:.2f}% of a step")


if __name__ == "__main__":
    main()
