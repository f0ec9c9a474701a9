"""Word n-gram language model: modified Kneser-Ney estimation, ARPA read/write, queries.

>>> lm = NGramLM.train(["the cat sat", "the dog sat"], order=3)
>>> lm.log_prob("sat", ("the", "cat"))   # natural log
>>> lm.write_arpa("lm.arpa"); NGramLM.read_arpa("lm.arpa")

The model is stored in back-off form (as SRILM/KenLM ARPA files): ``log10 p(w | h)`` for
seen n-grams, back-off weights ``bow(h)`` otherwise, so any ARPA file (e.g. a KenLM
``lmplz`` output) can be plugged into ``BeamSearchDecoder``.
"""

import collections
import math
import pathlib

from asr.errors import CorruptFileError
from asr.files import write_text_atomic
from asr.kneser_ney import BOS, EOS, LOG10_ZERO, SPECIAL, UNK  # noqa: F401  (re-exported)

LN10 = math.log(10.0)


class NGramLM:
    """Back-off word n-gram model; ``probs[n][ngram]``/``backoffs[n][ngram]`` are log10."""

    def __init__(self, order, probs, backoffs):
        self.order, self.probs, self.backoffs = order, probs, backoffs
        self.vocabulary = {ngram[0] for ngram in probs[1]}
        self.info = {}

    @property
    def words(self):
        """The vocabulary without the markers ``<s>``, ``</s>``, ``<unk>``: a lexicon."""
        return self.vocabulary - SPECIAL

    # === estimation ===
    @classmethod
    def train(cls, sentences, order=3, prune=()):
        """Estimate a modified Kneser-Ney model (as KenLM's ``lmplz``, ``asr.kneser_ney``) from
        whitespace-tokenised ``sentences``; ``prune``: per-order count thresholds (``(0, 1)``
        drops n-grams of order >= 2 seen once). ``lm.info`` holds the discounts and counts."""
        from asr.kneser_ney import estimate

        probs, backoffs, info = estimate(sentences, order, prune)
        lm = cls(order, probs, backoffs)
        lm.info = info
        return lm

    # === queries ===
    def log10_prob(self, word, context=()):
        """log10 p(word | context) with back-off; unknown words score as <unk>."""
        if word not in self.vocabulary:
            word = UNK
        context = tuple(context)[-(self.order - 1):] if self.order > 1 else ()
        backoff = 0.0
        while True:
            ngram = context + (word,)
            score = self.probs.get(len(ngram), {}).get(ngram)
            if score is not None:
                return backoff + score
            if not context:
                return backoff + LOG10_ZERO
            backoff += self.backoffs.get(len(context), {}).get(context, 0.0)
            context = context[1:]

    def log_prob(self, word, context=()):
        """Natural-log probability, for mixing with acoustic log-probabilities."""
        return self.log10_prob(word, context) * LN10

    def sentence_log10_prob(self, sentence):
        words, context, total = sentence.split() + [EOS], (BOS,), 0.0
        for word in words:
            total += self.log10_prob(word, context)
            context = (context + (word,))[-(self.order - 1):]
        return total

    # === ARPA files ===
    def write_arpa(self, path):
        """Write the model as an ARPA file, atomically (a temporary file renamed into place)."""
        lines = ["", "\\data\\"] + [f"ngram {n}={len(self.probs[n])}" for n in range(1, self.order + 1)]
        for n in range(1, self.order + 1):
            lines += ["", f"\\{n}-grams:"]
            for ngram, score in sorted(self.probs[n].items()):
                line = f"{score:.6f}\t{' '.join(ngram)}"
                if n < self.order and ngram in self.backoffs.get(n, {}):
                    line += f"\t{self.backoffs[n][ngram]:.6f}"
                lines.append(line)
        lines += ["", "\\end\\", ""]
        return write_text_atomic(path, "\n".join(lines))

    @classmethod
    def read_arpa(cls, path):
        """The model in an ARPA file, checked: a ``\\data\\`` header whose ``ngram N=COUNT`` lines
        match the sections, finite numbers, log10 probabilities <= 0, and a closing ``\\end\\``
        (else ``CorruptFileError`` naming the file, and the line where there is one)."""
        path = pathlib.Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"ARPA file not found: {str(path)!r}")
        if is_kenlm_binary(path):
            raise CorruptFileError(f"{path}: a binary KenLM file, not ARPA text: decode it with the flashlight "
                                   "engine (--beam-engine flashlight) and a --lexicon, or give the ARPA file")
        probs, backoffs, n = collections.defaultdict(dict), collections.defaultdict(dict), 0
        declared, marks = {}, set()
        try:
            lines = path.read_text(encoding="utf-8").splitlines()
        except UnicodeDecodeError as error:
            raise CorruptFileError(f"{path}: not a UTF-8 text file ({error})") from None
        for line_no, line in enumerate(lines, 1):
            line = line.strip()
            if line in ("\\data\\", "\\end\\"):
                marks.add(line)
                continue
            if not line or line.startswith("ngram "):
                if line:
                    declared.update([_declared_count(line, path, line_no)])
                continue
            if line.endswith("-grams:"):
                n = _order_of(line, path, line_no)
                continue
            parts = line.split()
            if n == 0 or len(parts) < n + 1:
                raise CorruptFileError(f"{path}:{line_no}: malformed ARPA line {line[:80]!r}")
            ngram = tuple(parts[1: n + 1])
            probs[n][ngram] = _number(parts[0], path, line_no, probability=True)
            if len(parts) > n + 1:
                backoffs[n][ngram] = _number(parts[n + 1], path, line_no)
        _check_structure(path, marks, declared, {order: len(entries) for order, entries in probs.items()})
        probs[1].setdefault((UNK,), LOG10_ZERO)
        return cls(max(probs), dict(probs), dict(backoffs))


