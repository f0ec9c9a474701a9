"""What every corpus reader shares: the entry builder (transcript normalisation, audio header,
segment and duplicate checks, each failure skipped and counted), the corpus report, table
files (CSV/TSV with BOM, CRLF and bad bytes) and the rule that relative paths stay inside
the corpus folder.

An entry is a dict ``{id, path, duration, text, speaker}`` (+ ``offset`` for a segment of a
longer recording); ``duration`` and ``offset`` are seconds.
"""

import collections
import csv
import math
import os
import pathlib

import numpy as np

from asr.audio import SEGMENT_END_TOLERANCE, AudioError, HeaderMismatch, audio_info
from asr.errors import DataError
from asr.skip_report import SkipReport
from asr.text import TranscriptError, Vocabulary, normalize_transcript

UNKNOWN_SPEAKER = "unknown"  # layouts without speaker ids (Kaggle Common Voice, plain folders)
TOP_CHARACTERS = 10  # unmappable characters listed in a summary
DURATION_PERCENTILES = (5, 50, 95)


class CorpusReport(SkipReport):
    """A reader's ``SkipReport`` plus the layout and path it read, the characters that
    normalisation could not map (with counts) and, once ``summarize`` ran, utterance,
    hour, speaker and duration statistics."""

    def __init__(self, layout, path):
        super().__init__(f"{layout} {path}")
        self.layout, self.path = layout, str(path)
        self.unmapped = collections.Counter()
        self.summary = {}

    def summarize(self, entries):
        """Fill ``summary`` from the entries this source gave; returns it."""
        durations = np.array([float(e.get("duration", 0.0)) for e in entries])
        speakers = {str(e.get("speaker", UNKNOWN_SPEAKER)) for e in entries} - {UNKNOWN_SPEAKER}
        self.summary = {
            "utterances": len(entries), "hours": round(float(durations.sum()) / 3600, 4), "speakers": len(speakers),
            "utterances_without_speaker": sum(str(e.get("speaker", UNKNOWN_SPEAKER)) == UNKNOWN_SPEAKER
                                              for e in entries),
            "duration_seconds": ({"min": round(float(durations.min()), 3),
                                  **{f"p{q}": round(float(np.percentile(durations, q)), 3)
                                     for q in DURATION_PERCENTILES},
                                  "max": round(float(durations.max()), 3)} if len(entries) else {}),
            "unmapped_characters": dict(self.unmapped.most_common(TOP_CHARACTERS)),
        }
        return self.summary

    def to_dict(self):
        return {**super().to_dict(), "layout": self.layout, "path": self.path, **self.summary}


UNREADABLE_AUDIO = "missing or unreadable audio"
HEADER_MISMATCH = "header claims more audio than the file holds"


def probe_audio(path):
    """``(seconds, None)`` from the audio file's header, checked against its size, or ``(None,
    (reason, detail))``: missing/unreadable, or a header that claims more than the file holds
    (detail: both numbers)."""
    try:
        return audio_info(path)[0], None
    except HeaderMismatch as error:
        return None, (HEADER_MISMATCH, f"header {error.claimed:,.1f} s, file holds <= {error.possible:,.1f} s")
    except AudioError:
        return None, (UNREADABLE_AUDIO, None)


def skip_problem(report, problem, where):
    """Count ``problem`` (``(reason, detail)``, as ``probe_audio`` gives) in ``report`` at ``where``."""
    reason, detail = problem
    report.skip(reason, f"{where} ({detail})" if detail else where)


def inside(root, name):
    """``root / name`` if that stays inside ``root`` (no ``..`` escape, not absolute), else None."""
    root = pathlib.Path(root).resolve()
    if not name or os.path.isabs(name):
        return None
    path = (root / name).resolve()
    return path if path == root or root in path.parents else None


