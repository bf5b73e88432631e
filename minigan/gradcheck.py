"""Check an op's backward against finite differences: the test every op here passes.

For a function f and a fixed random upstream gradient u, let L(x) = <f(x), u>. Backward
gives dL/dx in one pass; central differences estimate each component as
(L(x + eps e_i) - L(x - eps e_i)) / (2 eps), with error O(eps^2). In float64 with
eps = 1e-6 the two agree to about 1e-8 unless the op is wrong (or x sits on a kink,
such as relu at 0). For large inputs `directional_gradcheck` checks a few random
directions v instead of every e_i: (L(x + eps v) - L(x - eps v)) / (2 eps) = <dL/dx, v>.

Example, for an op of your own:

    >>> import minigan
    >>> from minigan.gradcheck import gradcheck
    >>> x = minigan.randn(3, 4, dtype="float64", requires_grad=True)
    >>> gradcheck(lambda x: (x * x).sum(axis=1), [x])
    True

`gradgradcheck` checks second derivatives the same way: the first derivatives, computed
with create_graph=True, are themselves a function of the inputs (and of the upstream
gradient u), and gradcheck compares their backward with finite differences of them.

    >>> from minigan.gradcheck import gradgradcheck
    >>> gradgradcheck(lambda x: (x * x * x).sum(axis=1), [x])
    True
"""
import numpy as np

from . import autograd, backend
from .autograd import no_grad


class GradcheckError(AssertionError):
    """The analytic and numerical gradients disagree."""


def _upstream_and_grads(fn, inputs, seed):
    """A random upstream gradient u, and backward's <f, u> gradients for every input."""
    for t in inputs:
        t.grad = None
    out = fn(*inputs)
    xp = backend.xp_of(out._data)
    u = xp.asarray(np.random.default_rng(seed).standard_normal(out.shape), dtype=out.dtype)
    out.backward(u)
    grads = [None if t.grad is None else t.grad._data.copy() for t in inputs]
    return u, grads


def _loss(fn, inputs, u):
    """L = <f(inputs), u>, without recording a graph."""
    with no_grad():
        return float((fn(*inputs)._data * u).sum())


def _check_float64(inputs):
    for i, t in enumerate(inputs):
        if t.requires_grad and t.dtype != np.float64:
            raise TypeError(f"gradcheck: input {i} is {t.dtype}; finite differences need "
                            f"float64 inputs (minigan.tensor(..., dtype='float64'))")


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Compare backward with central differences at every element of every input that
    requires grad. `fn(*inputs)` returns a Tensor. Returns True, or raises GradcheckError."""
    _check_float64(inputs)
    u, grads = _upstream_and_grads(fn, inputs, seed)
    for i, t in enumerate(inputs):
        if not t.requires_grad:
            continue
        analytic = backend.asnumpy(grads[i]) if grads[i] is not None else np.zeros(t.shape)
        if analytic.shape != t.shape:  # allclose would broadcast (1,) against () and pass
            raise GradcheckError(f"gradcheck: input {i} has shape {t.shape} but its gradient "
                                 f"has shape {analytic.shape}")
        numeric = np.zeros(t.shape)
        flat = t._data.reshape(-1)  # a view: perturbing it perturbs t
        for j in range(flat.size):
            original = flat[j].item()
            flat[j] = original + eps
            plus = _loss(fn, inputs, u)
            flat[j] = original - eps
            minus = _loss(fn, inputs, u)
            flat[j] = original
            numeric.reshape(-1)[j] = (plus - minus) / (2 * eps)
        if not np.allclose(analytic, numeric, atol=atol, rtol=rtol):
            where = np.unravel_index(np.argmax(np.abs(analytic - numeric)), t.shape)
            raise GradcheckError(
                f"gradcheck: input {i} (shape {t.shape}): backward and finite differences "
                f"differ by up to {np.abs(analytic - numeric).max():.3g} at index {where}: "
                f"backward {analytic[where]:.8g}, numerical {numeric[where]:.8g}")
    return True


def directional_gradcheck(fn, inputs, eps=1e-6, rtol=1e-6, directions=3, seed=0):
    """Compare <grad, v> with (L(x + eps v) - L(x - eps v)) / (2 eps) along random
    directions v that move all inputs together. Cost: two forward passes per direction."""
    _check_float64(inputs)
    u, grads = _upstream_and_grads(fn, inputs, seed)
    rng = np.random.default_rng(seed + 1)
    checked = [(t, g) for t, g in zip(inputs, grads) if t.requires_grad]
    for d in range(directions):
        vs = [backend.xp_of(t._data).asarray(rng.standard_normal(t.shape)) for t, _ in checked]
        originals = [t._data.copy() for t, _ in checked]
        for (t, _), v, x0 in zip(checked, vs, originals):
            t._data[...] = x0 + eps * v
        plus = _loss(fn, inputs, u)
        for (t, _), v, x0 in zip(checked, vs, originals):
            t._data[...] = x0 - eps * v
        minus = _loss(fn, inputs, u)
        for (t, _), x0 in zip(checked, originals):
            t._data[...] = x0
        numeric = (plus - minus) / (2 * eps)
        analytic = sum(float((g * v).sum()) for (_, g), v in zip(checked, vs) if g is not None)
        scale = max(abs(analytic), abs(numeric), 1e-12)
        if abs(analytic - numeric) > rtol * scale + 1e-9:
            raise GradcheckError(f"directional_gradcheck: direction {d}: <grad, v> = "
                                 f"{analytic:.10g} but finite differences give {numeric:.10g}")
    return True


def gradgradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-4, seed=0):
    """Compare second derivatives with finite differences of the first, as
    torch.autograd.gradgradcheck: gradcheck of x, u -> d<fn(x), u>/dx (computed with
    create_graph=True, all inputs' gradients in one flat tensor) at every element of every
    input that requires grad and of a random upstream gradient u. Returns True, or raises
    GradcheckError."""
    from .tensor import Tensor, cat

    _check_float64(inputs)
    differentiable = [i for i, t in enumerate(inputs) if t.requires_grad]
    with no_grad():
        out = fn(*inputs)
    xp = backend.xp_of(out._data)
    u = Tensor(xp.asarray(np.random.default_rng(seed).standard_normal(out.shape),
                          dtype=out.dtype), requires_grad=True)

    def first_derivatives(*args):
        xs, u = args[:-1], args[-1]
        with autograd.set_grad_enabled(True):  # recorded even where gradcheck says no_grad
            return flat_gradients(xs, u)

    def flat_gradients(xs, u):
        grads = autograd.grad(fn(*xs), [xs[i] for i in differentiable], u, create_graph=True,
                              allow_unused=True)
        # an input the output does not depend on has the gradient 0
        return cat([(g if g is not None else Tensor(xp.zeros(xs[i].shape))).reshape(-1)
                    for i, g in zip(differentiable, grads)])

    try:
        return gradcheck(first_derivatives, list(inputs) + [u], eps, atol, rtol, seed + 1)
    except GradcheckError as error:
        raise GradcheckError(f"gradgradcheck (input {len(inputs)} is the upstream gradient "
                             f"u): {error}") from None
