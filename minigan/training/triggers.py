"""When an extension runs (Chainer's triggers), apart from what it does.

A trigger is asked after every step: `trigger(step, is_last)` -> whether to run now.

    IntervalTrigger(every)  every `every` steps and at the run's last step; never when 0
    AnyOf(*triggers)        when any of them is due (the log line is also written when an
                            evaluation reports into it)

A best-value trigger (Chainer's MaxValueTrigger and MinValueTrigger) is asked with what a
step reported instead: `trigger(observation, step)` -> whether observation[key] beats the
best value seen so far (higher for MaxValueTrigger, the share of 2-D samples near a mode;
lower for MinValueTrigger, the Frechet distance). `best` and `step` say what it holds;
`state()` and `restore()` carry them across a resumed run, so that what was kept before an
interruption is only ever replaced by something better (extensions/best_snapshot.py).
"""
import math


class IntervalTrigger:
    """Due every `every` steps (never when every is 0) and at the run's last step."""

    def __init__(self, every):
        self.every = every

    def __call__(self, step, is_last):
        return self.every > 0 and (step % self.every == 0 or is_last)


class AnyOf:
    """Due when any of `triggers` is."""

    def __init__(self, *triggers):
        self.triggers = triggers

    def __call__(self, step, is_last):
        return any(trigger(step, is_last) for trigger in self.triggers)


EVERY_STEP = IntervalTrigger(1)


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
