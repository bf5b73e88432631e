"""The training application, as Chainer's trainer: a config, a setup that builds the run, an
updater that does one step, and periodic extensions (log, samples, checkpoints, evaluation)."""
