"""Manifest files (JSON lines) and speaker-disjoint / random splits."""

import json
import os
import pathlib
import random

from asr.errors import ConfigError
from asr.files import write_text_atomic
from asr.skip_report import SkipReport
from asr.text import TranscriptError, normalize_transcript

REQUIRED_KEYS = ("path", "text")


def write_manifest(entries, path):
    """Write utterance dicts as JSON lines (atomically).

    Audio paths are written absolute (an entry's relative path is taken as relative to the
    working directory), so the manifest stays valid wherever it is written and read from.
    """
    lines = [json.dumps({**e, "path": os.path.abspath(e["path"])} if "path" in e else e, ensure_ascii=False) + "\n"
             for e in entries]
    return write_text_atomic(path, "".join(lines))


def read_manifest(path):
    """Read a JSON-lines manifest; relative audio paths are resolved against its folder.

    Returns ``(entries, report)``; malformed lines are skipped and counted.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {str(path)!r}")
    report, entries = SkipReport(str(path)), []
    with open(path, encoding="utf-8") as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                report.skip("invalid JSON", f"line {line_no}")
                continue
            if not isinstance(entry, dict) or any(key not in entry for key in REQUIRED_KEYS):
                report.skip(f"missing {'/'.join(REQUIRED_KEYS)}", f"line {line_no}")
                continue
            try:
                entry["text"] = normalize_transcript(entry["text"])
            except TranscriptError:
                report.skip("transcript not encodable", f"line {line_no}")
                continue
            entry["path"] = str((path.parent / entry["path"]).resolve())
            entry.setdefault("id", pathlib.Path(entry["path"]).stem)
            entry.setdefault("speaker", "unknown")
            entries.append(entry)
            report.read += 1
    return entries, report


def speaker_split(entries, dev_speakers=1, seed=0):
    """Speaker-disjoint ``(train, dev)`` split.

    Args:
        dev_speakers: an int (how many speakers go to dev, drawn with ``seed``) or an
            explicit collection of speaker ids.
    """
    speakers = sorted({str(e["speaker"]) for e in entries})
    if isinstance(dev_speakers, int):
        if not 0 < dev_speakers < len(speakers):
            raise ConfigError(f"dev_speakers={dev_speakers} must be between 1 and {len(speakers) - 1} "
                             f"for a corpus of {len(speakers)} speakers")
        chosen = set(random.Random(seed).sample(speakers, dev_speakers))
    else:
        chosen = {str(s) for s in dev_speakers}
        unknown = chosen - set(speakers)
        if unknown:
            raise ConfigError(f"dev_speakers {sorted(unknown)} are not in the corpus (speakers: {speakers})")
    train = [e for e in entries if str(e["speaker"]) not in chosen]
    dev = [e for e in entries if str(e["speaker"]) in chosen]
    return train, dev


def random_split(entries, fraction, seed=0):
    """``(rest, held_out)``: a seeded random ``fraction`` of the utterances held out (e.g. a dev
    set from the training speakers when no speaker can be spared)."""
    if not 0 < fraction < 1:
        raise ConfigError(f"fraction={fraction} must be in (0, 1)")
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    held = set(order[: max(1, round(len(entries) * fraction))])
    return [e for i, e in enumerate(entries) if i not in held], [e for i, e in enumerate(entries) if i in held]
