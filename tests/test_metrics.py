import jiwer
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from asr.metrics import cer, char_errors, edit_counts, wer, word_errors

WORDS = st.lists(st.sampled_from(["a", "cat", "sat", "on", "the", "mat", "hat"]), min_size=1, max_size=12)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(WORDS, st.lists(st.sampled_from(["a", "cat", "dog", "the", "mat"]), max_size=12)),
                min_size=1, max_size=5))
def test_wer_and_cer_match_jiwer(pairs):
    refs = [" ".join(r) for r, _ in pairs]
    hyps = [" ".join(h) for _, h in pairs]
    assert wer(refs, hyps) == pytest.approx(jiwer.wer(refs, hyps))
    assert cer(refs, hyps) == pytest.approx(jiwer.cer(refs, hyps))
    ours, theirs = word_errors(refs, hyps), jiwer.process_words(refs, hyps)
    assert ours.errors == theirs.substitutions + theirs.deletions + theirs.insertions


def test_counts():
    counts = edit_counts("the cat sat".split(), "the bat sat down".split())
    assert (counts.substitutions, counts.deletions, counts.insertions, counts.reference_length) == (1, 0, 1, 3)
    assert char_errors("abc", "").deletions == 3


def test_empty_reference_and_length_mismatch():
    assert wer("", "") == 0.0 and wer("", "x") == 1.0
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        wer(["a", "b"], ["a"])
