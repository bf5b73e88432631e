"""Shared fixtures: one suite for every backend, and PyTorch as an optional oracle.

`device` runs a test on "cpu" and, where CuPy sees a GPU, on "cuda" too: GPU coverage
comes from the same test functions, never from a copied file. MINIGAN_FAKE_CUDA=1 puts
the CuPy stand-in (tests/fake_cupy: NumPy behind CuPy's walls, host copies counted) in
CuPy's place before minigan is imported, so "cuda" runs here too, with the fused kernels
off (they need a real GPU). `torch` hands the test the
torch module; without torch the test is skipped, unless MINIGAN_REQUIRE_TORCH=1 (as in CI),
where a missing torch fails the test instead. `require_extra` does the same for the
modules of the optional extras (mpi, tensorboard, docs): they skip without the extra, and
fail when MINIGAN_REQUIRE_EXTRAS=1 (as in CI, which installs every extra).
"""
import importlib
import os

import pytest

FAKE_CUDA = os.environ.get("MINIGAN_FAKE_CUDA") == "1"
if FAKE_CUDA:  # before minigan: backend.py looks for cupy once, at import
    import fake_cupy

    fake_cupy.install()

import minigan  # noqa: E402

if FAKE_CUDA:
    from minigan.fast import kernels

    kernels.USE_FUSED = False  # CUDA C cannot run on the stand-in: the plain twins

DEVICES = ["cpu"] + (["cuda"] if minigan.cuda.is_available() else [])


@pytest.fixture(params=DEVICES)
def device(request):
    """"cpu", and "cuda" where a GPU is usable (or the stand-in, MINIGAN_FAKE_CUDA=1)."""
    return request.param


@pytest.fixture
def transfers():
    """The CuPy stand-in's counter of host-device copies, reset (tests/fake_cupy); the
    test is skipped unless MINIGAN_FAKE_CUDA=1 installed the stand-in."""
    if not FAKE_CUDA:
        pytest.skip("needs the CuPy stand-in: run with MINIGAN_FAKE_CUDA=1")
    counter = fake_cupy.transfers()
    counter.reset()
    return counter


def require_torch():
    """The torch module: skip without it, or fail when MINIGAN_REQUIRE_TORCH=1."""
    if os.environ.get("MINIGAN_REQUIRE_TORCH") == "1":
        try:
            return importlib.import_module("torch")
        except ImportError as error:  # CI must really compare against PyTorch: fail, not skip
            pytest.fail(f"MINIGAN_REQUIRE_TORCH=1 but torch cannot be imported: {error}",
                        pytrace=False)
    return pytest.importorskip("torch")


@pytest.fixture
def torch():
    """PyTorch, the reference the parity tests compare against (float64 CPU by default)."""
    torch = require_torch()
    torch.set_grad_enabled(True)
    return torch


def require_extra(module, extra):
    """The module `module` of the optional extra minigan[`extra`]: skip without it, or fail
    when MINIGAN_REQUIRE_EXTRAS=1 (CI installs every extra, so their tests must run there)."""
    if os.environ.get("MINIGAN_REQUIRE_EXTRAS") == "1":
        try:
            return importlib.import_module(module)
        except ImportError as error:
            pytest.fail(f"MINIGAN_REQUIRE_EXTRAS=1 but {module} (minigan[{extra}]) cannot be "
                        f"imported: {error}", pytrace=False)
    return pytest.importorskip(module, reason=f"needs minigan[{extra}]")
