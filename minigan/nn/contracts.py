"""The argument contracts of minigan.nn.functional: what each F function accepts, declared
once beside its definition as data, and one checker that enforces them before the body
runs (as Chainer's check_type_forward). A function's body then reads as its algorithm.

    @contract(weight=tensor("out_features in_features", nonempty=True),
              x=tensor("* in_features"), bias=tensor("out_features", optional=True),
              same_dtype=True)
    def linear(x, weight, bias=None): ...

A shape is a pattern of dimension names, matched in the order the contract lists the
arguments: a name takes the size it first meets and must have it wherever it appears again;
a number is that size; `*` is any number of dimensions (the same ones wherever `*` appears
again); `[N]` is a leading dimension that may be absent (then absent for every argument
that names it). Numbers go through validators.py, which returns them normalised (an int as
a pair). Checks a pattern cannot say (a convolution with no output) are `rules`. Every
error names the function, the argument (the first one is `input`, as PyTorch calls it),
what was wrong and what was expected. A first reading can skip this file.
"""
import functools
import inspect

from .. import backend
from ..tensor import Tensor

KINDS = {"f": "a floating-point tensor (float32 or float64)",
         "fiu": "a floating-point or integer tensor",
         "fiub": "a tensor of numbers or bools"}
ABSENT = "absent"  # the size of an optional dimension `[N]` that a shape leaves out


def contract(*, same_dtype=False, rules=(), **specs):
    """Check a function's arguments against `specs` (argument name -> tensor(), indices()
    or number()) before each call, and pass the checked values on. same_dtype: every
    tensor argument has the first one's dtype. rules: functions of the checked arguments
    (a dict) that return an error message, or None when all is well."""
    def decorate(fn):
        checker = Contract(fn, specs, same_dtype, rules)

        @functools.wraps(fn)
        def checked(*args, **kwargs):
            try:
                values = checker.check(args, kwargs)
            except Exception as err:
                err.broken_contract = checker.name  # Module.__call__ adds the layer's name
                raise
            return fn(**values)

        checked.contract = checker  # for tests and readers: F.linear.contract.specs
        return checked
    return decorate


class Contract:
    """The specs of one function, and the checker that applies them to one call."""

    def __init__(self, fn, specs, same_dtype, rules):
        params = inspect.signature(fn).parameters
        self.name, self.params = fn.__name__, list(params)
        self.defaults = {k: p.default for k, p in params.items() if p.default is not p.empty}
        self.required = [k for k in params if k not in self.defaults]
        unknown = set(specs) - set(params)
        assert not unknown, f"{self.name}: the contract names no argument {unknown}"
        self.specs, self.same_dtype, self.rules = specs, same_dtype, rules
        self.tensor_args = [k for k in params if isinstance(specs.get(k), TensorSpec)]

    def shown(self, arg):
        """An argument's name in messages: the first is `input`, as PyTorch names it."""
        return "input" if arg == self.params[0] else arg

    def check(self, args, kwargs):
        """The call's arguments by name, checked and normalised; raises on the first fault."""
        if len(args) > len(self.params):
            raise TypeError(f"{self.name}() takes {len(self.params)} arguments but "
                            f"{len(args)} were given")
        values = dict(self.defaults)
        values.update(zip(self.params, args))
        for key in kwargs:
            if key not in self.params or key in self.params[:len(args)]:
                raise TypeError(f"{self.name}() got an unexpected or repeated argument {key!r}")
        values.update(kwargs)
        if len(values) < len(self.params):
            missing = [p for p in self.required if p not in values]
            raise TypeError(f"{self.name}() missing required argument {missing[0]!r}")
        sizes = {}  # dimension name -> (size, the argument it came from)
        for arg, spec in self.specs.items():
            values[arg] = spec.check(self, arg, values[arg], values, sizes)
        tensors = [(arg, values[arg]) for arg in self.tensor_args  # the first argument first
                   if values[arg] is not None]
        self.check_devices_and_dtypes(tensors)
        self.check_values(tensors)
        for rule in self.rules:
            message = rule(values)
            if message:
                raise ValueError(f"{self.name}: {message}")
        return values

    def check_devices_and_dtypes(self, tensors):
        """One device for all tensors (the ops' Function.apply checks its own inputs; this
        also covers what reaches an op as a plain array, such as running statistics), and
        with same_dtype one dtype, the first tensor's."""
        first, x = tensors[0] if tensors else (None, None)
        for arg, t in tensors[1:]:
            if type(t._data) is not type(x._data) and t.device != x.device:  # (fast: same type)
                raise backend.DeviceError(f"{self.name}: {self.shown(first)} is on "
                                          f"'{x.device}' but {arg} is on '{t.device}'")
            if self.same_dtype and t.dtype != x.dtype:
                raise TypeError(f"{self.name}: {self.shown(first)} is {x.dtype} but {arg} is "
                                f"{t.dtype}; they must have the same dtype (convert one with "
                                f".to(dtype))")

    def check_values(self, tensors):
        """Every element of the tensors declared `within` (low, high) in that interval, NaN
        refused, as PyTorch's BCE checks its probabilities. One min and max per tensor
        (NaN propagates through both), and one answer read back for all: on a GPU that
        waits for the device (PyTorch's CUDA kernel asserts on the device instead)."""
        bounded = [(arg, t, self.specs[arg].within) for arg, t in tensors
                   if self.specs[arg].within is not None]
        if not bounded or bool(all_within(bounded)):  # (the common case: nothing bounded)
            return
        arg, _, (low, high) = next(b for b in bounded if not bool(all_within([b])))
        raise ValueError(f"{self.name}: all elements of {self.shown(arg)} should be between "
                         f"{low} and {high} (and none NaN), as for PyTorch")


