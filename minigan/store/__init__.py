"""What a run keeps on disk: checkpoints, the run folder (its lock, metrics, pictures), the
atomic writes that make each file whole or absent, and minigan.save/load's safetensors files
(serialization.py). Reads models/ and methods/ to check a checkpoint's names; knows nothing
of training."""
