"""``SkipReport``: what was read and what was skipped (by reason) while building a corpus,
a dataset or a batch of results, so that nothing is ever dropped silently."""

import collections


class SkipReport:
    """Counts of items read and skipped, with one example item per reason.

    >>> report = SkipReport("train"); report.read += 1; report.skip("unreadable audio", "a.flac")
    >>> str(report)
    'train: 1 read, skipped 1 (unreadable audio, e.g. a.flac)'
    """

    def __init__(self, name="corpus"):
        self.name = name
        self.read = 0
        self.skipped = collections.Counter()
        self.examples = {}

    def skip(self, reason, item):
        self.skipped[reason] += 1
        self.examples.setdefault(reason, str(item))

    def merge(self, other):
        self.read += other.read
        self.skipped.update(other.skipped)
        for reason, item in other.examples.items():
            self.examples.setdefault(reason, item)
        return self

    def to_dict(self):
        return {"name": self.name, "read": self.read, "skipped": dict(self.skipped),
                "skipped_examples": dict(self.examples)}

    def __str__(self):
        text = f"{self.name}: {self.read} read"
        if self.skipped:
            text += ", skipped " + ", ".join(f"{n} ({reason}, e.g. {self.examples[reason]})"
                                             for reason, n in sorted(self.skipped.items()))
        return text
