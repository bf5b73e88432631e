"""What the extensions of one step tell each other (Chainer's reporter), so that none reaches
into another.

The trainer empties the observation after every step. An extension that makes something
reports it under its key; one that runs later at the same step (a lower priority) reads it:

    "eval"         Evaluate's scores {name: float}
    "best"         BestSnapshot's best so far {"best_<key>": value, "best_step": step}
    "line"         LogMetrics's metrics.jsonl record (losses, D's outputs, time, scores)
    "sample_grid"  SampleGrid's PNG path (None where nothing is written: other ranks)
"""


class Reporter:
    def __init__(self):
        self.observation = {}

    def report(self, values):
        """Add {key: value} to this step's observation."""
        self.observation.update(values)

    def clear(self):
        self.observation = {}
