"""Character vocabulary and transcript normalisation.

The CTC blank is index ``BLANK = 0``; the default symbols follow it: space (1),
apostrophe (2), ``a``-``z`` (3-28), 29 classes in all.

Normalisation policy (``normalize_transcript``):
  * Unicode is decomposed and accents dropped (``café`` -> ``cafe``); text is lowercased.
  * Typographic apostrophes become ``'``; apostrophes that are not inside a word are dropped.
  * Digits: ``digits="spell"`` (default) writes numbers as English words: ``42`` -> ``forty
    two``, ``1,000,000`` -> ``one million``, ``3rd`` -> ``third``, ``$42.50`` -> ``forty two
    dollars fifty cents`` (also ``£``/``€``), ``3.14`` -> ``three point one four``, ``5%`` ->
    ``five percent``; a number of more than ``MAX_NUMBER_DIGITS`` digits raises
    ``TranscriptError`` (no one reads it out). ``digits="error"`` raises for any digit.
  * Any other punctuation (``-``, ``.``, ``,``, ``"`` ...) becomes a word break;
    runs of whitespace collapse to one space and the ends are stripped.
  * Characters still outside the vocabulary (e.g. non-Latin letters) raise ``TranscriptError``.
"""

import re
import unicodedata

from asr.errors import AsrError, ConfigError

BLANK = 0
DEFAULT_SYMBOLS = (" ", "'") + tuple("abcdefghijklmnopqrstuvwxyz")

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_ONES = ("zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
         "fifteen sixteen seventeen eighteen nineteen").split()
_TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))


MAX_NUMBER_DIGITS = 15  # up to hundreds of trillions; longer digit runs are not speech
CURRENCIES = {"$": ("dollar", "cent"), "\u00a3": ("pound", "penny"), "\u20ac": ("euro", "cent")}
_PLURALS = {"penny": "pence"}
_ORDINALS = {"one": "first", "two": "second", "three": "third", "five": "fifth", "eight": "eighth",
             "nine": "ninth", "twelve": "twelfth"}
_CURRENCY = re.compile(r"([$\u00a3\u20ac])\s?(\d+)(?:\.(\d{2}))?(?!\d)")
_GROUPED = re.compile(r"(?<![\d,])\d{1,3}(?:,\d{3})+(?![\d,])")
_ORDINAL = re.compile(r"(\d+)(st|nd|rd|th)\b")
_DECIMAL = re.compile(r"(\d+)\.(\d+)")
_PERCENT = re.compile(r"(\d+)\s?%")


class TranscriptError(AsrError, ValueError):
    """A transcript that cannot be written with the vocabulary."""


def number_to_words(number):
    """English words for a non-negative integer: ``105`` -> ``"one hundred five"``."""
    if number < 0:
        raise ConfigError(f"number={number} must be non-negative")
    if number < 20:
        return _ONES[number]
    if number < 100:
        tens, ones = divmod(number, 10)
        return _TENS[tens] + ("" if ones == 0 else " " + _ONES[ones])
    for scale, name in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            return f"{number_to_words(head)} {name}" + ("" if rest == 0 else " " + number_to_words(rest))
    raise AssertionError("unreachable")


def _cardinal(digits):
    if len(digits) > MAX_NUMBER_DIGITS:
        raise TranscriptError(f"a number of {len(digits)} digits ({digits[:20]}...) is longer than "
                              f"MAX_NUMBER_DIGITS={MAX_NUMBER_DIGITS}: not speech")
    return number_to_words(int(digits))


def _ordinal(digits):
    *head, last = _cardinal(digits).split()
    last = _ORDINALS.get(last, last[:-1] + "ieth" if last.endswith("y") else last + "th")
    return " ".join([*head, last])


def _money(match):
    major, minor = CURRENCIES[match.group(1)]
    amount = int(match.group(2))
    words = f"{_cardinal(match.group(2))} {major}{'' if amount == 1 else 's'}"
    if match.group(3) and int(match.group(3)):
        cents = int(match.group(3))
        words += f" {_cardinal(match.group(3))} {minor if cents == 1 else _PLURALS.get(minor, minor + 's')}"
    return f" {words} "


def spell_numbers(text):
    """Numbers in lower-case ``text`` written as words (see the module docstring)."""
    text = _GROUPED.sub(lambda m: m.group().replace(",", ""), text)
    text = _CURRENCY.sub(_money, text)
    text = _ORDINAL.sub(lambda m: f" {_ordinal(m.group(1))} ", text)
    text = _PERCENT.sub(lambda m: f" {_cardinal(m.group(1))} percent ", text)
    text = _DECIMAL.sub(lambda m: f" {_cardinal(m.group(1))} point {' '.join(_ONES[int(d)] for d in m.group(2))} ",
                        text)
    return re.sub(r"\d+", lambda m: f" {_cardinal(m.group())} ", text)


def normalize_transcript(text, digits="spell"):
    """Normalise ``text`` to the default vocabulary's alphabet (see the module docstring)."""
    if digits not in ("spell", "error"):
        raise ConfigError(f"digits={digits!r} must be 'spell' or 'error'")
    text = unicodedata.normalize("NFKD", str(text).translate(_APOSTROPHES))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).lower()
    if digits == "error" and re.search(r"\d", text):
        raise TranscriptError(f"transcript {text!r} contains digits and digits='error'")
    text = spell_numbers(text)
    text = re.sub(r"[^\w\s']|_", " ", text)  # punctuation -> word break
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text)  # quotes, not contractions
    return " ".join(text.split())


class Vocabulary:
    """Maps characters to CTC class indices; index ``BLANK`` (0) is the blank.

    Args:
        symbols: the characters, in index order starting at 1.

    ``decode(encode(text)) == text`` for every text made of ``symbols``.
    """

    def __init__(self, symbols=DEFAULT_SYMBOLS):
        symbols = tuple(symbols)
        if len(set(symbols)) != len(symbols) or any(len(s) != 1 for s in symbols):
            raise ConfigError(f"symbols={symbols!r} must be distinct single characters")
        self.symbols = symbols
        self._index = {symbol: i + 1 for i, symbol in enumerate(symbols)}

    @property
    def size(self):
        """Number of output classes, the blank included."""
        return len(self.symbols) + 1

    def __len__(self):
        return self.size

    def __eq__(self, other):
        return isinstance(other, Vocabulary) and self.symbols == other.symbols

    def __repr__(self):
        return f"Vocabulary({''.join(self.symbols)!r})"

    def encode(self, text):
        """Class indices of ``text`` (already normalised); unknown characters raise TranscriptError."""
        try:
            return [self._index[ch] for ch in text]
        except KeyError:
            bad = sorted({ch for ch in text if ch not in self._index})
            raise TranscriptError(f"transcript {text!r} has characters outside the vocabulary: {bad}") from None

    def decode(self, ids):
        """Text of class indices (no CTC collapsing; blanks are skipped)."""
        return "".join(self.symbols[i - 1] for i in ids if i != BLANK)

    def get_config(self):
        return {"symbols": "".join(self.symbols)}

    @classmethod
    def from_config(cls, config):
        return cls(config["symbols"])