class EntryBuilder:
    """Builds a reader's entries, skipping and counting in ``report`` every item that cannot
    be an utterance: a duplicate id, a transcript that is empty or outside the vocabulary,
    missing or unreadable audio, a segment past the end of its recording, an utterance over
    ``max_duration`` seconds. Audio headers are read once per file (``soundfile.info``)."""

    def __init__(self, report, vocabulary=None, max_duration=None, progress=False):
        self.report, self.vocabulary, self.max_duration = report, vocabulary or Vocabulary(), max_duration
        self.entries, self._ids, self._durations = [], set(), {}
        self._symbols = set(self.vocabulary.symbols)
        self._bar = None
        if progress:
            from tqdm.auto import tqdm

            self._bar = tqdm(desc=f"reading {report.layout}", unit="utt", leave=False)

    def text(self, raw_text, where):
        """The normalised transcript, or None (skipped and counted, with the characters the
        vocabulary lacks added to ``report.unmapped``)."""
        try:
            text = normalize_transcript(raw_text)
        except TranscriptError:  # a number too long to be speech
            self.report.skip("transcript not encodable", where)
            return None
        unmapped = [ch for ch in text if ch not in self._symbols]
        if unmapped:
            self.report.unmapped.update(unmapped)
            self.report.skip("transcript not encodable", where)
            return None
        if not text:
            self.report.skip("empty transcript", where)
        return text or None

    def audio_seconds(self, path):
        """``probe_audio(path)`` (cached): ``(seconds, None)`` or ``(None, (reason, detail))``."""
        path = str(path)
        if path not in self._durations:
            self._durations[path] = probe_audio(path)
        return self._durations[path]

    def add(self, utt_id, audio_path, raw_text, speaker=UNKNOWN_SPEAKER, where=None, segment=None):
        """Add one utterance (``segment``: ``(start, end)`` seconds in the recording, end None =
        its end); returns the entry, or None when it was skipped."""
        where = where or utt_id
        if self._bar is not None:
            self._bar.update()
        if utt_id in self._ids:
            self.report.skip("duplicate id (the first is kept)", where)
            return None
        self._ids.add(utt_id)
        text = self.text(raw_text, where)
        if text is None:
            return None
        if audio_path is None:
            self.report.skip("no audio path, or one outside the corpus folder", where)
            return None
        seconds, problem = self.audio_seconds(audio_path)
        if problem is not None:
            skip_problem(self.report, problem, where)
            return None
        entry = {"id": str(utt_id), "path": str(audio_path), "duration": round(seconds, 4), "text": text,
                 "speaker": str(speaker or UNKNOWN_SPEAKER)}
        if segment is not None:
            start, end = segment
            end = seconds if end is None or end < 0 else end  # Kaldi: end -1 = the end of the recording
            if not 0 <= start < end <= seconds + SEGMENT_END_TOLERANCE:
                self.report.skip("segment outside its recording", where)
                return None
            entry.update(offset=round(start, 4), duration=round(min(end, seconds) - start, 4))
        if self.max_duration is not None and entry["duration"] > self.max_duration:
            self.report.skip(f"longer than max_duration={self.max_duration}s", where)
            return None
        self.report.read += 1
        self.entries.append(entry)
        return entry

    def finish(self):
        if self._bar is not None:
            self._bar.close()
        return self.entries, self.report


def finite_seconds(value):
    """``value`` as float seconds if it is a finite number >= 0, else None."""
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        return None
    return seconds if 0 <= seconds < math.inf else None


def read_table(path, report, required, delimiter=",", quoting=csv.QUOTE_MINIMAL):
    """Yield ``(where, row)`` for each data row of a CSV/TSV file with a header line.

    A missing required column is a ``DataError`` naming the file and listing the expected
    and found columns (with a hint when the delimiter looks wrong); a row with bad UTF-8 or
    the wrong number of fields is skipped and counted. BOM and CRLF are accepted.
    ``where`` is ``"FILE:LINE"``.
    """
    path = pathlib.Path(path)
    with open(path, encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter, quoting=quoting)
        try:
            header = next(reader, None)
        except csv.Error as error:
            raise DataError(f"{path}: unreadable header line ({error})") from None
        if header is None:
            raise DataError(f"{path}: empty file (expected a header with columns {list(required)})")
        header = [name.strip() for name in header]
        missing = [name for name in required if name not in header]
        if missing:
            hint = ""
            other = "\t" if delimiter == "," else ","
            if len(header) == 1 and other in header[0]:
                hint = f" (the file is separated by {other!r}, expected {delimiter!r})"
            raise DataError(f"{path}: missing column(s) {missing}{hint}; expected {list(required)}, found {header}")
        for fields in _rows(reader, path, report):
            where = f"{path.name}:{reader.line_num}"
            if not any(field.strip() for field in fields):
                continue
            if any("\udc80" <= ch <= "\udcff" for field in fields for ch in field):
                report.skip("line is not valid UTF-8", where)
                continue
            if len(fields) != len(header):
                report.skip(f"line has {len(fields)} fields, the header {len(header)}", where)
                continue
            yield where, dict(zip(header, fields))


def _rows(reader, path, report):
    """The rows of a ``csv.reader``; a row the csv module refuses (a field over its limit of
    ``csv.field_size_limit()`` characters, 131,072 by default) is skipped and counted."""
    while True:
        try:
            yield next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            reason = (f"a field over {csv.field_size_limit():,} characters" if "field larger" in str(error)
                      else f"unparsable line ({error})")
            report.skip(reason, f"{path.name}:{reader.line_num}")


def read_lines(path, report):
    """Yield ``(where, line)`` for the non-empty lines of a text file (CRLF and BOM accepted;
    a line with bad UTF-8 is skipped and counted)."""
    path = pathlib.Path(path)
    with open(path, "rb") as f:
        for line_no, raw in enumerate(f, 1):
            where = f"{path.name}:{line_no}"
            try:
                line = raw.decode("utf-8").lstrip("\ufeff").strip()
            except UnicodeDecodeError:
                report.skip("line is not valid UTF-8", where)
                continue
            if line:
                yield where, line
