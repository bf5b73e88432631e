"""A DCGAN written the way PyTorch-GAN's dcgan is: the generator upsamples (nn.Upsample) and
convolves, the discriminator's blocks end in Dropout2d, weights start from normal_ on .data."""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn
import torchvision.transforms as transforms
from torch.autograd import Variable
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
parser.add_argument("--img_size", type=int, default=32, help="size of each image dimension")
parser.add_argument("--channels", type=int, default=1, help="number of image channels")
parser.add_argument("--width", type=int, default=16, help="channels of D's first block")
parser.add_argument("--dropout", type=float, default=0.25, help="Dropout2d's p in D")
parser.add_argument("--sample_interval", type=int, default=400, help="batches between samples")
parser.add_argument("--max_batches", type=int, default=0, help="stop after this many (0: all)")
parser.add_argument("--double", action="store_true", help="train in float64")
opt = parser.parse_args()
print(opt)
twin.setup()

cuda = True if torch.cuda.is_available() else False


def weights_init_normal(m):
    classname = m.__class__.__name__
    if classname.find("Conv") != -1:
        torch.nn.init.normal_(m.weight.data, 0.0, 0.02)
    elif classname.find("BatchNorm2d") != -1:
        torch.nn.init.normal_(m.weight.data, 1.0, 0.02)
        torch.nn.init.constant_(m.bias.data, 0.0)


class Generator(nn.Module):
    def __init__(self):
        super(Generator, self).__init__()
        self.init_size = opt.img_size // 4
        self.l1 = nn.Sequential(nn.Linear(opt.latent_dim, 4 * opt.width * self.init_size ** 2))
        c = 4 * opt.width
        self.conv_blocks = nn.Sequential(
            nn.BatchNorm2d(c),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(c, c, 3, stride=1, padding=1),
            nn.BatchNorm2d(c, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Upsample(scale_factor=2),
            nn.Conv2d(c, c // 2, 3, stride=1, padding=1),
            nn.BatchNorm2d(c // 2, 0.8),
            nn.LeakyReLU(0.2, inplace=True),
            nn.Conv2d(c // 2, opt.channels, 3, stride=1, padding=1),
            nn.Tanh(),
        )

    def forward(self, z):
        out = self.l1(z)
        out = out.view(out.shape[0], 4 * opt.width, self.init_size, self.init_size)
        return self.conv_blocks(out)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()

        def block(n_in, n_out, bn=True):
            parts = [nn.Conv2d(n_in, n_out, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                     nn.Dropout2d(opt.dropout)]
            if bn:
                parts.append(nn.BatchNorm2d(n_out, 0.8))
            return parts

        w = opt.width
        self.model = nn.Sequential(
            *block(opt.channels, w, bn=False),
            *block(w, 2 * w),
            *block(2 * w, 4 * w),
            *block(4 * w, 8 * w),
        )
        ds_size = opt.img_size // 2 ** 4
        self.adv_layer = nn.Sequential(nn.Linear(8 * w * ds_size ** 2, 1), nn.Sigmoid())

    def forward(self, img):
        out = self.model(img)
        out = out.view(out.shape[0], -1)
        return self.adv_layer(out)


adversarial_loss = torch.nn.BCELoss()

generator = Generator()
discriminator = Discriminator()
generator.apply(weights_init_normal)
discriminator.apply(weights_init_normal)
if opt.double:
    generator.double()
    discriminator.double()
twin.share_weights(G=generator, D=discriminator)

if cuda:
    generator.cuda()
    discriminator.cuda()
    adversarial_loss.cuda()

os.makedirs("../data/mnist", exist_ok=True)
dataloader = torch.utils.data.DataLoader(
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
        valid = Variable(Tensor(imgs.shape[0], 1).fill_(1.0), requires_grad=False)
        fake = Variable(Tensor(imgs.shape[0], 1).fill_(0.0), requires_grad=False)
        real_imgs = Variable(imgs.type(Tensor))

        optimizer_G.zero_grad()
        z = Variable(Tensor(np.random.normal(0, 1, (imgs.shape[0], opt.latent_dim))))
        gen_imgs = generator(z)
        g_loss = adversarial_loss(discriminator(gen_imgs), valid)
        g_loss.backward()
        optimizer_G.step()

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
