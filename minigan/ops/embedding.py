"""Embedding lookup: a gather forward, a scatter-add backward, each the other's adjoint.

    out = weight[indices]                    weight (K, D), indices int (N,) -> out (N, D)
    grad_weight[k] = sum over n with indices[n] == k of grad_out[n]      (a scatter-add)

The two maps are adjoint (<weight[idx], g> = <weight, scatter_add(g, idx)>), so each is
the other's backward, as conv2d and conv_transpose2d are: Gather's backward is a
ScatterAdd, whose backward is a Gather. Under create_graph that makes the backward a
recorded op, differentiable again. The scatter-add adds each row of g into its row of a
zero table (backend.scatter_add: xp.add.at, whose repeated indices add up): it costs the
table once (K * D numbers, the dense gradient PyTorch makes too) and N * D additions, so a
table of two million rows takes milliseconds. (Not onehot(indices)^T @ g: picking the
one-hot rows out of eye(K) costs K * K numbers, 10 GB for a table of 50,000 rows.)
"""
from ..autograd import Function
from ..backend import scatter_add, xp_of


class Gather(Function):
    """out = weight[indices]: rows of weight (K, D) picked by int indices (N,)."""

    def forward(self, weight, indices=None):
        self.indices, self.num_embeddings = indices, weight.shape[0]  # backward needs only these
        return weight[indices]  # (N, D)

    def backward(self, grad_out):
        return (ScatterAdd.apply(grad_out, indices=self.indices,
                                 num_embeddings=self.num_embeddings),)


class ScatterAdd(Function):
    """out[k] = sum of rows g[n] with indices[n] == k: g (N, D) -> out (K, D)."""

    def forward(self, g, indices=None, num_embeddings=None):
        self.indices = indices
        out = xp_of(g).zeros((num_embeddings,) + g.shape[1:], dtype=g.dtype)  # (K, D)
        scatter_add(out, indices, g)  # out[indices[n]] += g[n], repeats adding up
        return out

    def backward(self, grad_out):
        return (Gather.apply(grad_out, indices=self.indices),)
