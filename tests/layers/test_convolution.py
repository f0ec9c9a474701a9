"""``DepthwiseTimeConv``: the same arithmetic as Keras' ``DepthwiseConv1D``, any length, errors."""

import keras
import numpy as np
import pytest

from asr.layers import DepthwiseTimeConv

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend


@pytest.mark.parametrize("kernel_size, frames, use_bias", [(1, 6, False), (3, 9, True), (7, 7, False)])
def test_equals_keras_depthwise_conv(kernel_size, frames, use_bias):
    x = np.random.default_rng(kernel_size).normal(size=(2, frames, 5)).astype("float32")
    ours = DepthwiseTimeConv(kernel_size, use_bias=use_bias, kernel_initializer="random_normal")
    ours.build(x.shape)
    if use_bias:
        ours.bias.assign(np.linspace(-1, 1, 5).astype("float32"))
    reference = keras.layers.DepthwiseConv1D(kernel_size, use_bias=use_bias)
    reference.build(x.shape)
    kernel, *bias = ours.get_weights()
    reference.set_weights([kernel[:, :, None], *bias])
    y = keras.ops.convert_to_numpy(ours(x))
    assert y.shape == (2, frames - kernel_size + 1, 5) == ours.compute_output_shape(x.shape)
    np.testing.assert_allclose(y, keras.ops.convert_to_numpy(reference(x)), rtol=1e-5, atol=1e-5)


def test_variable_time_in_a_functional_model():
    inputs = keras.Input((None, 3))
    model = keras.Model(inputs, DepthwiseTimeConv(5)(inputs))
    assert model.output_shape == (None, None, 3)
    for frames in (5, 12):
        assert model.predict_on_batch(np.ones((1, frames, 3), "float32")).shape == (1, frames - 4, 3)


@pytest.mark.parametrize("kernel_size", [0, -2, 2.5, True, "3"])
def test_bad_kernel_size_names_the_value(kernel_size):
    with pytest.raises(ValueError, match=f"kernel_size={kernel_size!r}"):
        DepthwiseTimeConv(kernel_size)
