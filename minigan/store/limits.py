"""What this machine can hold, asked before a size the user gave is allocated.

A size typed on the command line (--d-steps, sample --n, eval --n) can ask for more memory
or disk than the machine has; NumPy would find out only after minutes of work, or the
kernel's out-of-memory killer would end the process (and others) without a word. These
helpers read what is free now, so that such a size is refused at once, in one line that
names the flag, what it asks for and what is there.
"""
import os
import shutil


class SizeError(MemoryError):
    """A size given by the user that this machine cannot hold; its message names the flag."""


def available_memory():
    """Bytes of memory that can be allocated without swapping: /proc/meminfo's
    MemAvailable on Linux, else the free physical pages; None where neither is known."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024  # reported in KiB
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def free_disk(path):
    """Bytes free for this user on the filesystem that holds `path` (or its nearest
    existing parent folder)."""
    folder = os.path.abspath(path)
    while not os.path.isdir(folder):
        folder = os.path.dirname(folder)
    return shutil.disk_usage(folder).free


def size_text(nbytes):
    """1234567890 -> '1.1 GiB'."""
    for unit in ("bytes", "KiB", "MiB", "GiB", "TiB"):
        if nbytes < 1024 or unit == "TiB":
            return f"{nbytes:.0f} {unit}" if unit == "bytes" else f"{nbytes:.1f} {unit}"
        nbytes /= 1024


def check_fits_memory(flag, nbytes, share=0.5):
    """Raise SizeError (one line naming `flag`) when `nbytes` exceed `share` of the
    memory available now: the rest is for the models, the activations and other work."""
    free = available_memory()
    if free is not None and nbytes > share * free:
        raise SizeError(f"{flag} needs {size_text(nbytes)} at once, more than this machine "
                          f"can spare ({size_text(free)} available); give a smaller {flag.split()[0]}")


def check_fits_disk(flag, nbytes, path):
    """Raise OSError (one line naming `flag` and the folder) when a file of `nbytes` would
    not fit on the disk that holds `path`."""
    free = free_disk(path)
    if nbytes > free:
        raise OSError(f"{flag} makes a file of {size_text(nbytes)}, more than the "
                      f"{size_text(free)} free where {path} goes; give a smaller "
                      f"{flag.split()[0]} or another --out")
