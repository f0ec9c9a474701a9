"""Run the backend-sensitive tests again under every other installed Keras backend.

The main run uses $KERAS_BACKEND (TensorFlow by default); each other installed backend
runs every test marked ``backend_sensitive`` (layers, models, lengths, CTC, training,
sequence builders) in a fresh interpreter, with ``KERAS_BACKEND`` as the parameter.
"""

import importlib.util
import os
import subprocess
import sys

import keras
import pytest
from conftest import ROOT

OTHERS = [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()]


@pytest.mark.parametrize("backend", OTHERS)
def test_suite_under_backend(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    command = [sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", "-m", "backend_sensitive", "tests"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500)
    assert result.returncode == 0, f"under {backend}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"


@pytest.mark.parametrize("backend", OTHERS)
def test_model_trained_under_another_backend_reloads_with_same_output(backend, tmp_path, librivox_dir):
    """Train (one fit step) and save under ``backend``; reload here; same logits and same text."""
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    script = f"""
import json, numpy as np, keras
from asr.features import FeatureConfig, extract_file
from asr.models import build_model
from asr.inference import transcribe
model = build_model("deepspeech", FeatureConfig("log_mel"), conv_filters=[8], units=8, n_layers=2, dropout=0.0,
                    spec_augment={{"time_masks": 2}})
feats = extract_file({str(wav)!r}, model.feature_config)
model.set_normalization(feats.mean(0), feats.std(0) + 1e-3)
model.compile(optimizer="adam")
x = {{"features": feats[None], "feature_lengths": np.array([len(feats)], "int32")}}
y = {{"labels": np.array([[3, 4, 5]], "int32"), "label_lengths": np.array([3], "int32")}}
model.fit(x, y, epochs=2, verbose=0)
model.save({str(tmp_path / 'model.keras')!r})
np.save({str(tmp_path / 'logits.npy')!r}, np.asarray(model.predict_on_batch(x)))
texts = [r.text for r in transcribe(model, [{str(wav)!r}], decoder="beam")]
json.dump(texts, open({str(tmp_path / 'text.json')!r}, "w"))
"""
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]

    import json

    import numpy as np

    from asr.features import extract_file
    from asr.inference import transcribe
    from asr.models import load_model

    model = load_model(tmp_path / "model.keras")
    feats = extract_file(wav, model.feature_config)
    logits = model.predict_on_batch({"features": feats[None], "feature_lengths": np.array([len(feats)], "int32")})
    np.testing.assert_allclose(logits, np.load(tmp_path / "logits.npy"), rtol=1e-3, atol=1e-3)
    texts = [r.text for r in transcribe(model, [wav], decoder="beam")]
    assert texts == json.loads((tmp_path / "text.json").read_text())
