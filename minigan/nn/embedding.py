"""Embedding: a table of K learned vectors looked up by integer index, as torch.nn.Embedding.

    embedding(input, weight) = weight[input]     weight (K, D), input int (*) -> (*, D)

The lookup is a gather and its gradient a scatter-add into the rows that were picked
(minigan/ops/embedding.py); both are recorded under create_graph, so a gradient penalty
through a class embedding differentiates twice. Initialisation as PyTorch's: N(0, 1).
"""
from .. import backend, creation, validators
from ..ops.embedding import Gather
from . import init
from .contracts import contract, indices, tensor
from .module import Module, Parameter


# Host indices are range-checked; indices already on the GPU are trusted (reading their
# min and max would wait for the GPU), as minigan.models.conditional does for labels.
@contract(weight=tensor("num_embeddings embedding_dim"),
          input=indices(below="num_embeddings", host_only=True))
def embedding(input, weight):
    """weight[input]: input int indices of any shape (*), weight (K, D) -> (*, D),
    as torch.nn.functional.embedding (minigan.nn.functional.embedding)."""
    indices = backend.to_device(input, weight.device)  # (the contract gave the array)
    out = Gather.apply(weight, indices=indices.reshape(-1))  # (M, D), M = input.size
    return out.reshape(*indices.shape, weight.shape[1])  # (*, D)


class Embedding(Module):
    """A lookup table of num_embeddings vectors of size embedding_dim; weight (K, D) ~ N(0, 1)."""

    def __init__(self, num_embeddings, embedding_dim):
        super().__init__()
        self.num_embeddings = validators.integer("Embedding", "num_embeddings", num_embeddings,
                                                 minimum=1)
        self.embedding_dim = validators.integer("Embedding", "embedding_dim", embedding_dim,
                                                minimum=1)
        self.weight = Parameter(creation.zeros(self.num_embeddings, self.embedding_dim))
        init.normal_(self.weight)

    def forward(self, input):
        return embedding(input, self.weight)

    def extra_repr(self):
        return f"{self.num_embeddings}, {self.embedding_dim}"
