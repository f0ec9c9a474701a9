"""Output-length bookkeeping equals real output shapes, for convolutions and every model."""

import keras
import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from asr.features import FeatureConfig
from asr.layers import conv_output_length
from asr.models import ARCHITECTURES, build_model
from asr.models.blocks import time_conv


def _conv_frames(frames, kernel, stride, padding, dilation):
    x = keras.Input((None, 2))
    lengths = keras.Input((), dtype="int32")
    y, out_lengths, _ = time_conv(x, lengths, 3, kernel, stride, padding, dilation, batch_norm=False,
                                  activation=None)
    model = keras.Model([x, lengths], [y, out_lengths])
    out, n = model.predict_on_batch([np.ones((1, frames, 2), "float32"), np.array([frames], "int32")])
    return out.shape[1], int(n[0])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(frames=st.integers(1, 80), kernel=st.integers(1, 9), stride=st.integers(1, 4),
       padding=st.sampled_from(["valid", "same", "causal", "full"]), dilation=st.integers(1, 3))
def test_conv_output_length_equals_real_shape(frames, kernel, stride, padding, dilation):
    assume(stride == 1 or dilation == 1)  # Keras convolutions refuse strides > 1 with dilation > 1
    if padding == "valid" and frames < dilation * (kernel - 1) + 1:
        assert conv_output_length(frames, kernel, stride, padding, dilation) == 0
        return
    shape, in_graph = _conv_frames(frames, kernel, stride, padding, dilation)
    assert shape == in_graph == conv_output_length(frames, kernel, stride, padding, dilation)


@settings(max_examples=500)
@given(frames=st.integers(0, 300), kernel=st.integers(1, 15), stride=st.integers(1, 6),
       padding=st.sampled_from(["valid", "same", "causal", "full"]), dilation=st.integers(1, 4))
def test_conv_output_length_counts_window_positions(frames, kernel, stride, padding, dilation):
    """Independent reference: windows of ``span`` frames starting every ``stride`` frames that fit in
    the padded input (``same``/``causal`` pad ``span - 1`` frames in all, ``full`` ``2 (span - 1)``)."""
    span = dilation * (kernel - 1) + 1
    padded = frames + {"valid": 0, "same": span - 1, "causal": span - 1, "full": 2 * (span - 1)}[padding]
    windows = len(range(0, padded - span + 1, stride)) if frames else 0
    assert conv_output_length(frames, kernel, stride, padding, dilation) == windows


def test_strided_dilated_conv_is_refused_clearly():
    with pytest.raises(ValueError, match="strides=2 with dilation_rate=2"):
        build_model("cnn_rnn", FeatureConfig("mfcc"), strides=2, dilation_rate=2)


def test_conv_output_length_vectorised_and_checked():
    lengths = np.array([10, 11, 100])
    np.testing.assert_array_equal(conv_output_length(lengths, 11, 2, "same"), [5, 6, 50])
    np.testing.assert_array_equal(conv_output_length(lengths, 11, 2, "valid"), [0, 1, 45])
    with pytest.raises(ValueError, match="padding='wide'"):
        conv_output_length(10, 3, padding="wide")
    with pytest.raises(ValueError, match="stride=0"):
        conv_output_length(10, 3, stride=0)


MODEL_GRID = [("cnn_rnn", dict(filters=4, units=4, kernel_size=k, strides=s, padding=p, dilation_rate=d))
              for k, s, p, d in [(11, 2, "valid", 1), (5, 3, "same", 1), (3, 2, "causal", 1), (4, 1, "full", 3),
                                       (3, 1, "same", 4)]]
MODEL_GRID += [("deepspeech", dict(conv_filters=[2, 4], conv_kernels=[[5, 7], 3], conv_strides=[[2, 2], 2],
                                   units=4, n_layers=1))]
MODEL_GRID += [(name, {"units": 4} if name not in ("simple_rnn", "deepspeech") else {})
               for name in ARCHITECTURES if name not in ("cnn_rnn",)]


@pytest.mark.parametrize("name, params", MODEL_GRID)
def test_model_output_lengths_equal_real_shape(name, params):
    model = build_model(name, FeatureConfig("mfcc"), **params)
    for frames in (97, 160):
        x = {"features": np.ones((2, frames, 13), "float32"), "feature_lengths": np.array([frames, frames // 2], "int32")}
        logits = model.predict_on_batch(x)
        assert logits.shape == (2, int(model.output_lengths(frames)), 29)
        assert list(model.output_lengths(x["feature_lengths"])) == [int(model.output_lengths(frames)),
                                                                    int(model.output_lengths(frames // 2))]


def test_padding_does_not_change_valid_outputs():
    model = build_model("deepspeech", FeatureConfig("mfcc"), conv_filters=[4, 4], conv_kernels=[[5, 3], 5],
                        conv_strides=[[2, 1], 3], units=4, n_layers=2)
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(1, 101, 13)).astype("float32")
    short = model.predict_on_batch({"features": feats, "feature_lengths": np.array([101], "int32")})
    padded = np.concatenate([feats, rng.normal(size=(1, 59, 13)).astype("float32")], axis=1)
    long = model.predict_on_batch({"features": padded, "feature_lengths": np.array([101], "int32")})
    n = int(model.output_lengths(101))
    np.testing.assert_allclose(long[:, :n], short[:, :n], rtol=1e-4, atol=1e-5)
