"""On-disk cache of extracted features: one ``.npy`` per (audio file, variant), keyed by the
``FeatureConfig``'s hash, read back memory-mapped.

Layout: ``CACHE_DIR/features-<config hash>/<2 hex>/<16 hex>.npy``, the name a hash of the
audio's absolute path and the variant (e.g. ``speed=0.9``; a segment of a longer recording adds
its offset and duration).
"""

import hashlib
import os
import pathlib

import numpy as np

from asr.features import extract_file
from asr.files import save_npy_atomic


class FeatureCache:
    """Features of audio files under ``config``, computed once and reused across runs."""

    def __init__(self, cache_dir, config):
        self.folder = pathlib.Path(cache_dir) / f"features-{config.cache_key()}"
        self.config = config

    def path(self, audio_path, speed=1.0, offset=0.0, duration=None):
        key = f"{os.path.abspath(audio_path)}|speed={speed}"
        if offset or duration is not None:
            key += f"|offset={offset!r}|duration={duration!r}"
        digest = hashlib.sha1(key.encode()).hexdigest()[:16]
        return self.folder / digest[:2] / f"{digest}.npy"

    def load(self, audio_path, speed=1.0, offset=0.0, duration=None):
        """``(frames, n_features)`` float32, memory-mapped; extracted (and stored) on a miss."""
        path = self.path(audio_path, speed, offset, duration)
        if not path.is_file():
            save_npy_atomic(path, extract_file(audio_path, self.config, speed, offset, duration))
        return np.load(path, mmap_mode="r")
