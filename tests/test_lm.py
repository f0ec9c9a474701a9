
import pytest

from asr.lm import NGramLM

TEXT = ["the cat sat on the mat", "the dog sat on the log", "a cat and a dog", "the cat ran"]


@pytest.mark.parametrize("order", [1, 2, 3])
def test_distributions_sum_to_one(order):
    lm = NGramLM.train(TEXT, order=order)
    words = sorted(lm.vocabulary - {"<s>"})
    for context in [(), ("the",), ("<s>", "the"), ("cat", "sat"), ("zebra",)]:
        total = sum(10 ** lm.log10_prob(w, context) for w in words)
        assert total == pytest.approx(1.0, abs=1e-6), (order, context)


def test_seen_continuations_are_likelier():
    lm = NGramLM.train(TEXT, order=3)
    assert lm.log_prob("sat", ("the", "cat")) > lm.log_prob("log", ("the", "cat"))
    assert lm.log_prob("unseenword") == lm.log_prob("<unk>") < lm.log_prob("the")


def test_arpa_round_trip(tmp_path):
    lm = NGramLM.train(TEXT, order=3)
    lm.write_arpa(tmp_path / "lm.arpa")
    text = (tmp_path / "lm.arpa").read_text()
    assert "\\data\\" in text and "ngram 3=" in text and "\\end\\" in text
    again = NGramLM.read_arpa(tmp_path / "lm.arpa")
    for sentence in ["the cat sat on the log", "a dog ran", "zebra"]:
        assert again.sentence_log10_prob(sentence) == pytest.approx(lm.sentence_log10_prob(sentence), abs=1e-4)


def test_errors(tmp_path):
    with pytest.raises(ValueError, match="order=0"):
        NGramLM.train(TEXT, order=0)
    with pytest.raises(ValueError, match="no text"):
        NGramLM.train([])
    with pytest.raises(FileNotFoundError, match="ARPA file not found"):
        NGramLM.read_arpa(tmp_path / "none.arpa")
    (tmp_path / "bad.arpa").write_text("\\1-grams:\n-1.0\n")
    with pytest.raises(ValueError, match="malformed ARPA line"):
        NGramLM.read_arpa(tmp_path / "bad.arpa")
