"""Corpora as manifests: lists of utterance dicts ``{id, path, duration, text, speaker}``
(+ ``offset`` for a segment of a longer recording).

Readers return ``(entries, report)``: ``report`` (a ``CorpusReport``) counts what was read and
every item that was skipped, by reason, so that nothing is dropped silently. One reader per
layout; ``load_sources`` picks them from what each path holds (``asr.corpus.sources``).
"""

from asr.corpus.audiofolder import read_audiofolder
from asr.corpus.common import CorpusReport
from asr.corpus.commonvoice import read_common_voice, read_common_voice_csv
from asr.corpus.kaldi import read_kaldi
from asr.corpus.librispeech import read_librispeech, read_transcribed_folder
from asr.corpus.ljspeech import read_ljspeech
from asr.corpus.manifest import random_split, read_manifest, speaker_split, write_manifest
from asr.corpus.sources import LAYOUTS, Source, find_sources, load_sources

__all__ = [
    "LAYOUTS",
    "CorpusReport",
    "Source",
    "find_sources",
    "load_entries",
    "load_sources",
    "random_split",
    "read_audiofolder",
    "read_common_voice",
    "read_common_voice_csv",
    "read_kaldi",
    "read_librispeech",
    "read_ljspeech",
    "read_manifest",
    "read_transcribed_folder",
    "speaker_split",
    "write_manifest",
]


def load_entries(source, max_duration=None, layout="auto"):
    """Entries from one or several sources of any layout (see ``load_sources``), with one
    ``SkipReport`` for all of them. Utterances over ``max_duration`` seconds are skipped and counted."""
    entries, reports = load_sources(source, layout=layout, max_duration=max_duration)
    report = reports[0]
    for other in reports[1:]:
        report.merge(other)
    if len(reports) > 1:
        report.name = f"{len(reports)} sources ({', '.join(r.name for r in reports)})"
    return entries, report
