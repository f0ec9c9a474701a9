"""Manifest files (JSON lines) and speaker-disjoint / random splits."""

import json
import math
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


def entry_problem(entry):
    """Why a parsed manifest line cannot be an utterance, or None: ``path`` and ``text`` are
    non-empty strings, ``duration`` (optional) a finite number >= 0, ``id``/``speaker``
    (optional) strings or integers."""
    if not isinstance(entry, dict):
        return "line is not a JSON object"
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        return f"missing {'/'.join(missing)}"
    for key in REQUIRED_KEYS:
        if not isinstance(entry[key], str) or not entry[key].strip():
            return f"{key} is not a non-empty string"
    duration = entry.get("duration", 0.0)
    if isinstance(duration, bool) or not isinstance(duration, (int, float)) or not 0 <= duration < math.inf:
        return "duration is not a finite number >= 0"
    for key in ("id", "speaker"):
        if key in entry and (isinstance(entry[key], bool) or not isinstance(entry[key], (str, int))):
            return f"{key} is not a string"
    return None


def read_manifest(path):
    """Read a JSON-lines manifest; relative audio paths are resolved against its folder.

    Returns ``(entries, report)``; malformed lines are skipped and counted.
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {str(path)!r}")
    report, entries = SkipReport(str(path)), []
    with open(path, encoding="utf-8", errors="replace") as f:  # a bad byte spoils its line, not the file
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            if "\ufffd" in line:
                report.skip("line is not valid UTF-8", f"line {line_no}")
                continue
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                report.skip("invalid JSON", f"line {line_no}")
                continue
            reason = entry_problem(entry)
            if reason is None:
                try:
                    entry["text"] = normalize_transcript(entry["text"])
                    reason = None if entry["text"] else "empty transcript"
                except TranscriptError:
                    reason = "transcript not encodable"
            if reason:
                report.skip(reason, f"line {line_no}")
                continue
            entry["path"] = str((path.parent / entry["path"]).resolve())
            entry["id"] = str(entry.get("id", pathlib.Path(entry["path"]).stem))
            entry["speaker"] = str(entry.get("speaker", "unknown"))
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
