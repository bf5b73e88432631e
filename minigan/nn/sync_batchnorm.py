"""SyncBatchNorm: BatchNorm over the global batch of every rank (as torch.nn.SyncBatchNorm,
and ChainerMN's MultiNodeBatchNormalization).

Under data parallelism each of N ranks holds B/N examples. Plain BatchNorm would normalise
each slice by its own statistics: another function than the single-process step's, and a
noisier one. SyncBatchNorm sums each channel's statistics over the ranks (M_r values per
channel on rank r, M = sum_r M_r), in the same two passes as ops/batchnorm.py:

    forward   mean = sum_r sum(x_r) / M                       (all-reduce of C sums)
              var  = sum_r sum((x_r - mean)^2) / M            (all-reduce of C sums)
              x_hat = (x - mean) / sqrt(var + eps),  out = gamma * x_hat + beta
    backward  grad_x = gamma * inv_std * (g - sum(g) / M - x_hat * sum(g * x_hat) / M)
              with both sums over every rank                  (all-reduce of 2C sums)

grad_x is the whole batch's BatchNorm backward restricted to this rank's rows. grad_gamma
and grad_beta stay this rank's sums: the gradient all-reduce that follows backward
averages them with the other parameters' gradients. Running statistics get the global
mean and unbiased variance, so they are the single-process run's on every rank.
In eval mode, or without a process group of more than one rank, it is plain BatchNorm.
Its backward is not recorded (no create_graph): minigan train's gradient penalties use a
critic without BatchNorm, as the papers do.
"""
from .. import distributed
from ..autograd import Function, is_grad_enabled
from ..backend import xp_of
from ..tensor import Tensor
from ..ops.batchnorm import channel_sum
from .batchnorm import _BatchNorm


class SyncBatchNormFunction(Function):
    """BatchNorm in training mode with statistics over all ranks of `group`."""

    def forward(self, x, weight, bias, running_mean=None, running_var=None, momentum=0.1,
                eps=1e-5, group=None):
        xp = xp_of(x)
        c = x.shape[1]
        self.shape = (1, c) + (1,) * (x.ndim - 2)  # a (C,) vector broadcast over x
        self.group = group
        # M, the values per channel over every rank: a host number, which costs no GPU sync
        self.count = group.host_all_reduce(x.size // c)
        total = channel_sum(x)  # (C,), this rank's sum, then every rank's
        group.all_reduce(total)
        mean = total / self.count
        x_hat = x - mean.reshape(self.shape)  # centred now, normalised in place below
        var = channel_sum(x_hat, x_hat)  # (C,), biased once divided by M
        group.all_reduce(var)
        var /= self.count
        if running_mean is not None:  # in place, with the unbiased variance, as PyTorch
            unbiased = var * (self.count / max(self.count - 1, 1))
            running_mean *= 1 - momentum
            running_mean += momentum * mean.astype(running_mean.dtype, copy=False)
            running_var *= 1 - momentum
            running_var += momentum * unbiased.astype(running_var.dtype, copy=False)
        inv_std = 1 / xp.sqrt(var + eps)  # (C,)
        x_hat *= inv_std.reshape(self.shape)
        self.save_for_backward(x_hat, weight * inv_std)  # x_hat costs one x-sized array
        out = x_hat * weight.reshape(self.shape)
        out += bias.reshape(self.shape)
        return out

    def backward(self, grad_out):
        if is_grad_enabled():
            raise RuntimeError("SyncBatchNorm: its backward cannot be recorded "
                               "(create_graph=True); use BatchNorm, or no BatchNorm, where "
                               "second derivatives are needed")
        x_hat, scale = (t._data for t in self.saved)  # scale = gamma * inv_std, (C,)
        g = grad_out._data
        xp = xp_of(g)
        needs_x, needs_weight, needs_bias = self.needs_input_grad
        grad_bias = channel_sum(g)  # this rank's sum(g), (C,)
        grad_weight = channel_sum(g, x_hat)  # this rank's sum(g * x_hat), (C,)
        grad_x = None
        if needs_x:
            c = grad_bias.shape[0]
            sums = xp.concatenate([grad_bias, grad_weight])  # (2C,): both sums in one call
            self.group.all_reduce(sums)
            # (g - sum(g)/M - x_hat * sum(g * x_hat)/M) * gamma * inv_std, in four passes
            grad_x = x_hat * (sums[c:] / self.count).reshape(self.shape)
            grad_x += (sums[:c] / self.count).reshape(self.shape)
            xp.subtract(g, grad_x, out=grad_x)
            grad_x *= scale.reshape(self.shape)
        return (None if grad_x is None else Tensor(grad_x),
                Tensor(grad_weight) if needs_weight else None,
                Tensor(grad_bias) if needs_bias else None)


class SyncBatchNorm(_BatchNorm):
    """BatchNorm of (N, C, *) whose training statistics cover every rank's batch, as
    torch.nn.SyncBatchNorm; the same parameters, buffers and state_dict keys as
    BatchNorm1d/2d, so checkpoints move between the two."""

    def check_input(self, x):
        if x.ndim < 2 or x.shape[1] != self.num_features:
            raise ValueError(f"{self!r}: expected input (N, {self.num_features}, *), "
                             f"got shape {x.shape}")

    def forward(self, x):
        if not (self.training and distributed.is_initialized() and
                distributed.get_world_size() > 1):
            return super().forward(x)  # eval, or a single process: plain BatchNorm
        self.check_input(x)
        return SyncBatchNormFunction.apply(
            x, self.weight, self.bias, running_mean=self.running_mean._data,
            running_var=self.running_var._data, momentum=self.momentum, eps=self.eps,
            group=distributed.group())

    def extra_repr(self):
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, affine=True, "
                f"track_running_stats=True")  # as PyTorch prints a SyncBatchNorm

    @classmethod
    def convert_sync_batchnorm(cls, module):
        """`module` with every BatchNorm1d/2d in it replaced by a SyncBatchNorm holding the
        same Parameters and buffers (as torch.nn.SyncBatchNorm.convert_sync_batchnorm), so
        optimizers made before the conversion still update them. Returns the module (a new
        one if `module` itself is a BatchNorm)."""
        if isinstance(module, _BatchNorm) and not isinstance(module, cls):
            sync = cls(module.num_features, eps=module.eps, momentum=module.momentum)
            sync.weight, sync.bias = module.weight, module.bias
            sync.register_buffer("running_mean", module.running_mean)
            sync.register_buffer("running_var", module.running_var)
            sync.train(module.training)
            return sync
        for name, child in module._modules.items():
            if child is not None:
                module._modules[name] = cls.convert_sync_batchnorm(child)
        return module
