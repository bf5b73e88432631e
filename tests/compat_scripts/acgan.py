"""AC-GAN written the way PyTorch-GAN's acgan is: LongTensor labels, an Embedding multiplied
into the noise, a discriminator with a validity head and a class head (nn.Softmax() with
its implicit dimension), BCE plus CrossEntropy, and the accuracy through .data.cpu().numpy()."""
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
parser.add_argument("--n_classes", type=int, default=10, help="number of classes")
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
        self.label_emb = nn.Embedding(opt.n_classes, opt.latent_dim)
        self.init_size = opt.img_size // 4
        c = 4 * opt.width
        self.l1 = nn.Sequential(nn.Linear(opt.latent_dim, c * self.init_size ** 2))
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

    def forward(self, noise, labels):
        gen_input = torch.mul(self.label_emb(labels), noise)
        out = self.l1(gen_input)
        out = out.view(out.shape[0], 4 * opt.width, self.init_size, self.init_size)
        return self.conv_blocks(out)


class Discriminator(nn.Module):
    def __init__(self):
        super(Discriminator, self).__init__()

        def discriminator_block(n_in, n_out, bn=True):
            block = [nn.Conv2d(n_in, n_out, 3, 2, 1), nn.LeakyReLU(0.2, inplace=True),
                     nn.Dropout2d(opt.dropout)]
            if bn:
                block.append(nn.BatchNorm2d(n_out, 0.8))
            return block

        w = opt.width
        self.conv_blocks = nn.Sequential(
            *discriminator_block(opt.channels, w, bn=False),
            *discriminator_block(w, 2 * w),
            *discriminator_block(2 * w, 4 * w),
            *discriminator_block(4 * w, 8 * w),
        )
        ds_size = opt.img_size // 2 ** 4
        self.adv_layer = nn.Sequential(nn.Linear(8 * w * ds_size ** 2, 1), nn.Sigmoid())
        self.aux_layer = nn.Sequential(nn.Linear(8 * w * ds_size ** 2, opt.n_classes), nn.Softmax())

    def forward(self, img):
        out = self.conv_blocks(img)
        out = out.view(out.shape[0], -1)
        return self.adv_layer(out), self.aux_layer(out)


adversarial_loss = torch.nn.BCELoss()
auxiliary_loss = torch.nn.CrossEntropyLoss()

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
    auxiliary_loss.cuda()

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
    FloatTensor = torch.DoubleTensor
else:
    FloatTensor = torch.cuda.FloatTensor if cuda else torch.FloatTensor
LongTensor = torch.cuda.LongTensor if cuda else torch.LongTensor


def sample_image(n_row, batches_done):
    """A grid of generated digits, one row per class."""
    z = Variable(FloatTensor(np.random.normal(0, 1, (n_row ** 2, opt.latent_dim))))
    labels = np.array([num for _ in range(n_row) for num in range(n_row)])
    labels = Variable(LongTensor(labels))
    gen_imgs = generator(z, labels)
    save_image(gen_imgs.data, "images/%d.png" % batches_done, nrow=n_row, normalize=True)


for epoch in range(opt.n_epochs):
    for i, (imgs, labels) in enumerate(dataloader):
        batch_size = imgs.shape[0]
        valid = Variable(FloatTensor(batch_size, 1).fill_(1.0), requires_grad=False)
        fake = Variable(FloatTensor(batch_size, 1).fill_(0.0), requires_grad=False)
        real_imgs = Variable(imgs.type(FloatTensor))
        labels = Variable(labels.type(LongTensor))

        optimizer_G.zero_grad()
        z = Variable(FloatTensor(np.random.normal(0, 1, (batch_size, opt.latent_dim))))
        gen_labels = Variable(LongTensor(np.random.randint(0, opt.n_classes, batch_size)))
        gen_imgs = generator(z, gen_labels)
        validity, pred_label = discriminator(gen_imgs)
        g_loss = 0.5 * (adversarial_loss(validity, valid) + auxiliary_loss(pred_label, gen_labels))
        g_loss.backward()
        optimizer_G.step()

        optimizer_D.zero_grad()
        real_pred, real_aux = discriminator(real_imgs)
        d_real_loss = (adversarial_loss(real_pred, valid) + auxiliary_loss(real_aux, labels)) / 2
        fake_pred, fake_aux = discriminator(gen_imgs.detach())
        d_fake_loss = (adversarial_loss(fake_pred, fake) + auxiliary_loss(fake_aux, gen_labels)) / 2
        d_loss = (d_real_loss + d_fake_loss) / 2

        pred = np.concatenate([real_aux.data.cpu().numpy(), fake_aux.data.cpu().numpy()], axis=0)
        gt = np.concatenate([labels.data.cpu().numpy(), gen_labels.data.cpu().numpy()], axis=0)
        d_acc = np.mean(np.argmax(pred, axis=1) == gt)

        d_loss.backward()
        optimizer_D.step()

        print("[Epoch %d/%d] [Batch %d/%d] [D loss: %f, acc: %d%%] [G loss: %f]"
              % (epoch, opt.n_epochs, i, len(dataloader), d_loss.item(), 100 * d_acc, g_loss.item()))
        twin.record(d_loss=d_loss.item(), g_loss=g_loss.item(), d_acc=d_acc)
        batches_done = epoch * len(dataloader) + i
        if batches_done % opt.sample_interval == 0:
            sample_image(n_row=10, batches_done=batches_done)
        if opt.max_batches and batches_done + 1 >= opt.max_batches:
            raise SystemExit(0)
