"""Writing a file whole or not at all: checkpoints, pictures, the metrics log.

A write goes to a temporary file beside its target, named ".NAME.RANDOM<suffix>" (NAME
shortened when the whole would pass the 255-byte limit of a file name), and os.replace
moves it onto the target only once it is complete. os.replace is atomic on POSIX and
Windows, so a reader, a crash or a kill at any moment sees the old file or the new one,
never half of one. A kill can still leave the temporary file behind; remove_leftovers
deletes such files, and only those of the names minigan itself writes, when a run folder
is prepared again.
"""
import contextlib
import os
import re
import tempfile

NAME_MAX = 255  # bytes in one file name on every common file system
RANDOM_PART = 8  # the characters mkstemp adds between prefix and suffix


@contextlib.contextmanager
def atomic_write(path, suffix=".part", durable=False):
    """A binary file object whose bytes replace `path` when the block ends without error.

    On an error the temporary file is removed and `path` is left as it was. durable:
    fsync the bytes before the rename and the folder after it, so that the new file also
    survives a power cut (checkpoints ask for this; pictures need not).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=temporary_prefix(path, suffix), suffix=suffix)
    try:
        os.chmod(tmp, 0o666 & ~umask())  # mkstemp makes the file private; give the usual mode
        with os.fdopen(fd, "wb") as f:
            yield f
            if durable:
                f.flush()
                os.fsync(f.fileno())  # the bytes are on disk before the name points at them
        os.replace(tmp, path)
        if durable:
            sync_folder(folder)
    finally:
        if os.path.exists(tmp):  # only when the write failed: os.replace moved it otherwise
            os.remove(tmp)


def reason(err):
    """An OSError's reason without the errno number and path ("Permission denied")."""
    return err.strerror or str(err)


def temporary_prefix(path, suffix):
    """".NAME." for the temporary file of `path`, NAME cut (at a character, not inside
    one) so that the temporary name fits in NAME_MAX bytes: a valid 254-byte name must not
    fail because of its temporary twin."""
    name = os.path.basename(path)
    room = NAME_MAX - len(".") - len(".") - RANDOM_PART - len(suffix.encode())
    while len(os.fsencode(name)) > room:
        name = name[:-1]
    return f".{name}."


def remove_leftovers(folder, names):
    """Delete the temporary files that writes of `names` (a regular expression for the file
    names minigan writes in `folder`) left when a kill cut them short. Files of any other
    name, even ".x.part" or ".x.tmp", are never touched: they are not minigan's."""
    pattern = re.compile(rf"\.(?:{names})\.[a-z0-9_]+(?:\.tmp|\.part)")
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if pattern.fullmatch(name):
                os.remove(os.path.join(folder, name))


def umask():
    """The process umask (reading it means setting it, so set it straight back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def sync_folder(folder):
    """fsync the folder so the rename itself survives a power cut (POSIX only)."""
    if hasattr(os, "O_DIRECTORY"):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