KENLM_BINARY_MAGIC = b"mmap lm http://kheafield.com/code"  # how KenLM's build_binary files begin


def is_kenlm_binary(path):
    """Whether ``path`` is a KenLM binary model (``build_binary`` output), by its magic bytes."""
    with open(path, "rb") as f:
        return f.read(len(KENLM_BINARY_MAGIC)) == KENLM_BINARY_MAGIC


def _declared_count(line, path, line_no):
    """``(n, count)`` of a header line ``ngram N=COUNT``."""
    key, _, value = line[len("ngram "):].partition("=")
    if not key.strip().isdigit() or not value.strip().isdigit():
        raise CorruptFileError(f"{path}:{line_no}: malformed ARPA header line {line[:80]!r}")
    return int(key), int(value)


def _check_structure(path, marks, declared, found):
    if 1 not in found:
        raise CorruptFileError(f"{path}: no unigrams found; not an ARPA file?")
    if "\\data\\" not in marks:
        raise CorruptFileError(f"{path}: no \\data\\ header: not an ARPA file")
    if "\\end\\" not in marks:
        raise CorruptFileError(f"{path}: no \\end\\ line: the file is truncated")
    if declared != found:
        raise CorruptFileError(f"{path}: the header declares n-gram counts {dict(sorted(declared.items()))}, the "
                               f"sections hold {dict(sorted(found.items()))}")


def _order_of(line, path, line_no):
    """The n of an ARPA section header ``\\n-grams:``."""
    digits = line[1:].split("-")[0]
    if not digits.isdigit() or int(digits) < 1:
        raise CorruptFileError(f"{path}:{line_no}: malformed ARPA section header {line[:80]!r}")
    return int(digits)


def _number(text, path, line_no, probability=False):
    """A log10 probability (finite or -inf, <= 0) or a finite back-off weight of an ARPA line."""
    try:
        value = float(text)
    except ValueError:
        raise CorruptFileError(f"{path}:{line_no}: {text[:40]!r} is not a number") from None
    if math.isnan(value) or value > 0 and (math.isinf(value) or probability):
        raise CorruptFileError(f"{path}:{line_no}: {text!r} is not a log10 probability (<= 0)")
    return value
