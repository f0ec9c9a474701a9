"""LibriSpeech-layout reader (``SPK/CHAPTER/SPK-CHAPTER-NNNN.flac`` + ``SPK-CHAPTER.trans.txt``)
and a reader for a plain folder of audio files with one ``.txt`` transcript each."""

import pathlib

from asr.audio import AudioError, audio_info
from asr.skip_report import SkipReport
from asr.text import TranscriptError, Vocabulary, normalize_transcript

AUDIO_EXTENSIONS = (".flac", ".wav", ".ogg")


def _entry(utt_id, audio_path, raw_text, speaker, report, vocabulary, max_duration):
    """Build one manifest entry, or count why it is skipped and return None."""
    try:
        text = normalize_transcript(raw_text)
        vocabulary.encode(text)
    except TranscriptError:
        report.skip("transcript not encodable", utt_id)
        return None
    if not text:
        report.skip("empty transcript", utt_id)
        return None
    try:
        duration, _ = audio_info(audio_path)
    except AudioError:
        report.skip("missing or unreadable audio", utt_id)
        return None
    if max_duration is not None and duration > max_duration:
        report.skip(f"longer than max_duration={max_duration}s", utt_id)
        return None
    report.read += 1
    return {"id": utt_id, "path": str(audio_path), "duration": round(duration, 4), "text": text,
            "speaker": str(speaker)}


def _find_audio(folder, utt_id):
    for ext in AUDIO_EXTENSIONS:
        candidate = folder / (utt_id + ext)
        if candidate.is_file():
            return candidate
    return folder / (utt_id + AUDIO_EXTENSIONS[0])


def read_librispeech(root, vocabulary=None, max_duration=None):
    """Read every ``*.trans.txt`` below ``root`` (a subset folder or a whole LibriSpeech tree).

    Returns ``(entries, report)``: entries sorted by id; lines with missing audio, empty or
    unencodable text, or over ``max_duration`` seconds are skipped and counted in ``report``.
    """
    root = pathlib.Path(root)
    if not root.is_dir():
        raise FileNotFoundError(f"LibriSpeech folder not found: {str(root)!r}")
    vocabulary = vocabulary or Vocabulary()
    report, entries = SkipReport(f"LibriSpeech {root}"), []
    transcripts = sorted(root.rglob("*.trans.txt"))
    if not transcripts:
        raise FileNotFoundError(f"no *.trans.txt transcripts below {str(root)!r}: is it a LibriSpeech folder?")
    for trans in transcripts:
        try:
            lines = trans.read_text(encoding="utf-8").splitlines()
        except (UnicodeDecodeError, OSError):
            report.skip("transcript file not readable as UTF-8", trans.name)
            continue
        for line in lines:
            if not line.strip():
                continue
            utt_id, _, raw_text = line.strip().partition(" ")
            speaker = utt_id.split("-")[0]
            entry = _entry(utt_id, _find_audio(trans.parent, utt_id), raw_text, speaker, report,
                           vocabulary, max_duration)
            if entry:
                entries.append(entry)
    return sorted(entries, key=lambda e: e["id"]), report


def read_transcribed_folder(folder, vocabulary=None, speaker="unknown", max_duration=None):
    """Read ``NAME.wav``/``.flac`` + ``NAME.txt`` pairs from one folder (e.g. the LibriVox set)."""
    folder = pathlib.Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"folder not found: {str(folder)!r}")
    vocabulary = vocabulary or Vocabulary()
    report, entries = SkipReport(f"folder {folder}"), []
    for audio in sorted(p for p in folder.iterdir() if p.suffix.lower() in AUDIO_EXTENSIONS):
        text_file = audio.with_suffix(".txt")
        if not text_file.is_file():
            report.skip("no .txt transcript", audio.name)
            continue
        entry = _entry(audio.stem, audio, text_file.read_text(encoding="utf-8"), speaker, report,
                       vocabulary, max_duration)
        if entry:
            entries.append(entry)
    return entries, report
