"""Data-parallel training over N processes: each rank's share of a step, the gradients'
all-reduce and the agreed stops. The collectives themselves are minigan.distributed and the
synchronised BatchNorm is minigan.nn.SyncBatchNorm, where PyTorch keeps them."""
