"""Shared fixtures. Real data comes from $ASR_DATA_DIR (default ../shared/data)."""

import importlib.util
import os
import pathlib
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

ROOT = pathlib.Path(__file__).resolve().parents[1]
os.environ.setdefault("ASR_DATA_DIR", str(ROOT.parent / "shared" / "data"))
DATA_DIR = pathlib.Path(os.environ["ASR_DATA_DIR"])
LIBRISPEECH = DATA_DIR / "librispeech-sample" / "LibriSpeech"
LIBRIVOX = DATA_DIR / "pocketsphinx-librivox"


MAX_TEST_WORKERS = 4  # `-n auto` (pyproject.toml): every worker loads the backends and runs multi-threaded
# training steps, so past a few workers the cores are busy already and only memory grows


def pytest_xdist_auto_num_workers(config):
    """``-n auto``: one worker per available core, at most ``MAX_TEST_WORKERS``."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return max(1, min(cores, MAX_TEST_WORKERS))


def require(path):
    if not path.exists():
        pytest.skip(f"shared data not found: {path} (set ASR_DATA_DIR)")
    return path


@pytest.fixture(scope="session")
def librispeech_dir():
    return require(LIBRISPEECH)


@pytest.fixture(scope="session")
def librivox_dir():
    return require(LIBRIVOX)


@pytest.fixture(scope="session")
def librispeech_entries(librispeech_dir):
    from asr.corpus import read_librispeech

    entries, _ = read_librispeech(librispeech_dir / "train-clean-100" / "4088")
    return entries


def write_tone(path, seconds=1.0, sample_rate=16000, channels=1, subtype="PCM_16", freq=440.0):
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    wave = 0.3 * np.sin(2 * np.pi * freq * t)
    data = np.stack([wave] * channels, axis=1) if channels > 1 else wave
    sf.write(path, data, sample_rate, subtype=subtype)
    return path


def fake_librispeech(root):
    """A LibriSpeech-layout folder with one good line, an empty, an unencodable and a missing-audio line."""
    chapter = root / "train" / "19" / "198"
    chapter.mkdir(parents=True)
    for i in range(3):
        write_tone(chapter / f"19-198-000{i}.flac", 1.0)
    (chapter / "19-198.trans.txt").write_text(
        "19-198-0000 HELLO WORLD\n19-198-0001 \n19-198-0002 CAFÉ Ω\n19-198-0003 MISSING AUDIO\n")
    return root


def load_script(path):
    """A recipe or bench script (not a package module) imported from its file."""
    spec = importlib.util.spec_from_file_location(f"script_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def run_python(code, env=None, timeout=600):
    """Run ``code`` in a fresh interpreter (same backend unless ``env`` overrides it)."""
    full_env = {**os.environ, **(env or {})}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=full_env,
                            timeout=timeout, cwd=ROOT)
    assert result.returncode == 0, f"subprocess failed:\nSTDOUT:\n{result.stdout}\nSTDERR:\n{result.stderr[-4000:]}"
    return result.stdout


@pytest.fixture(scope="session")
def small_model_path(tmp_path_factory):
    """An untrained but complete (normalisation set) small model saved as .keras."""
    from asr.features import FeatureConfig
    from asr.models import build_model

    model = build_model("cnn_rnn", FeatureConfig("log_mel"), filters=16, units=16, padding="same")
    rng = np.random.default_rng(0)
    model.set_normalization(rng.normal(size=80).astype("float32"), rng.uniform(1, 2, 80).astype("float32"))
    path = tmp_path_factory.mktemp("model") / "small.keras"
    model.save(path)
    return path