def all_within(bounded):
    """A 0-d array (or a bool): every tensor's elements within its (low, high)."""
    ok = True
    for _, t, (low, high) in bounded:
        a = t._data
        if a.size:
            ok = ok & (a.min() >= low) & (a.max() <= high)
    return ok


# ------------------------------------------------------------------------- the specs
class TensorSpec:
    """A Tensor argument: its dtype kinds, its shape pattern, whether it may be None or
    empty, the interval its values must lie in; from_data: a number or array given
    instead becomes a Tensor beside the first argument (a loss's target)."""

    def __init__(self, shape=None, kinds="f", optional=False, nonempty=False, within=None,
                 from_data=False):
        self.pattern = Pattern(shape) if shape is not None else None
        self.kinds, self.optional, self.nonempty = kinds, optional, nonempty
        self.within, self.from_data = within, from_data

    def check(self, contract, arg, value, values, sizes):
        if value is None and self.optional:
            return None
        if self.from_data and not isinstance(value, Tensor):
            first = values[contract.params[0]]
            value = first._operand(value, first.dtype)
        if not isinstance(value, Tensor):
            raise TypeError(f"{contract.name}: {contract.shown(arg)} must be a minigan.Tensor, "
                            f"got {type(value).__name__}")
        if value._data.dtype.kind not in self.kinds:
            raise TypeError(f"{contract.name}: {contract.shown(arg)} must be "
                            f"{KINDS[self.kinds]}, got dtype {value.dtype}")
        if self.pattern is not None:
            self.pattern.match(contract, arg, value._data.shape, sizes)
        if self.nonempty and value._data.size == 0:
            shown = contract.shown(arg)
            batch = self.pattern is not None and "N" in self.pattern.names
            if not batch or 0 in value.shape[1:]:  # a batch of N = 0 is fine, as in PyTorch
                raise ValueError(f"{contract.name}: {shown} of shape {value.shape} is empty: "
                                 f"every dimension{' but the batch N' if batch else ''} must "
                                 f"be at least 1")
        return value


class IndexSpec:
    """Integer indices, as a Tensor or an array, passed on as the array: their shape
    pattern, their dtypes (by default any integer), and the dimension their values must be
    below; host_only: indices already on the GPU are trusted (reading their min and max
    would wait for the GPU)."""

    def __init__(self, shape=None, below=None, dtypes=None, host_only=False):
        self.pattern = Pattern(shape) if shape is not None else None
        self.below, self.dtypes, self.host_only = below, dtypes, host_only

    def check(self, contract, arg, value, values, sizes):
        shown = contract.shown(arg)
        array = value._data if isinstance(value, Tensor) else value
        dtype = getattr(array, "dtype", None)
        if dtype is None or dtype.kind not in "iu" or \
                (self.dtypes is not None and dtype.name not in self.dtypes):
            allowed = f" ({' or '.join(self.dtypes)})" if self.dtypes else ""
            raise TypeError(f"{contract.name}: {shown} must be an integer array or Tensor of "
                            f"indices{allowed}, got {dtype or type(value).__name__}")
        if self.pattern is not None:
            self.pattern.match(contract, arg, array.shape, sizes)
        if self.below is not None and array.size and \
                not (self.host_only and backend.device_of(array) == "cuda"):
            k, (low, high) = sizes[self.below][0], (int(array.min()), int(array.max()))
            if low < 0 or high >= k:
                raise IndexError(f"{contract.name}: {shown} indices must be in [0, {k}), got "
                                 f"values from {low} to {high}")
        return array


