"""Data sources: which reader a path needs, several sources read as one corpus.

A source is a path, optionally prefixed by its layout (``kaldi:data/train``) where the
automatic choice would be wrong. Several sources are a list or one comma-separated string.
A folder that holds several corpora (e.g. a Common Voice folder with a Kaggle CSV and two
release samples) gives one source for each; a tree of LibriSpeech chapters is one source.

>>> sources = find_sources("../shared/data/commonvoice-en")   # [Source('commonvoice-csv', ...), ...]
>>> entries, reports = load_sources(["LibriSpeech/train-clean-5", "cv/validated.tsv"], max_duration=20)
"""

import dataclasses
import os
import pathlib

from asr.audio import AUDIO_EXTENSIONS
from asr.corpus.audiofolder import METADATA_FILES, read_audiofolder
from asr.corpus.commonvoice import CLIPS, KAGGLE_COLUMNS, read_common_voice, read_common_voice_csv
from asr.corpus.kaldi import REQUIRED_FILES as KALDI_FILES
from asr.corpus.kaldi import read_kaldi
from asr.corpus.librispeech import read_librispeech, read_transcribed_folder
from asr.corpus.ljspeech import METADATA as LJ_METADATA
from asr.corpus.ljspeech import WAVS, read_ljspeech
from asr.corpus.manifest import read_manifest
from asr.errors import ConfigError, DataError

READERS = {
    "librispeech": read_librispeech,  # folder: SPK/CHAPTER/*.trans.txt below it
    "commonvoice": read_common_voice,  # release TSV (a folder: its validated.tsv, else train/dev/test.tsv)
    "commonvoice-csv": read_common_voice_csv,  # Kaggle CSV
    "ljspeech": read_ljspeech,  # metadata.csv + wavs/
    "kaldi": read_kaldi,  # data directory
    "audiofolder": read_audiofolder,  # Hugging Face metadata.csv / metadata.jsonl
    "manifest": lambda path, vocabulary=None, max_duration=None, progress=False: read_manifest(path, max_duration),
    "folder": read_transcribed_folder,  # NAME.wav + NAME.txt pairs
}
LAYOUTS = tuple(READERS) + ("nemo",)  # nemo: the manifest reader
RELEASE_TSVS = ("validated.tsv", "train.tsv", "dev.tsv", "test.tsv")  # a release folder: the first, else the rest
KAGGLE_SKIPPED = ("cv-other", "cv-invalid")  # unvalidated clips: read only when the CSV is named
MAX_DEPTH = 8  # folder levels searched below a source for corpora
LOOKED_FOR = ("LibriSpeech (*.trans.txt), Common Voice (clips/ + validated.tsv, or cv-*.csv with filename,text), "
              "LJSpeech (metadata.csv + wavs/), Kaldi (wav.scp + text), Hugging Face audiofolder (metadata.csv or "
              "metadata.jsonl with file_name), a manifest (.jsonl), audio files with .txt transcripts")


@dataclasses.dataclass(frozen=True)
class Source:
    """One corpus to read: its ``layout`` (a key of ``READERS``) and ``path``."""

    layout: str
    path: pathlib.Path

    def read(self, vocabulary=None, max_duration=None, progress=False):
        """``(entries, report)`` from this source's reader, the report summarised."""
        entries, report = READERS[self.layout](self.path, vocabulary=vocabulary, max_duration=max_duration,
                                               progress=progress)
        report.summarize(entries)
        return entries, report


def split_sources(sources):
    """A list of source strings from a list, or one string with commas between sources (a
    string naming an existing path is one source, commas and all)."""
    if isinstance(sources, (str, os.PathLike)):
        text = os.fspath(sources)
        sources = [text] if os.path.exists(text) else [s for s in text.split(",")]
    found = [str(s).strip() for s in sources if str(s).strip()]
    if not found:
        raise ConfigError(f"no data source given in {sources!r}")
    return found


def absolute_sources(sources):
    """``sources`` (a ``train_data``-style string) with every path made absolute, layouts kept:
    a run's recorded settings then mean the same data from any working folder."""
    if not sources:
        return sources
    resolved = []
    for source in split_sources(sources):
        parse_source(source)  # an unknown LAYOUT: prefix is named here, not taken for a file name
        head, sep, rest = source.partition(":")
        layout, path = (head + sep, rest) if sep and head in LAYOUTS else ("", source)
        resolved.append(layout + os.path.abspath(path))
    return ",".join(resolved)


def parse_source(text, layout="auto"):
    """``(layout, path)`` of ``"LAYOUT:PATH"`` (the layout must be one of ``LAYOUTS``) or ``"PATH"``."""
    head, sep, rest = str(text).partition(":")
    if sep and head in LAYOUTS:
        layout, text = head, rest
    elif sep and len(head) > 1 and head.isidentifier() and not os.path.exists(text):  # "C:" is a drive
        raise ConfigError(f"unknown layout {head!r} in {str(text)!r}: layouts are {', '.join(LAYOUTS)}")
    if layout != "auto" and layout not in LAYOUTS:
        raise ConfigError(f"layout={layout!r} must be 'auto' or one of {LAYOUTS}")
    return ("manifest" if layout == "nemo" else layout), pathlib.Path(text)


