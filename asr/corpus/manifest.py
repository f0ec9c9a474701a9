"""Manifest files (JSON lines), the shared data folder, and speaker-disjoint splits."""

import collections
import json
import os
import pathlib
import random

from asr.text import TranscriptError, normalize_transcript

DATA_DIR_ENV = "ASR_DATA_DIR"
REQUIRED_KEYS = ("path", "text")


def default_data_dir():
    """``$ASR_DATA_DIR``, else ``../shared/data`` beside the project checkout."""
    if os.environ.get(DATA_DIR_ENV):
        return pathlib.Path(os.environ[DATA_DIR_ENV])
    return pathlib.Path(__file__).resolve().parents[3] / "shared" / "data"


class SkipReport:
    """Counts of items read and skipped (by reason) while building a corpus or dataset."""

    def __init__(self, name="corpus"):
        self.name = name
        self.read = 0
        self.skipped = collections.Counter()
        self.examples = {}

    def skip(self, reason, item):
        self.skipped[reason] += 1
        self.examples.setdefault(reason, str(item))

    def merge(self, other):
        self.read += other.read
        self.skipped.update(other.skipped)
        for reason, item in other.examples.items():
            self.examples.setdefault(reason, item)
        return self

    def to_dict(self):
        return {"name": self.name, "read": self.read, "skipped": dict(self.skipped),
                "skipped_examples": dict(self.examples)}

    def __str__(self):
        text = f"{self.name}: {self.read} read"
        if self.skipped:
            text += ", skipped " + ", ".join(f"{n} ({reason}, e.g. {self.examples[reason]})"
                                             for reason, n in sorted(self.skipped.items()))
        return text


def write_manifest(entries, path):
    """Write utterance dicts as JSON lines (atomically).

    Audio paths are written absolute (an entry's relative path is taken as relative to the
    working directory), so the manifest stays valid wherever it is written and read from.
    """
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for entry in entries:
            if "path" in entry:
                entry = {**entry, "path": os.path.abspath(entry["path"])}
            f.write(json.dumps(entry, ensure_ascii=False) + "\n")
    os.replace(tmp, path)


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
            raise ValueError(f"dev_speakers={dev_speakers} must be between 1 and {len(speakers) - 1} "
                             f"for a corpus of {len(speakers)} speakers")
        chosen = set(random.Random(seed).sample(speakers, dev_speakers))
    else:
        chosen = {str(s) for s in dev_speakers}
        unknown = chosen - set(speakers)
        if unknown:
            raise ValueError(f"dev_speakers {sorted(unknown)} are not in the corpus (speakers: {speakers})")
    train = [e for e in entries if str(e["speaker"]) not in chosen]
    dev = [e for e in entries if str(e["speaker"]) in chosen]
    return train, dev


def random_split(entries, fraction, seed=0):
    """``(rest, held_out)``: a seeded random ``fraction`` of the utterances held out (e.g. a dev
    set from the training speakers when no speaker can be spared)."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction={fraction} must be in (0, 1)")
    order = list(range(len(entries)))
    random.Random(seed).shuffle(order)
    held = set(order[: max(1, round(len(entries) * fraction))])
    return [e for i, e in enumerate(entries) if i not in held], [e for i, e in enumerate(entries) if i in held]