class NumberSpec:
    """A number (or pair, or mode) checked and normalised by a validators.py function:
    check(where, arg, value, *the values of the arguments in `needs`, **options)."""

    def __init__(self, check, *needs, **options):
        self.check_value, self.needs, self.options = check, needs, options

    def check(self, contract, arg, value, values, sizes):
        return self.check_value(contract.name, arg, value, *(values[n] for n in self.needs),
                                **self.options)


tensor, indices, number = TensorSpec, IndexSpec, NumberSpec  # as contracts are written


# ----------------------------------------------------------------------- shape patterns
class Pattern:
    """A shape pattern such as "N C H W", "* in_features" or "[N] K" (see the module
    docstring), matched against shapes with the sizes earlier arguments fixed."""

    def __init__(self, text):
        self.tokens = text.split()
        self.optional = self.tokens[0][1:-1] if self.tokens[:1] and \
            self.tokens[0].startswith("[") else None
        if self.optional:
            self.tokens[0] = self.optional
        self.names = set(self.tokens)
        self.plain = not self.optional and "*" not in self.names
        assert self.tokens.count("*") <= 1 and not (self.optional and "*" in self.names), text

    def match(self, contract, arg, shape, sizes):
        """Bind the pattern's names to `shape` in `sizes`, or raise ValueError naming the
        sizes expected and the argument each came from."""
        bound = self.bind(shape, sizes)
        if bound is None:
            arg = contract.shown(arg)
            used = [n for n in dict.fromkeys(self.tokens) if n in sizes]
            origins = {}
            for n in used:
                origins.setdefault(sizes[n][1], []).append(n)
            why = " and ".join(
                f"{source[0]} of shape {source[1]}" +
                (" (" + ", ".join(f"no {n}" if sizes[n][0] == ABSENT else f"{n} = {sizes[n][0]}"
                         for n in names if n != "*") + ")"
                 if names != ["*"] else "")
                for source, names in origins.items())
            raise ValueError(f"{contract.name}: {arg} must have shape {self.text(sizes)}, "
                             f"got {tuple(shape)}" + (f", to match {why}" if why else ""))
        if bound:
            source = (contract.shown(arg), shape)  # named in later arguments' errors
            for name, size in bound.items():
                sizes[name] = (size, source)

    def bind(self, shape, sizes):
        """{name: size} for the names this shape fixes anew, or None if it does not fit."""
        tokens = self.tokens
        if self.plain:  # names and numbers only (the common case)
            if len(shape) != len(tokens):
                return None
            new = {}
            for token, size in zip(tokens, shape):
                expected = new[token] if token in new else sizes.get(token, (None,))[0]
                if expected is None and token.isdigit():
                    expected = int(token)
                if expected is None:
                    new[token] = size
                elif expected != size:
                    return None
            return new
        if self.optional:
            known = sizes.get(self.optional, (None,))[0]
            present = len(shape) == len(tokens) if known is None else known != ABSENT
            if not present:
                tokens = tokens[1:]
        if "*" in tokens:
            star = tokens.index("*")
            extra = len(shape) - len(tokens) + 1  # the dimensions * covers
            if extra < 0:
                return None
            dims = list(shape[:star]) + [shape[star:star + extra]] + list(shape[star + extra:])
        elif len(shape) != len(tokens):
            return None
        else:
            dims = list(shape)
        new = {self.optional: ABSENT} if len(tokens) < len(self.tokens) and \
            self.optional not in sizes else {}
        for token, size in zip(tokens, dims):
            expected = int(token) if token.isdigit() else \
                new.get(token, sizes.get(token, (None,))[0])
            if expected is None:
                new[token] = size
            elif expected != size:
                return None
        return new

    def text(self, sizes):
        """The shapes this pattern accepts now, as "(N, 16, H, W)" or "(N, K) or (K,)"."""
        def spell(tokens):
            dims = []
            for token in tokens:
                size = sizes.get(token, (None,))[0]
                if size is None:
                    dims.append(token)
                elif token == "*":
                    dims.extend(str(d) for d in size)
                else:
                    dims.append(str(size))
            return "(" + ", ".join(dims) + ("," if len(dims) == 1 else "") + ")"
        if not self.optional:
            return spell(self.tokens)
        known = sizes.get(self.optional, (None,))[0]
        if known == ABSENT:
            return spell(self.tokens[1:])
        if known is not None:
            return spell(self.tokens)
        return f"{spell(self.tokens)} or {spell(self.tokens[1:])}"
