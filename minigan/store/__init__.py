"""What a run keeps on disk: checkpoints, the run folder (its lock, metrics, pictures), the
atomic writes that make each file whole or absent, minigan.save/load's safetensors files
(serialization.py), and what the machine can hold (limits.py: memory and disk, asked before a
size typed is allocated). Reads models/ and methods/ to check a checkpoint's names; knows
nothing of training."""
