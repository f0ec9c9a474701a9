"""Shared layer-test harness (keras-hub style): config round trip, one ``fit`` step, and
``.keras`` save -> reload in a fresh process under safe_mode=True (one process for all
cases, since starting one costs seconds)."""

import json

import keras
import numpy as np

from conftest import run_python


def check_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def _tiny_model(layer_factory, input_shape, with_lengths, output_units=3):
    x_in = keras.Input(input_shape, name="x")
    inputs = [x_in]
    if with_lengths:
        lengths = keras.Input((), dtype="int32", name="lengths")
        inputs.append(lengths)
        y = layer_factory()(x_in, lengths)
    else:
        y = layer_factory()(x_in)
    return keras.Model(inputs, keras.layers.Dense(output_units, name="head")(y))


def fit_and_save(layer_factory, input_shape, folder, with_lengths=False, batch=4, seed=0):
    """Fit one step on random data; save the model, its inputs and outputs under ``folder``."""
    rng = np.random.default_rng(seed)
    model = _tiny_model(layer_factory, input_shape, with_lengths)
    x = rng.normal(size=(batch,) + tuple(d or 7 for d in input_shape)).astype("float32")
    inputs = [x] + ([rng.integers(1, x.shape[1] + 1, size=batch).astype("int32")] if with_lengths else [])
    target = np.asarray(model.predict(inputs, verbose=0))
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(inputs, rng.normal(size=target.shape).astype("float32"), epochs=1, batch_size=batch,
                        verbose=0)
    assert np.isfinite(history.history["loss"][0])
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    for i, array in enumerate(inputs):
        np.save(folder / f"input_{i}.npy", array)
    np.save(folder / "expected.npy", np.asarray(model.predict(inputs, verbose=0)))
    return folder


def check_reload_in_fresh_process(folders):
    """Reload every saved model with ``keras.saving.load_model`` (safe_mode=True) in one new
    interpreter that imports only ``asr.models``, and compare outputs."""
    run_python(f"""
import glob, numpy as np, keras
import asr.models  # registers every asr class
for folder in {json.dumps([str(f) for f in folders])}:
    model = keras.saving.load_model(folder + "/model.keras")  # safe_mode=True is the default
    inputs = [np.load(p) for p in sorted(glob.glob(folder + "/input_*.npy"))]
    out = np.asarray(model.predict(inputs, verbose=0))
    np.testing.assert_allclose(out, np.load(folder + "/expected.npy"), rtol=1e-4, atol=1e-4, err_msg=folder)
""")
