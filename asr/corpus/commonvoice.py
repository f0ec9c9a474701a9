"""Mozilla Common Voice readers: the release layout and the Kaggle CSV layout.

Release layout (every version since 1)::

    validated.tsv  train.tsv  dev.tsv  test.tsv  other.tsv  invalidated.tsv
    clips/common_voice_en_1.mp3 ...

Each TSV has the columns ``client_id`` (the speaker), ``path`` (a clip name in ``clips/``)
and ``sentence`` (case and punctuation kept; normalised here), among others. The TSVs are
tab-separated without quoting (``"`` is part of a sentence), as Mozilla writes them.

Kaggle layout ("Common Voice" on Kaggle, CV v1)::

    cv-valid-train.csv  cv-valid-dev.csv  cv-valid-test.csv  cv-other-*.csv  cv-invalid.csv
    cv-valid-dev/sample-000000.mp3 ...

Each CSV has ``filename`` (relative to the CSV's folder) and ``text``; it has no speaker ids
(every entry's speaker is ``"unknown"``). Clips may be re-encoded (e.g. to Opus) under the same
stem: a ``filename`` whose file is missing is looked up with the other audio extensions.
"""

import csv
import pathlib

from asr.audio import AUDIO_EXTENSIONS
from asr.corpus.common import UNKNOWN_SPEAKER, CorpusReport, EntryBuilder, inside, read_table

RELEASE_COLUMNS = ("client_id", "path", "sentence")
KAGGLE_COLUMNS = ("filename", "text")
CLIPS = "clips"


def _clip(root, name):
    """The clip ``root / name`` (inside ``root``), trying the other audio extensions when the
    named file is absent (a corpus re-encoded from MP3 keeps the names of its lists)."""
    path = inside(root, name)
    if path is None or path.is_file():
        return path
    for ext in AUDIO_EXTENSIONS:
        if (candidate := path.with_suffix(ext)).is_file():
            return candidate
    return path


def read_common_voice(tsv, vocabulary=None, max_duration=None, progress=False):
    """Read one Common Voice release TSV (``validated.tsv``, ``train.tsv``, ...) whose clips
    are in ``clips/`` beside it. Returns ``(entries, report)``; the id is the clip's stem."""
    tsv = pathlib.Path(tsv)
    if not tsv.is_file():
        raise FileNotFoundError(f"Common Voice TSV not found: {str(tsv)!r}")
    clips = tsv.parent / CLIPS
    builder = EntryBuilder(CorpusReport("commonvoice", tsv), vocabulary, max_duration, progress)
    for where, row in read_table(tsv, builder.report, RELEASE_COLUMNS, delimiter="\t", quoting=csv.QUOTE_NONE):
        name = row["path"].strip()
        builder.add(pathlib.PurePath(name).stem, _clip(clips, name), row["sentence"],
                    speaker=row["client_id"].strip() or UNKNOWN_SPEAKER, where=f"{where} ({name})")
    return builder.finish()


def read_common_voice_csv(csv_path, vocabulary=None, max_duration=None, progress=False):
    """Read one Kaggle-layout Common Voice CSV (``filename,text,...``; clips relative to its
    folder). Returns ``(entries, report)``; the id is ``filename`` without its extension."""
    csv_path = pathlib.Path(csv_path)
    if not csv_path.is_file():
        raise FileNotFoundError(f"Common Voice CSV not found: {str(csv_path)!r}")
    builder = EntryBuilder(CorpusReport("commonvoice-csv", csv_path), vocabulary, max_duration, progress)
    for where, row in read_table(csv_path, builder.report, KAGGLE_COLUMNS):
        name = row["filename"].strip()
        builder.add(name.rsplit(".", 1)[0], _clip(csv_path.parent, name), row["text"],
                    where=f"{where} ({name})")
    return builder.finish()
