"""Every architecture's output_lengths equals the real logit shape; padding never changes valid outputs."""

import numpy as np
import pytest

from asr.features import FeatureConfig
from asr.models import build_model

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

MODEL_GRID = [("cnn_rnn", dict(filters=4, units=4, kernel_size=k, strides=s, padding=p, dilation_rate=d))
              for k, s, p, d in [(11, 2, "valid", 1), (5, 3, "same", 1), (3, 2, "causal", 1), (4, 1, "full", 3),
                                       (3, 1, "same", 4)]] + [
    ("deepspeech", dict(conv_filters=[4], conv_kernels=[[5, 3]], conv_strides=[[3, 2]], units=4, n_layers=1,
                        output_upsample=k)) for k in (2, 3)]


@pytest.mark.parametrize("name, params", MODEL_GRID)
def test_model_output_lengths_equal_real_shape(name, params):
    model = build_model(name, FeatureConfig("mfcc"), **params)
    for frames in (97, 160):
        x = {"features": np.ones((2, frames, 13), "float32"),
             "feature_lengths": np.array([frames, frames // 2], "int32")}
        logits = model.predict_on_batch(x)
        assert logits.shape == (2, int(model.output_lengths(frames)), 29)
        assert list(model.output_lengths(x["feature_lengths"])) == [int(model.output_lengths(frames)),
                                                                    int(model.output_lengths(frames // 2))]


@pytest.mark.parametrize("upsample", [1, 2])
def test_padding_does_not_change_valid_outputs(upsample):
    model = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4, 4], conv_kernels=[[5, 3], 5],
                        conv_strides=[[2, 1], 3], units=4, n_layers=2, output_upsample=upsample)
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(1, 101, 13)).astype("float32")
    short = model.predict_on_batch({"features": feats, "feature_lengths": np.array([101], "int32")})
    padded = np.concatenate([feats, rng.normal(size=(1, 59, 13)).astype("float32")], axis=1)
    long = model.predict_on_batch({"features": padded, "feature_lengths": np.array([101], "int32")})
    n = int(model.output_lengths(101))
    np.testing.assert_allclose(long[:, :n], short[:, :n], rtol=1e-4, atol=1e-5)


def test_upsampled_logits_split_each_frame_in_order():
    import keras

    model = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4], conv_kernels=[3], conv_strides=[2],
                        units=4, n_layers=1, output_upsample=3)
    x = {"features": np.random.default_rng(1).normal(size=(1, 40, 13)).astype("float32"),
         "feature_lengths": np.array([40], "int32")}
    logits = model.predict_on_batch(x)
    wide = keras.Model(model.input, model.get_layer("logits_upsampled").output).predict_on_batch(x)
    assert wide.shape == (1, 20, 3 * 29) and logits.shape == (1, 60, 29) and int(model.output_lengths(40)) == 60
    np.testing.assert_array_equal(logits[0, 3 * 7 + 1], wide[0, 7, 29:58])  # frame 7's second logit frame
