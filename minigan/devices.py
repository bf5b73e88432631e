"""minigan.device: a device object, as torch.device, accepted wherever a device name is.

`minigan.device("cuda:0")`, `minigan.device("cuda", 0)`, `minigan.device("cpu")`. str() of it
is its name, which is how backend.check_device reads it, so tensors, modules and creation
functions take it as they take "cpu" or "cuda". It compares equal to its name too, so
`t.device == minigan.device("cpu")` holds (Tensor.device itself is the name, "cpu").
"""


class device:  # noqa: N801 - PyTorch's name
    __slots__ = ("type", "index")

    def __init__(self, type, index=None):  # noqa: A002 - PyTorch's argument name
        if isinstance(type, device):
            type, index = type.type, type.index
        if not isinstance(type, str):
            raise TypeError(f"device: expected a string such as 'cpu' or 'cuda:0', got "
                            f"{type!r}")
        if ":" in type:
            if index is not None:
                raise ValueError(f"device: give the index in the string or as index, not both "
                                 f"({type!r}, {index!r})")
            type, number = type.split(":", 1)
            if not number.isdigit():
                raise ValueError(f"device: invalid device string {type}:{number!r}")
            index = int(number)
        if type not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda' (with an index), got {type!r}")
        if index is not None and (not isinstance(index, int) or index < 0):
            raise ValueError(f"device: index must be an int >= 0, got {index!r}")
        self.type, self.index = type, index

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"

    def __repr__(self):
        index = "" if self.index is None else f", index={self.index}"
        return f"device(type='{self.type}'{index})"

    def __eq__(self, other):
        if isinstance(other, str):
            try:
                other = device(other)
            except ValueError:
                return False
        return isinstance(other, device) and (self.type, self.index) == (other.type, other.index)

    def __hash__(self):
        return hash((self.type, self.index))
