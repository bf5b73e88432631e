"""An MLP GAN on MNIST written the way the PyTorch-GAN collection writes its scripts
(Variable, FloatTensor, inplace LeakyReLU, BatchNorm1d with eps 0.8, np.random noise)."""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as transforms
from torch.autograd import Variable
from torch.utils.data import DataLoader
from torchvision import datasets
from torchvision.utils import save_image

import twin

os.makedirs("images", exist_ok=True)

parser = argparse.ArgumentParser()
parser.add_argument("--n_epochs", type=int, default=200, help="number of epochs of training")
parser.add_argument("--batch_size", type=int, default=64, help="size of the batches")
parser.add_argument("--lr", type=float, default=0.0002, help="adam: learning rate")
parser.add_argument("--b1", type=float, default=0.5, help="adam: beta 1")
parser.add_argument("--b2", type=float, default=0.999, help="adam: beta 2")
parser.add_argument("--latent_dim", type=int, default=100, help="size of the latent space")
parser.add_argument("--hidden", type=int, default=128, help="width of the first hidden layer")
parser.add_argument("--img_size", type=int, default=28, help="size of each image dimension")
parser.add_argument("--channels", type=int, default=1, help="number of image channels")
parser.add_argument("--sample_interval", type=int, default=400, help="batches between samples")
parser.add_argument("--max_batches", type=int, default=0, help="stop after this many (0: all)")
parser.add_argument("--double", action="store_true", help="train in float64")
opt = parser.parse_args()
print(opt)
twin.setup()

img_shape = (opt.channels, opt.img_size, opt.img_size)
cuda = True if torch.cuda.is_available() else False


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()

        def layer(n_in, n_out, batch_norm=True):
            parts = [nn.Linear(n_in, n_out)]
            if batch_norm:
                parts.append(nn.BatchNorm1d(n_out, 0.8))
            parts.append(nn.LeakyReLU(0.2, inplace=True))
            return parts

        h = opt.hidden
        self.model = nn.Sequential(
            *layer(opt.latent_dim, h, batch_norm=False),
            *layer(h, 2 * h),
            *layer(2 * h, 4 * h),
            nn.Linear(4 * h, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        return img.view(img.size(0), *img_shape)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 4 * opt.hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(4 * opt.hidden, 2 * opt.hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(2 * opt.hidden, 1),
            nn.Sigmoid(),
        )

    def forward(self, img):
        flat = img.view(img.size(0), -1)
        return self.model(flat)


adversarial_loss = torch.nn.BCELoss()

generator = Generator()
discriminator = Discriminator()
if opt.double:
    generator.double()
    discriminator.double()
twin.share_weights(G=generator, D=discriminator)

if cuda:
    generator.cuda()
    discriminator.cuda()
    adversarial_loss.cuda()

os.makedirs("../data/mnist", exist_ok=True)
dataloader = DataLoader(
    twin.dataset() or datasets.MNIST(
        "../data/mnist",
        train=True,
        download=True,
        transform=transforms.Compose(
            [transforms.Resize(opt.img_size), transforms.ToTensor(), transforms.Normalize([0.5], [0.5])]
        ),
    ),
    batch_size=opt.batch_size,
    shuffle=twin.shuffle(True),
)

optimizer_G = torch.optim.Adam(generator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))
optimizer_D = torch.optim.Adam(discriminator.parameters(), lr=opt.lr, betas=(opt.b1, opt.b2))

if opt.double:
    Tensor = torch.DoubleTensor
else:
    Tensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor

for epoch in range(opt.n_epochs):
    for i, (imgs, _) in enumerate(dataloader):
        valid = Variable(Tensor(imgs.size(0), 1).fill_(1.0), requires_grad=False)
        fake = Variable(Tensor(imgs.size(0), 1).fill_(0.0), requires_grad=False)
        real_imgs = Variable(imgs.type(Tensor))

        # the generator's step
        optimizer_G.zero_grad()
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], opt.latent_dim))))
        gen_imgs = generator(z)
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()

        # the discriminator's step
        optimizer_D.zero_grad()
        real_loss = adversarial_loss(discriminator(real_imgs), valid)
        fake_loss = adversarial_loss(discriminator(gen_imgs.detach()), fake)
        d_loss = (real_loss + fake_loss) / 2
        d_loss.backward()
        optimizer_D.step()

        print("[Epoch %d/%d] [Batch %d/%d] [D loss: %f] [G loss: %f]"
              % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), g_loss.item()))
        twin.record(d_loss=d_loss.item(), g_loss=g_loss.item())

        batches_done = epoch * len(dataloader) + i
        if batches_done % opt.sample_interval == 0:
            save_image(gen_imgs.data[:25], "images/%d.png" % batches_done, nrow=5, normalize=True)
        if opt.max_batches and batches_done + 1 >= opt.max_batches:
            raise SystemExit(0)
