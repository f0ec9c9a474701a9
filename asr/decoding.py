"""CTC decoders sharing one interface: ``decoder.decode(logits, lengths) -> list[str]``.

``logits`` is ``(batch, time, vocab)`` (NumPy or tensor; softmax is applied here, never in
the model) and ``lengths`` ``(batch,)`` the valid logit frames. Blank is index 0.

* ``GreedyDecoder``: best path, repeats collapsed, blanks removed (fast default).
* ``BeamSearchDecoder``: CTC prefix beam search in NumPy (``keras.ops.ctc_decode``'s beam
  search is only fast on TensorFlow), optionally with a word n-gram LM (``asr.lm.NGramLM``),
  a word-insertion bonus and a lexicon constraint.
"""

import math
import pathlib
import warnings
from typing import NamedTuple

import numpy as np

from asr.errors import ConfigError
from asr.posteriors import check_beam_options, check_logits, log_softmax
from asr.text import BLANK

NEG_INF = -float("inf")
CUTOFF_TOP_N = 8  # characters considered per frame
CUTOFF_LOG_PROB = math.log(1e-4)  # characters less likely than this are never extended
BLANK_SKIP_LOG_PROB = math.log(0.999)  # frames this sure of blank only extend with blank


def logaddexp(a, b):
    """``log(exp(a) + exp(b))`` for Python floats (several times faster than ``np.logaddexp`` on scalars)."""
    if a < b:
        a, b = b, a
    return a if b == NEG_INF else a + math.log1p(math.exp(b - a))


class Prefix(NamedTuple):
    """A beam-search hypothesis: its text, the finished words, the word being spelled, and
    the word-level (LM + bonus) score of the finished words."""

    text: str
    words: tuple
    partial: str
    word_score: float


class Beam(NamedTuple):
    """CTC log-probabilities of a prefix ending in blank and in a non-blank symbol."""

    blank: float
    non_blank: float
    prefix: Prefix

    @property
    def total(self):
        """CTC log-probability plus the word-level score: the ranking criterion."""
        return logaddexp(self.blank, self.non_blank) + self.prefix.word_score


def greedy_ids(logits, length):
    """Best-path class ids for one utterance: argmax, collapse repeats, drop blanks."""
    best = np.argmax(logits[:length], axis=-1)
    keep = np.ones(len(best), dtype=bool)
    keep[1:] = best[1:] != best[:-1]
    return best[keep & (best != BLANK)]


class GreedyDecoder:
    """Best path: the most likely symbol per frame, repeats collapsed, blanks removed; runs of
    spaces become one and the ends are stripped (as the beam search's output)."""

    def __init__(self, vocabulary):
        self.vocabulary = vocabulary

    def decode(self, logits, lengths=None):
        logits, lengths = check_logits(logits, lengths)
        return [" ".join(self.vocabulary.decode(greedy_ids(lg, n)).split())
                for lg, n in zip(logits, lengths)]


