"""Manifest files (JSON lines) and speaker-disjoint / random splits.

The toolkit's manifest has one JSON object per line: ``path`` and ``text`` (required),
``duration`` (seconds), ``id``, ``speaker`` and, for a segment of a longer recording,
``offset`` (seconds; the segment is ``offset`` .. ``offset + duration``). NeMo manifests
(``audio_filepath``, ``text``, ``duration``, optional ``offset``) are read by the same reader.
"""

import json
import math
import os
import pathlib
import random

from asr.audio import SEGMENT_END_TOLERANCE
from asr.corpus.common import UNKNOWN_SPEAKER, CorpusReport, probe_audio, skip_problem
from asr.errors import ConfigError
from asr.files import write_text_atomic
from asr.text import TranscriptError, normalize_transcript

REQUIRED_KEYS = ("path", "text")
DURATION_TOLERANCE = (0.25, 0.02)  # s + share of the audio's length: a manifest's rounding and a re-encoding's
#                                    priming samples (Opus/MP3: tens of ms), not another recording
NEMO_PATH_KEY = "audio_filepath"  # NeMo's name for ``path``


def write_manifest(entries, path):
    """Write utterance dicts as JSON lines (atomically).

    Audio paths are written absolute (an entry's relative path is taken as relative to the
    working directory), so the manifest stays valid wherever it is written and read from.
    """
    lines = [json.dumps({**e, "path": os.path.abspath(e["path"])} if "path" in e else e, ensure_ascii=False) + "\n"
             for e in entries]
    return write_text_atomic(path, "".join(lines))


def entry_problem(entry):
    """Why a parsed manifest line cannot be an utterance, or None: ``path`` (or NeMo's
    ``audio_filepath``, renamed in place) and ``text`` are non-empty strings, ``duration`` and
    ``offset`` (optional; an offset needs a duration) finite numbers >= 0, ``id``/``speaker``
    (optional) strings or integers."""
    if not isinstance(entry, dict):
        return "line is not a JSON object"
    if NEMO_PATH_KEY in entry and "path" not in entry:
        entry["path"] = entry.pop(NEMO_PATH_KEY)
    missing = [key for key in REQUIRED_KEYS if key not in entry]
    if missing:
        return f"missing {'/'.join(missing)}"
    for key in REQUIRED_KEYS:
        if not isinstance(entry[key], str) or not entry[key].strip():
            return f"{key} is not a non-empty string"
    for key in ("duration", "offset"):
        value = entry.get(key, 0.0)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            return f"{key} is not a finite number >= 0"
    if "offset" in entry and not entry.get("duration"):
        return "offset without a duration > 0"
    for key in ("id", "speaker"):
        if key in entry and (isinstance(entry[key], bool) or not isinstance(entry[key], (str, int))):
            return f"{key} is not a string"
    return None


def check_against_audio(entry, probed=None):
    """Why ``entry``'s audio or ``duration`` cannot be used, or None. Its file's header is read
    (checked against the file's size, ``asr.audio``); a whole-file entry's ``duration`` must agree
    with it within ``DURATION_TOLERANCE`` (0 or missing: the audio's is filled in), a segment
    must end inside the recording. Returns ``(reason, detail)``. ``probed`` caches each file's
    header by path: segments of one recording and repeated lines read it once."""
    probed = {} if probed is None else probed
    if entry["path"] not in probed:
        probed[entry["path"]] = probe_audio(entry["path"])
    seconds, problem = probed[entry["path"]]
    if problem is not None:
        return problem
    claimed = entry.get("duration") or 0.0
    if "offset" in entry:
        end = entry["offset"] + claimed
        if end > seconds + SEGMENT_END_TOLERANCE:
            return "segment outside its recording", f"ends at {end:g} s, recording {seconds:g} s"
        return None
    if claimed and abs(claimed - seconds) > DURATION_TOLERANCE[0] + DURATION_TOLERANCE[1] * seconds:
        return "duration disagrees with the audio", f"duration {claimed:g} s, audio {seconds:g} s"
    entry["duration"] = round(seconds, 4)
    return None


def read_manifest(path, max_duration=None, check_audio=True):
    """Read a JSON-lines manifest (the toolkit's or NeMo's); relative audio paths are resolved
    against its folder. Each entry's audio header is read and its ``duration`` checked against
    it (``check_against_audio``; ``check_audio=False`` reads the lines alone, e.g. for their text).

    Returns ``(entries, report)``; malformed lines, missing or unreadable audio, durations the
    audio does not have and utterances over ``max_duration`` seconds are skipped and counted. A
    repeated line is read again: a manifest may repeat utterances to weight them (corpus
    readers, whose ids name recordings, keep the first of a duplicate id).
    """
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {str(path)!r}")
    report, entries, probed = CorpusReport("manifest", path), [], {}
    for where, entry in _manifest_lines(path, report):
        if isinstance(entry, dict) and NEMO_PATH_KEY in entry:
            report.layout = "nemo"
        reason = entry_problem(entry)
        if reason is None:
            try:
                entry["text"] = normalize_transcript(entry["text"])
                reason = None if entry["text"] else "empty transcript"
            except TranscriptError:
                reason = "transcript not encodable"
        if reason:
            report.skip(reason, where)
            continue
        entry["path"] = str((path.parent / entry["path"]).resolve())
        problem = check_against_audio(entry, probed) if check_audio else None
        if problem is not None:
            skip_problem(report, problem, where)
            continue
        entry["id"] = str(entry.get("id", pathlib.Path(entry["path"]).stem))
        entry["speaker"] = str(entry.get("speaker", UNKNOWN_SPEAKER))
        if max_duration is not None and entry.get("duration", 0.0) > max_duration:
            report.skip(f"longer than max_duration={max_duration}s", where)
        else:
            entries.append(entry)
            report.read += 1
    return entries, report


def _manifest_lines(path, report):
    """``(where, parsed JSON)`` per non-empty line; bad bytes and bad JSON skipped and counted."""
    with open(path, encoding="utf-8-sig", errors="replace") as f:  # a bad byte spoils its line, not the file
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            if "\ufffd" in line:
                report.skip("line is not valid UTF-8", f"line {line_no}")
                continue
            try:
                yield f"line {line_no}", json.loads(line)
            except json.JSONDecodeError:
                report.skip("invalid JSON", f"line {line_no}")


def speaker_split(entries, dev_speakers=1, seed=0):
    """Speaker-disjoint ``(train, dev)`` split.

    Args:
        dev_speakers: an int (how many speakers go to dev, drawn with ``seed``) or an
            explicit collection of speaker ids. Utterances without a speaker id
            (``"unknown"``: Kaggle Common Voice, plain folders) cannot be held out by
            speaker: they are never drawn and stay in train.
    """
    speakers = sorted({str(e["speaker"]) for e in entries} - {UNKNOWN_SPEAKER})
    if isinstance(dev_speakers, int):
        anonymous = any(str(e["speaker"]) == UNKNOWN_SPEAKER for e in entries)  # they keep train non-empty
        most = len(speakers) if anonymous else len(speakers) - 1
        if not 0 < dev_speakers <= most:
            raise ConfigError(f"dev_speakers={dev_speakers} must be between 1 and {most} for a corpus of "
                              f"{len(speakers)} speakers" + (" (+ utterances without a speaker id, which stay in "
                                                             "train)" if anonymous else ""))
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
