"""Writing a file whole or not at all: checkpoints, pictures, the metrics log.

A write goes to a temporary file beside its target, named ".NAME.RANDOM<suffix>", and
os.replace moves it onto the target only once it is complete. os.replace is atomic on
POSIX and Windows, so a reader, a crash or a kill at any moment sees the old file or the
new one, never half of one. A kill can still leave the temporary file behind;
remove_leftovers deletes such files when a run folder is prepared again.
"""
import contextlib
import os
import tempfile

LEFTOVER_SUFFIXES = (".tmp", ".part")  # checkpoints use ".tmp", everything else ".part"


@contextlib.contextmanager
def atomic_write(path, suffix=".part", durable=False):
    """A binary file object whose bytes replace `path` when the block ends without error.

    On an error the temporary file is removed and `path` is left as it was. durable:
    fsync the bytes before the rename and the folder after it, so that the new file also
    survives a power cut (checkpoints ask for this; pictures need not).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(path)}.", suffix=suffix)
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


def remove_leftovers(folder):
    """Delete the temporary files that writes into `folder` cut short by a kill left."""
    if os.path.isdir(folder):
        for name in os.listdir(folder):
            if name.startswith(".") and name.endswith(LEFTOVER_SUFFIXES):
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
