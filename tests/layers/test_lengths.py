"""Length bookkeeping: convolution output lengths (property-tested against real shapes), masks, reversal."""

import keras
import numpy as np
import pytest
from harness import check_config_round_trip
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from keras import ops

from asr.features import FeatureConfig
from asr.layers import (
    ConvOutputLength,
    conv_output_length,
    reverse_within_lengths,
)
from asr.models import build_model
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


def test_time_upsampling_multiplies_lengths_and_round_trips_through_its_dict():
    from asr.errors import ConfigError
    from asr.frames import TimeReduction, TimeUpsampling, time_step_from_dict

    assert TimeUpsampling(2)(np.array([0, 5, 51])).tolist() == [0, 10, 102]
    for step in (TimeUpsampling(3), TimeReduction(5, 2, "same")):
        assert time_step_from_dict(step.to_dict()) == step
    for bad in (0, 1.5, "2"):
        with pytest.raises(ConfigError, match=f"factor={bad!r} must be a positive integer"):
            TimeUpsampling(bad)


def test_conv_output_length_layer_config():
    layer = ConvOutputLength(11, 2, "same", 1, name="lengths")
    check_config_round_trip(layer)
    assert list(ops.convert_to_numpy(layer(np.array([10, 11], "int32")))) == [5, 6]


def test_reverse_within_lengths():
    x = np.arange(10, dtype="float32").reshape(2, 5, 1)
    out = ops.convert_to_numpy(reverse_within_lengths(x, np.array([3, 5])))[..., 0]
    np.testing.assert_array_equal(out, [[2, 1, 0, 3, 4], [9, 8, 7, 6, 5]])
