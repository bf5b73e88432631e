"""cupy.random of the stand-in: CuPy's RandomState calls, drawn by NumPy, kept on the device.

The numbers are not CuPy's (its generators differ from NumPy's), only the calls and
their results' device, shape and dtype; no host copy is made or counted.
"""
import numpy

from ._array import ndarray, wrap


def _seed(seed):
    return None if seed is None else int(seed) % 2 ** 64


class RandomState:
    """cupy.random.RandomState(seed): CuPy's method names and dtype arguments."""

    def __init__(self, seed=None):
        self.seed(seed)

    def seed(self, seed=None):
        self._rng = numpy.random.default_rng(_seed(seed))

    def standard_normal(self, size=None, dtype=float):
        return wrap(numpy.asarray(self._rng.standard_normal(size), dtype=dtype))

    def normal(self, loc=0.0, scale=1.0, size=None, dtype=float):
        return wrap(numpy.asarray(self._rng.normal(loc, scale, size), dtype=dtype))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=float):
        return wrap(numpy.asarray(self._rng.uniform(low, high, size), dtype=dtype))

    def random_sample(self, size=None, dtype=float):
        return wrap(numpy.asarray(self._rng.random(size), dtype=dtype))

    def rand(self, *size, dtype=float):
        return self.random_sample(size, dtype)

    def randn(self, *size, dtype=float):
        return self.standard_normal(size, dtype)

    def randint(self, low, high=None, size=None, dtype=int):
        if high is None:
            low, high = 0, low
        return wrap(numpy.asarray(self._rng.integers(low, high, size), dtype=dtype))

    def permutation(self, num):
        if isinstance(num, ndarray):
            return wrap(self._rng.permutation(num._a))
        return wrap(self._rng.permutation(num))

    def choice(self, a, size=None, replace=True, p=None):
        a = a._a if isinstance(a, ndarray) else a
        p = p._a if isinstance(p, ndarray) else p
        return wrap(self._rng.choice(a, size, replace, p))


_global = RandomState()


def get_random_state():
    return _global


def seed(seed=None):
    _global.seed(seed)


def standard_normal(size=None, dtype=float):
    return _global.standard_normal(size, dtype)


def normal(loc=0.0, scale=1.0, size=None, dtype=float):
    return _global.normal(loc, scale, size, dtype)


def uniform(low=0.0, high=1.0, size=None, dtype=float):
    return _global.uniform(low, high, size, dtype)


def random(size=None, dtype=float):
    return _global.random_sample(size, dtype)


def rand(*size, dtype=float):
    return _global.rand(*size, dtype=dtype)


def randn(*size, dtype=float):
    return _global.randn(*size, dtype=dtype)


def randint(low, high=None, size=None, dtype=int):
    return _global.randint(low, high, size, dtype)


def permutation(num):
    return _global.permutation(num)
