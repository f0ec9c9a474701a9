"""Free Spoken Digit Dataset reader: ``recordings/{digit}_{speaker}_{index}.wav`` (8 kHz)."""

import pathlib
import re

from asr.audio import AudioError, audio_info
from asr.skip_report import SkipReport
from asr.text import number_to_words

_NAME = re.compile(r"^(\d)_([A-Za-z]+)_(\d+)$")
TEST_INDICES = range(0, 5)  # the dataset's customary test split: recordings 0-4 of each digit and speaker


def read_fsdd(folder):
    """Entries ``{id, path, duration, text, speaker, index}`` (text: the digit's English word).

    ``folder`` is the dataset root or its ``recordings`` folder. Badly named or unreadable
    files are skipped and counted in the returned report.
    """
    folder = pathlib.Path(folder)
    if (folder / "recordings").is_dir():
        folder = folder / "recordings"
    if not folder.is_dir():
        raise FileNotFoundError(f"FSDD folder not found: {str(folder)!r}")
    report, entries = SkipReport(f"FSDD {folder}"), []
    for path in sorted(folder.glob("*.wav")):
        match = _NAME.match(path.stem)
        if not match:
            report.skip("name not {digit}_{speaker}_{index}.wav", path.name)
            continue
        try:
            duration, _ = audio_info(path)
        except AudioError:
            report.skip("unreadable audio", path.name)
            continue
        digit, speaker, index = match.groups()
        entries.append({"id": path.stem, "path": str(path), "duration": round(duration, 4),
                        "text": number_to_words(int(digit)), "speaker": speaker, "index": int(index)})
        report.read += 1
    if not entries:
        raise FileNotFoundError(f"no FSDD recordings ({{digit}}_{{speaker}}_{{index}}.wav) in {str(folder)!r}")
    return entries, report


def split_fsdd(entries, dev_indices=range(5, 10)):
    """``(train, dev, test)``: test = recordings 0-4 (the customary split), dev = ``dev_indices``."""
    test = [e for e in entries if e["index"] in TEST_INDICES]
    dev = [e for e in entries if e["index"] in dev_indices]
    train = [e for e in entries if e["index"] not in TEST_INDICES and e["index"] not in dev_indices]
    return train, dev, test
