import numpy as np
import pytest
import soundfile as sf
from conftest import DATA_DIR, require, write_tone

from asr.audio import BLOCK_SECONDS, AudioError, audio_info, load_audio, resample, stream_audio


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


# === MP3 and Ogg Opus (real speech), rates 8-48 kHz, segments ===
@pytest.fixture(scope="module")
def speech(librivox_dir):
    """A real LibriVox utterance: (samples at 16 kHz, path)."""
    path = sorted(librivox_dir.glob("*.wav"))[0]
    return load_audio(path), path


def _similar(a, b):
    n = min(len(a), len(b))
    return np.corrcoef(a[:n], b[:n])[0, 1]


@pytest.mark.parametrize("fmt, subtype, ext", [("MP3", "MPEG_LAYER_III", ".mp3"), ("OGG", "OPUS", ".opus"),
                                               ("OGG", "VORBIS", ".ogg")])
@pytest.mark.parametrize("rate", [8000, 16000, 48000])
def test_compressed_formats_at_any_rate_decode_to_the_speech(tmp_path, speech, fmt, subtype, ext, rate):
    samples, _ = speech
    path = tmp_path / f"speech{ext}"
    sf.write(path, resample(samples, 16000, rate), rate, format=fmt, subtype=subtype)
    duration, file_rate = audio_info(path)
    decoded = load_audio(path)
    assert file_rate == rate and abs(duration - len(samples) / 16000) < 0.1
    assert abs(len(decoded) - len(samples)) < 0.1 * 16000
    lag = int(np.argmax(np.correlate(decoded[8000:12000], samples[8000:12000 + 1600], "valid")))  # codec delay
    assert _similar(decoded, samples[lag:]) > 0.8 or _similar(decoded, samples) > 0.8


def test_real_common_voice_opus_clip():
    clip = DATA_DIR / "commonvoice-en" / "cv-corpus-6.1-sample" / "clips" / "common_voice_en_78545.opus"
    audio = load_audio(require(clip))
    assert audio.dtype == np.float32 and 1.0 < len(audio) / 16000 < 10 and np.abs(audio).max() > 0.05
    assert abs(len(audio) / 16000 - audio_info(clip)[0]) < 0.01


def test_a_segment_is_the_slice_of_the_whole(speech):
    samples, path = speech
    part = load_audio(path, offset=1.0, duration=0.5)
    assert np.allclose(part, samples[16000:24000], atol=1e-6)
    tail = load_audio(path, offset=2.0)
    assert np.allclose(tail, samples[32000:], atol=1e-6)


@pytest.mark.parametrize("offset, duration, error, match", [
    (100.0, 1.0, AudioError, "ends past the end of the recording"),
    (1.0, 100.0, AudioError, "ends past the end"),
    (-1.0, 1.0, ValueError, "offset=-1.0"),
    (0.5, float("nan"), ValueError, "duration=nan"),
])
def test_a_segment_outside_the_recording_is_refused(speech, offset, duration, error, match):
    with pytest.raises(error, match=match):
        load_audio(speech[1], offset=offset, duration=duration)


@pytest.mark.parametrize("fmt, subtype, ext", [("MP3", "MPEG_LAYER_III", ".mp3"), ("OGG", "OPUS", ".opus")])
def test_streaming_compressed_audio_equals_loading_it(tmp_path, speech, fmt, subtype, ext):
    path = tmp_path / f"long{ext}"
    samples = np.tile(speech[0], 3)  # ~3 x 3 s: several stream blocks
    sf.write(path, resample(samples, 16000, 48000), 48000, format=fmt, subtype=subtype)
    streamed = np.concatenate(list(stream_audio(path)))
    loaded = load_audio(path)
    assert abs(len(streamed) - len(loaded)) <= 2 and len(loaded) > 2 * BLOCK_SECONDS * 16000
    n = min(len(streamed), len(loaded))
    differ = np.abs(streamed[:n] - loaded[:n]) > 1e-3  # libsndfile's MP3 decoder differs for ~5 ms at some block edges
    assert differ.mean() < 0.001 and np.sqrt(np.mean((streamed[:n] - loaded[:n]) ** 2)) < 0.02 * np.std(loaded)
