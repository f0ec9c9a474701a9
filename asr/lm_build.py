"""Build a word n-gram LM from text files: read, normalise, hold out, estimate, measure.

>>> sentences, counts = read_sentences(["lm/commonvoice_v1.txt", "runs/x/train.jsonl"])
>>> lm, report = build_lm(sentences, order=4, prune=(0, 1), exclude=test_texts, dev=dev_texts)
>>> report["dev"]["perplexity"], report["ngrams"]

A text file holds one sentence a line; a ``.jsonl`` manifest gives its ``text`` fields. Every
line is normalised as transcripts are (``asr.text.normalize_transcript``: lower case,
numbers spelled, punctuation dropped), so the LM's words are the words a model can spell.
"""

import pathlib
import time

from asr.errors import ConfigError, CorruptFileError
from asr.lm import NGramLM
from asr.text import normalize_transcript


def _lines(path):
    """The raw text lines of one file (a ``.jsonl`` manifest: its utterances' transcripts, read by
    ``asr.corpus.read_manifest``)."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"text file not found: {str(path)!r}")
    if path.suffix == ".jsonl":
        from asr.corpus import read_manifest

        return [entry["text"] for entry in read_manifest(path, check_audio=False)[0]]  # transcripts only
    try:
        return path.read_text(encoding="utf-8-sig").splitlines()
    except UnicodeDecodeError as error:
        raise CorruptFileError(f"{path}: not a UTF-8 text file ({error})") from None


def read_sentences(paths):
    """``(sentences, counts)``: the normalised non-empty lines of every file, in order, and
    per file ``{"lines", "sentences", "empty"}``."""
    sentences, counts = [], {}
    for path in paths:
        lines = _lines(path)
        mine = [s for s in (normalize_transcript(line) for line in lines) if s]
        counts[str(path)] = {"lines": len(lines), "sentences": len(mine), "empty": len(lines) - len(mine)}
        sentences += mine
    return sentences, counts


def perplexity(lm, sentences):
    """KenLM's convention: ``10 ** (-log10 P / N)`` over N = words + one ``</s>`` per sentence,
    unknown words scored as ``<unk>`` (and counted under ``"oov"``)."""
    total, tokens, oov = 0.0, 0, 0
    for sentence in sentences:
        words = sentence.split()
        oov += sum(w not in lm.vocabulary for w in words)
        total += lm.sentence_log10_prob(sentence)
        tokens += len(words) + 1
    if tokens == 0:
        raise ConfigError("perplexity of no text")
    words = tokens - len(sentences)
    return {"sentences": len(sentences), "tokens": tokens, "oov": oov, "oov_rate": oov / max(1, words),
            "log10_prob": total, "perplexity": 10 ** (-total / tokens)}


def build_lm(sentences, order=3, prune=(), exclude=(), dev=()):
    """Estimate an LM on ``sentences`` minus every sentence of ``exclude`` (evaluation text,
    normalised before comparing); with ``dev`` sentences, their perplexity. Returns
    ``(lm, report)``: sentences used and excluded, discounts, n-grams, seconds, perplexity."""
    held_out = {normalize_transcript(s) for s in exclude}
    kept = [s for s in sentences if s not in held_out]
    if not sentences:
        raise ConfigError("no text to train on: the text files hold no sentence (empty, or nothing left after "
                          "normalisation)")
    if not kept:
        raise ConfigError(f"no text left to train on: {len(sentences)} sentences, all excluded")
    start = time.perf_counter()
    lm = NGramLM.train(kept, order=order, prune=prune)
    report = {"sentences": len(kept), "excluded_sentences": len(sentences) - len(kept),
              "words": lm.info["tokens"] - len(kept), "vocabulary": len(lm.words),
              **{k: lm.info[k] for k in ("order", "prune", "discounts", "discounts_estimated", "ngrams_counted",
                                         "ngrams")},
              "seconds": time.perf_counter() - start}
    dev = [s for s in (normalize_transcript(s) for s in dev) if s]
    if dev:
        report["dev"] = perplexity(lm, dev)
    return lm, report


def format_report(report, output=None):
    """A few readable lines of a ``build_lm`` report."""
    ngrams = ", ".join(f"{n}-grams {c:,}" for n, c in report["ngrams"].items())
    lines = [f"{report['order']}-gram LM: {report['sentences']:,} sentences, {report['words']:,} words, "
             f"vocabulary {report['vocabulary']:,} ({report['excluded_sentences']:,} sentences excluded)",
             f"kept {ngrams} (prune {report['prune']}); {report['seconds']:.1f} s"]
    fallback = [n for n, ok in report["discounts_estimated"].items() if not ok]
    if fallback:
        lines.append(f"warning: too little text to estimate the discounts of order(s) {fallback}: "
                     "fallback discounts used")
    if "dev" in report:
        dev = report["dev"]
        lines.append(f"dev perplexity {dev['perplexity']:.1f} over {dev['tokens']:,} tokens "
                     f"({dev['sentences']:,} sentences, OOV rate {dev['oov_rate']:.3f})")
    if output:
        lines.append(f"-> {output}")
    return lines
