"""LJSpeech layout: ``metadata.csv`` (``id|raw text|normalized text``, no header, no quoting)
and ``wavs/ID.wav``; one speaker (``LJ``). The normalised column is read (numbers and
abbreviations already written out); a two-column file (``id|text``) gives its one text."""

import pathlib

from asr.corpus.common import CorpusReport, EntryBuilder, inside, read_lines
from asr.errors import DataError

METADATA = "metadata.csv"
WAVS = "wavs"
SPEAKER = "LJ"


def read_ljspeech(metadata, vocabulary=None, max_duration=None, progress=False):
    """Read an LJSpeech ``metadata.csv`` (or the folder holding it). Returns ``(entries, report)``."""
    metadata = pathlib.Path(metadata)
    if metadata.is_dir():
        metadata = metadata / METADATA
    if not metadata.is_file():
        raise FileNotFoundError(f"LJSpeech metadata not found: {str(metadata)!r}")
    builder = EntryBuilder(CorpusReport("ljspeech", metadata), vocabulary, max_duration, progress)
    wavs = metadata.parent / WAVS
    pipes = 0
    for where, line in read_lines(metadata, builder.report):
        fields = line.split("|")
        if len(fields) not in (2, 3):
            builder.report.skip("line is not ID|TEXT or ID|RAW|NORMALIZED", where)
            continue
        pipes += 1
        utt_id = fields[0].strip()
        builder.add(utt_id, inside(wavs, utt_id + ".wav"), fields[-1] or fields[1], speaker=SPEAKER,
                    where=f"{where} ({utt_id})")
    if not pipes and builder.report.skipped:
        raise DataError(f"{metadata}: no line is ID|TEXT or ID|RAW|NORMALIZED: is it separated by '|'?")
    return builder.finish()
