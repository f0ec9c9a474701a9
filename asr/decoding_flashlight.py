"""The compiled beam search: flashlight-text's CTC lexicon decoder with a KenLM language model
(``pip install "keras-asr[fast-decoder]"``), behind the interface of ``asr.decoding.BeamSearchDecoder``.

Same options and the same scoring: ``log P_ctc + lm_weight * ln P_lm(words) + word_bonus *
n_words``; words are spelled letter by letter and closed by the space symbol, so only words of
the lexicon come out (an LM without a lexicon: its unigrams are the lexicon). KenLM scores are
log10, so the LM weight is multiplied by ln(10) to keep ``lm_weight`` in natural-log units as
in the NumPy decoder. ``asr.decoding.make_decoder`` picks this one whenever flashlight-text
is installed and there is an LM or a lexicon (without either, the NumPy prefix search runs:
flashlight's lexicon-free search keeps the best alignment per text, not their sum).
"""

import contextlib
import math
import os
import pathlib
import tempfile

import numpy as np

from asr.errors import ConfigError, CorruptFileError
from asr.posteriors import check_beam_options, check_logits, log_softmax

LN10 = math.log(10.0)  # KenLM's log10 -> natural log
BEAM_THRESHOLD = 25.0  # drop hypotheses this far (natural log) below the best: flashlight's usual setting
BEAM_SIZE_TOKEN = 8  # symbols tried per frame (the NumPy decoder's cutoff_top_n)
LOG_ADD = True  # merge hypotheses with the same text by log-sum-exp (the CTC prefix sum), not max
CLOSED = -1e4  # log-probability of the other symbols in the closing space frame: never chosen


@contextlib.contextmanager
def _quiet_c_output():
    """Send what C code writes to stdout/stderr to /dev/null (library code does not print)."""
    import sys

    sys.stdout.flush()
    sys.stderr.flush()
    saved = [os.dup(1), os.dup(2)]
    null = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(null, 1)
        os.dup2(null, 2)
        yield
    finally:
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, null):
            os.close(fd)


def _load_kenlm(kenlm_class, path, word_dict):
    """KenLM's model of ``path``; a file it cannot read is a ``CorruptFileError`` naming it (for an
    ARPA file, with the line our own reader finds wrong)."""
    try:
        with _quiet_c_output():  # KenLM prints a progress bar while it reads an ARPA file
            return kenlm_class(path, word_dict)
    except RuntimeError as error:
        from asr.lm import NGramLM, is_kenlm_binary

        if not is_kenlm_binary(path):
            NGramLM.read_arpa(path)  # raises CorruptFileError with the file, line and value
        detail = str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__
        raise CorruptFileError(f"{path!r}: KenLM cannot read it ({detail})") from None


def available():
    try:
        import flashlight.lib.text.decoder  # noqa: F401
    except ImportError:
        return False
    return True


def arpa_unigrams(path):
    """The words of an ARPA file's 1-gram section (the default lexicon)."""
    words, in_unigrams = [], False
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.strip()
            if line.startswith("\\"):
                in_unigrams = line == "\\1-grams:"
                continue
            parts = line.split()
            if in_unigrams and len(parts) >= 2 and parts[1] not in ("<s>", "</s>", "<unk>"):
                words.append(parts[1])
    return words


