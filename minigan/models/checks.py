"""Argument checks shared by the model constructors: one clear ValueError each."""


def check_int(model, name, n, minimum=1):
    """n must be an int >= minimum; the error names the model and the argument."""
    if not isinstance(n, int) or isinstance(n, bool) or n < minimum:
        raise ValueError(f"{model}: {name} must be an integer >= {minimum}, got {n!r}")
    return n


def check_image_shape(model, image_shape):
    """image_shape as a (C, H, W) tuple of positive ints."""
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or \
            not all(isinstance(n, int) and not isinstance(n, bool) and n > 0 for n in shape):
        raise ValueError(f"{model}: image_shape must be (C, H, W), three positive integers, "
                         f"got {image_shape!r}")
    return shape
