"""The differentiable ops: one Function subclass per op, forward on raw arrays and backward
as Tensor operations (so that create_graph=True can record it; see autograd.py)."""
