"""asr.sequence.data: text vectoriser, time splits and windows (with the shared FeatureStats)."""

import numpy as np
import pytest

from asr.features import FeatureStats
from asr.sequence.data import TextVectorizer, make_windows, time_split

RNG = np.random.default_rng(0)


def test_vectorizer_save_load(tmp_path):
    vectorizer = TextVectorizer(max_tokens=10, max_length=4).fit(["b a a", "c a b!"])
    assert vectorizer.vocabulary[:2] == ["a", "b"]
    vectorizer.save(tmp_path / "v.json")
    again = TextVectorizer.load(tmp_path / "v.json")
    np.testing.assert_array_equal(again(["a b c d e f"]), vectorizer(["a b c d e f"]))
    with pytest.raises(ValueError, match="not fitted"):
        TextVectorizer().encode("x")


def test_windows_split_and_standardizer():
    series = np.arange(20, dtype="float32")
    x, y = make_windows(series, 3, 2, stride=2)
    assert x.shape == (8, 3, 1) and y.shape == (8, 2, 1) and y[0, :, 0].tolist() == [3, 4]
    train, val, test = time_split(series, 0.5, 0.25)
    assert train[-1] < val[0] < test[0] and len(train) == 10
    scaler = FeatureStats().fit(train[:, None])
    assert abs(scaler.transform(train[:, None]).mean()) < 1e-6
    np.testing.assert_allclose(scaler.inverse(scaler.transform(test[:, None])), test[:, None], rtol=1e-6)
    with pytest.raises(ValueError, match="shorter than input_width"):
        make_windows(series, 18, 5)


def test_seasonal_climatology_recovers_a_yearly_cycle():
    from asr.sequence.data import SeasonalClimatology

    day = np.arange(3 * 365)
    truth = 15 + 8 * np.sin(2 * np.pi * day / 365.25) + 2 * np.cos(4 * np.pi * day / 365.25)
    noisy = truth + RNG.normal(0, 3, size=day.shape)
    normal = SeasonalClimatology(harmonics=2).fit(day[:730], noisy[:730])
    assert np.abs(normal(day[730:]) - truth[730:]).max() < 1.0  # fitted on two years, right on the third
    assert np.abs(SeasonalClimatology(harmonics=0).fit(day, noisy)(day) - noisy.mean()).max() < 1e-4
    with pytest.raises(ValueError, match="not fitted"):
        SeasonalClimatology()(day)
    with pytest.raises(ValueError, match="harmonics=-1"):
        SeasonalClimatology(harmonics=-1)


def test_sequence_corpora_read_the_shared_files():
    from conftest import DATA_DIR, require

    from asr.sequence import read_sentiment_sentences, read_sms_spam, read_ts

    texts, labels = read_sms_spam(require(DATA_DIR / "text" / "sms_spam" / "SMSSpamCollection"))
    assert len(texts) == 5574 and labels.sum() == 747  # the collection's published ham/spam counts
    texts, labels, sources = read_sentiment_sentences(require(DATA_DIR / "text" / "sentiment_labelled_sentences"))
    assert len(texts) == 3000 and labels.sum() == 1500 and set(sources) == {"amazon", "imdb", "yelp"}
    series, classes = read_ts(require(DATA_DIR / "timeseries" / "japanese_vowels") / "JapaneseVowels_TRAIN.ts")
    assert len(series) == 270 and all(s.shape[1] == 12 and 7 <= len(s) <= 29 for s in series)
    assert sorted(set(classes), key=int) == [str(c) for c in range(1, 10)]
