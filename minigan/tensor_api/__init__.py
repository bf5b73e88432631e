"""The rest of PyTorch's tensor-level API, built on the core Tensor (tensor.py) and the ops.

    reductions.py  sum, mean, max, any, all as Tensor methods (dim= and axis= names)
    methods.py     squeeze, expand, repeat, clone, norm, std, clamp, type, cpu, ... as methods
    inplace.py     fill_, mul_, add_, clamp_, copy_, normal_, t[i] = v: in-place writes, the
                   version counter and their autograd rules
    functions.py   minigan.sum(x), minigan.full(...), stack, zeros_like, ...: torch's functions
    devices.py     minigan.device, accepted wherever a device name is
    legacy.py      FloatTensor, LongTensor, ..., Variable: the names old tutorials use
The first three are base classes of Tensor; nothing here is imported eagerly by this file.
"""
