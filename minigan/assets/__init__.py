"""Package data: the bundled MNIST sample (see README.md here for its attribution)."""
