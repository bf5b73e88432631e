"""minigan.nn: layers as Modules (as torch.nn), and the functional ops under nn.functional."""
