"""Text and tabular sequence tasks with the toolkit's layers: classification (sentiment,
spam, multivariate series), forecasting, and a stateful LSTM.

* ``asr.sequence.corpora``: readers for the datasets (``.ts`` series, SMS spam, sentiment sentences).
* ``asr.sequence.data``: ``TextVectorizer``, ``time_split``, ``make_windows`` (NumPy; padding is
  ``asr.padding.pad_batch`` and standardisation ``asr.features.FeatureStats``, shared with speech).
* ``asr.sequence.models``: Keras builders (``text_classifier``, ``forecaster``, ...), which import Keras.

This package's ``__init__`` imports no Keras, so the recipes can choose a backend first.
"""

from asr.sequence.corpora import read_sentiment_sentences, read_sms_spam, read_ts
from asr.sequence.data import TextVectorizer, make_windows, time_split, tokenize

__all__ = ["TextVectorizer", "make_windows", "read_sentiment_sentences", "read_sms_spam", "read_ts", "time_split",
           "tokenize"]
