"""Readers for the non-speech sequence datasets (variable-length time series, labelled text)."""

import pathlib

import numpy as np

from asr.errors import DataError


def _check_file(path, what):
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{what} not found: {str(path)!r}")
    return path


def read_ts(path):
    """A multivariate sktime/UEA ``.ts`` file with class labels.

    Returns ``(sequences, labels)``: a list of float32 ``(time, dimensions)`` arrays (lengths
    may differ) and a list of label strings.
    """
    path = _check_file(path, ".ts file")
    sequences, labels, in_data = [], [], False
    for line_no, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.lower() == "@data":
            in_data = True
            continue
        if not in_data:
            continue
        *dims, label = line.split(":")
        try:
            channels = [np.array([float(v) for v in d.split(",")], dtype=np.float32) for d in dims]
        except ValueError:
            raise DataError(f"{path}:{line_no}: non-numeric value in a .ts series") from None
        if len({len(c) for c in channels}) != 1:
            raise DataError(f"{path}:{line_no}: dimensions of one series differ in length")
        sequences.append(np.stack(channels, axis=1))
        labels.append(label.strip())
    if not sequences:
        raise DataError(f"{path}: no @data section or no series")
    return sequences, labels


def read_sms_spam(path):
    """SMS Spam Collection (tab-separated ``label<TAB>text``, optional header). Returns
    ``(texts, labels)`` with label 1 = spam, 0 = ham."""
    path = _check_file(path, "SMS spam file")
    texts, labels = [], []
    for line_no, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
        label, _, text = line.partition("\t")
        if line_no == 1 and label.lower() == "label":
            continue
        if label not in ("ham", "spam") or not text:
            raise DataError(f"{path}:{line_no}: expected 'ham' or 'spam', a tab and a message")
        texts.append(text)
        labels.append(int(label == "spam"))
    return texts, np.array(labels, dtype=np.int32)


def read_sentiment_sentences(folder):
    """UCI Sentiment Labelled Sentences: every ``*_labelled.txt`` (``sentence<TAB>0|1``) in
    ``folder``. Returns ``(texts, labels, sources)``."""
    folder = pathlib.Path(folder)
    files = sorted(folder.glob("*_labelled.txt"))
    if not files:
        raise FileNotFoundError(f"no *_labelled.txt files in {str(folder)!r}")
    texts, labels, sources = [], [], []
    for file in files:
        for line_no, line in enumerate(file.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if not line.strip():
                continue
            text, _, label = line.rstrip().rpartition("\t")
            if label not in ("0", "1"):
                raise DataError(f"{file}:{line_no}: expected 'sentence<TAB>0|1'")
            texts.append(text)
            labels.append(int(label))
            sources.append(file.name.split("_")[0])
    return texts, np.array(labels, dtype=np.int32), sources
