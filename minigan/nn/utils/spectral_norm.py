"""Spectral normalisation of a weight (Miyato et al. 2018), as torch.nn.utils.spectral_norm.

The layer uses W / sigma(W), where sigma(W) is the largest singular value of W seen as a
matrix (dim `dim` first, every other axis flattened: Conv2d's (C_out, C_in*kH*kW)). sigma
is estimated by power iteration with two unit vectors u (rows) and v (columns) that the
module keeps as buffers and refines at every training forward, in PyTorch's order:

    v <- normalize(W^T u),   u <- normalize(W v)      (under no_grad, `n_power_iterations`
                                                       times, normalize(x) = x / max(|x|, eps))
    sigma = u . (W v)                                  (the gradient flows through W only)

The parameter `weight` becomes `weight_orig`; `weight` is recomputed before each forward by
a forward pre-hook, and state_dict keys are PyTorch's: weight_orig, weight_u, weight_v.
"""
from ... import backend
from ...tensor import Tensor
from ...validators import check_dim, finite_real, integer
from ..conv import Conv2d, ConvTranspose2d
from ..linear import Linear
from ..module import Module


def normalize(x, eps):
    """x / max(||x||_2, eps) for a raw 1-D array, as F.normalize(x, dim=0, eps=eps)."""
    xp = backend.xp_of(x)
    return x / xp.maximum(xp.sqrt(xp.sum(x * x)), eps)


class SpectralNorm:
    """The forward pre-hook: before each forward, module.<name> = <name>_orig / sigma."""

    def __init__(self, name="weight", n_power_iterations=1, dim=0, eps=1e-12):
        self.name, self.n_power_iterations, self.dim, self.eps = name, n_power_iterations, dim, eps

    def reshape_weight_to_matrix(self, weight):
        """The weight as a matrix (shape[dim], everything else): a Tensor op, so the
        gradient reaches weight_orig through it."""
        if self.dim != 0:  # the output axis first, the other axes in their order
            weight = weight.permute(self.dim, *[d for d in range(weight.ndim) if d != self.dim])
        return weight.reshape(weight.shape[0], -1)  # (h, w)

    def compute_weight(self, module, do_power_iteration):
        """weight_orig / sigma, refining u and v in place first when do_power_iteration."""
        weight = getattr(module, self.name + "_orig")
        u, v = getattr(module, self.name + "_u"), getattr(module, self.name + "_v")
        weight_mat = self.reshape_weight_to_matrix(weight)  # (h, w)
        # copies: sigma's backward keeps them, and a later training forward updates the
        # buffers in place (PyTorch clones them for the same reason)
        u_data, v_data = u._data.copy(), v._data.copy()
        if do_power_iteration:
            # on raw arrays, so no graph is recorded (PyTorch runs this under no_grad)
            matrix = weight_mat._data
            for _ in range(self.n_power_iterations):
                v_data = normalize(matrix.T @ u_data, self.eps)  # (w, h) @ (h,) -> (w,)
                u_data = normalize(matrix @ v_data, self.eps)  # (h, w) @ (w,) -> (h,)
            u._data[...] = u_data  # in place, as PyTorch's out=u, out=v
            v._data[...] = v_data
        # u and v are constants here: the gradient of sigma flows through W only
        sigma = Tensor(u_data) @ (weight_mat @ Tensor(v_data))  # (h,) . ((h, w) @ (w,)) -> ()
        return weight / sigma

    def __call__(self, module, args):
        setattr(module, self.name, self.compute_weight(module, module.training))


def _check_arguments(module, name, n_power_iterations, eps):
    where = "spectral_norm"
    if not isinstance(module, Module):
        raise TypeError(f"{where}: expected a minigan.nn.Module, got {type(module).__name__}")
    if not isinstance(name, str):
        raise TypeError(f"{where}: name must be a string, got {name!r}")
    for hook in module._forward_pre_hooks:
        if isinstance(hook, SpectralNorm) and hook.name == name:
            raise RuntimeError(f"{where}: parameter {name!r} of {type(module).__name__} is "
                               f"already spectral-normalised")
    weight = module._parameters.get(name)
    if weight is None:
        found = [k for k, p in module._parameters.items() if p is not None]
        raise ValueError(f"{where}: {type(module).__name__} has no parameter {name!r} "
                         f"(its parameters: {found})")
    if weight.ndim == 0:
        raise ValueError(f"{where}: parameter {name!r} is a scalar; it needs at least one "
                         f"dimension to be seen as a matrix")
    integer(where, "n_power_iterations", n_power_iterations, minimum=1)
    finite_real(where, "eps", eps, above=0)
    return weight


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Spectral-normalise module.<name> in place and return the module, as
    torch.nn.utils.spectral_norm. dim (the output axis) defaults to 0, or 1 for
    ConvTranspose2d, whose weight is (C_in, C_out, kH, kW)."""
    weight = _check_arguments(module, name, n_power_iterations, eps)
    if dim is None:
        dim = 1 if isinstance(module, ConvTranspose2d) else 0
    fn = SpectralNorm(name, int(n_power_iterations), check_dim("spectral_norm", dim,
                                                                 weight.shape), float(eps))
    h, w = fn.reshape_weight_to_matrix(weight).shape
    # u and v start as unit vectors in random directions, drawn as PyTorch does (u first),
    # from minigan's seeded host generator, then moved: the same start on "cpu" and "cuda"
    generator = backend.default_generator("cpu")
    u = normalize(generator.normal((h,), weight.dtype), fn.eps)
    v = normalize(generator.normal((w,), weight.dtype), fn.eps)

    # the registry order of PyTorch's, and so its state_dict order: weight_orig joins the
    # parameters after the others (bias), then the buffers weight_u and weight_v
    del module._parameters[name]
    setattr(module, name + "_orig", weight)
    setattr(module, name, Tensor(weight._data))  # until the first forward, as in PyTorch
    module.register_buffer(name + "_u", Tensor(backend.to_device(u, weight.device)))
    module.register_buffer(name + "_v", Tensor(backend.to_device(v, weight.device)))
    module.register_forward_pre_hook(fn)
    return module


NORMALISED_LAYERS = (Linear, Conv2d, ConvTranspose2d)


def apply_spectral_norm(module, n_power_iterations=1, eps=1e-12):
    """spectral_norm on the weight of every Linear, Conv2d and ConvTranspose2d in module
    (itself included), in the order of module.modules(); returns the module."""
    if not isinstance(module, Module):
        raise TypeError(f"apply_spectral_norm: expected a minigan.nn.Module, got "
                        f"{type(module).__name__}")
    layers = [layer for layer in module.modules() if isinstance(layer, NORMALISED_LAYERS)]
    for layer in layers:  # every check first: a refusal leaves the whole model as it was
        _check_arguments(layer, "weight", n_power_iterations, eps)
    for layer in layers:
        spectral_norm(layer, n_power_iterations=n_power_iterations, eps=eps)
    return module