class BeamSearchDecoder:
    """CTC prefix beam search with optional word LM, word bonus and lexicon.

    A hypothesis' score is ``log P_ctc(prefix) + lm_weight * log P_lm(words) +
    word_bonus * n_words``; the LM scores each word when the space after it (or the end of
    the utterance) is emitted. With ``lexicon`` (an iterable of words), only words in it
    can be produced. ``lm_weight=0`` and no lexicon give the plain CTC prefix search.
    """

    def __init__(self, vocabulary, beam_width=32, lm=None, lm_weight=0.5, word_bonus=1.0, lexicon=None,
                 cutoff_top_n=CUTOFF_TOP_N):
        check_beam_options(beam_width, lm_weight, word_bonus)
        if lexicon is not None:
            lexicon = list(lexicon)
            if not lexicon:
                raise ConfigError("lexicon is empty: give at least one word (or no lexicon)")
        self.vocabulary, self.beam_width, self.lm = vocabulary, beam_width, lm
        self.lm_weight, self.word_bonus, self.cutoff_top_n = lm_weight, word_bonus, cutoff_top_n
        self.space = vocabulary.encode(" ")[0] if " " in vocabulary.symbols else None
        self.lexicon = None if lexicon is None else frozenset(lexicon)
        self.word_prefixes = None if lexicon is None else {w[:i] for w in self.lexicon for i in range(1, len(w) + 1)}
        self._lm_cache = {}
        self._index = {symbol: i + 1 for i, symbol in enumerate(vocabulary.symbols)}  # symbol -> id (0: blank)

    def decode(self, logits, lengths=None):
        logits, lengths = check_logits(logits, lengths)
        return [self.decode_one(log_softmax(lg[:n])) for lg, n in zip(logits, lengths)]

    compiled = False  # the NumPy search: slow, tuned on a small grid

    def set_weights(self, lm_weight, word_bonus):
        """Use another LM weight and word bonus (cached LM scores are kept)."""
        check_beam_options(self.beam_width, lm_weight, word_bonus)
        self.lm_weight, self.word_bonus = lm_weight, word_bonus
        return self

    # === word-level scoring ===
    def _word_score(self, words, word):
        """LM + bonus score of appending ``word`` after the word tuple ``words``; None if banned."""
        if self.lexicon is not None and word not in self.lexicon:
            return None
        if self.lm is None or self.lm_weight == 0:
            return self.word_bonus
        key = (words[-(self.lm.order - 1):] if self.lm.order > 1 else (), word)
        if key not in self._lm_cache:
            context = ("<s>",) + words if len(words) < self.lm.order - 1 else words
            self._lm_cache[key] = self.lm.log_prob(word, context)
        return self.lm_weight * self._lm_cache[key] + self.word_bonus

    def _extend(self, prefix, char):
        """The ``Prefix`` after emitting ``char``; None if banned."""
        text, words, partial, score = prefix
        if char == self.space:
            if not partial:
                return None  # no leading or double spaces
            extra = self._word_score(words, partial)
            return None if extra is None else Prefix(text + " ", words + (partial,), "", score + extra)
        letter = self.vocabulary.symbols[char - 1]
        if self.word_prefixes is not None and partial + letter not in self.word_prefixes:
            return None
        return Prefix(text + letter, words, partial + letter, score)

    def _final_score(self, prefix, drop_partial=False):
        """The word-level score of ``prefix`` at the end of the utterance: its last, unfinished
        word scored as a word (NEG_INF when the lexicon lacks it), or with ``drop_partial``
        left out."""
        _, words, partial, score = prefix
        if partial and not drop_partial:
            extra = self._word_score(words, partial)
            if extra is None:
                return NEG_INF
            score += extra
            words = words + (partial,)
        if self.lm is not None and self.lm_weight and words:
            score += self.lm_weight * self.lm.log_prob("</s>", (("<s>",) + words)[-(self.lm.order - 1):])
        return score

    # === the search ===
    def decode_one(self, log_probs):
        """Decode one utterance's ``(time, vocab)`` log-probabilities to text."""
        beams = {"": Beam(0.0, NEG_INF, Prefix("", (), "", 0.0))}  # text -> Beam
        for frame in np.asarray(log_probs, dtype=np.float64):
            if frame[BLANK] >= BLANK_SKIP_LOG_PROB:
                blank = float(frame[BLANK])
                beams = {t: Beam(logaddexp(b.blank, b.non_blank) + blank, NEG_INF, b.prefix)
                         for t, b in beams.items()}
                continue
            top = np.argsort(frame)[::-1][: self.cutoff_top_n]
            chars = [int(c) for c in top if c != BLANK and frame[c] >= CUTOFF_LOG_PROB]
            beams = self._step(beams, frame.tolist(), chars)
        ranked = sorted(((logaddexp(b.blank, b.non_blank) + self._final_score(b.prefix), b.prefix.text)
                         for b in beams.values()), reverse=True)
        if ranked and ranked[0][0] > NEG_INF:
            return ranked[0][1].strip()
        # Every surviving hypothesis ends inside a word the lexicon lacks (a narrow beam, a word cut
        # off at the end): their finished words, as the compiled engine answers, not nothing.
        ranked = sorted(((logaddexp(b.blank, b.non_blank) + self._final_score(b.prefix, drop_partial=True),
                          " ".join(b.prefix.words)) for b in beams.values()), reverse=True)
        return ranked[0][1] if ranked and ranked[0][0] > NEG_INF else ""

    def _step(self, beams, frame, chars):
        new = {}

        def add(prefix, blank=NEG_INF, non_blank=NEG_INF):
            old = new.get(prefix.text)
            if old is not None:
                blank, non_blank = logaddexp(old.blank, blank), logaddexp(old.non_blank, non_blank)
            new[prefix.text] = Beam(blank, non_blank, prefix)

        for text, (p_b, p_nb, prefix) in beams.items():
            total = logaddexp(p_b, p_nb)
            add(prefix, blank=total + frame[BLANK])
            last = self._last_char(text)
            for c in chars:
                if c == last:  # repeat: collapses unless separated by a blank
                    add(prefix, non_blank=p_nb + frame[c])
                    source = p_b
                else:
                    source = total
                extended = self._extend(prefix, c)
                if extended is not None:
                    add(extended, non_blank=source + frame[c])
        ranked = sorted(new.values(), key=lambda beam: beam.total, reverse=True)
        return {beam.prefix.text: beam for beam in ranked[: self.beam_width]}

    def _last_char(self, text):
        return self._index[text[-1]] if text else None


