"""DCGAN (Radford, Metz & Chintala 2015, "Unsupervised Representation Learning with Deep
Convolutional Generative Adversarial Networks", arXiv:1511.06434), built as
pytorch/examples dcgan/main.py builds it, and its conditional twin ("cdcgan").

At 64x64 with ngf = ndf = 64 (pytorch/examples' sizes):
    G: z (N, nz, 1, 1) -ConvT 4/1/0-> (N, 512, 4, 4) -ConvT 4/2/1-> (256, 8, 8)
       -> (128, 16, 16) -> (64, 32, 32) -ConvT 4/2/1-> (nc, 64, 64), tanh
       (BatchNorm2d + ReLU after every layer but the last)
    D: x (N, nc, 64, 64) -Conv 4/2/1-> (64, 32, 32) -> (128, 16, 16) -> (256, 8, 8)
       -> (512, 4, 4) -Conv 4/1/0-> (N, 1, 1, 1): a logit
       (LeakyReLU(0.2) after every layer but the last, BatchNorm2d from the second on)
No layer has a bias (BatchNorm's shift makes it redundant). Other sizes use the same
recipe with more or fewer stride-2 stages: any size base * 2**n with base 4 (kernel 4
for the 1x1 <-> 4x4 layer: 8, 16, 32, 64, 128, ...) or base 7 (kernel 7: 14, 28, 56, ...),
the channels doubling at each stage down from the image. The layers sit in a Sequential
named `main`, so the state_dict keys are pytorch/examples' ("main.0.weight",
"main.1.running_mean", ...). D returns logits; main.py's final Sigmoid is left to
binary_cross_entropy_with_logits.
"""
from .. import nn
from ..nn import init
from ..tensor import cat
from ..validators import integer
from .checks import check_image_shape
from .conditional import check_labels, label_maps, one_hot


def dcgan_stages(model, image_shape):
    """(base, n) with H = W = base * 2**n, base 4 or 7 and n >= 1; else a ValueError."""
    _, h, w = image_shape
    for base in (4, 7):
        q, r = divmod(h, base)
        if h == w and r == 0 and q >= 2 and q & (q - 1) == 0:  # q a power of two
            return base, q.bit_length() - 1
    raise ValueError(f"{model}: image size {h}x{w} is not supported; DCGAN needs square images "
                     f"of side 4 or 7 times a power of two (8, 14, 16, 28, 32, 56, 64, 112, 128, "
                     f"...), e.g. 28, 32 or 64")


def weights_init(module):
    """DCGAN's initialisation (paper, section 4; main.py's weights_init): conv weights
    N(0, 0.02); BatchNorm weight N(1, 0.02), bias 0."""
    if isinstance(module, (nn.Conv2d, nn.ConvTranspose2d)):
        init.normal_(module.weight, 0.0, 0.02)
    elif isinstance(module, nn.BatchNorm2d):
        init.normal_(module.weight, 1.0, 0.02)
        init.zeros_(module.bias)


