import keras
import numpy as np
import pytest
from conftest import run_python
from keras import ops

from asr.ctc import ctc_loss
from asr.features import FeatureConfig
from asr.models import ARCHITECTURES, AcousticModel, build_model, cnn_rnn, load_model
from asr.text import Vocabulary

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)
SMALL = {"simple_rnn": {}, "rnn": {"units": 8}, "cnn_rnn": {"filters": 8, "units": 8, "padding": "same"},
         "deep_rnn": {"units": 8, "n_layers": 2, "dropout": 0.1}, "bidirectional_rnn": {"units": 8},
         "deepspeech": {"conv_filters": [4, 8], "conv_kernels": [[5, 5], 5], "conv_strides": [[2, 2], 1],
                        "units": 8, "n_layers": 2, "output_upsample": 2},
         "conformer": {"conv_filters": [4, 4], "conv_kernels": [[3, 3], [3, 3]], "conv_strides": [[2, 2], [2, 1]],
                       "d_model": 8, "n_layers": 2, "num_heads": 2, "conv_kernel": 3}}


def batch(frames=(60, 41), n_features=13, label_len=(6, 3)):
    x = {"features": RNG.normal(size=(len(frames), max(frames), n_features)).astype("float32"),
         "feature_lengths": np.array(frames, "int32")}
    labels = np.zeros((len(frames), max(label_len)), "int32")
    for i, n in enumerate(label_len):
        labels[i, :n] = RNG.integers(1, 29, n)
    return x, {"labels": labels, "label_lengths": np.array(label_len, "int32")}


def test_registry_is_complete():
    assert set(SMALL) == set(ARCHITECTURES)


def test_every_architecture_fits_and_reloads_in_fresh_process_with_safe_mode(tmp_path):
    x, y = batch()
    np.save(tmp_path / "features.npy", x["features"])
    for name in sorted(ARCHITECTURES):
        model = build_model(name, FeatureConfig("mfcc"), vocabulary=Vocabulary(), **SMALL[name])
        model.set_normalization(RNG.normal(size=13), RNG.uniform(1, 2, 13))
        model.compile(optimizer="adam")
        history = model.fit(x, y, epochs=2, batch_size=2, verbose=0)
        assert np.all(np.isfinite(history.history["loss"])), name
        model.save(tmp_path / f"{name}.keras")
        np.save(tmp_path / f"{name}.npy", model.predict_on_batch(x))
    run_python(f"""
import numpy as np, keras
import asr.models  # registers the asr classes; nothing else is needed
x = {{"features": np.load({str(tmp_path / 'features.npy')!r}), "feature_lengths": np.array([60, 41], "int32")}}
for name in {sorted(ARCHITECTURES)!r}:
    model = keras.saving.load_model({str(tmp_path)!r} + f"/{{name}}.keras")  # safe_mode=True by default
    assert type(model).__name__ == "AcousticModel" and model.architecture == name
    assert model.feature_config.kind == "mfcc" and model.vocabulary.size == 29
    mean = keras.ops.convert_to_numpy(model.get_layer("normalize").mean)
    assert abs(mean).sum() > 0, "normalisation statistics were not saved"
    np.testing.assert_allclose(model.predict_on_batch(x), np.load({str(tmp_path)!r} + f"/{{name}}.npy"),
                               rtol=1e-4, atol=1e-4, err_msg=name)
""")


def test_compute_loss_uses_true_output_lengths():
    model = cnn_rnn(FeatureConfig("mfcc"), filters=4, units=4, strides=2, padding="same")
    x, y = batch()
    logits = model(x)
    loss = model.compute_loss(x, y, logits)
    out_lengths = model.output_lengths(x["feature_lengths"])
    assert list(out_lengths) == [30, 21]
    expected = np.mean(ops.convert_to_numpy(ctc_loss(y["labels"], logits, y["label_lengths"], out_lengths)))
    assert float(loss) == pytest.approx(expected, rel=1e-5)
    padded = ops.convert_to_numpy(ctc_loss(y["labels"], logits, y["label_lengths"], [logits.shape[1]] * 2))
    assert float(loss) != pytest.approx(np.mean(padded), rel=1e-3)


def test_regularizer_losses_are_added():
    model = build_model("rnn", FeatureConfig("mfcc"), units=4)
    model.get_layer("logits").kernel.regularizer = keras.regularizers.L2(10.0)
    x, y = batch()
    logits = model(x)
    assert float(model.compute_loss(x, y, logits)) > float(np.mean(ops.convert_to_numpy(
        ctc_loss(y["labels"], logits, y["label_lengths"], x["feature_lengths"]))))


