"""Run the backend-sensitive tests again under every other installed Keras backend.

The main run uses $KERAS_BACKEND (TensorFlow by default); each other installed backend
runs the layer, model, length, CTC, training and sequence-layer tests in a fresh interpreter.
"""

import importlib.util
import os
import subprocess
import sys

import keras
import pytest

from conftest import ROOT

BACKEND_TESTS = ["tests/test_layers.py", "tests/test_models.py", "tests/test_ctc.py", "tests/test_train.py",
                 "tests/test_lengths.py::test_model_output_lengths_equal_real_shape",
                 "tests/test_lengths.py::test_padding_does_not_change_valid_outputs",
                 "tests/test_sequence.py::test_layer_harness",
                 "tests/test_sequence.py::test_padded_plus_mask_equals_unpadded",
                 "tests/test_sequence.py::test_fully_masked_rows_are_finite",
                 "tests/test_sequence.py::test_builder_shapes_and_padding_invariance",
                 "tests/test_sequence.py::test_stateful_lstm_carries_state_across_calls"]
OTHERS = [b for b in ("tensorflow", "jax", "torch") if b != keras.backend.backend()]


@pytest.mark.parametrize("backend", OTHERS)
def test_suite_under_backend(backend):
    if importlib.util.find_spec(backend) is None:
        pytest.skip(f"{backend} is not installed")
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, "-m", "pytest", "-q", "-x", "-p", "no:cacheprovider", *BACKEND_TESTS],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=1500)
    assert result.returncode == 0, f"under {backend}:\n{result.stdout[-6000:]}\n{result.stderr[-2000:]}"
