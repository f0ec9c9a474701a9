"""asr.sequence.models builders: shapes, padding invariance, learning small real-shaped tasks."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.padding import pad_batch
from asr.sequence.data import TextVectorizer, make_windows
from asr.sequence.models import (
    SEQUENCE_MODELS,
    attention_classifier,
    cnn_classifier,
    cnn_rnn_classifier,
    compile_for_task,
    forecaster,
    gru_classifier,
    stateful_lstm,
    text_classifier,
)

RNG = np.random.default_rng(0)


BUILDERS = {
    "cnn_classifier": (lambda: cnn_classifier(3, 4, filters=(8, 8), kernel_sizes=(3, 3)), (4,)),
    "gru_classifier": (lambda: gru_classifier(3, 4, units=(8, 8)), (4,)),
    "attention_classifier": (lambda: attention_classifier(3, 1, "binary", units=8), (1,)),
    "cnn_rnn_classifier": (lambda: cnn_rnn_classifier(3, 2, "regression", units=8, filters=(8,), kernel_sizes=(3,)),
                           (2,)),
    "forecaster": (lambda: forecaster(3, horizon=5, n_targets=2, filters=8, units=8), (5, 2)),
}


@pytest.mark.backend_sensitive
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_shapes_and_padding_invariance(name):
    model = BUILDERS[name][0]()
    x = RNG.normal(size=(2, 11, 3)).astype("float32")
    out = model.predict(x, verbose=0)
    assert out.shape == (2,) + BUILDERS[name][1]
    if name != "forecaster":  # classifiers mask padding: padded == unpadded
        padded = np.concatenate([x, np.zeros((2, 6, 3), "float32")], axis=1)
        np.testing.assert_allclose(model.predict(padded, verbose=0), out, rtol=1e-4, atol=1e-5)


def test_registry_and_task_check():
    assert set(SEQUENCE_MODELS) >= set(BUILDERS) | {"text_classifier", "stateful_lstm"}
    with pytest.raises(ValueError, match="task='ranking'"):
        gru_classifier(3, 2, task="ranking")


def test_cnn_rnn_two_inputs():
    model = cnn_rnn_classifier(3, 2, units=4, filters=(4,), kernel_sizes=(3,), conv_features=5)
    assert model.predict([np.ones((2, 7, 3)), np.ones((2, 9, 5))], verbose=0).shape == (2, 2)


def _variable_length_task(n=160):
    """Class = which of 3 channels carries a pulse, at a random place in a 5-20 step sequence."""
    sequences, labels = [], []
    for i in range(n):
        length, label = RNG.integers(5, 21), i % 3
        seq = RNG.normal(0, 0.3, size=(length, 3))
        seq[RNG.integers(0, length), label] += 3.0
        sequences.append(seq)
        labels.append(label)
    x, _ = pad_batch(sequences, value=0.0)
    return x, np.array(labels)


@pytest.mark.parametrize("builder", [
    lambda: cnn_classifier(3, 3, filters=(16, 16), kernel_sizes=(3, 3)),
    lambda: gru_classifier(3, 3, units=(16,)),
    lambda: attention_classifier(3, 3, units=16),
    lambda: cnn_rnn_classifier(3, 3, units=16, filters=(16,), kernel_sizes=(3,)),
])
def test_classifiers_learn_variable_length_task(builder):
    x, y = _variable_length_task()
    model = compile_for_task(builder(), "multiclass", learning_rate=1e-2)
    model.fit(x[:120], y[:120], epochs=25, batch_size=16, verbose=0)
    assert model.evaluate(x[120:], y[120:], verbose=0)[1] >= 0.8


def test_text_classifier_learns_and_vectorizer():
    texts = [f"{w} movie {f}" for w in ("great", "awful") for f in ("indeed", "really", "so", "truly")] * 8
    labels = np.array([t.startswith("great") for t in texts], "float32")
    vectorizer = TextVectorizer(max_tokens=50).fit(texts)
    ids = vectorizer(texts)
    assert ids.dtype == np.int32 and ids.shape == (64, 3) and vectorizer.encode("unseen words") == [1, 1]
    for cell, pooling in (("gru", "attention"), ("lstm", "max")):
        model = compile_for_task(text_classifier(vectorizer.size, cell=cell, pooling=pooling, units=8,
                                                 embed_dim=8), "binary", learning_rate=1e-2)
        model.fit(ids, labels, epochs=15, batch_size=16, verbose=0)
        assert model.evaluate(ids, labels, verbose=0)[1] == 1.0


def test_forecaster_learns_a_sine():
    t = np.arange(600)
    series = np.stack([np.sin(t / 8), np.cos(t / 8)], axis=1)
    x, y = make_windows(series, input_width=24, horizon=4, target_columns=[0])
    model = compile_for_task(forecaster(2, horizon=4, filters=16, units=16), "regression", learning_rate=1e-2)
    model.fit(x, y, epochs=10, batch_size=32, verbose=0)
    persistence = np.abs(y - x[:, -1:, :1]).mean()
    assert model.evaluate(x, y, verbose=0)[1] < persistence / 2


@pytest.mark.backend_sensitive
def test_stateful_lstm_carries_state_across_calls():
    model = stateful_lstm(batch_size=2, n_features=1, units=4)
    series = RNG.normal(size=(2, 12, 1)).astype("float32")
    run = lambda x: ops.convert_to_numpy(model(x))  # noqa: E731  (direct calls keep state on every backend)
    whole = run(series)
    model.get_layer("lstm_1").reset_state()
    first, second = run(series[:, :6]), run(series[:, 6:])  # the second continues the first
    np.testing.assert_allclose(np.concatenate([first, second], axis=1), whole, rtol=1e-5, atol=1e-6)
    model.get_layer("lstm_1").reset_state()
    fresh = run(series[:, 6:])  # from a zero state again
    assert not np.allclose(fresh, second, atol=1e-4)
    model.get_layer("lstm_1").reset_state()
    np.testing.assert_allclose(run(series[:, 6:]), fresh, rtol=1e-6)


@pytest.mark.skipif(keras.backend.backend() != "tensorflow", reason="stateful training needs TensorFlow (docstring)")
def test_stateful_lstm_trains_on_consecutive_windows():
    model = compile_for_task(stateful_lstm(batch_size=2, n_features=1, units=4), "regression")
    series = RNG.normal(size=(2, 12, 1)).astype("float32")
    lstm = model.get_layer("lstm_1")
    lstm.reset_state()
    model.train_on_batch(series[:, :6], series[:, 1:7])
    assert np.abs(ops.convert_to_numpy(lstm.states[0])).sum() > 0  # state kept for the next window
    model.predict_on_batch(series[:, 6:])
    lstm.reset_state()
    assert np.abs(ops.convert_to_numpy(lstm.states[0])).sum() == 0
