"""Kaldi data directory: ``wav.scp`` (``RECORDING PATH``), ``text`` (``UTTERANCE TRANSCRIPT``),
``utt2spk`` (``UTTERANCE SPEAKER``; optional here) and optional ``segments`` (``UTTERANCE
RECORDING START END``, seconds; END -1 = the end of the recording). Without ``segments`` an
utterance id is its recording id.

Only plain paths are read (relative ones from the working directory, as Kaldi's tools do).
A ``wav.scp`` entry that is a command (``RECORDING sox ... |``) is refused with an error
naming the file and line and is **never executed**: convert such audio to files first.
"""

import pathlib

from asr.corpus.common import UNKNOWN_SPEAKER, CorpusReport, EntryBuilder, finite_seconds, read_lines
from asr.errors import DataError

REQUIRED_FILES = ("wav.scp", "text")


def _pairs(path, report, kind):
    """``{first field: rest of the line}`` of a Kaldi table (duplicates: the first kept, counted)."""
    table = {}
    for where, line in read_lines(path, report):
        key, _, value = line.partition(" ")
        value = value.strip()
        if key in table:
            report.skip(f"duplicate id in {path.name} (the first is kept)", where)
        elif kind == "text" or value:
            table[key] = (value, where)
        else:
            report.skip(f"{path.name} line has no value", where)
    return table


def _recordings(wav_scp, report):
    recordings = _pairs(wav_scp, report, "wav.scp")
    for recording, (value, where) in recordings.items():
        if value.endswith("|") or value.startswith("|"):
            raise DataError(f"{wav_scp.parent.name}/{where}: recording {recording!r} is a command ({value!r}); "
                            "commands are never run: write the audio to files and list their paths")
    return {recording: pathlib.Path(value).absolute() for recording, (value, _) in recordings.items()}


def _segments(path, report):
    """``{utterance: (recording, start, end)}`` from a ``segments`` file."""
    segments = {}
    for utterance, (value, where) in _pairs(path, report, "segments").items():
        fields = value.split()
        times = [finite_seconds(v) for v in fields[1:]] if len(fields) == 3 else []
        end = fields[2] if len(fields) == 3 else None
        if len(times) != 2 or times[0] is None or (times[1] is None and end != "-1"):
            report.skip("segments line is not UTTERANCE RECORDING START END (seconds)", where)
            continue
        segments[utterance] = (fields[0], times[0], -1.0 if end == "-1" else times[1])
    return segments


def read_kaldi(data_dir, vocabulary=None, max_duration=None, progress=False):
    """Read a Kaldi data directory. Returns ``(entries, report)``, sorted by utterance id."""
    data_dir = pathlib.Path(data_dir)
    missing = [name for name in REQUIRED_FILES if not (data_dir / name).is_file()]
    if missing:
        raise FileNotFoundError(f"Kaldi data directory {str(data_dir)!r} lacks {missing}")
    builder = EntryBuilder(CorpusReport("kaldi", data_dir), vocabulary, max_duration, progress)
    report = builder.report
    recordings = _recordings(data_dir / "wav.scp", report)
    speakers = ({u: s for u, (s, _) in _pairs(data_dir / "utt2spk", report, "utt2spk").items()}
                if (data_dir / "utt2spk").is_file() else {})
    has_segments = (data_dir / "segments").is_file()
    segments = _segments(data_dir / "segments", report) if has_segments else None
    for utterance, (raw_text, where) in sorted(_pairs(data_dir / "text", report, "text").items()):
        if has_segments:
            if utterance not in segments:
                report.skip("utterance not in segments", where)
                continue
            recording, start, end = segments[utterance]
        else:
            recording, start, end = utterance, None, None
        if recording not in recordings:
            report.skip("recording not in wav.scp", where)
            continue
        builder.add(utterance, recordings[recording], raw_text, speaker=speakers.get(utterance, UNKNOWN_SPEAKER),
                    where=f"{where} ({utterance})", segment=None if start is None else (start, end))
    return builder.finish()
