"""Stand-in image writer: twin runs compare losses, not pictures."""


def save_image(*args, **kwargs):
    pass
