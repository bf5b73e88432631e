"""A Ctrl-C while minigan is still loading: one line, no traceback.

`minigan train` spends its first fraction of a second importing NumPy, Pillow and
minigan itself, before cli.main (which turns Ctrl-C into "minigan: interrupted" and exit
status 130) is running. While those imports run, an uncaught KeyboardInterrupt is shown
by this hook as that one line instead of a traceback; Python then ends the process by
SIGINT, as it does for every uncaught Ctrl-C (the shell's status 130). The hook is
installed only for the imports (minigan/__init__.py, cli.py) and taken away after them,
so a program that imports minigan keeps Python's own tracebacks.
"""
import sys

_installed = []  # the hooks that were there before, one per begin() not yet ended


def quiet_interrupt(kind, value, traceback):
    if issubclass(kind, KeyboardInterrupt):
        print("minigan: interrupted", file=sys.stderr)
    else:
        sys.__excepthook__(kind, value, traceback)


def begin():
    _installed.append(sys.excepthook)
    sys.excepthook = quiet_interrupt


def end():
    if _installed:
        sys.excepthook = _installed.pop()
