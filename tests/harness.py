"""Shared layer-test harness, after keras-hub's ``TestCase.run_layer_test``.

``run_layer_test`` checks, for one layer: config round trip, output shape, number of
trainable weights, one ``fit`` step that changes the weights, and ``.keras`` save -> load
under ``safe_mode=True`` with identical outputs. ``fit_and_save`` +
``check_reload_in_fresh_process`` repeat the reload in a new interpreter that imports only
``asr.models`` (one process for many layers, since starting one costs seconds).
"""

import json

import keras
import numpy as np
from conftest import run_python


def check_config_round_trip(layer):
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config


def _as_tuple(input_data):
    return tuple(input_data) if isinstance(input_data, (tuple, list)) else (input_data,)


def _functional(cls, init_kwargs, arrays, mask_value):
    """A model ``inputs -> [Masking] -> layer`` for the given example arrays."""
    inputs = [keras.Input(a.shape[1:], dtype=str(a.dtype), name=f"input_{i}") for i, a in enumerate(arrays)]
    first = keras.layers.Masking(mask_value, name="masking")(inputs[0]) if mask_value is not None else inputs[0]
    layer = cls(**init_kwargs)
    return keras.Model(inputs, layer(first, *inputs[1:])), layer


def run_layer_test(cls, init_kwargs, input_data, expected_output_shape, expected_num_trainable_weights,
                   tmp_path, mask_value=None, run_training_step=True):
    """Check one layer class end to end (see the module docstring).

    Args:
        input_data: one array, or a tuple of arrays passed positionally (e.g. ``(x, lengths)``).
        mask_value: put ``keras.layers.Masking(mask_value)`` before the layer (masked layers).
        run_training_step: False for layers whose output is not trainable (lengths, masks).
    """
    check_config_round_trip(cls(**init_kwargs))
    arrays = _as_tuple(input_data)
    model, layer = _functional(cls, init_kwargs, arrays, mask_value)
    output = np.asarray(model.predict_on_batch(list(arrays)))
    assert output.shape == tuple(expected_output_shape), f"{cls.__name__}: {output.shape}"
    assert len(layer.trainable_weights) == expected_num_trainable_weights, \
        f"{cls.__name__}: {len(layer.trainable_weights)} trainable weights"
    if run_training_step:
        before = [np.array(w) for w in layer.trainable_weights]
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        target = np.random.default_rng(0).normal(size=output.shape).astype("float32")
        loss = model.train_on_batch(list(arrays), target)
        assert np.isfinite(loss), f"{cls.__name__}: loss {loss}"
        after = [np.array(w) for w in layer.trainable_weights]
        assert all(not np.array_equal(a, b) for a, b in zip(before, after)), f"{cls.__name__}: weights unchanged"
        output = np.asarray(model.predict_on_batch(list(arrays)))
    path = tmp_path / f"{cls.__name__}.keras"
    model.save(path)
    reloaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(reloaded.predict_on_batch(list(arrays))), output, rtol=1e-5, atol=1e-5)


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
