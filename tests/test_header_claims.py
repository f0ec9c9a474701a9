"""A file's header is a claim: an MP3 whose Xing header claims 500 hours in 2 KB is refused
before anything is decoded (libsndfile would decode the claim as hours of silence), named with
both numbers, skipped and counted by the corpus readers, one line from every command."""

import struct
import time

import numpy as np
import pytest
import soundfile as sf
from test_hostile_inputs import asr

from asr.audio import HeaderMismatch, audio_info, load_audio, stream_audio
from asr.corpus import load_entries

CLAIMED_FRAMES = 50_000_000  # MPEG frames of 576 samples at 16 kHz: 500 hours


def forged_mp3(path, seconds=1.0):
    """A real MP3 of a tone whose Xing header claims ``CLAIMED_FRAMES`` frames."""
    t = np.arange(int(16000 * seconds)) / 16000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype("float32"), 16000, format="MP3")
    data = bytearray(path.read_bytes())
    xing = data.find(b"Xing")
    assert xing > 0 and data[xing + 7] & 1, "the encoder wrote no Xing frame count"
    data[xing + 8: xing + 12] = struct.pack(">I", CLAIMED_FRAMES)
    path.write_bytes(bytes(data))
    return path


def test_a_header_claiming_more_than_the_file_holds_is_refused_at_once(tmp_path):
    path = forged_mp3(tmp_path / "liar.mp3")
    assert sf.info(path).duration > 1e6  # what libsndfile believes
    start = time.monotonic()
    for read in (audio_info, load_audio, lambda p: list(stream_audio(p))):
        with pytest.raises(HeaderMismatch, match=r"claims 1,799,999.9 s, but its 2,\d{3} bytes hold at most \d+\.\d s"):
            read(path)
    assert time.monotonic() - start < 5
    honest = tmp_path / "honest.mp3"
    sf.write(honest, np.zeros(16000, "float32"), 16000, format="MP3")  # silence: the smallest real MP3
    assert audio_info(honest)[0] == pytest.approx(1.0, abs=0.1)


def test_corpus_readers_skip_it_with_both_numbers_and_commands_say_one_line(tmp_path, small_model_path):
    forged_mp3(tmp_path / "liar.mp3")
    (tmp_path / "liar.txt").write_text("a lie\n")
    sf.write(tmp_path / "true.wav", np.zeros(8000, "float32"), 16000)
    (tmp_path / "true.txt").write_text("the truth\n")
    entries, report = load_entries(str(tmp_path))
    assert [e["id"] for e in entries] == ["true"]
    assert report.skipped == {"header claims more audio than the file holds": 1}
    (example,) = report.examples["header claims more audio than the file holds"]
    assert "header 1,799,999.9 s, file holds <=" in example

    data = asr("data", tmp_path)
    assert data.returncode == 0 and "header claims more audio than the file holds" in data.stdout
    assert "500" not in data.stdout.split("hours")[0]  # the corpus is not reported as 500 hours
    start = time.monotonic()
    result = asr("transcribe", small_model_path, tmp_path / "liar.mp3", tmp_path / "true.wav")
    assert time.monotonic() - start < 120 and "Traceback" not in result.stderr
    assert "claims 1,799,999.9 s" in result.stderr and result.stdout.count("\t") == 1  # the good file is done
