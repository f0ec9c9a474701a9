"""Corpora as manifests: lists of utterance dicts ``{id, path, duration, text, speaker}``.

Readers return ``(entries, report)``: ``report`` counts what was read and every item that
was skipped, by reason, so that nothing is dropped silently.
"""

import pathlib

from asr.corpus.librispeech import read_librispeech, read_transcribed_folder
from asr.corpus.manifest import random_split, read_manifest, speaker_split, write_manifest

__all__ = [
    "load_entries",
    "random_split",
    "read_librispeech",
    "read_manifest",
    "read_transcribed_folder",
    "speaker_split",
    "write_manifest",
]


def load_entries(source, max_duration=None):
    """Entries from a JSON-lines manifest file or a LibriSpeech-layout folder.

    Returns ``(entries, report)``; utterances over ``max_duration`` seconds are skipped and counted.
    """
    source = pathlib.Path(source)
    if source.is_dir():
        return read_librispeech(source, max_duration=max_duration)
    if not source.exists():
        raise FileNotFoundError(f"data source not found: {str(source)!r} (expected a manifest .jsonl "
                                "file or a LibriSpeech-layout folder)")
    entries, report = read_manifest(source)
    if max_duration is None:
        return entries, report
    kept = []
    for entry in entries:
        if entry.get("duration", 0.0) > max_duration:
            report.read -= 1
            report.skip(f"longer than max_duration={max_duration}s", entry["id"])
        else:
            kept.append(entry)
    return kept, report
