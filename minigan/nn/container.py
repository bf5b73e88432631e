"""Sequential (modules applied in order, named "0", "1", ...) and Flatten, as torch.nn."""
from ..validators import check_dim, is_int
from .module import Module


class Sequential(Module):
    """x -> modules[0](x) -> modules[1](...) -> ...; state_dict keys "0.weight", "1.bias", ..."""

    def __init__(self, *modules):
        super().__init__()
        for i, module in enumerate(modules):
            if not isinstance(module, Module):
                raise TypeError(f"Sequential: argument {i} is a {type(module).__name__}, "
                                f"not a minigan.nn.Module")
            self._modules[str(i)] = module

    def forward(self, x):
        for module in self._modules.values():
            x = module(x)
        return x

    def append(self, module):
        self._modules[str(len(self._modules))] = module
        return self

    def __getitem__(self, index):
        modules = list(self._modules.values())
        return Sequential(*modules[index]) if isinstance(index, slice) else modules[index]

    def __len__(self):
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class Flatten(Module):
    """(N, C, H, W) -> (N, C*H*W): dims start_dim..end_dim merged into one."""

    def __init__(self, start_dim=1, end_dim=-1):
        super().__init__()
        for name, dim in (("start_dim", start_dim), ("end_dim", end_dim)):
            if not is_int(dim):
                raise TypeError(f"Flatten: {name} must be an int, got {dim!r}")
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x):
        start = check_dim("Flatten", self.start_dim, x.shape)
        end = check_dim("Flatten", self.end_dim, x.shape)
        if start > end:
            raise ValueError(f"Flatten: start_dim {self.start_dim} comes after end_dim "
                             f"{self.end_dim} for an input of shape {x.shape}")
        return x.reshape(*x.shape[:start], -1, *x.shape[end + 1:])  # (N, C*H*W) by default
