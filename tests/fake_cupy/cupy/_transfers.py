"""Every copy between host and device the stand-in sees, counted and located.

A device-to-host copy is `cupy.asnumpy`, `ndarray.get()`, and what CuPy does through them:
`float()`, `int()`, `bool()`, `.item()`, `.tolist()`, printing, pickling. Calls whose output
size depends on the data (`nonzero`, a boolean mask as an index, `unique`) read a count
back from the GPU before they return, so they are counted as device-to-host copies too.
A host-to-device copy is `cupy.asarray`/`cupy.array` of host data, or host data written
into (or used as an index of) a device array. Each record keeps the first caller outside
the stand-in, so a failing test can say which line copied.
"""
import os
import sys

_HERE = os.path.dirname(os.path.abspath(__file__))


class Transfers:
    """Counts of copies in each direction since the last reset, with their call sites."""

    def __init__(self):
        self.reset()

    def reset(self):
        self.device_to_host = 0
        self.host_to_device = 0
        self.log = []  # (direction, what, "file:line in function")

    def record(self, direction, what):
        if direction == "device_to_host":
            self.device_to_host += 1
        else:
            self.host_to_device += 1
        self.log.append((direction, what, _caller()))

    def sites(self, direction="device_to_host"):
        """One line per copy in `direction`: what it was and who made it."""
        return [f"{what} at {site}" for d, what, site in self.log if d == direction]


def _caller():
    """The first frame outside the stand-in: the line that asked for the copy."""
    frame = sys._getframe(2)
    while frame is not None and frame.f_code.co_filename.startswith(_HERE):
        frame = frame.f_back
    if frame is None:
        return "?"
    return f"{frame.f_code.co_filename}:{frame.f_lineno} in {frame.f_code.co_name}"


TRANSFERS = Transfers()
record = TRANSFERS.record
