
import numpy as np
import pytest

from asr.decoding import BeamSearchDecoder, GreedyDecoder, greedy_ids
from asr.lm import NGramLM
from asr.text import Vocabulary

VOCAB = Vocabulary()
RNG = np.random.default_rng(0)


def peaked_logits(text, frames_per_char=3, noise=0.5, sharpness=8.0):
    """Logits whose best path spells ``text`` (chars separated by blanks), plus noise."""
    path = []
    for i in VOCAB.encode(text):
        path += [i] * (frames_per_char - 1) + [0]
    logits = RNG.normal(0, noise, size=(len(path), VOCAB.size))
    logits[np.arange(len(path)), path] += sharpness
    return logits.astype("float32")


def test_greedy_collapses_repeats_and_blanks():
    assert list(greedy_ids(np.eye(5)[[1, 1, 0, 1, 2, 2, 0, 0]], 8)) == [1, 1, 2]


def test_greedy_text_has_single_inner_spaces():
    space, a, b = 1, VOCAB.encode("a")[0], VOCAB.encode("b")[0]
    path = [space, 0, a, space, 0, space, space, b, 0, space]  # " a  b " after collapsing
    logits = np.eye(VOCAB.size)[path][None]
    assert GreedyDecoder(VOCAB).decode(logits) == ["a b"]
    logits = np.stack([peaked_logits("hello world")])
    assert GreedyDecoder(VOCAB).decode(logits) == ["hello world"]


def test_lengths_are_respected_and_checked():
    logits = peaked_logits("abc")[None]
    assert GreedyDecoder(VOCAB).decode(logits, [3]) == ["a"]
    with pytest.raises(ValueError, match="lengths"):
        GreedyDecoder(VOCAB).decode(logits, [99])
    with pytest.raises(ValueError, match="shape \\(batch, time, vocab\\)"):
        GreedyDecoder(VOCAB).decode(logits[0])


@pytest.mark.parametrize("text", ["the cat sat", "a", "hello there world", "aabb"])
def test_beam_one_without_lm_reproduces_greedy(text):
    logits = peaked_logits(text, noise=1.0, sharpness=6.0)[None]
    greedy = GreedyDecoder(VOCAB).decode(logits)
    assert BeamSearchDecoder(VOCAB, beam_width=1, lm=None, word_bonus=0).decode(logits) == greedy
    lm = NGramLM.train(["the dog sat", "hello world"], order=2)
    assert BeamSearchDecoder(VOCAB, beam_width=1, lm=lm, lm_weight=0.0, word_bonus=0).decode(logits) == greedy


def test_beam_finds_prefix_greedy_misses():
    # Two frames: "a" 0.4 + 0.35 spread over paths "a"/"a" vs blank 0.6: greedy says "", but
    # P("a") = 1 - P(blank, blank) = 1 - 0.36 > 0.5.
    probs = np.array([[0.6, 0.0, 0.0, 0.4] + [0.0] * 25, [0.6, 0.0, 0.0, 0.4] + [0.0] * 25])
    logits = np.log(probs + 1e-12)[None].astype("float32")
    assert GreedyDecoder(VOCAB).decode(logits) == [""]
    assert BeamSearchDecoder(VOCAB, beam_width=8, word_bonus=0).decode(logits) == ["a"]


def test_lm_and_lexicon_fix_a_spelling():
    logits = peaked_logits("the kat sat", noise=0.1)
    cat = VOCAB.encode("c")[0]
    for t in (12, 13):  # the two "k" frames of "kat": make "c" nearly as likely
        logits[t, cat] = logits[t].max() - 0.5
    logits = logits[None]
    assert BeamSearchDecoder(VOCAB, beam_width=16, word_bonus=0).decode(logits) == ["the kat sat"]
    lm = NGramLM.train(["the cat sat", "the cat ran", "a cat sat"], order=3)
    assert BeamSearchDecoder(VOCAB, beam_width=16, lm=lm, lm_weight=1.0).decode(logits) == ["the cat sat"]
    lexicon = BeamSearchDecoder(VOCAB, beam_width=16, lexicon=["the", "cat", "sat"])
    assert lexicon.decode(logits) == ["the cat sat"]


def test_beam_arguments_are_checked():
    with pytest.raises(ValueError, match="beam_width=0"):
        BeamSearchDecoder(VOCAB, beam_width=0)
    with pytest.raises(ValueError, match="lm_weight=-1"):
        BeamSearchDecoder(VOCAB, lm_weight=-1)
