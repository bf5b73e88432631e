"""What a run keeps on disk: checkpoints, the run folder (its lock, metrics, pictures), and
the atomic writes that make each file whole or absent. Reads models/ and methods/ to check a
checkpoint's names; knows nothing of training."""
