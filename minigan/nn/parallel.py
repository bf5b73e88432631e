"""minigan.nn.parallel: data_parallel and DataParallel as PyTorch scripts call them.

PyTorch splits a batch over several GPUs; minigan runs one device per process (several
processes go through minigan.distributed and mpiexec), so both run the module on the one
device it is on, which is what these scripts do on a machine with one GPU or none.
DataParallel keeps PyTorch's state_dict keys ("module.0.weight"), so files move between the
two unchanged.
"""
from .module import Module


def data_parallel(module, inputs, device_ids=None, output_device=None, dim=0,
                  module_kwargs=None):
    """module(*inputs) on the module's device (as torch.nn.parallel.data_parallel on one)."""
    inputs = inputs if isinstance(inputs, tuple) else (inputs,)
    return module(*inputs, **(module_kwargs or {}))


class DataParallel(Module):
    """Wraps `module` as torch.nn.DataParallel does, on one device: forward is module's."""

    def __init__(self, module, device_ids=None, output_device=None, dim=0):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"DataParallel: expected a minigan.nn.Module, got "
                            f"{type(module).__name__}")
        self.module = module
        self.device_ids, self.output_device, self.dim = device_ids, output_device, dim

    def forward(self, *inputs, **kwargs):
        return self.module(*inputs, **kwargs)
