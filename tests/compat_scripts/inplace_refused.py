"""A GAN step that PyTorch refuses: the discriminator's probabilities are clamped in place
(`validity.clamp_(eps, 1 - eps)`, to keep the log finite) after nn.Sigmoid saved them for
its backward, so backward finds a saved tensor modified in place and raises."""
import numpy as np
import torch
import torch.nn as nn

import twin

twin.setup()

discriminator = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2), nn.Linear(16, 1), nn.Sigmoid())
generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh())
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))

z = torch.FloatTensor(np.random.normal(0, 1, (5, 4)))
validity = discriminator(generator(z).detach())
validity.clamp_(1e-6, 1 - 1e-6)  # modifies Sigmoid's saved output
d_loss = -torch.log(1 - validity).mean()
optimizer_D.zero_grad()
d_loss.backward()  # PyTorch raises here
optimizer_D.step()
print("trained a step")
