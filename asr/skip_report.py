"""``SkipReport``: what was read and what was skipped (by reason) while building a corpus,
a dataset or a batch of results, so that nothing is ever dropped silently."""

import collections

MAX_EXAMPLES = 3  # examples kept per skip reason (the first ones met)


class SkipReport:
    """Counts of items read and skipped, with the first ``MAX_EXAMPLES`` items per reason.

    >>> report = SkipReport("train"); report.read += 1; report.skip("unreadable audio", "a.flac")
    >>> str(report)
    'train: 1 read, skipped 1 (unreadable audio, e.g. a.flac)'
    """

    def __init__(self, name="corpus"):
        self.name = name
        self.read = 0
        self.skipped = collections.Counter()
        self.examples = {}  # reason -> [item, ...]

    def skip(self, reason, item):
        self.skipped[reason] += 1
        examples = self.examples.setdefault(reason, [])
        if len(examples) < MAX_EXAMPLES:
            examples.append(str(item))

    def merge(self, other):
        self.read += other.read
        self.skipped.update(other.skipped)
        for reason, items in other.examples.items():
            mine = self.examples.setdefault(reason, [])
            mine.extend(items[: MAX_EXAMPLES - len(mine)])
        return self

    def to_dict(self):
        return {"name": self.name, "read": self.read, "skipped": dict(self.skipped),
                "skipped_examples": {reason: list(items) for reason, items in self.examples.items()}}

    def __str__(self):
        text = f"{self.name}: {self.read} read"
        if self.skipped:
            text += ", skipped " + ", ".join(f"{n} ({reason}, e.g. {self.examples[reason][0]})"
                                             for reason, n in sorted(self.skipped.items()))
        return text
