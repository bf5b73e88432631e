"""softmax and log_softmax along one dimension, as torch.nn.functional's, and their Modules.

softmax(x)_i = exp(x_i - m) / sum_j exp(x_j - m), with m = max_j x_j: subtracting the
maximum changes nothing mathematically and keeps exp from overflowing. It is written with
recorded Tensor ops (exp, sum, division), so it differentiates to any order. Called
without dim, PyTorch picks one (0 for 0-, 1- and 3-D inputs, else 1) and warns; so does
minigan.
"""
import warnings

from ..validators import check_dim
from .contracts import contract, tensor
from .module import Module


def implicit_dim(name, ndim, stacklevel=5):  # (the caller: 5 frames up, past the contract)
    """PyTorch's rule for a softmax called without dim, with its warning."""
    warnings.warn(f"Implicit dimension choice for {name} has been deprecated. Change the call "
                  f"to include dim=X as an argument.", UserWarning, stacklevel=stacklevel)
    return 0 if ndim in (0, 1, 3) else 1


def _shifted(name, x, dim):
    """x - max(x) along dim (the max as a constant: the result does not depend on it)."""
    dim = implicit_dim(name, x.ndim) if dim is None else check_dim(name, dim, x.shape)
    if x.ndim == 0:
        return x - x.detach(), dim
    return x - x.detach().max(axis=dim, keepdims=True), dim


@contract(input=tensor())
def softmax(input, dim=None):
    """exp(x) / sum(exp(x)) along dim, as torch.nn.functional.softmax."""
    shifted, dim = _shifted("softmax", input, dim)
    e = shifted.exp()
    return e / e.sum(dim=dim if input.ndim else None, keepdim=True)


@contract(input=tensor())
def log_softmax(input, dim=None):
    """x - log(sum(exp(x))) along dim, as torch.nn.functional.log_softmax."""
    shifted, dim = _shifted("log_softmax", input, dim)
    return shifted - shifted.exp().sum(dim=dim if input.ndim else None, keepdim=True).log()


class Softmax(Module):
    def __init__(self, dim=None):
        super().__init__()
        self.dim = dim

    def forward(self, x):
        return softmax(x, self.dim)

    def extra_repr(self):
        return f"dim={self.dim}"


class LogSoftmax(Softmax):
    def forward(self, x):
        return log_softmax(x, self.dim)
