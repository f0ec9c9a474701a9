"""The compiled beam search (flashlight-text + KenLM) against the NumPy one, on fixed logits."""

import numpy as np
import pytest

pytest.importorskip("flashlight.lib.text.decoder", reason="the fast-decoder extra (flashlight-text) is absent")

from asr.decoding import BeamSearchDecoder, GreedyDecoder, make_decoder  # noqa: E402
from asr.decoding_flashlight import FlashlightBeamDecoder, arpa_unigrams  # noqa: E402
from asr.lm import NGramLM  # noqa: E402
from asr.text import Vocabulary  # noqa: E402

VOCABULARY = Vocabulary()
SENTENCES = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat ate the rat"]
LM = NGramLM.train(SENTENCES, order=3)
LEXICON = sorted(LM.vocabulary - {"<s>", "</s>", "<unk>"})


def noisy_logits(text, rng, noise=1.2):
    """Peaky CTC logits spelling ``text`` (each symbol twice, then a blank), plus Gaussian noise."""
    frames = [i for symbol in VOCABULARY.encode(text) for i in (symbol, symbol, 0)]
    logits = np.zeros((len(frames), VOCABULARY.size), "float32")
    logits[np.arange(len(frames)), frames] = 4.0
    return logits + rng.normal(0.0, noise, logits.shape).astype("float32")


@pytest.fixture(scope="module")
def logits():
    rng = np.random.default_rng(0)
    return [noisy_logits(s, rng) for s in SENTENCES * 4]


@pytest.mark.parametrize("lm_weight,word_bonus", [(0.0, 0.0), (0.5, 1.0), (1.0, 2.0)])
def test_agrees_with_the_numpy_decoder(logits, lm_weight, word_bonus, tmp_path):
    numpy_beam = BeamSearchDecoder(VOCABULARY, 32, lm=LM, lm_weight=lm_weight, word_bonus=word_bonus, lexicon=LEXICON)
    LM.write_arpa(tmp_path / "lm.arpa")
    compiled = FlashlightBeamDecoder(VOCABULARY, 32, lm=str(tmp_path / "lm.arpa"), lm_weight=lm_weight,
                                     word_bonus=word_bonus)  # lexicon: the ARPA file's unigrams
    expected = [numpy_beam.decode([lg])[0] for lg in logits]
    assert [compiled.decode([lg])[0] for lg in logits] == expected
    greedy = [GreedyDecoder(VOCABULARY).decode([lg])[0] for lg in logits]
    assert expected != greedy  # the noise is strong enough for the LM/lexicon to matter
    assert set(" ".join(expected).split()) <= set(LEXICON)


def test_engine_choice_and_quiet(logits, capfd):
    assert isinstance(make_decoder("beam", VOCABULARY, lexicon=LEXICON), FlashlightBeamDecoder)
    assert isinstance(make_decoder("beam", VOCABULARY, lexicon=LEXICON, engine="numpy"), BeamSearchDecoder)
    assert isinstance(make_decoder("beam", VOCABULARY), BeamSearchDecoder)  # no words to look up: NumPy prefix search
    lexicon_only = make_decoder("beam", VOCABULARY, lexicon=LEXICON, word_bonus=1.0)
    numpy_lexicon = make_decoder("beam", VOCABULARY, lexicon=LEXICON, word_bonus=1.0, engine="numpy")
    assert [lexicon_only.decode([lg]) for lg in logits] == [numpy_lexicon.decode([lg]) for lg in logits]
    make_decoder("beam", VOCABULARY, lm=LM, engine="auto").decode([logits[0]])  # KenLM reads a temporary ARPA
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""  # library code does not print (KenLM's progress bar)


def test_options_are_checked(tmp_path):
    LM.write_arpa(tmp_path / "lm.arpa")
    assert arpa_unigrams(tmp_path / "lm.arpa") == sorted(arpa_unigrams(tmp_path / "lm.arpa"), key=LEXICON.index)
    with pytest.raises(ValueError, match="lm_weight=-1"):
        FlashlightBeamDecoder(VOCABULARY, lm=LM, lm_weight=-1.0)
    with pytest.raises(ValueError, match="beam_width=0"):
        FlashlightBeamDecoder(VOCABULARY, beam_width=0)
    (tmp_path / "lm.bin").write_bytes(b"x")  # a KenLM binary has no readable unigram list
    with pytest.raises(ValueError, match="needs a lexicon"):
        FlashlightBeamDecoder(VOCABULARY, lm=str(tmp_path / "lm.bin"))
    with pytest.raises(ValueError, match="give an LM or a lexicon"):
        FlashlightBeamDecoder(VOCABULARY)
    with pytest.raises(ValueError, match="no word the vocabulary can spell"):
        FlashlightBeamDecoder(VOCABULARY, lexicon=["ÉTÉ", "Ω"])
    with pytest.raises(ValueError, match="engine='fast'"):
        make_decoder("beam", VOCABULARY, engine="fast")


@pytest.mark.parametrize("beam_width", [1, 2, 32])
def test_both_engines_answer_with_words_when_every_hypothesis_ends_inside_a_word(beam_width):
    """Speech cut off inside a word ("... on the ma"): with a narrow beam every surviving
    hypothesis ends in a partial word the lexicon lacks. The NumPy search used to answer ""
    there, the compiled one the finished words; both give the finished words now."""
    rng = np.random.default_rng(1)
    for text in ("the cat sat on the ma", "the cat sa"):
        lg = noisy_logits(text, rng, noise=0.1)
        answers = {engine: make_decoder("beam", VOCABULARY, beam_width, lexicon=LEXICON, engine=engine).decode([lg])[0]
                   for engine in ("numpy", "flashlight")}
        assert answers["numpy"] == answers["flashlight"], (text, answers)
        assert answers["numpy"].startswith("the cat") and set(answers["numpy"].split()) <= set(LEXICON)
