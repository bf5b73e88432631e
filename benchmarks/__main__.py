"""python -m benchmarks [--quick] [--json PATH] [--repeats N] [--device cpu|cuda] [--busy]

Times minigan against PyTorch on identical work and prints a markdown report. The
thread counts are fixed here, before numpy is imported (OpenBLAS reads them then).
"""
import argparse
import sys

from .machine import available_cores, set_thread_env


def parse_args(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks",
                                     description="minigan side by side with PyTorch")
    parser.add_argument("--quick", action="store_true", help="a subset, about 2-3 minutes")
    parser.add_argument("--json", metavar="PATH", help="also write every number as JSON")
    parser.add_argument("--repeats", type=int, help="samples per framework and row "
                        "(default 15, 7 with --quick)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--threads", type=int, default=available_cores(),
                        help="threads for both PyTorch and OpenBLAS (default: every core, "
                        f"here {available_cores()}, as users run; the step rows are then "
                        "timed at 1 thread as well)")
    parser.add_argument("--only", metavar="TEXT", help="only the rows whose name contains TEXT")
    parser.add_argument("--no-memory", action="store_true", help="skip the memory subprocesses")
    parser.add_argument("--no-fused", action="store_true", help="on cuda, run minigan's "
                        "plain array code instead of its fused kernels (minigan/fast/kernels.py)")
    parser.add_argument("--markdown", metavar="PATH", help="also write the report to PATH")
    parser.add_argument("--busy", nargs="?", const="python", choices=("python", "matmul"),
                        help="time the step and conv rows twice, quiet and while one more "
                        "process keeps a core busy (python: a pure-Python loop, the default; "
                        "matmul: a 1-thread numpy matrix product loop), at the default thread "
                        "count; reports both frameworks' slowdowns")
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    set_thread_env(args.threads)  # before anything imports numpy or torch
    from .machine import set_threads, set_torch_cuda
    from .suite import run

    default = args.threads == available_cores()  # every core: minigan's default count
    set_threads(args.threads, default)
    if args.device == "cuda":
        import torch

        import minigan
        from minigan.fast import kernels

        if not (minigan.cuda.is_available() and torch.cuda.is_available()):
            print("--device cuda needs a GPU seen by both CuPy and PyTorch", file=sys.stderr)
            return 2
        set_torch_cuda()  # no TF32 (float32 for both); cudnn.benchmark as pytorch/examples
        kernels.USE_FUSED = not args.no_fused
    log = lambda line: print(line, file=sys.stderr, flush=True)  # noqa: E731
    _, report = run(device=args.device, quick=args.quick, repeats=args.repeats,
                    threads=args.threads, json_path=args.json, memory=not args.no_memory,
                    only=args.only, log=log, default=default,
                    busy=args.busy if args.device == "cpu" else None)
    print(report)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(report + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
