"""Edit-distance metrics: CER and WER with substitution/deletion/insertion counts.

Rates are corpus-level: total edits over total reference units (characters or words),
the convention of jiwer, sclite and the LibriSpeech literature.
"""

import dataclasses

from rapidfuzz.distance import Levenshtein

from asr.errors import ConfigError


@dataclasses.dataclass
class ErrorCounts:
    substitutions: int = 0
    deletions: int = 0
    insertions: int = 0
    reference_length: int = 0

    @property
    def errors(self):
        return self.substitutions + self.deletions + self.insertions

    @property
    def rate(self):
        """Errors per reference unit; an empty reference scores 0 if the hypothesis is empty, else 1."""
        if self.reference_length == 0:
            return float(self.errors > 0)
        return self.errors / self.reference_length

    def __add__(self, other):
        return ErrorCounts(self.substitutions + other.substitutions, self.deletions + other.deletions,
                           self.insertions + other.insertions, self.reference_length + other.reference_length)

    def to_dict(self):
        return {**dataclasses.asdict(self), "rate": self.rate}


def edit_counts(reference, hypothesis):
    """Counts of the minimal edit script turning ``reference`` into ``hypothesis``
    (strings for characters, lists of words for words)."""
    counts = ErrorCounts(reference_length=len(reference))
    for op in Levenshtein.editops(reference, hypothesis):
        if op.tag == "replace":
            counts.substitutions += 1
        elif op.tag == "delete":
            counts.deletions += 1
        else:
            counts.insertions += 1
    return counts


def _pairs(references, hypotheses):
    if isinstance(references, str):
        references, hypotheses = [references], [hypotheses]
    if len(references) != len(hypotheses):
        raise ConfigError(f"{len(references)} references but {len(hypotheses)} hypotheses")
    return zip(references, hypotheses)


def char_errors(references, hypotheses):
    """Summed character ``ErrorCounts`` (whitespace runs collapsed, ends stripped)."""
    total = ErrorCounts()
    for ref, hyp in _pairs(references, hypotheses):
        total += edit_counts(" ".join(ref.split()), " ".join(hyp.split()))
    return total


def word_errors(references, hypotheses):
    """Summed word ``ErrorCounts``."""
    total = ErrorCounts()
    for ref, hyp in _pairs(references, hypotheses):
        total += edit_counts(ref.split(), hyp.split())
    return total


def cer(references, hypotheses):
    """Character error rate of one pair of strings or two lists of strings."""
    return char_errors(references, hypotheses).rate


def wer(references, hypotheses):
    """Word error rate of one pair of strings or two lists of strings."""
    return word_errors(references, hypotheses).rate
