"""prepare(): feature cache, skip counting, speed perturbation."""

import numpy as np
from conftest import write_tone

from asr.feature_cache import FeatureCache
from asr.features import FeatureConfig
from asr.text import Vocabulary
from asr.utterances import prepare


def test_prepare_caches_and_counts_skips(tmp_path):
    good = write_tone(tmp_path / "good.wav", 1.0)
    (tmp_path / "bad.wav").write_bytes(b"junk")
    entries = [{"id": "good", "path": str(good), "text": "a tone"},
               {"id": "bad", "path": str(tmp_path / "bad.wav"), "text": "junk"},
               {"id": "long", "path": str(good), "text": "far too long a label " * 10},
               {"id": "upper", "path": str(good), "text": "NOT NORMALISED"}]
    config = FeatureConfig("mfcc")
    data = prepare(entries, config, Vocabulary(), cache_dir=tmp_path / "cache", output_lengths=lambda n: n // 2)
    assert [e["id"] for e in data.entries] == ["good"] and data.features[0].shape == (99, 13)
    assert data.report.skipped == {"unusable audio": 1, "label longer than the model's output frames": 1,
                                   "transcript not encodable": 1}
    cached = list((tmp_path / "cache").rglob("*.npy"))
    assert len(cached) == 1
    np.save(cached[0], np.full((99, 13), 3.0, "float32"))  # the cache is what is read back
    assert FeatureCache(tmp_path / "cache", config).load(entries[0]["path"])[0, 0] == 3.0


def test_speed_perturbation_changes_length(tmp_path):
    entry = {"id": "t", "path": str(write_tone(tmp_path / "t.wav", 1.0)), "text": "t"}
    config = FeatureConfig("log_mel")
    fast = FeatureCache(tmp_path / "cache", config).load(entry["path"], speed=1.25)
    assert abs(fast.shape[0] - 81) <= 1  # 1 s played 1.25x faster: 0.8 s


def test_prepare_without_cache_matches_cached(tmp_path):
    entry = {"id": "t", "path": str(write_tone(tmp_path / "t.wav", 0.5)), "text": "t"}
    config = FeatureConfig("log_mel")
    uncached = prepare([entry], config, Vocabulary(), cache_dir=False, speeds=(0.9,))
    cached = prepare([entry], config, Vocabulary(), cache_dir=tmp_path / "cache", speeds=(0.9,))
    assert not (tmp_path / "cache").exists() or list((tmp_path / "cache").rglob("*.npy"))
    np.testing.assert_array_equal(uncached.features[0], cached.features[0])
