"""When an extension runs (Chainer's triggers), apart from what it does.

A trigger is asked after every step: `trigger(step, is_last)` -> whether to run now.

    IntervalTrigger(every)  every `every` steps and at the run's last step; never when 0
    AnyOf(*triggers)        when any of them is due (the log line is also written when an
                            evaluation reports into it)
"""


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
