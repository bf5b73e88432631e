"""Dropout and Dropout2d, as torch.nn's: in training, zero each element (or each whole
channel) with probability p and scale the survivors by 1 / (1 - p), so the expected output
equals the input; in eval mode, the identity.

The mask is drawn from minigan's generator on the input's device (seeded by
minigan.manual_seed), not from PyTorch's: the same seed gives different masks in the two
engines, with the same distribution. out = x * mask is one recorded product, so the
gradient is mask * grad_out, to any order.
"""
from .. import backend, validators
from ..tensor import Tensor
from .contracts import contract, number, tensor
from .module import Module


def _dropped(x, p, training, inplace, mask_shape):
    """x * mask, mask of `mask_shape` (broadcast over x): 0 with probability p, else
    1 / (1 - p)."""
    if not training or p == 0:
        return x
    generator = backend.default_generator(x.device)
    keep = generator.uniform(mask_shape, x.dtype) >= p  # True with probability 1 - p
    scale = 0.0 if p == 1 else 1.0 / (1.0 - p)
    mask = Tensor(keep.astype(x.dtype) * x.dtype.type(scale))  # (mask_shape), x's dtype
    return x.mul_(mask) if inplace else x * mask


@contract(input=tensor(), p=number(validators.fraction))
def dropout(input, p=0.5, training=True, inplace=False):
    """Each element zeroed with probability p, the rest scaled by 1 / (1 - p), as
    torch.nn.functional.dropout."""
    return _dropped(input, p, training, inplace, input.shape)


@contract(input=tensor("[N] C H W"), p=number(validators.fraction))
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Each channel of (N, C, H, W) (or (C, H, W)) zeroed as a whole with probability p, as
    torch.nn.functional.dropout2d."""
    mask_shape = input.shape[:-2] + (1, 1)  # one draw per channel, broadcast over H and W
    return _dropped(input, p, training, inplace, mask_shape)


class Dropout(Module):
    def __init__(self, p=0.5, inplace=False):
        super().__init__()
        self.p, self.inplace = validators.fraction("Dropout", "p", p), bool(inplace)

    def forward(self, x):
        return dropout(x, self.p, self.training, self.inplace)

    def extra_repr(self):
        return f"p={self.p}, inplace={self.inplace}"


class Dropout2d(Dropout):
    def forward(self, x):
        return dropout2d(x, self.p, self.training, self.inplace)
