"""Benchmarks of minigan side by side with PyTorch: `python -m benchmarks [--quick]`.

One process times both frameworks on identical work (the same weights, copied from
minigan into PyTorch, and the same inputs), alternating between them every repeat, and
checks that both computed the same outputs before trusting the times. Per op (conv2d,
conv_transpose2d, batch_norm, linear: forward + backward) and per GAN training step
(D step + G step with Adam). Peak memory of a step is measured in a fresh subprocess per
framework. See README.md for the method and RESULTS.md for the last full run.

Nothing here imports numpy at package import: `__main__` must fix the thread counts first.
"""
