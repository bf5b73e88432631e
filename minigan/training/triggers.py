"""Best-value triggers (Chainer's MaxValueTrigger and MinValueTrigger).

A trigger watches one key of the observations a step reports (an evaluation's scores) and
fires when the value beats the best seen so far: higher for MaxValueTrigger (the share of
2-D samples near a mode), lower for MinValueTrigger (the Frechet distance). `best` and
`step` say what it holds; `state()` and `restore()` carry them across a resumed run, so
that what was kept before the interruption is only ever replaced by something better.
"""
import math

__all__ = ["BestValueTrigger", "MaxValueTrigger", "MinValueTrigger", "best_value_trigger"]


class BestValueTrigger:
    """Fires when observation[key] is better than every value before it (`better(new, old)`)."""

    mode = None  # "max" or "min": the name stored with the state

    def __init__(self, key):
        self.key = key
        self.best = None  # the best value so far, None before the first
        self.step = None  # the step it was observed at

    def better(self, new, old):
        raise NotImplementedError

    def __call__(self, observation, step):
        """True when observation holds a finite value for key better than the best so far
        (which it then becomes). A missing or NaN value never fires."""
        value = observation.get(self.key)
        if value is None or not math.isfinite(value):
            return False
        if self.best is not None and not self.better(value, self.best):
            return False  # a tie keeps the earlier step
        self.best, self.step = float(value), step
        return True

    def state(self):
        return {"key": self.key, "mode": self.mode, "value": self.best, "step": self.step}

    def restore(self, state):
        """Take over a saved state of the same key and mode (None: nothing to restore)."""
        if state is None or state.get("key") != self.key or state.get("mode") != self.mode:
            return
        self.best, self.step = state["value"], state["step"]


class MaxValueTrigger(BestValueTrigger):
    mode = "max"

    def better(self, new, old):
        return new > old


class MinValueTrigger(BestValueTrigger):
    mode = "min"

    def better(self, new, old):
        return new < old


def best_value_trigger(kind):
    """The trigger of a run's best checkpoint by its data kind: the share of samples near
    a mode for the 2-D mixtures (higher is better), the Frechet distance of the digit
    classifier's features for images (lower is better; other image datasets have no
    classifier, so their scores never hold the key and the trigger never fires)."""
    if kind == "points":
        return MaxValueTrigger("high_quality")
    return MinValueTrigger("frechet_distance")
