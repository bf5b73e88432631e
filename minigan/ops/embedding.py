"""Embedding lookup: a gather forward, a scatter-add backward, each the other's adjoint.

    out = weight[indices]                    weight (K, D), indices int (N,) -> out (N, D)
    grad_weight[k] = sum over n with indices[n] == k of grad_out[n]      (a scatter-add)

The two maps are adjoint (<weight[idx], g> = <weight, scatter_add(g, idx)>), so each is
the other's backward, as conv2d and conv_transpose2d are: Gather's backward is a
ScatterAdd, whose backward is a Gather. Under create_graph that makes the backward a
recorded op, differentiable again. The scatter-add is written as one matrix product,
onehot(indices)^T @ grad_out, (K, N) @ (N, D): one code path for NumPy and CuPy, no
np.add.at (slow), and cheap for the class counts of a conditional GAN (the one-hot costs
K * N numbers).
"""
from ..autograd import Function
from ..backend import xp_of


def one_hot_matrix(indices, num_embeddings, like):
    """(N,) int -> (N, K) 0/1 array with like's dtype: row n is row indices[n] of eye(K)."""
    return xp_of(like).eye(num_embeddings, dtype=like.dtype)[indices]  # (N, K)


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
        onehot = one_hot_matrix(indices, num_embeddings, g)  # (N, K)
        return onehot.T @ g  # (K, N) @ (N, D) -> (K, D)

    def backward(self, grad_out):
        return (Gather.apply(grad_out, indices=self.indices),)
