"""A strided Conv2D whose backward pass is fast on JAX's CPU backend.

XLA's CPU backend computes the input gradient of a strided convolution as one convolution
over the zero-dilated output gradient, off its fast convolution path: for the recipe's second
front-end layer (16 -> 16 channels, 5 x 11 kernel, stride 2 x 2, batch 8 x 12.8 s) it took
0.25 s against 0.015 s for the forward pass, over a quarter of the whole training step (measured on
2 CPU cores, ``docs/results.md``). The same gradient splits by stride phase: input rows
``a, a + s, a + 2s, ...`` only ever meet the kernel taps ``a, a + s, ...``, so each phase's
gradient is one *unstrided* convolution of the output gradient with that phase's taps,
flipped, and the phases interleave into the input gradient. That runs on XLA's fast path
(0.028 s for the layer above); so does the kernel gradient, split the same way (0.038 ->
0.023 s). Both are the same sums in another order (equal within float32 round-off, tested);
the forward pass stays XLA's own.

``SubsamplingConv2D`` is ``keras.layers.Conv2D`` with that backward pass where it pays (JAX
on CPU, "valid" padding, strides > 1, no dilation or groups); everywhere else, and on every
other backend, it is Keras' Conv2D. Weights, configuration and outputs are Conv2D's.
"""

import functools

import keras

from asr.keras_backend import jax_platform


@keras.saving.register_keras_serializable(package="asr")
class SubsamplingConv2D(keras.layers.Conv2D):
    """``keras.layers.Conv2D`` (channels last) with phase-split input and kernel gradients on
    JAX's CPU backend; ``(batch, time, freq, channels) -> (batch, time', freq', filters)``.

    ``phase_split = False`` (on the class or one layer) falls back to XLA's gradients, e.g. to
    time both (``bench/recipe_step_time.py --conv-backward xla,phase-split``).
    """

    phase_split = True

    def _phase_split(self):
        return (self.phase_split and jax_platform() == "cpu" and self.padding == "valid"
                and self.data_format == "channels_last" and max(self.strides) > 1 and set(self.dilation_rate) == {1}
                and self.groups == 1)

    def convolution_op(self, inputs, kernel):
        if not self._phase_split():
            return super().convolution_op(inputs, kernel)
        import jax.numpy as jnp

        return phase_split_conv2d(jnp.asarray(inputs), jnp.asarray(kernel), tuple(self.strides))


def _conv(x, kernel, strides):
    import jax

    return jax.lax.conv_general_dilated(x, kernel, strides, "VALID", dimension_numbers=("NHWC", "HWIO", "NHWC"))


def _phase_input_gradient(gradient, kernel, input_shape, strides):
    """dL/dx of a "valid", undilated 2-D convolution, one unstrided convolution per phase.

    ``gradient`` (batch, T', F', out), ``kernel`` (kt, kf, in, out), ``input_shape`` (batch, T, F, in).
    Row ``a + s*i`` of the input meets taps ``a + s*p`` at output row ``i - p``: phase ``a``'s
    gradient is a "full" correlation of the output gradient with those taps flipped.
    """
    import jax.numpy as jnp

    (_, time, freq, _), (steps_t, steps_f) = input_shape, strides
    result = jnp.zeros(input_shape, gradient.dtype)
    for a in range(min(steps_t, kernel.shape[0])):  # phases past the kernel meet no tap: zero gradient
        for b in range(min(steps_f, kernel.shape[1])):
            taps = kernel[a::steps_t, b::steps_f]
            rows, cols = -(-(time - a) // steps_t), -(-(freq - b) // steps_f)  # input rows/cols of this phase
            padded = jnp.pad(gradient, ((0, 0), (taps.shape[0] - 1, max(0, rows - gradient.shape[1])),
                                        (taps.shape[1] - 1, max(0, cols - gradient.shape[2])), (0, 0)))
            phase = _conv(padded, jnp.transpose(taps[::-1, ::-1], (0, 1, 3, 2)), (1, 1))[:, :rows, :cols]
            result = result.at[:, a::steps_t, b::steps_f].set(phase)
    return result


def _phase_kernel_gradient(x, gradient, kernel_shape, strides):
    """dL/dkernel of the same convolution, one unstrided kernel gradient per phase: taps
    ``(a + s*p, b + s*q)`` only ever see the input's phase ``x[:, a::s, b::s]``."""
    import jax
    import jax.numpy as jnp

    (steps_t, steps_f), (rows, cols) = strides, gradient.shape[1:3]
    result = jnp.zeros(kernel_shape, gradient.dtype)
    for a in range(min(steps_t, kernel_shape[0])):
        for b in range(min(steps_f, kernel_shape[1])):
            taps = result[a::steps_t, b::steps_f]
            phase = x[:, a::steps_t, b::steps_f][:, :rows + taps.shape[0] - 1, :cols + taps.shape[1] - 1]
            _, taps_vjp = jax.vjp(lambda k, phase=phase: _conv(phase, k, (1, 1)), taps)
            result = result.at[a::steps_t, b::steps_f].set(taps_vjp(gradient)[0])
    return result


@functools.cache
def _phase_split_conv2d():
    """The custom-VJP function, built on first use (JAX is imported only on the JAX backend)."""
    import jax

    @functools.partial(jax.custom_vjp, nondiff_argnums=(2,))
    def conv(x, kernel, strides):
        return _conv(x, kernel, strides)

    def forward(x, kernel, strides):
        return _conv(x, kernel, strides), (x, kernel)

    def backward(strides, residuals, gradient):
        x, kernel = residuals
        return (_phase_input_gradient(gradient, kernel, x.shape, strides),
                _phase_kernel_gradient(x, gradient, kernel.shape, strides))

    conv.defvjp(forward, backward)
    return conv


def phase_split_conv2d(x, kernel, strides):
    """``lax.conv_general_dilated(x, kernel, strides, "VALID")`` (NHWC, HWIO) with the phase-split
    input gradient of this module's docstring. JAX only."""
    return _phase_split_conv2d()(x, kernel, strides)
