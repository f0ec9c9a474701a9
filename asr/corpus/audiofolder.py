"""Hugging Face ``audiofolder`` layout: audio files beside a ``metadata.csv`` (header line) or
``metadata.jsonl`` (one object per line) whose ``file_name`` names each file relative to the
metadata's folder; the transcript is the first of ``transcription``, ``text``, ``sentence``
the metadata has; the speaker the first of ``speaker_id``, ``client_id``, ``speaker``."""

import json
import pathlib

from asr.corpus.common import UNKNOWN_SPEAKER, CorpusReport, EntryBuilder, inside, read_lines, read_table
from asr.errors import DataError

METADATA_FILES = ("metadata.csv", "metadata.jsonl")
FILE_COLUMN = "file_name"
TEXT_COLUMNS = ("transcription", "text", "sentence")
SPEAKER_COLUMNS = ("speaker_id", "client_id", "speaker")


def _jsonl_rows(path, report):
    for where, line in read_lines(path, report):
        try:
            row = json.loads(line)
        except json.JSONDecodeError:
            report.skip("invalid JSON", where)
            continue
        if not isinstance(row, dict):
            report.skip("line is not a JSON object", where)
            continue
        yield where, row


def _text_column(path, row):
    found = [name for name in TEXT_COLUMNS if name in row]
    if FILE_COLUMN not in row or not found:
        raise DataError(f"{path}: expected the columns {FILE_COLUMN!r} and one of {list(TEXT_COLUMNS)}, "
                        f"found {sorted(row)}")
    return found[0]


def read_audiofolder(metadata, vocabulary=None, max_duration=None, progress=False):
    """Read an audiofolder ``metadata.csv``/``metadata.jsonl`` (or the folder holding one).
    Returns ``(entries, report)``; the id is ``file_name`` without its extension."""
    metadata = pathlib.Path(metadata)
    if metadata.is_dir():
        metadata = next((metadata / n for n in METADATA_FILES if (metadata / n).is_file()), metadata / "metadata.csv")
    if not metadata.is_file():
        raise FileNotFoundError(f"audiofolder metadata not found: {str(metadata)!r}")
    builder = EntryBuilder(CorpusReport("audiofolder", metadata), vocabulary, max_duration, progress)
    if metadata.suffix == ".jsonl":
        rows = _jsonl_rows(metadata, builder.report)
    else:
        rows = read_table(metadata, builder.report, (FILE_COLUMN,))
    text_column = None
    for where, row in rows:
        text_column = text_column or _text_column(metadata, row)
        name = row.get(FILE_COLUMN)
        if not isinstance(name, str) or not isinstance(row.get(text_column), str):
            builder.report.skip(f"{FILE_COLUMN} or {text_column} is not a string", where)
            continue
        speaker = next((str(row[c]) for c in SPEAKER_COLUMNS if row.get(c) not in (None, "")), UNKNOWN_SPEAKER)
        builder.add(name.rsplit(".", 1)[0], inside(metadata.parent, name), row[text_column], speaker=speaker,
                    where=f"{where} ({name})")
    return builder.finish()
