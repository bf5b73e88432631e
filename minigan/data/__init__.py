"""The datasets minigan trains on: the bundled digits, MNIST and Fashion-MNIST (downloaded and
verified), folders of images, and 2-D Gaussian mixtures."""