def test_config_round_trip_and_errors(tmp_path):
    model = build_model("deep_rnn", FeatureConfig("spectrogram"), Vocabulary("ab "), units=4, n_layers=3)
    clone = AcousticModel.from_config(model.get_config())
    assert clone.get_config() == model.get_config() and clone.vocabulary.size == 4
    assert clone.get_layer("gru_3") is not None and clone.output_shape == (None, None, 4)
    with pytest.raises(ValueError, match="architecture='transformer'"):
        build_model("transformer")
    with pytest.raises(ValueError, match="bad params for architecture 'rnn'.*layers"):
        build_model("rnn", layers=3)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        load_model(tmp_path / "none.keras")
    plain = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    plain.save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="not an asr AcousticModel"):
        load_model(tmp_path / "plain.keras")


def test_layer_names_read_well():
    model = build_model("deepspeech", FeatureConfig("log_mel"))
    names = [layer.name for layer in model.layers]
    for expected in ("features", "feature_lengths", "normalize", "conv_1", "conv_1_bn", "bigru_1", "bigru_3_bn",
                     "logits"):
        assert expected in names


def test_mixed_precision_keeps_logits_and_loss_float32():
    keras.config.set_dtype_policy("mixed_bfloat16")
    try:
        model = build_model("deepspeech", FeatureConfig("mfcc"), **SMALL["deepspeech"])
    finally:
        keras.config.set_dtype_policy("float32")
    assert model.get_layer("bigru_1").compute_dtype == "bfloat16"
    assert model.get_layer("normalize").compute_dtype == "float32"
    model.compile(optimizer="adam")
    x, y = batch()
    history = model.fit(x, y, epochs=1, batch_size=2, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert keras.backend.standardize_dtype(model(x).dtype) == "float32"


def test_intermediate_ctc_adds_the_middle_blocks_loss_in_training_only(tmp_path):
    params = {**SMALL["deepspeech"], "n_layers": 3, "dropout": 0.0}
    model = build_model("deepspeech", FeatureConfig("mfcc"), intermediate_ctc=0.3, **params)
    x, y = batch()
    logits = model(x)
    final, intermediate = model(x, training=True)
    assert logits.shape == final.shape == intermediate.shape == (2, 60, 29)
    # the middle of three blocks (bigru_2, after its BatchNorm) through the same logits layers
    hidden = keras.Model(model.inputs, model.get_layer("bigru_2_bn").output)(x, training=True)
    head = model.get_layer("logits")(model.get_layer("logits_upsampled")(hidden))
    np.testing.assert_allclose(ops.convert_to_numpy(intermediate), ops.convert_to_numpy(head), rtol=1e-4, atol=1e-4)
    lengths = model.output_lengths(x["feature_lengths"])

    def ctc(z):
        return np.mean(ops.convert_to_numpy(ctc_loss(y["labels"], z, y["label_lengths"], lengths)))

    expected = 0.7 * ctc(final) + 0.3 * ctc(intermediate)
    assert float(model.compute_loss(x, y, (final, intermediate))) == pytest.approx(expected, rel=1e-5)
    assert float(model.compute_loss(x, y, final)) == pytest.approx(ctc(final), rel=1e-5)  # evaluation: final only

    model.compile(optimizer="adam")
    assert np.all(np.isfinite(model.fit(x, y, epochs=2, batch_size=2, verbose=0).history["loss"]))
    plain = build_model("deepspeech", FeatureConfig("mfcc"), **params)
    assert len(model.weights) == len(plain.weights)  # one head, shared: nothing extra to save or load
    model.save(tmp_path / "model.keras")
    reloaded = load_model(tmp_path / "model.keras")
    assert reloaded.intermediate_ctc == 0.3 and len(reloaded.weights) == len(model.weights)
    np.testing.assert_allclose(reloaded.predict_on_batch(x), model.predict_on_batch(x), rtol=1e-5, atol=1e-5)


def test_intermediate_ctc_needs_a_middle_block_and_a_weight_below_one():
    with pytest.raises(ValueError, match="intermediate_ctc=0.3 needs two or more recurrent blocks; cnn_rnn"):
        build_model("cnn_rnn", FeatureConfig("mfcc"), intermediate_ctc=0.3, **SMALL["cnn_rnn"])
    for weight in (1.0, -0.1, True, "0.3"):
        with pytest.raises(ValueError, match=f"intermediate_ctc={weight!r} must be a loss weight in"):
            build_model("deep_rnn", FeatureConfig("mfcc"), intermediate_ctc=weight, units=4)
    assert build_model("deep_rnn", FeatureConfig("mfcc"), units=4).intermediate_ctc == 0.0
