"""Stand-in transforms: constructible, never applied in a twin run."""


class _Transform:
    def __init__(self, *args, **kwargs):
        pass


Compose = Resize = CenterCrop = ToTensor = Normalize = _Transform
