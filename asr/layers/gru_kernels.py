"""Backend-specific GRU kernels used by ``asr.layers.GRU`` (imported only on that backend).

Both take right-padded ``x`` (batch, time, features), ``lengths`` (batch,), and per
direction ``(kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U))`` in Keras' layout
(``reset_after=True``, gates ``[z, r, h]``); the second direction, if any, is the backward
one and runs on each sequence reversed within its length. They return one
``(batch, time, units)`` output per direction, in forward time order.
"""

import functools

from keras import ops

from asr.layers.lengths import reverse_within_lengths


def _direction_inputs(x, lengths, n_directions):
    return [x] if n_directions == 1 else [x, reverse_within_lengths(x, lengths)]


def _jax_tensor(value, dtype):
    import jax.numpy as jnp

    return jnp.asarray(ops.cast(ops.convert_to_tensor(value), dtype))


def jax_gru(x, lengths, weights, dtype):
    """All directions in one ``lax.scan``; input projections hoisted into one matmul each."""
    import jax
    import jax.numpy as jnp

    inputs = _direction_inputs(jnp.asarray(x), lengths, len(weights))
    kernels = [tuple(_jax_tensor(v, dtype) for v in direction) for direction in weights]
    # (directions, batch, time, 3U) -> time-major (time, directions, batch, 3U)
    projections = jnp.stack([xi @ k + b[0] for xi, (k, _, b) in zip(inputs, kernels)])
    projections = jnp.moveaxis(projections, 2, 0)
    recurrent = jnp.stack([rk for _, rk, _ in kernels])  # (directions, U, 3U)
    recurrent_bias = jnp.stack([b[1] for _, _, b in kernels])[:, None, :]  # (directions, 1, 3U)

    def step(h, x_t):
        h_proj = jnp.einsum("dbu,duv->dbv", h, recurrent) + recurrent_bias
        x_z, x_r, x_h = jnp.split(x_t, 3, axis=-1)
        h_z, h_r, h_h = jnp.split(h_proj, 3, axis=-1)
        z = jax.nn.sigmoid(x_z + h_z)
        r = jax.nn.sigmoid(x_r + h_r)
        candidate = jnp.tanh(x_h + r * h_h)
        h = z * h + (1.0 - z) * candidate
        return h, h

    units = recurrent.shape[1]
    h0 = jnp.zeros((len(kernels), x.shape[0], units), dtype=projections.dtype)
    _, outputs = jax.lax.scan(step, h0, projections)  # (time, directions, batch, U)
    outputs = jnp.moveaxis(outputs, 0, 2)  # (directions, batch, time, U)
    result = [outputs[0]]
    if len(kernels) == 2:
        result.append(reverse_within_lengths(outputs[1], lengths))
    return result


def jax_gru_hoisted(x, lengths, weights, dtype):
    """One ``lax.scan`` per direction over input projections hoisted into one matmul, with the
    hand-written backward pass of ``_jax_recurrence`` (the fastest here on JAX's CPU backend)."""
    import jax.numpy as jnp

    result = []
    for direction, (xi, (k, rk, b)) in enumerate(zip(_direction_inputs(jnp.asarray(x), lengths, len(weights)),
                                                     weights)):
        k, rk, b = (_jax_tensor(v, dtype) for v in (k, rk, b))
        projections = jnp.swapaxes(xi @ k + b[0], 0, 1)  # time-major (time, batch, 3U)
        outputs = jnp.swapaxes(_jax_recurrence()(projections, rk, b[1]), 0, 1)
        result.append(outputs if direction == 0 else reverse_within_lengths(outputs, lengths))
    return result


