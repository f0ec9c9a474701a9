"""asr.layers.SubsamplingConv2D: Keras' Conv2D, with a phase-split backward pass on JAX's CPU
backend whose gradients equal XLA's own."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.layers import SubsamplingConv2D

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)
# (input time, freq, channels), kernel, strides: odd and even sizes, one-sided strides, a kernel
# shorter than its stride (phases meeting no tap), the recipe's 5 x 11 / 2 x 2
SHAPES = [((13, 20, 1), (5, 11), (2, 2)), ((12, 21, 3), (5, 11), (2, 2)), ((9, 8, 2), (3, 3), (2, 1)),
          ((9, 8, 2), (2, 3), (1, 3)), ((11, 10, 2), (1, 2), (3, 2)), ((7, 7, 2), (4, 4), (3, 3))]


def _pair(shape, kernel, strides, filters=3):
    """A SubsamplingConv2D and a keras Conv2D with the same weights."""
    ours = SubsamplingConv2D(filters, kernel, strides=strides)
    reference = keras.layers.Conv2D(filters, kernel, strides=strides)
    ours.build((None, *shape))
    reference.build((None, *shape))
    reference.set_weights(ours.get_weights())
    return ours, reference


@pytest.mark.parametrize("shape,kernel,strides", SHAPES)
def test_output_equals_conv2d(shape, kernel, strides):
    ours, reference = _pair(shape, kernel, strides)
    x = RNG.normal(size=(2, *shape)).astype("float32")
    np.testing.assert_allclose(ops.convert_to_numpy(ours(x)), ops.convert_to_numpy(reference(x)), rtol=1e-5,
                               atol=1e-5)


@pytest.mark.skipif(keras.backend.backend() != "jax", reason="the phase-split backward pass is JAX's")
@pytest.mark.parametrize("shape,kernel,strides", SHAPES)
def test_gradients_equal_xla(shape, kernel, strides):
    """d(loss)/d(input) and d(loss)/d(kernel) through the layer == through keras' Conv2D."""
    import jax

    x = RNG.normal(size=(2, *shape)).astype("float32")
    ours, reference = _pair(shape, kernel, strides)
    assert ours._phase_split() == (jax.default_backend() == "cpu")
    weights = RNG.normal(size=ours(x).shape).astype("float32")  # a loss that weights every output

    def gradients(layer):
        def loss(kernel, bias, inputs):
            outputs, _ = layer.stateless_call([kernel, bias], [], inputs)
            return (outputs * weights).sum() + (outputs ** 2).sum()

        return jax.grad(loss, argnums=(0, 2))(layer.kernel.value, layer.bias.value, x)

    for got, expected in zip(gradients(ours), gradients(reference)):
        np.testing.assert_allclose(np.asarray(got), np.asarray(expected), rtol=1e-4, atol=1e-4)


def test_other_settings_are_plain_conv2d():
    """"same" padding, dilation, stride 1: Keras' own convolution (nothing to split)."""
    for kwargs in ({"padding": "same", "strides": 2}, {"dilation_rate": 2}, {"strides": 1}):
        assert not SubsamplingConv2D(2, 3, **kwargs)._phase_split()


def test_config_is_conv2d_config():
    layer = SubsamplingConv2D(4, (5, 11), strides=(2, 2), use_bias=False)
    assert layer.get_config() == keras.layers.Conv2D(4, (5, 11), strides=(2, 2), use_bias=False,
                                                     name=layer.name).get_config()
