"""`import torch` answered by minigan: an import hook that maps PyTorch's module names.

`torch.X.Y` is minigan's module `minigan.X.Y` (torch.utils.data is minigan.utils.data,
torch.nn.functional is minigan.nn.functional, ...), and `torchvision.*` is the small
subset in minigan/compat/torchvision/. Each is handed to the script as a facade: a module
named as PyTorch names it whose attributes are minigan's objects themselves (so
`torch.nn.Module is minigan.nn.Module`), and whose missing names raise `Unsupported`,
an AttributeError naming the PyTorch API, instead of an error about minigan's modules.
Real torch is never imported while the hook is installed: the finder comes first.
"""
import importlib
import importlib.abc
import importlib.util
import sys
import types

import minigan

ROOTS = {"torch": "minigan", "torchvision": "minigan.compat.torchvision"}
MARKER = "__minigan__"  # set on every facade: scripts and tests can tell which engine runs


class Unsupported(AttributeError):
    """A PyTorch API the script uses that minigan does not have."""

    def __init__(self, api, detail=""):
        self.api = api
        super().__init__(f"{api} is a PyTorch API that minigan does not have{detail}")


class CompatError(RuntimeError):
    """A problem the compat layer explains in one line (e.g. a dataset it cannot provide)."""


class UnsupportedModule(ModuleNotFoundError):
    """A PyTorch module the script imports that minigan does not have."""

    def __init__(self, api):
        self.api = api
        super().__init__(f"{api} is a PyTorch module that minigan does not have", name=api)


def minigan_name(name):
    """The minigan module answering the PyTorch module `name`, or None if not a mapped one."""
    root, _, rest = name.partition(".")
    if root not in ROOTS:
        return None
    return ROOTS[root] + ("." + rest if rest else "")


class Facade(types.ModuleType):
    """The module `name` (a PyTorch name) showing the attributes of minigan's `target`."""

    def __init__(self, name, target):
        super().__init__(name, getattr(target, "__doc__", None))
        object.__setattr__(self, "_target", target)
        object.__setattr__(self, MARKER, minigan.__version__)

    def __getattr__(self, attr):
        if attr.startswith("__") and attr.endswith("__"):  # __version__, or a quiet probe
            return getattr(self._target, attr)  # (__wrapped__...): a plain AttributeError
        name = f"{self.__name__}.{attr}"
        try:
            value = getattr(self._target, attr)
        except AttributeError:
            value = None
        if isinstance(value, types.ModuleType) or value is None:
            module = _module_or_none(name)  # torch.nn, torch.backends.cudnn, ...
            if module is not None:
                return module
        if value is None and not hasattr(self._target, attr):
            raise Unsupported(name)
        return value

    def __dir__(self):
        return sorted(set(dir(self._target)) | set(self.__dict__))


def _module_or_none(name):
    """The facade of the PyTorch module `name`, or None where minigan has no such module."""
    try:
        return importlib.import_module(name)
    except UnsupportedModule:
        return None


class _Loader(importlib.abc.Loader):
    def __init__(self, target):
        self.target = target

    def create_module(self, spec):
        return Facade(spec.name, self.target)

    def exec_module(self, module):
        pass  # the facade is complete when made


class TorchFinder(importlib.abc.MetaPathFinder):
    """Finds `torch`, `torch.*`, `torchvision` and `torchvision.*` in minigan."""

    def find_spec(self, fullname, path=None, target=None):
        name = minigan_name(fullname)
        if name is None:
            return None
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name and (name == error.name or name.startswith(error.name + ".")):
                raise UnsupportedModule(fullname) from None
            raise  # a module minigan has failed to import something else: a real bug
        spec = importlib.util.spec_from_loader(fullname, _Loader(module), is_package=True)
        spec.submodule_search_locations = []  # a package: `import torch.nn.functional` works
        return spec


FINDER = TorchFinder()


def install():
    """Answer `import torch`/`torchvision` with minigan from now on, in this process."""
    loaded = [name for name in sys.modules if minigan_name(name) is not None
              and not isinstance(sys.modules[name], Facade)]
    if loaded:
        raise RuntimeError(f"minigan.compat: {loaded[0]} (the real one) is already imported in "
                           f"this process; run the script with python -m minigan.compat")
    if FINDER not in sys.meta_path:
        sys.meta_path.insert(0, FINDER)


def uninstall():
    """Undo install(): remove the finder and the facades it made."""
    if FINDER in sys.meta_path:
        sys.meta_path.remove(FINDER)
    for name in [n for n, m in sys.modules.items() if isinstance(m, Facade)]:
        del sys.modules[name]
