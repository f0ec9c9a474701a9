import numpy as np
import pytest
import soundfile as sf
from conftest import write_tone

from asr.audio import AudioError, audio_info, load_audio


@pytest.mark.parametrize("rate, channels, subtype", [(16000, 1, "PCM_16"), (44100, 2, "PCM_24"),
                                                      (8000, 1, "FLOAT"), (22050, 6, "PCM_32")])
def test_any_rate_channels_and_pcm_type(tmp_path, rate, channels, subtype):
    path = write_tone(tmp_path / "tone.wav", 0.5, rate, channels, subtype)
    audio = load_audio(path)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert abs(len(audio) - 8000) <= 2  # 0.5 s at 16 kHz
    assert 0.25 < np.abs(audio).max() <= 0.31


def test_flac_and_target_rate(tmp_path):
    path = write_tone(tmp_path / "tone.flac", 1.0, 16000)
    assert len(load_audio(path, sample_rate=8000)) == 8000
    assert audio_info(path) == (1.0, 16000)


def test_missing_file(tmp_path):
    with pytest.raises(AudioError, match="not found.*nope.wav"):
        load_audio(tmp_path / "nope.wav")


def test_corrupt_file(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(AudioError, match=r"bad.wav.*corrupt or unsupported"):
        load_audio(bad)


def test_unsupported_format(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("not audio")
    with pytest.raises(AudioError, match="notes.txt"):
        load_audio(text)


def test_empty_audio(tmp_path):
    path = tmp_path / "empty.wav"
    sf.write(path, np.zeros(0, dtype=np.float32), 16000)
    with pytest.raises(AudioError, match="empty.wav.*empty"):
        load_audio(path)


def test_non_finite_samples(tmp_path):
    path = tmp_path / "nan.wav"
    data = np.zeros(1000, dtype=np.float32)
    data[10] = np.nan
    sf.write(path, data, 16000, subtype="FLOAT")
    with pytest.raises(AudioError, match="nan.wav.*NaN"):
        load_audio(path)


def test_bad_sample_rate_argument(tmp_path):
    with pytest.raises(ValueError, match="sample_rate=0"):
        load_audio(write_tone(tmp_path / "t.wav"), sample_rate=0)
