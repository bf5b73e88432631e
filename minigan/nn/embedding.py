"""Embedding: a table of K learned vectors looked up by integer index, as torch.nn.Embedding.

    embedding(input, weight) = weight[input]     weight (K, D), input int (*) -> (*, D)

The lookup is a gather and its gradient a scatter-add into the rows that were picked
(minigan/ops/embedding.py); both are recorded under create_graph, so a gradient penalty
through a class embedding differentiates twice. Initialisation as PyTorch's: N(0, 1).
"""
from .. import backend, creation, validators
from ..ops.embedding import Gather
from ..tensor import Tensor
from . import init
from .module import Module, Parameter


def embedding(input, weight):
    """weight[input]: input int indices of any shape (*), weight (K, D) -> (*, D),
    as torch.nn.functional.embedding (minigan.nn.functional.embedding)."""
    if not isinstance(weight, Tensor) or weight.dtype.kind != "f":
        raise TypeError(f"embedding: weight must be a floating-point minigan.Tensor, got "
                        f"{getattr(weight, 'dtype', type(weight).__name__)}")
    indices = input._data if isinstance(input, Tensor) else input
    if not hasattr(indices, "dtype") or indices.dtype.kind not in "iu":
        raise TypeError(f"embedding: input must be an integer array or Tensor of indices, "
                        f"got {getattr(indices, 'dtype', type(input).__name__)}")
    if weight.ndim != 2:
        raise ValueError(f"embedding: weight must be (num_embeddings, embedding_dim), got "
                         f"shape {weight.shape}")
    k = weight.shape[0]
    # Host indices are range-checked; indices already on the GPU are trusted (reading their
    # min and max would wait for the GPU), as minigan.models.conditional does for labels.
    if backend.device_of(indices) == "cpu" and indices.size and \
            (int(indices.min()) < 0 or int(indices.max()) >= k):
        raise IndexError(f"embedding: indices must be in [0, {k}), got values from "
                         f"{int(indices.min())} to {int(indices.max())}")
    indices = backend.to_device(indices, weight.device)
    out = Gather.apply(weight, indices=indices.reshape(-1))  # (M, D), M = input.size
    return out.reshape(*indices.shape, weight.shape[1])  # (*, D)


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim; weight (K, D) ~ N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = validators.positive_int("Embedding", "num_embeddings",
                                                      num_embeddings)
        self.embedding_dim = validators.positive_int("Embedding", "embedding_dim", embedding_dim)
        self.weight = Parameter(creation.zeros(self.num_embeddings, self.embedding_dim))
        init.normal_(self.weight)

    def forward(self, input):
        return embedding(input, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
