"""What a run keeps on disk: checkpoints, the run folder (its lock, metrics, pictures), and
the atomic writes that make each file whole or absent; and what the machine can hold
(limits.py: memory and disk, asked before a size typed is allocated). Reads models/ and
methods/ to check a checkpoint's names; knows nothing of training."""
