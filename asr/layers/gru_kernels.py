"""Backend-specific GRU kernels used by ``asr.layers.GRU`` (imported only on that backend).

Both take right-padded ``x`` (batch, time, features), ``lengths`` (batch,), and per
direction ``(kernel (F, 3U), recurrent_kernel (U, 3U), bias (2, 3U))`` in Keras' layout
(``reset_after=True``, gates ``[z, r, h]``); the second direction, if any, is the backward
one and runs on each sequence reversed within its length. They return one
``(batch, time, units)`` output per direction, in forward time order.
"""

from keras import ops

from asr.layers.lengths import reverse_within_lengths


def _direction_inputs(x, lengths, n_directions):
    return [x] if n_directions == 1 else [x, reverse_within_lengths(x, lengths)]


def jax_gru(x, lengths, weights, dtype):
    """All directions in one ``lax.scan``; input projections hoisted into one matmul each."""
    import jax
    import jax.numpy as jnp

    def tensor(v):
        return jnp.asarray(ops.cast(ops.convert_to_tensor(v), dtype))

    inputs = _direction_inputs(jnp.asarray(x), lengths, len(weights))
    kernels = [(tensor(k), tensor(rk), tensor(b)) for k, rk, b in weights]
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
