"""Judging generators: metrics (mixture modes, the digit classifier's scores), the classifier
itself, drawing samples from a trained G, and the theory of the optimal discriminator in
numbers."""
