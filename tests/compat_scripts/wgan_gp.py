"""WGAN-GP written the way PyTorch-GAN's wgan_gp is: the gradient penalty on random
interpolates through autograd.grad(create_graph=True, only_inputs=True), Adam(0.5, 0.999)."""
import argparse
import os

import numpy as np
import torch
import torch.autograd as autograd
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
parser.add_argument("--n_critic", type=int, default=5, help="critic steps per generator step")
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

        def block(n_in, n_out, normalize=True):
            layers = [nn.Linear(n_in, n_out)]
            if normalize:
                layers.append(nn.BatchNorm1d(n_out, 0.8))
            layers.append(nn.LeakyReLU(0.2, inplace=True))
            return layers

        h = opt.hidden
        self.model = nn.Sequential(
            *block(opt.latent_dim, h, normalize=False),
            *block(h, 2 * h),
            nn.Linear(2 * h, int(np.prod(img_shape))),
            nn.Tanh()
        )

    def forward(self, z):
        img = self.model(z)
        return img.view(img.shape[0], *img_shape)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()
        self.model = nn.Sequential(
            nn.Linear(int(np.prod(img_shape)), 2 * opt.hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(2 * opt.hidden, opt.hidden),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Linear(opt.hidden, 1),
        )

    def forward(self, img):
        return self.model(img.view(img.shape[0], -1))


lambda_gp = 10

generator = Generator()
discriminator = Discriminator()
if opt.double:
    generator.double()
    discriminator.double()
twin.share_weights(G=generator, D=discriminator)
if cuda:
    generator.cuda()
    discriminator.cuda()

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


def compute_gradient_penalty(D, real_samples, fake_samples):
    """(||grad D(x_hat)||_2 - 1)^2 on x_hat between real and fake samples (Gulrajani et al.)."""
    alpha = Tensor(np.random.random((real_samples.size(0), 1, 1, 1)))
    interpolates = (alpha * real_samples + ((1 - alpha) * fake_samples)).requires_grad_(True)
    d_interpolates = D(interpolates)
    ones = Variable(Tensor(real_samples.shape[0], 1).fill_(1.0), requires_grad=False)
    gradients = autograd.grad(
        outputs=d_interpolates,
        inputs=interpolates,
        grad_outputs=ones,
        create_graph=True,
        retain_graph=True,
        only_inputs=True,
    )[0]
    gradients = gradients.view(gradients.size(0), -1)
    return ((gradients.norm(2, dim=1) - 1) ** 2).mean()


batches_done = 0
for epoch in range(opt.n_epochs):
    for i, (imgs, _) in enumerate(dataloader):
        if opt.max_batches and epoch * len(dataloader) + i >= opt.max_batches:
            raise SystemExit(0)
        real_imgs = Variable(imgs.type(Tensor))

        optimizer_D.zero_grad()
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], opt.latent_dim))))
        fake_imgs = generator(z)
        real_validity = discriminator(real_imgs)
        fake_validity = discriminator(fake_imgs)
        gradient_penalty = compute_gradient_penalty(discriminator, real_imgs.data, fake_imgs.data)
        d_loss = -torch.mean(real_validity) + torch.mean(fake_validity) + lambda_gp * gradient_penalty
        d_loss.backward()
        optimizer_D.step()

        optimizer_G.zero_grad()
        if i % opt.n_critic == 0:
            fake_imgs = generator(z)
            fake_validity = discriminator(fake_imgs)
            g_loss = -torch.mean(fake_validity)
            g_loss.backward()
            optimizer_G.step()

            print("[Epoch %d/%d] [Batch %d/%d] [D loss: %f] [G loss: %f]"
                  % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), g_loss.item()))
            if batches_done % opt.sample_interval == 0:
                save_image(fake_imgs.data[:25], "images/%d.png" % batches_done, nrow=5,
                           normalize=True)
            twin.record(d_loss=d_loss.item(), g_loss=g_loss.item(), gp=gradient_penalty.item())
            batches_done += opt.n_critic
        else:
            twin.record(d_loss=d_loss.item(), gp=gradient_penalty.item())