@functools.cache
def _jax_recurrence():
    """``recurrence(projections (T, B, 3U), recurrent_kernel (U, 3U), recurrent_bias (3U,)) -> h (T, B, U)``,
    Keras' GRU step (``reset_after=True``, gates ``[z, r, h]``, h0 = 0) as a ``jax.custom_vjp``.

    JAX's own gradient of a scan adds each step's ``h_{t-1}^T dgates_t`` into the recurrent
    kernel's gradient inside the backward loop, 2 x T small outer products per direction; here the
    backward loop only carries ``dh`` and keeps the gate gradients, and the kernel gradient is one
    matmul over all steps afterwards (cuDNN's order). Built on first use (JAX only)."""
    import jax
    import jax.numpy as jnp

    def gates(x_t, h_proj):
        (x_z, x_r, x_h), (h_z, h_r, h_h) = jnp.split(x_t, 3, axis=-1), jnp.split(h_proj, 3, axis=-1)
        z, r = jax.nn.sigmoid(x_z + h_z), jax.nn.sigmoid(x_r + h_r)
        return z, r, jnp.tanh(x_h + r * h_h), h_h

    def forward(projections, recurrent_kernel, recurrent_bias):
        def step(h, x_t):
            z, r, candidate, h_h = gates(x_t, h @ recurrent_kernel + recurrent_bias)
            h = z * h + (1.0 - z) * candidate
            return h, (h, z, r, candidate, h_h)

        h0 = jnp.zeros(projections.shape[1:2] + recurrent_kernel.shape[:1], projections.dtype)
        _, saved = jax.lax.scan(step, h0, projections)
        return saved[0], (saved, recurrent_kernel)

    def backward(residuals, d_outputs):
        (h, z, r, candidate, h_h), recurrent_kernel = residuals
        h_previous = jnp.concatenate([jnp.zeros_like(h[:1]), h[:-1]])
        kernel_t = recurrent_kernel.T

        def step(dh_carried, inputs):
            dh, h_prev, z, r, candidate, h_h = inputs
            dh = dh + dh_carried
            d_candidate = dh * (1.0 - z) * (1.0 - candidate * candidate)
            d_z = dh * (h_prev - candidate) * z * (1.0 - z)
            d_r = d_candidate * h_h * r * (1.0 - r)
            d_x = jnp.concatenate([d_z, d_r, d_candidate], axis=-1)  # w.r.t. the input projection
            d_h = jnp.concatenate([d_z, d_r, d_candidate * r], axis=-1)  # w.r.t. h @ kernel + bias
            return dh * z + d_h @ kernel_t, (d_x, d_h)

        _, (d_x, d_h) = jax.lax.scan(step, jnp.zeros_like(h[0]), (d_outputs, h_previous, z, r, candidate, h_h),
                                     reverse=True)
        return d_x, jnp.einsum("tbu,tbv->uv", h_previous, d_h), d_h.sum(axis=(0, 1))

    @jax.custom_vjp
    def recurrence(projections, recurrent_kernel, recurrent_bias):
        return forward(projections, recurrent_kernel, recurrent_bias)[0]

    recurrence.defvjp(forward, backward)
    return recurrence


def _torch_params(kernel, recurrent_kernel, bias):
    """Keras ``[z, r, h]`` (in, 3U) weights -> torch ``[r, z, n]`` (3U, in) weights."""
    import torch

    def reorder(w, dim):
        z, r, h = torch.chunk(w, 3, dim=dim)
        return torch.cat([r, z, h], dim=dim)

    return [reorder(kernel, 1).T.contiguous(), reorder(recurrent_kernel, 1).T.contiguous(),
            reorder(bias[0], 0).contiguous(), reorder(bias[1], 0).contiguous()]


def torch_gru(x, lengths, weights, dtype):
    """One ``torch._VF.gru`` call per direction: cuDNN on CUDA, ATen's fused loop on CPU."""
    import torch

    def tensor(v):
        return ops.cast(ops.convert_to_tensor(v), dtype)

    result = []
    for direction, (xi, (k, rk, b)) in enumerate(zip(_direction_inputs(x, lengths, len(weights)), weights)):
        params = _torch_params(tensor(k), tensor(rk), tensor(b))
        h0 = torch.zeros((1, xi.shape[0], params[1].shape[1]), dtype=xi.dtype, device=xi.device)
        outputs, _ = torch._VF.gru(xi.contiguous(), h0, params, True, 1, 0.0, torch.is_grad_enabled(),
                                   False, True)
        result.append(outputs if direction == 0 else reverse_within_lengths(outputs, lengths))
    return result


ONNX_GRU_OP = "asr_onnx_gru"  # the name of the placeholder op that asr.export turns into ONNX's GRU


def tf_onnx_gru(x, lengths, weights, dtype):
    """TensorFlow, ONNX export only: one placeholder op for the whole (bi)directional GRU, which
    ``asr.export`` converts to ONNX's ``GRU`` operator (``linear_before_reset=1`` is Keras'
    ``reset_after=True``; ``sequence_lens`` makes the backward direction start at each
    sequence's last valid step, as here). ONNX Runtime runs that operator with its own kernel,
    much faster than the per-step loop of the traced Keras GRU. Traced, never run in TensorFlow."""
    import tensorflow as tf

    def traced_only(*_):
        raise RuntimeError(f"{ONNX_GRU_OP} stands for ONNX's GRU in an export; it does not run in TensorFlow")

    units = int(weights[0][1].shape[0])
    # float32 whatever the compute dtype: ONNX Runtime's CPU GRU kernel takes float32 only
    tensors = [ops.cast(ops.convert_to_tensor(w), "float32") for direction in weights for w in direction]
    y = tf.numpy_function(traced_only, [ops.cast(x, "float32"), ops.cast(lengths, "int32"), *tensors], tf.float32,
                          stateful=False, name=ONNX_GRU_OP)
    y = ops.cast(tf.ensure_shape(y, [None, None, units * len(weights)]), dtype)  # a shape tf2onnx sees
    return [y[:, :, i * units:(i + 1) * units] for i in range(len(weights))]
