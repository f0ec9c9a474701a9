"""Long audio in blocks: cuts at pauses, hard cuts with overlap, truncated files flagged."""

import numpy as np
import pytest
import soundfile as sf

from asr.audio import AudioError, declared_wav_frames, load_audio
from asr.segments import stream_segments

RATE = 16000


def bursts(path, seconds_on=3.0, seconds_off=0.6, n=10, rate=RATE):
    """Noise bursts separated by silences: pauses every ``seconds_on + seconds_off`` s."""
    rng = np.random.default_rng(0)
    on, off = rng.normal(0, 0.1, int(seconds_on * rate)), np.zeros(int(seconds_off * rate))
    sf.write(path, np.concatenate([np.concatenate([on, off]) for _ in range(n)]).astype("float32"), rate)
    return path


def test_cuts_fall_in_pauses_and_cover_the_file(tmp_path):
    path = bursts(tmp_path / "b.wav")  # 36 s
    segments = list(stream_segments(path, RATE, max_seconds=10, min_seconds=4))
    assert all(len(s.audio) <= 10 * RATE for s in segments) and len(segments) >= 4
    for previous, segment in zip(segments, segments[1:]):
        assert segment.start == pytest.approx(previous.end) and segment.keep_from == segment.start  # no overlap
        phase = segment.start % 3.6
        assert 3.0 <= phase <= 3.6, segment.start  # inside a silence
    assert segments[-1].end == pytest.approx(36.0, abs=1e-3)


def test_hard_cut_with_overlap_where_no_pause_exists(tmp_path):
    sf.write(tmp_path / "n.wav", np.random.default_rng(1).normal(0, 0.1, 25 * RATE).astype("float32"), RATE)
    segments = list(stream_segments(tmp_path / "n.wav", RATE, max_seconds=10, min_seconds=4, overlap_seconds=1))
    assert [round(s.start, 3) for s in segments] == [0.0, 9.0, 18.0]
    assert [round(s.keep_from, 3) for s in segments] == [0.0, 9.5, 18.5]  # stitched in the overlap's middle
    again = list(stream_segments(tmp_path / "n.wav", RATE, max_seconds=10, min_seconds=4, overlap_seconds=1))
    assert all(np.array_equal(a.audio, b.audio) for a, b in zip(segments, again))  # deterministic


def test_resampled_stream_matches_duration(tmp_path):
    sf.write(tmp_path / "r.wav", np.random.default_rng(2).normal(0, 0.1, 22 * 8000).astype("float32"), 8000)
    segments = list(stream_segments(tmp_path / "r.wav", RATE, max_seconds=10, min_seconds=4))
    assert sum(len(s.audio) for s in segments) - RATE * (len(segments) - 1) == pytest.approx(22 * RATE, abs=64)


def test_truncated_wav_is_flagged_and_bad_files_raise(tmp_path):
    bursts(tmp_path / "full.wav", n=2)
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "half.wav").write_bytes(data[: len(data) // 2])
    assert declared_wav_frames(tmp_path / "half.wav") == declared_wav_frames(tmp_path / "full.wav") == 7.2 * RATE
    with pytest.warns(UserWarning, match=r"half.wav' is truncated: read \d+ frames of the 115200"):
        list(stream_segments(tmp_path / "half.wav", RATE))
    with pytest.warns(UserWarning, match=r"half.wav' is truncated"):  # the whole-file reader says so too
        load_audio(tmp_path / "half.wav")
    (tmp_path / "junk.wav").write_bytes(b"junk")
    with pytest.raises(AudioError, match="junk.wav"):
        list(stream_segments(tmp_path / "junk.wav", RATE))
    with pytest.raises(AudioError, match="is a directory"):
        list(stream_segments(tmp_path, RATE))