class FlashlightBeamDecoder:
    """``decode(logits, lengths=None) -> list[str]``, compiled.

    Args:
        vocabulary: the model's ``asr.text.Vocabulary`` (blank 0; needs the space symbol for words).
        lm: an ARPA or KenLM binary path, an ``asr.lm.NGramLM`` (written to a temporary ARPA
            file), or None.
        lexicon: allowed words (default: the LM's unigrams; required with a binary LM).
        unk_score: score of a word outside the lexicon (-inf: never produced).
    """

    def __init__(self, vocabulary, beam_width=32, lm=None, lm_weight=0.5, word_bonus=1.0, lexicon=None,
                 unk_score=-math.inf, beam_threshold=BEAM_THRESHOLD):
        from flashlight.lib.text import decoder as fl

        check_beam_options(beam_width, lm_weight, word_bonus)
        if " " not in vocabulary.symbols:
            raise ConfigError("word decoding needs a vocabulary with the space symbol")
        self.vocabulary, self.beam_width = vocabulary, beam_width
        self._tmp = None
        lm_path = self._lm_path(lm)
        if lexicon is None and lm_path is not None:
            from asr.lm import is_kenlm_binary

            if is_kenlm_binary(lm_path) or not lm_path.endswith(".arpa"):  # no unigram list to read
                raise ConfigError(f"a binary LM ({lm_path!r}) needs a lexicon: pass --lexicon")
            lexicon = arpa_unigrams(lm_path)
        if lexicon is None:
            raise ConfigError("the compiled decoder decodes words: give an LM or a lexicon (without either, "
                              "use the NumPy prefix search, engine='numpy')")
        self.blank, self.unk_score, self.beam_threshold = 0, unk_score, beam_threshold
        self._build_trie(fl, list(lexicon), lm_path)
        self.set_weights(lm_weight, word_bonus)

    compiled = True  # ~10x faster than the NumPy search: tuned on a wider grid, at the full width

    def _lm_path(self, lm):
        if lm is None or isinstance(lm, (str, os.PathLike)):
            if lm is not None and not os.path.isfile(lm):
                kind = "ARPA" if os.fspath(lm).endswith(".arpa") else "KenLM"
                raise FileNotFoundError(f"{kind} file not found: {os.fspath(lm)!r}")
            return None if lm is None else os.fspath(lm)
        self._tmp = tempfile.TemporaryDirectory(prefix="asr-lm-")  # an NGramLM: KenLM reads files
        path = pathlib.Path(self._tmp.name) / "lm.arpa"
        lm.write_arpa(path)
        return str(path)

    def _build_trie(self, fl, lexicon, lm_path):
        """The LM and the lexicon's spelling trie (smeared with each word's unweighted LM score)."""
        from flashlight.lib.text.dictionary import Dictionary

        symbols = set(self.vocabulary.symbols)
        words = sorted({w for w in lexicon if w and set(w) <= symbols and " " not in w})
        if not words:
            raise ConfigError("lexicon has no word the vocabulary can spell")
        word_dict = Dictionary()
        for word in ["<unk>", *words]:
            word_dict.add_entry(word)
        sil = self.sil = self.vocabulary.encode(" ")[0]
        if lm_path is None:
            lm = fl.ZeroLM()
        else:
            from flashlight.lib.text.decoder.kenlm import KenLM

            lm = _load_kenlm(KenLM, lm_path, word_dict)
        trie, start = fl.Trie(self.vocabulary.size, sil), lm.start(False)
        for word in words:
            index = word_dict.get_index(word)
            trie.insert(list(self.vocabulary.encode(word)) + [sil], index, lm.score(start, index)[1])
        trie.smear(fl.SmearingMode.MAX)
        self.words, self._fl, self._lm, self._trie = word_dict, fl, lm, trie

    def set_weights(self, lm_weight, word_bonus):
        """Use another LM weight and word bonus; the LM and the trie are kept, so tuning is cheap."""
        check_beam_options(self.beam_width, lm_weight, word_bonus)
        fl, unk = self._fl, self.unk_score
        options = fl.LexiconDecoderOptions(self.beam_width, min(BEAM_SIZE_TOKEN, self.vocabulary.size),
                                           self.beam_threshold, lm_weight * LN10, word_bonus,
                                           unk if math.isfinite(unk) else -math.inf, 0.0, LOG_ADD,
                                           fl.CriterionType.CTC)
        self.lm_weight, self.word_bonus = lm_weight, word_bonus
        self.decoder = fl.LexiconDecoder(options, self._trie, self._lm, self.sil, self.blank,
                                         self.words.get_index("<unk>"), [], False)
        return self

    def decode(self, logits, lengths=None):
        logits, lengths = check_logits(logits, lengths)
        return [self.decode_one(log_softmax(lg[:n])) for lg, n in zip(logits, lengths)]

    def decode_one(self, log_probs):
        """Text of one utterance's ``(frames, vocab)`` log-probabilities."""
        emissions = np.ascontiguousarray(log_probs, dtype=np.float32)
        if len(emissions) == 0:
            return ""
        # One certain space frame at the end closes the last word: the lexicon decoder keeps closed words only.
        closing = np.full((1, emissions.shape[1]), CLOSED, np.float32)
        closing[0, self.sil] = 0.0
        emissions = np.ascontiguousarray(np.concatenate([emissions, closing]))
        best = self.decoder.decode(emissions.ctypes.data, emissions.shape[0], emissions.shape[1])[0]
        return " ".join(self.words.get_entry(int(i)) for i in best.words if i >= 0)
