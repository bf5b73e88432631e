"""The textbook versions: each fast op of minigan written the way a textbook writes it.

Read these first. Each file holds the plain algorithm of one op whose real code in
minigan/ops or minigan/optim is shaped by speed or memory (a memory layout, a closed-form
backward; the in-place and fused versions are further off, in minigan/fast/);
tests/test_textbook.py proves every twin equal to the fast one, so
what you learn here is what runs there.
    backward.py    the graph walk of Tensor.backward, leaves' gradients simply summed
    im2col.py      im2col and col2im by a loop over the kernel window, (N, C, ...) layout
    conv.py        conv2d and conv_transpose2d by a loop over the kernel window, and conv2d
                   once more as im2col + one matrix product (the columns ops/ uses)
    batchnorm.py   BatchNorm from primitive Tensor ops (autograd derives its backward),
                   and the closed-form backward derived
    adam.py        Adam as the paper's five lines
    gan_step.py    one step of Algorithm 1 (k D steps, one G step), twin of updater.py
"""
