"""`python -m minigan.compat [--bundled-digits] SCRIPT [ARGS]`: run a PyTorch script on minigan.

The script runs as `python SCRIPT ARGS` would run it (as __main__, its folder first on
sys.path, sys.argv[0] its path) with `import torch` and `import torchvision` answered by
minigan (aliases.py). Where the script reaches for something PyTorch has and minigan does
not (a module, a function, a Tensor method, a keyword argument), the run ends with one
line on stderr naming the PyTorch API and the script's line, `FILE:LINE: ...`, and exit
status 1. Any other exception is the script's own and shows its usual traceback.
"""
import argparse
import os
import re
import runpy
import sys
import sysconfig
import traceback

import minigan

from . import aliases

IMPORT_NAME = re.compile(r"cannot import name '(\w+)' from '([\w.]+)'")

MINIGAN_DIR = os.path.dirname(os.path.abspath(minigan.__file__)) + os.sep
LIBRARY_DIRS = tuple(os.path.abspath(sysconfig.get_paths()[key]) + os.sep
                     for key in ("stdlib", "platstdlib", "purelib", "platlib"))


def parse(argv):
    parser = argparse.ArgumentParser(
        prog="python -m minigan.compat",
        description="Run a PyTorch script on minigan: `import torch` and `import torchvision` "
                    "resolve to minigan and its torchvision subset.")
    parser.add_argument("--bundled-digits", action="store_true",
                        help="torchvision's MNIST without a local copy gives minigan's bundled "
                             "5,000 digits instead of downloading")
    parser.add_argument("script", help="the PyTorch script to run")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="the script's own arguments")
    return parser.parse_args(argv)


def main(argv=None):
    options = parse(sys.argv[1:] if argv is None else argv)
    script = os.path.abspath(options.script)
    if not os.path.isfile(script):
        print(f"python -m minigan.compat: no such script: {options.script}", file=sys.stderr)
        return 2
    from .torchvision import datasets
    datasets.BUNDLED_DIGITS = options.bundled_digits
    aliases.install()
    sys.argv = [options.script] + options.args
    sys.path.insert(0, os.path.dirname(script))
    try:
        runpy.run_path(options.script, run_name="__main__")  # argv[0] as typed, as python
    except SystemExit:
        raise
    except BaseException as error:  # noqa: B036 (KeyboardInterrupt: the usual traceback)
        line = explain(error)
        if line is None:
            raise
        print(line, file=sys.stderr)
        return 1
    return 0


def explain(error):
    """One line `FILE:LINE: what PyTorch API minigan lacks` for an error that is about
    minigan's coverage of PyTorch, else None (the script's own error)."""
    where = script_line(error.__traceback__)
    if isinstance(error, (aliases.Unsupported, aliases.UnsupportedModule,
                          aliases.CompatError)):
        return f"{where}: {error}"
    imported = IMPORT_NAME.match(str(error)) if isinstance(error, ImportError) else None
    if imported and aliases.minigan_name(imported.group(2)) is not None:  # from torch import X
        api = f"{imported.group(2)}.{imported.group(1)}"
        return f"{where}: {api} is a PyTorch API that minigan does not have"
    if isinstance(error, AttributeError) and error.obj is not None:
        api = pytorch_name(error.obj, error.name)
        if api is not None:
            return f"{where}: {api} is a PyTorch API that minigan does not have"
    if isinstance(error, TypeError) and "unexpected keyword argument" in str(error) \
            and _raised_by_call_from_script(error.__traceback__) \
            and _is_minigans(str(error).split("(")[0]):
        return f"{where}: {error} (a PyTorch argument that minigan does not have)"
    return None


def pytorch_name(obj, attr):
    """What the script asked for, as PyTorch names it (`torch.Tensor.attr`), when `obj` is
    minigan's (a Tensor, a Module, an optimizer, ...); None for the script's own objects."""
    if isinstance(obj, minigan.Tensor):
        return f"torch.Tensor.{attr}"
    if isinstance(obj, minigan.nn.Module):  # the script's subclass too: name what it lacks
        return f"torch.nn.Module.{attr} (or an attribute the script never set)"
    cls = type(obj)
    if cls.__module__ == "minigan" or cls.__module__.startswith("minigan."):
        module = cls.__module__.replace("minigan.compat.", "").replace("minigan", "torch", 1)
        return f"{module.rsplit('.', 1)[0]}.{cls.__name__}.{attr}"
    return None


def _is_minigans(qualname):
    """Whether a callable named `qualname` in a TypeError ("Conv2d.__init__", "leaky_relu",
    "Tensor.view") is minigan's: its first part is a name of minigan's public modules."""
    first = qualname.strip().split(".")[0]
    return any(hasattr(module, first) for module in (
        minigan, minigan.nn, minigan.nn.functional, minigan.nn.init, minigan.optim,
        minigan.utils.data, minigan.autograd))


def _is_the_scripts(filename):
    """A file of the script's (not minigan's, not Python's own library or site-packages)."""
    if filename.startswith("<"):  # <frozen runpy>, <string>
        return False
    path = os.path.abspath(filename)
    return not path.startswith((MINIGAN_DIR, *LIBRARY_DIRS))


def script_line(tb):
    """`FILE:LINE` of the innermost frame of the traceback that is the script's (or one of
    its helper modules'), not minigan's or a library's."""
    found = "<script>"
    for frame, lineno in traceback.walk_tb(tb):
        filename = frame.f_code.co_filename
        if not _is_the_scripts(filename):
            continue
        relative = os.path.relpath(filename)
        found = f"{filename if relative.startswith('..') else relative}:{lineno}"
    return found


def _raised_by_call_from_script(tb):
    """True when the innermost frame is the script's: the call itself failed to bind its
    arguments, rather than failing somewhere inside minigan."""
    frames = list(traceback.walk_tb(tb))
    return _is_the_scripts(frames[-1][0].f_code.co_filename)
