"""Default folders: the shared data folder and the feature cache (both overridable by
environment variables)."""

import os
import pathlib

DATA_DIR_ENV = "ASR_DATA_DIR"
CACHE_DIR_ENV = "ASR_CACHE_DIR"


def default_data_dir():
    """``$ASR_DATA_DIR``, else ``../shared/data`` beside the project checkout."""
    if os.environ.get(DATA_DIR_ENV):
        return pathlib.Path(os.environ[DATA_DIR_ENV])
    return pathlib.Path(__file__).resolve().parents[2] / "shared" / "data"


def default_cache_dir():
    """``$ASR_CACHE_DIR``, else ``~/.cache/asr`` (features, compiled XLA programs)."""
    return pathlib.Path(os.environ.get(CACHE_DIR_ENV) or pathlib.Path.home() / ".cache" / "asr")
