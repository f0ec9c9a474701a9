"""LibriSpeech-layout reader (``SPK/CHAPTER/SPK-CHAPTER-NNNN.flac`` + ``SPK-CHAPTER.trans.txt``)
and a reader for a plain folder of audio files with one ``.txt`` transcript each."""

import pathlib

from asr.audio import AUDIO_EXTENSIONS
from asr.corpus.common import UNKNOWN_SPEAKER, CorpusReport, EntryBuilder, inside


def _find_audio(folder, utt_id):
    for ext in AUDIO_EXTENSIONS:
        candidate = folder / (utt_id + ext)
        if candidate.is_file():
            return candidate
    return folder / (utt_id + AUDIO_EXTENSIONS[0])


def read_librispeech(root, vocabulary=None, max_duration=None, progress=False):
    """Read every ``*.trans.txt`` below ``root`` (a subset folder or a whole LibriSpeech tree).

    Returns ``(entries, report)``: entries sorted by id; lines with missing audio, empty or
    unencodable text, or over ``max_duration`` seconds are skipped and counted in ``report``.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"LibriSpeech folder not found: {str(root)!r}")
    builder = EntryBuilder(CorpusReport("librispeech", root), vocabulary, max_duration, progress)
    transcripts = sorted(root.rglob("*.trans.txt"))
    if not transcripts:
        raise FileNotFoundError(f"no *.trans.txt transcripts below {str(root)!r}: is it a LibriSpeech folder?")
    for trans in transcripts:
        try:
            lines = trans.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            builder.report.skip("transcript file not readable as UTF-8", trans.name)
            continue
        for line in lines:
            if not line.strip():
                continue
            utt_id, _, raw_text = line.strip().partition(" ")
            audio = _find_audio(trans.parent, utt_id)
            builder.add(utt_id, audio if inside(root, audio.relative_to(root)) else None, raw_text,
                        speaker=utt_id.split("-")[0])
    entries, report = builder.finish()
    return sorted(entries, key=lambda e: e["id"]), report


def read_transcribed_folder(folder, vocabulary=None, speaker=UNKNOWN_SPEAKER, max_duration=None, progress=False):
    """Read ``NAME.{wav,flac,opus,ogg,mp3}`` + ``NAME.txt`` pairs from one folder (e.g. the LibriVox set)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {str(folder)!r}")
    builder = EntryBuilder(CorpusReport("folder", folder), vocabulary, max_duration, progress)
    for sub in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if any(p.suffix.lower() in AUDIO_EXTENSIONS for p in sub.iterdir()):  # said, not silently passed over
            builder.report.skip("subfolder not read (a folder of audio + .txt is read one level deep: give the "
                                "subfolder as a source of its own)", sub.name + "/")
    for audio in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS):
        if inside(folder, audio.name) is None or inside(folder, audio.with_suffix(".txt").name) is None:
            builder.report.skip("a link to outside the corpus folder", audio.name)
            continue
        text_file = audio.with_suffix(".txt")
        if not text_file.is_file():
            builder.report.skip("no .txt transcript", audio.name)
            continue
        try:
            raw_text = text_file.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            builder.report.skip("transcript file not readable as UTF-8", text_file.name)
            continue
        builder.add(audio.stem, audio, raw_text, speaker=speaker, where=audio.name)
    return builder.finish()
