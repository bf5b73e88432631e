"""The differentiable ops: one Function subclass per op, forward and backward on raw arrays."""
