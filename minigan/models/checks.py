"""The one argument check the model constructors share beyond validators.py's."""
from ..validators import int_in


def check_image_shape(model, image_shape):
    """image_shape as a (C, H, W) tuple of positive ints."""
    shape = tuple(image_shape) if isinstance(image_shape, (tuple, list)) else None
    if shape is None or len(shape) != 3 or not all(int_in(n, 1, float("inf")) for n in shape):
        raise ValueError(f"{model}: image_shape must be (C, H, W), three positive integers, "
                         f"got {image_shape!r}")
    return tuple(int(n) for n in shape)
