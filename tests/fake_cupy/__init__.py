"""The CuPy stand-in for tests: minigan's CUDA path run on NumPy, with its host copies counted.

install() puts this folder first on sys.path, so `import cupy` and `import cupyx` find
the stand-in's packages (cupy/, cupyx/ here). It must run before minigan is imported:
backend.py, the only file that imports cupy, looks for it once. tests/conftest.py calls
it when MINIGAN_FAKE_CUDA=1, so the `device` fixture yields "cuda" too and every
device-parametrised test runs the CUDA path. It holds in this process only: a `python -m
minigan` child that a test starts has no stand-in, so CUDA runs are tested in-process
(cli.main). What the stand-in can catch: NumPy calls on
device arrays, host arrays mixed into device math, functions CuPy lacks, 0-d results
treated as NumPy scalars, and (counted in `transfers()`) every host round-trip. What it
cannot: kernels, streams, speed, CuPy's own numerics.
"""
import os
import sys

SITE = os.path.dirname(os.path.abspath(__file__))


def install():
    """Make `import cupy` find the stand-in; returns its cupy module."""
    loaded = sys.modules.get("cupy")
    if loaded is not None and not getattr(loaded, "__fake__", False):
        raise RuntimeError("a real CuPy is already imported: install the stand-in first")
    if SITE not in sys.path:
        sys.path.insert(0, SITE)
    import cupy  # noqa: PLC0415 - the stand-in, from SITE
    if not getattr(cupy, "__fake__", False):
        raise RuntimeError(f"import cupy found {cupy.__file__}, not the stand-in")
    return cupy


def transfers():
    """The stand-in's copy counter (.device_to_host, .host_to_device, .reset(), .sites())."""
    return sys.modules["cupy"].TRANSFERS