def read_lexicon(path):
    """Words of a lexicon file (whitespace-separated, e.g. one per line)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"lexicon file not found: {str(path)!r}")
    words = path.read_text(encoding="utf-8", errors="replace").split()
    if not words:
        raise ConfigError(f"lexicon file {str(path)!r} holds no words")
    return words


def spellable_words(words, vocabulary, source="lexicon"):
    """The distinct ``words`` the vocabulary can spell (both beam engines decode only those); the
    others are counted in a warning; none spellable is a ``ConfigError`` naming ``source``."""
    symbols = set(vocabulary.symbols) - {" "}
    distinct = list(dict.fromkeys(words))
    kept = [w for w in distinct if w and set(w) <= symbols]
    left_out = [w for w in distinct if w not in set(kept)]
    if not kept:
        raise ConfigError(f"{source}: no word the vocabulary ({''.join(vocabulary.symbols)!r}) can spell, e.g. "
                          f"{(left_out or [''])[0][:40]!r} (upper case, digits or not text?)")
    if left_out:
        warnings.warn(f"{source}: {len(left_out)} of {len(distinct)} words cannot be spelled with the vocabulary and "
                      f"are left out, e.g. {left_out[0][:40]!r}", stacklevel=2)
    return kept


def _checked_lm(lm):
    """An LM path checked once for both engines: ``(path, NGramLM)`` for an ARPA file (read and
    validated), ``(path, None)`` for a KenLM binary; an ``NGramLM`` or None passes through."""
    if not isinstance(lm, (str, pathlib.Path)):
        return lm, lm
    from asr.lm import NGramLM, is_kenlm_binary

    if not pathlib.Path(lm).is_file():
        raise FileNotFoundError(f"{'ARPA' if str(lm).endswith('.arpa') else 'LM'} file not found: {str(lm)!r}")
    return lm, None if is_kenlm_binary(lm) else NGramLM.read_arpa(lm)


BEAM_ENGINES = ("auto", "numpy", "flashlight")


def make_decoder(decoder, vocabulary, beam_width=32, lm=None, lm_weight=0.5, word_bonus=1.0, lexicon=None,
                 engine="auto"):
    """The one decoder factory: ``"greedy"``, ``"beam"`` or an object with ``decode`` (returned as is).

    For ``"beam"``, ``lm`` is an ``asr.lm.NGramLM`` or the path of an ARPA file (a KenLM
    binary too with the flashlight engine), and ``lexicon`` an iterable of words or the path
    of a word-list file. ``engine``: ``"flashlight"`` (compiled, ``asr.decoding_flashlight``),
    ``"numpy"`` (``BeamSearchDecoder``) or ``"auto"``: flashlight when installed and there is an
    LM or lexicon, else NumPy.
    """
    if engine not in BEAM_ENGINES:
        raise ConfigError(f"engine={engine!r} must be one of {BEAM_ENGINES}")
    if hasattr(decoder, "decode"):
        return decoder
    if decoder == "greedy":
        return GreedyDecoder(vocabulary)
    if decoder != "beam":
        raise ConfigError(f"decoder={decoder!r} must be 'greedy', 'beam' or an object with a decode() method")
    source = f"lexicon file {str(lexicon)!r}" if isinstance(lexicon, (str, pathlib.Path)) else "lexicon"
    if isinstance(lexicon, (str, pathlib.Path)):
        lexicon = read_lexicon(lexicon)
    if lexicon is not None:
        lexicon = spellable_words(lexicon, vocabulary, source)
    lm_path, lm = _checked_lm(lm)
    from asr import decoding_flashlight

    words = lm_path is not None or lexicon is not None
    if engine == "flashlight" or (engine == "auto" and words and decoding_flashlight.available()):
        if not decoding_flashlight.available():
            raise ConfigError('engine="flashlight" needs flashlight-text: pip install "keras-asr[fast-decoder]"')
        return decoding_flashlight.FlashlightBeamDecoder(vocabulary, beam_width, lm=lm_path, lm_weight=lm_weight,
                                                         word_bonus=word_bonus, lexicon=lexicon)
    if lm_path is not None and lm is None:
        raise ConfigError(f"{str(lm_path)!r} is a binary KenLM file: the NumPy engine reads ARPA text; use "
                          "--beam-engine flashlight (with a --lexicon) or the ARPA file")
    return BeamSearchDecoder(vocabulary, beam_width, lm=lm, lm_weight=lm_weight, word_bonus=word_bonus,
                             lexicon=lexicon)


LM_WEIGHTS = (0.0, 0.3, 0.6, 1.0)  # the NumPy search's grid (a few points: it is slow)
WORD_BONUSES = (0.0, 1.0, 2.0)
# The compiled search's grid: ~10x faster, so 5 x 5 points. Around the optimum measured for the recipe's model with
# the shared-text 4-gram and its lexicon (docs/results.md: LM weight 0.4-0.5, bonus -2..0 on dev and on test alike).
WIDE_LM_WEIGHTS = (0.2, 0.35, 0.5, 0.75, 1.0)
WIDE_WORD_BONUSES = (-2.0, -1.0, 0.0, 1.0, 2.0)


def tune_beam_search(logits, references, vocabulary, lm=None, lexicon=None, beam_width=16, lm_weights=None,
                     word_bonuses=None, engine="numpy"):
    """Grid-search ``lm_weight`` x ``word_bonus`` on dev data by WER.

    Args:
        logits: unpadded ``(frames, vocab)`` arrays; references: their transcripts.
        lm, lexicon, engine: as for ``make_decoder`` (an LM path is read once).
        lm_weights, word_bonuses: the grid (default: ``LM_WEIGHTS`` x ``WORD_BONUSES`` for the
            NumPy engine, ``WIDE_*`` for the compiled one).
    Returns:
        ``(best, table)``: the best ``{"lm_weight", "word_bonus", "wer", "deletions", "insertions"}`` and
        every grid point.
    """
    from asr.metrics import word_errors

    if len(logits) != len(references) or not logits:
        raise ConfigError(f"need as many logits ({len(logits)}) as references ({len(references)}), at least one")
    decoder = make_decoder("beam", vocabulary, beam_width, lm=lm, lexicon=lexicon, engine=engine)
    wide = decoder.compiled
    lm_weights = lm_weights or (WIDE_LM_WEIGHTS if wide else LM_WEIGHTS)
    word_bonuses = word_bonuses or (WIDE_WORD_BONUSES if wide else WORD_BONUSES)
    log_probs = [log_softmax(lg) for lg in logits]
    table = []
    for weight in (lm_weights if lm is not None else (0.0,)):
        for bonus in word_bonuses:
            decoder.set_weights(weight, bonus)  # the LM and lexicon are read once
            errors = word_errors(references, [decoder.decode_one(lp) for lp in log_probs])
            table.append({"lm_weight": weight, "word_bonus": bonus, "wer": errors.rate,
                          "deletions": errors.deletions, "insertions": errors.insertions})
    return min(table, key=lambda row: row["wer"]), table
