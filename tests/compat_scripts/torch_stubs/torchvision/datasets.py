"""Stand-in datasets: never used in a twin run (twin.dataset() comes first)."""


def MNIST(*args, **kwargs):
    raise RuntimeError("torchvision is not installed: the stand-in has no MNIST")


ImageFolder = FakeData = FashionMNIST = MNIST