class DCGANGenerator(nn.Module):
    """z (N, nz) or (N, nz, 1, 1) [+ labels (N,)] -> images (N, C, H, W) in [-1, 1].

    num_classes: 0, or K > 0 to feed [z, onehot(labels)] as (N, nz + K, 1, 1) ("cdcgan").
    """

    def __init__(self, image_shape, nz=100, ngf=64, bn_eps=1e-5, num_classes=0):
        super().__init__()
        self.output_shape = check_image_shape("DCGANGenerator", image_shape)
        self.nz = integer("DCGANGenerator", "nz", nz, minimum=1)
        self.num_classes = integer("DCGANGenerator", "num_classes", num_classes, minimum=0)
        self.conditional = num_classes > 0
        integer("DCGANGenerator", "ngf", ngf, minimum=1)
        nc = self.output_shape[0]
        base, n = dcgan_stages("DCGANGenerator", self.output_shape)

        def block(c_in, c_out, kernel_size, stride, padding):
            return [nn.ConvTranspose2d(c_in, c_out, kernel_size, stride, padding, bias=False),
                    nn.BatchNorm2d(c_out, eps=bn_eps), nn.ReLU()]

        channels = ngf * 2 ** (n - 1)
        layers = block(nz + num_classes, channels, base, 1, 0)  # 1x1 -> base x base
        for _ in range(n - 1):  # each stage doubles the side and halves the channels
            layers += block(channels, channels // 2, 4, 2, 1)
            channels //= 2
        layers += [nn.ConvTranspose2d(ngf, nc, 4, 2, 1, bias=False), nn.Tanh()]  # to H x W
        self.main = nn.Sequential(*layers)
        for m in self.modules():
            weights_init(m)

    def forward(self, z, labels=None):
        if z.ndim == 4 and z.shape[2:] == (1, 1):
            z = z.reshape(z.shape[0], z.shape[1])  # main.py's (N, nz, 1, 1) -> (N, nz)
        if z.ndim != 2 or z.shape[1] != self.nz:
            raise ValueError(f"DCGANGenerator: expected noise z of shape (N, {self.nz}) or "
                             f"(N, {self.nz}, 1, 1), got {z.shape}")
        labels = check_labels(self, labels, z)
        if self.conditional:
            z = cat([z, one_hot(labels, self.num_classes, like=z)], dim=1)  # (N, nz + K)
        return self.main(z.reshape(z.shape[0], z.shape[1], 1, 1))  # (N, C, H, W)


class DCGANDiscriminator(nn.Module):
    """images (N, C, H, W) [+ labels (N,)] -> logits (N,): large means "real".

    num_classes: 0, or K > 0 to judge the image with K label maps joined to its channels,
    (N, C + K, H, W) (see conditional.label_maps; "cdcgan").
    batch_norm: False drops the BatchNorm2d layers, the critic of WGAN-GP (Gulrajani et
    al. 2017, section 4) and R1: a gradient penalty is per example, BatchNorm mixes them.
    """

    def __init__(self, image_shape, ndf=64, bn_eps=1e-5, num_classes=0, batch_norm=True):
        super().__init__()
        self.input_shape = check_image_shape("DCGANDiscriminator", image_shape)
        self.num_classes = integer("DCGANDiscriminator", "num_classes", num_classes,
                                     minimum=0)
        self.conditional = num_classes > 0
        integer("DCGANDiscriminator", "ndf", ndf, minimum=1)
        nc = self.input_shape[0]
        base, n = dcgan_stages("DCGANDiscriminator", self.input_shape)

        layers = [nn.Conv2d(nc + num_classes, ndf, 4, 2, 1, bias=False),  # H x W -> H/2
                  nn.LeakyReLU(0.2)]
        channels = ndf
        for _ in range(n - 1):  # each stage halves the side and doubles the channels
            layers.append(nn.Conv2d(channels, channels * 2, 4, 2, 1, bias=False))
            if batch_norm:
                layers.append(nn.BatchNorm2d(channels * 2, eps=bn_eps))
            layers.append(nn.LeakyReLU(0.2))
            channels *= 2
        layers += [nn.Conv2d(channels, 1, base, 1, 0, bias=False)]  # base x base -> 1x1
        self.main = nn.Sequential(*layers)
        for m in self.modules():
            weights_init(m)

    def forward(self, x, labels=None):
        if x.ndim != 4 or tuple(x.shape[1:]) != self.input_shape:
            raise ValueError(f"DCGANDiscriminator: expected images of shape (N, "
                             f"{', '.join(map(str, self.input_shape))}), got {x.shape}")
        labels = check_labels(self, labels, x)
        if self.conditional:
            x = cat([x, label_maps(labels, self.num_classes, like=x)], dim=1)  # (N, C+K, H, W)
        return self.main(x).reshape(-1)  # (N, 1, 1, 1) -> (N,)
