"""A GAN step that PyTorch refuses, the pattern of PyTorch-GAN's softmax_gan: one graph
serves both players, and the discriminator's optimizer steps (changing its weights in
place) between the discriminator's backward and the generator's, which needs the old
weights: PyTorch raises at the second backward."""
import numpy as np
import torch
import torch.nn as nn

import twin

twin.setup()

generator = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh())
discriminator = nn.Sequential(nn.Linear(8, 16), nn.LeakyReLU(0.2, inplace=True), nn.Linear(16, 1))
optimizer_G = torch.optim.Adam(generator.parameters(), lr=0.0002, betas=(0.5, 0.999))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=0.0002, betas=(0.5, 0.999))

real = torch.FloatTensor(np.random.normal(0, 1, (6, 8)))
z = torch.FloatTensor(np.random.normal(0, 1, (6, 4)))
optimizer_G.zero_grad()
optimizer_D.zero_grad()
d_real, d_fake = discriminator(real), discriminator(generator(z))
Z = torch.sum(torch.exp(-d_real)) + torch.sum(torch.exp(-d_fake))
d_loss = torch.sum(d_real) / 6 + torch.log(Z)
d_loss.backward(retain_graph=True)
optimizer_D.step()  # D's weights change in place; the graph below still needs the old ones
g_loss = (torch.sum(d_real) + torch.sum(d_fake)) / 12 + torch.log(Z)
g_loss.backward()  # PyTorch raises here
optimizer_G.step()
print("trained a step")
