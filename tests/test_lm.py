
import re

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


@pytest.mark.parametrize("edit, match", [
    (lambda t: t.replace("\\end\\", ""), r"no \\end\\ line: the file is truncated"),
    (lambda t: t.replace("\\data\\", ""), r"no \\data\\ header"),
    (lambda t: t.replace("ngram 1=", "ngram 1=1"), r"the header declares n-gram counts \{1: 1"),
    (lambda t: re.sub(r"^-(\d)", r"\1", t, count=1, flags=re.M), r"is not a log10 probability \(<= 0\)"),
    (lambda t: t[: len(t) // 2], r"truncated|malformed"),
])
def test_damaged_arpa_files_are_refused(tmp_path, edit, match):
    NGramLM.train(TEXT, order=2).write_arpa(tmp_path / "lm.arpa")
    (tmp_path / "bad.arpa").write_text(edit((tmp_path / "lm.arpa").read_text()))
    with pytest.raises(ValueError, match=f"bad.arpa.*({match})"):
        NGramLM.read_arpa(tmp_path / "bad.arpa")


def test_both_engines_share_one_check_of_lm_and_lexicon(tmp_path):
    import warnings

    from asr.decoding import make_decoder
    from asr.text import Vocabulary

    vocabulary = Vocabulary()
    (tmp_path / "lm.bin").write_bytes(b"mmap lm http://kheafield.com/code format version 5\n\0" + bytes(64))
    with pytest.raises(ValueError, match="is a binary KenLM file: the NumPy engine reads ARPA text"):
        make_decoder("beam", vocabulary, lm=str(tmp_path / "lm.bin"), engine="numpy")
    with pytest.raises(ValueError, match="binary KenLM file, not ARPA text"):
        NGramLM.read_arpa(tmp_path / "lm.bin")
    (tmp_path / "upper.txt").write_text("HELLO\nWORLD\n")
    (tmp_path / "binary.txt").write_bytes(bytes(range(256)))
    for name in ("upper.txt", "binary.txt"):
        for engine in ("numpy", "auto"):
            with pytest.raises(ValueError, match=f"lexicon file .*{name}'.*no word the vocabulary"):
                make_decoder("beam", vocabulary, lexicon=str(tmp_path / name), engine=engine)
    (tmp_path / "mixed.txt").write_text("hello\nWORLD\n42\nworld\n")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        decoder = make_decoder("beam", vocabulary, lexicon=str(tmp_path / "mixed.txt"), engine="numpy")
    assert decoder.lexicon == {"hello", "world"}
    assert any("2 of 4 words cannot be spelled" in str(w.message) for w in caught)