def find_sources(source, layout="auto"):
    """The ``Source`` list one path (or ``"LAYOUT:PATH"``) stands for; an error naming the path
    and the layouts looked for when it holds none."""
    layout, path = parse_source(source, layout)
    if not path.exists():
        raise FileNotFoundError(f"data source not found: {str(path)!r} (tried {os.path.abspath(path)!r}; a corpus "
                                f"folder or file; looked for "
                                f"{LOOKED_FOR})")
    if layout != "auto":
        return [_explicit(layout, path)]
    found = _file_source(path) if path.is_file() else _folder_sources(path, MAX_DEPTH)
    if not found:
        raise DataError(f"no corpus found in {str(path)!r}: looked for {LOOKED_FOR}")
    return found


def _explicit(layout, path):
    if layout == "commonvoice" and path.is_dir():
        tsvs = _release_tsvs(path)
        if not tsvs:
            raise DataError(f"{str(path)!r} has no {' or '.join(RELEASE_TSVS)}: name the Common Voice TSV to read")
        return tsvs[0]
    return Source(layout, path)


def _file_source(path):
    suffix = path.suffix.lower()
    if suffix in (".jsonl", ".json"):
        return [Source("audiofolder" if path.name == "metadata.jsonl" else "manifest", path)]
    if suffix == ".tsv":
        return [Source("commonvoice", path)]
    if suffix == ".csv":
        header = _first_line(path)
        if path.name == LJ_METADATA and "|" in header and "file_name" not in header:
            return [Source("ljspeech", path)]
        if "file_name" in header.split(","):
            return [Source("audiofolder", path)]
        if all(column in header.split(",") for column in KAGGLE_COLUMNS):
            return [Source("commonvoice-csv", path)]
        raise DataError(f"{path}: a CSV file that is neither a Common Voice (filename,text), Hugging Face "
                        f"audiofolder (file_name) nor LJSpeech (ID|TEXT) list; first line: {header[:120]!r}")
    raise DataError(f"{path}: not a corpus file (.jsonl manifest, .tsv, .csv); a folder may be given instead")


def _first_line(path):
    with open(path, encoding="utf-8-sig", errors="replace") as f:
        return f.readline().strip()


def _release_tsvs(folder):
    """A release folder's sources: its ``validated.tsv``, else its ``train/dev/test.tsv``."""
    if not (folder / CLIPS).is_dir():
        return []
    tsvs = [folder / name for name in RELEASE_TSVS if (folder / name).is_file()]
    if tsvs and tsvs[0].name == RELEASE_TSVS[0]:
        tsvs = tsvs[:1]
    return [Source("commonvoice", tsv) for tsv in tsvs]


def _root_source(folder, names):
    """The corpus that ``folder`` itself is (a list of sources), or []."""
    if all(name in names for name in KALDI_FILES):
        return [Source("kaldi", folder)]
    if LJ_METADATA in names and (folder / WAVS).is_dir() and "|" in _first_line(folder / LJ_METADATA):
        return [Source("ljspeech", folder / LJ_METADATA)]
    if tsvs := _release_tsvs(folder):
        return tsvs
    for name in METADATA_FILES:
        if name in names:
            return [Source("audiofolder", folder / name)]
    if any(name.endswith(".trans.txt") for name in names):
        return [Source("librispeech", folder)]
    stems = {name.rsplit(".", 1)[0] for name in names if name.endswith(".txt")}
    if any(name.rsplit(".", 1)[0] in stems for name in names if name.lower().endswith(AUDIO_EXTENSIONS)):
        return [Source("folder", folder)]
    return []


def _folder_sources(folder, depth):
    """Sources in ``folder`` and below; a subtree of LibriSpeech chapters is one source."""
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    names = {e.name for e in entries if e.is_file()}
    if root := _root_source(folder, names):
        return root
    found = [Source("commonvoice-csv", folder / name) for name in sorted(names)
             if name.endswith(".csv") and not name.startswith(KAGGLE_SKIPPED)
             and all(c in _first_line(folder / name).split(",") for c in KAGGLE_COLUMNS)]
    children = []
    if depth > 0:
        for entry in entries:
            if entry.is_dir() and not entry.name.startswith("."):
                children += _folder_sources(pathlib.Path(entry.path), depth - 1)
    if not found and children and all(s.layout == "librispeech" for s in children):
        return [Source("librispeech", folder)]
    return found + children


def load_sources(sources, layout="auto", vocabulary=None, max_duration=None, progress=False):
    """Read every corpus in ``sources`` (see ``split_sources``) as one list of entries.

    Returns ``(entries, reports)``: one summarised ``CorpusReport`` per corpus found; each
    entry's ``source`` names its corpus (``report.name``). An utterance read before from an
    earlier source (the same audio and offset) is skipped and counted in the later source's report.
    """
    entries, reports, seen = [], [], set()
    found = [(i, s) for i, text in enumerate(split_sources(sources)) for s in find_sources(text, layout)]
    for argument, source in found:
        read, report = source.read(vocabulary, max_duration, progress)
        report.argument = argument  # which of ``sources`` it came from (e.g. for per-source weights)
        kept = []
        for entry in read:
            if (entry["path"], entry.get("offset")) in seen:
                report.skip("same audio as in an earlier source", entry["id"])
                report.read -= 1
            else:
                kept.append({**entry, "source": report.name})
        seen.update((entry["path"], entry.get("offset")) for entry in kept)  # within a source, repeats are kept
        if len(kept) < len(read):
            report.summarize(kept)
        entries += kept
        reports.append(report)
    return entries, reports
