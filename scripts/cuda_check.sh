#!/usr/bin/env bash
# Everything that needs a GPU, in one run (for a CUDA machine with CuPy and torch):
#   1. the test suite's CUDA half: every test run on the "cuda" device, and the fused
#      kernels against their plain twins (tests/test_kernels.py);
#   2. python -m benchmarks --device cuda: every row with minigan's fused kernels on;
#   3. python -m benchmarks.cuda_profile: where the GPU step's time goes;
#   4. peak memory of two headline steps; the steps again with the plain array code;
#   5. minigan train and eval with --device cuda, timed.
# Logs go to $OUT (or ./cuda_check); a summary is printed last. Each part has its own
# time limit, and a failing part does not stop the others.
# Usage: bash scripts/cuda_check.sh [tests bench memory plain profile train]  (default: all;
# about 6 minutes on an H200)
set -uo pipefail
cd "$(dirname "$0")/.."
out="${OUT:-cuda_check}"
mkdir -p "$out"
parts="${*:-tests bench memory plain profile train}"
export PYTHONUNBUFFERED=1 MINIGAN_REQUIRE_TORCH=1 PYTHONDONTWRITEBYTECODE=1
py=python3
minigan() { timeout 100 $py -m minigan "$@"; }  # the CLI, installed or not, time-limited
{
    $py -m pip install -q --no-deps --no-build-isolation -e . || echo "pip install failed"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm \
        --format=csv || true
    $py -c "import sys, numpy, cupy, torch; print(sys.version.split()[0], 'numpy',
numpy.__version__, 'cupy', cupy.__version__, 'torch', torch.__version__, torch.version.cuda)"
    $py -c "import minigan; print('minigan.cuda.is_available():', minigan.cuda.is_available())"
} >"$out/env.log" 2>&1
cat "$out/env.log"
summary=()

if [[ " $parts " == *" tests "* ]]; then
    start=$SECONDS
    extra=()  # in parallel and with a per-test limit, where the plugins are installed
    $py -c "import xdist" 2>/dev/null && extra+=(-n 8)
    $py -c "import pytest_timeout" 2>/dev/null && extra+=(--timeout 120)
    timeout 90 $py -m pytest -q -p no:cacheprovider "${extra[@]}" -rf --durations=10 \
        -k "cuda or kernels" tests >"$out/tests.log" 2>&1
    summary+=("tests (rc $?, $((SECONDS - start)) s): $(grep -E 'passed|failed|error' \
        "$out/tests.log" | tail -1)")
fi

if [[ " $parts " == *" bench "* ]]; then  # every row, fused kernels on, times only
    start=$SECONDS
    timeout 170 $py -m benchmarks --device cuda --no-memory --json "$out/bench.json" \
        --markdown "$out/bench.md" >/dev/null 2>"$out/bench.log"
    summary+=("benchmarks, fused kernels (rc $?, $((SECONDS - start)) s)")
fi

if [[ " $parts " == *" profile "* ]]; then
    start=$SECONDS
    timeout 60 $py -m benchmarks.cuda_profile --repeats 10 >"$out/profile.md" 2>&1
    summary+=("profile (rc $?, $((SECONDS - start)) s)")
fi

if [[ " $parts " == *" memory "* ]]; then  # peak memory of the headline steps
    start=$SECONDS
    for row in "MLP GAN 1x28x28 b64 " "DCGAN-64 3x64x64 b128"; do
        timeout 60 $py -m benchmarks --device cuda --only "$row" --markdown "$out/tmp.md" \
            >/dev/null 2>>"$out/bench.log"
        grep -E "D\+G step" "$out/tmp.md" >>"$out/memory.md"
    done
    rm -f "$out/tmp.md"
    summary+=("memory rows ($((SECONDS - start)) s)")
fi

if [[ " $parts " == *" plain "* ]]; then  # the steps again with the plain array code
    start=$SECONDS
    timeout 70 $py -m benchmarks --device cuda --no-fused --no-memory --only "D+G step" \
        --markdown "$out/bench_plain.md" >/dev/null 2>>"$out/bench.log"
    summary+=("benchmarks, plain code (rc $?, $((SECONDS - start)) s)")
fi

if [[ " $parts " == *" train "* ]]; then
    start=$SECONDS
    run="$(mktemp -d)"
    {
        set -x
        minigan train --device cuda --steps 2000 --no-progress --out "$run/mlp"
        minigan train --model dcgan --device cuda --steps 1000 --no-progress --out "$run/dcgan"
        minigan eval --checkpoint "$run/dcgan" --device cuda
        set +x
    } >>"$out/profile.md" 2>&1
    summary+=("train (rc $?, $((SECONDS - start)) s)")
fi

echo
echo "== tests: failures and slowest"
grep -E "^FAILED|^ERROR|passed|failed" "$out/tests.log" 2>/dev/null | tail -25
echo "== benchmarks (fused kernels on)"
grep -E "^\| |error" "$out/bench.md" 2>/dev/null | cut -c1-160
echo "== memory"
cut -c1-200 "$out/memory.md" 2>/dev/null
echo "== benchmarks, plain code: steps"
grep -E "step" "$out/bench_plain.md" 2>/dev/null | cut -c1-120
echo "== profile and train"
grep -E "^## |^step ms|trained|inception" "$out/profile.md" 2>/dev/null | cut -c1-200
printf '%s\n' "${summary[@]}"
