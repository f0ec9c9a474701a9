import pytest
from hypothesis import given
from hypothesis import strategies as st

from asr.text import BLANK, DEFAULT_SYMBOLS, TranscriptError, Vocabulary, normalize_transcript, number_to_words


def test_default_vocabulary_layout():
    vocab = Vocabulary()
    assert BLANK == 0 and vocab.size == 29 and len(vocab) == 29
    assert vocab.encode(" ") == [1] and vocab.encode("'") == [2] and vocab.encode("az") == [3, 28]


@given(st.text(alphabet="".join(DEFAULT_SYMBOLS), max_size=80))
def test_encode_decode_are_inverses(text):
    vocab = Vocabulary()
    assert vocab.decode(vocab.encode(text)) == text


def test_unknown_character_is_reported_not_keyerror():
    with pytest.raises(TranscriptError, match=r"outside the vocabulary: \['Z', 'é'\]"):
        Vocabulary().encode("abZé")


def test_vocabulary_config_round_trip_and_validation():
    vocab = Vocabulary("ab ")
    assert Vocabulary.from_config(vocab.get_config()) == vocab
    with pytest.raises(ValueError, match="distinct single characters"):
        Vocabulary("aa")


@pytest.mark.parametrize("raw, expected", [
    ("HELLO, World!", "hello world"),
    ("Don\u2019t  'quote' me", "don't quote me"),
    ("'Mummy', said the boys' teacher", "mummy said the boys teacher"),
    ("café naïve", "cafe naive"),
    ("well-known  fact.", "well known fact"),
    ("chapter 21 in 1999", "chapter twenty one in one thousand nine hundred ninety nine"),
    ("  ", ""),
    ("$42.50", "forty two dollars fifty cents"),  # currency, ordinals, grouped numbers, decimals, percent
    ("$1", "one dollar"),
    ("\u00a33.01", "three pounds one penny"),
    ("3RD", "third"),
    ("the 21st and 40th", "the twenty first and fortieth"),
    ("1,000,000", "one million"),
    ("2.5 percent or 7%", "two point five percent or seven percent"),
])
def test_normalize_transcript(raw, expected):
    assert normalize_transcript(raw) == expected


def test_normalized_text_is_encodable():
    text = normalize_transcript("It's 3 o'clock -- \"really\"?")
    assert text == "it's three o'clock really"
    assert Vocabulary().decode(Vocabulary().encode(text)) == text


def test_digits_error_policy():
    with pytest.raises(TranscriptError, match="digits"):
        normalize_transcript("route 66", digits="error")
    with pytest.raises(ValueError, match="digits='roman'"):
        normalize_transcript("x", digits="roman")


def test_non_latin_letters_are_reported():
    with pytest.raises(TranscriptError, match="outside the vocabulary"):
        Vocabulary().encode(normalize_transcript("привет"))


def test_number_to_words():
    assert number_to_words(0) == "zero"
    assert number_to_words(105) == "one hundred five"
    assert number_to_words(2_000_017) == "two million seventeen"
