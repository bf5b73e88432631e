"""Linear: y = x W^T + b (as torch.nn.Linear), weight (out_features, in_features)."""
from .. import creation, validators
from . import functional as F
from . import init
from .module import Module, Parameter


class Linear(Module):
    """A fully connected layer: (*, in_features) -> (*, out_features)."""

    def __init__(self, in_features, out_features, bias=True):
        super().__init__()
        self.in_features = validators.integer("Linear", "in_features", in_features, minimum=1)
        self.out_features = validators.integer("Linear", "out_features", out_features, minimum=1)
        self.weight = Parameter(creation.zeros(out_features, in_features))
        self.bias = Parameter(creation.zeros(out_features)) if bias else None
        init.default_weight_and_bias_(self.weight, self.bias)

    def forward(self, x):  # (F.linear's contract checks x against the weight)
        return F.linear(x, self.weight, self.bias)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")
