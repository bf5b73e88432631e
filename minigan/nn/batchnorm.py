"""BatchNorm1d and BatchNorm2d layers (as torch.nn): F.batch_norm with its state.

Each holds weight (gamma, starts at 1) and bias (beta, starts at 0) as Parameters and
running_mean (0) and running_var (1) as buffers, so state_dict has PyTorch's keys.
In training mode (Module.train()) a layer normalises with the batch's statistics and
updates the running ones in place; in eval mode (Module.eval()) it uses the running ones.
PyTorch's num_batches_tracked is kept only with momentum=None, where the running statistics
are the cumulative average of every batch so far (momentum 1/count at the count-th batch);
otherwise load_state_dict ignores it.
"""
from .. import creation, validators
from . import functional as F
from .module import Module, Parameter


class _BatchNorm(Module):
    """What both layers share; each subclass checks the input shapes it accepts."""

    def __init__(self, num_features, eps=1e-5, momentum=0.1):
        super().__init__()
        layer = type(self).__name__
        num_features = validators.integer(layer, "num_features", num_features, minimum=1)
        if momentum is not None:  # None: PyTorch's cumulative average (num_batches_tracked)
            try:
                momentum = validators.fraction(layer, "momentum", momentum)
            except ValueError:
                raise ValueError(f"{layer}: momentum must be a number in [0, 1] or None, got "
                                 f"{momentum!r}") from None
        eps = validators.finite_real(layer, "eps", eps, minimum=0)
        self.num_features, self.eps, self.momentum = num_features, eps, momentum
        self.weight = Parameter(creation.ones(num_features))
        self.bias = Parameter(creation.zeros(num_features))
        self.register_buffer("running_mean", creation.zeros(num_features))
        self.register_buffer("running_var", creation.ones(num_features))
        if momentum is None:  # the cumulative average counts the batches, as PyTorch's
            self.register_buffer("num_batches_tracked", creation.zeros((), dtype="int64"))

    def check_input(self, x):
        raise NotImplementedError

    def forward(self, x):
        self.check_input(x)
        momentum = self.momentum
        if momentum is None:  # batch k weighs 1/k: the mean of all batches (eval: unused)
            momentum = 0.0
            if self.training:
                count = self.num_batches_tracked._data
                count += 1  # (in place: the buffer is the array; int() waits for a GPU)
                momentum = 1.0 / int(count)
        return F.batch_norm(x, self.running_mean, self.running_var, self.weight, self.bias,
                            training=self.training, momentum=momentum, eps=self.eps)

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine=True, "
                f"bias=True, track_running_stats=True")  # as PyTorch 2.13 prints it


class BatchNorm1d(_BatchNorm):
    """Per-feature normalisation of (N, C) or (N, C, L), as torch.nn.BatchNorm1d."""

    def check_input(self, x):  # (the channels: F.batch_norm's contract)
        if x.ndim not in (2, 3):
            raise ValueError(f"{self!r}: expected 2D or 3D input (N, C) or (N, C, L), got "
                             f"{x.ndim}D input of shape {x.shape}")


class BatchNorm2d(_BatchNorm):
    """Per-channel normalisation of images (N, C, H, W), as torch.nn.BatchNorm2d."""

    def check_input(self, x):  # (the channels: F.batch_norm's contract)
        if x.ndim != 4:
            raise ValueError(f"{self!r}: expected 4D input (N, C, H, W), got {x.ndim}D input "
                             f"of shape {x.shape}")
