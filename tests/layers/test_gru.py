"""asr.layers.GRU: padding invariance, masks vs lengths, equality with Keras' GRU, fast kernels."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.layers import (
    GRU,
)

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)


BACKEND = keras.backend.backend()


FAST = {"jax": ["hoisted", "fused"], "torch": ["cudnn"]}.get(BACKEND, [])
KERNEL = {"hoisted": "jax_gru_hoisted", "fused": "jax_gru", "cudnn": "torch_gru"}


@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_gru_padding_invariance(bidirectional, return_sequences):
    """Padded batch + lengths == each sequence alone; padded steps are zero."""
    layer = GRU(6, bidirectional=bidirectional, return_sequences=return_sequences)
    x = RNG.normal(size=(3, 9, 4)).astype("float32")
    lengths = np.array([9, 4, 1], "int32")
    batch = ops.convert_to_numpy(layer(x, lengths))
    for b, n in enumerate(lengths):
        alone = ops.convert_to_numpy(layer(x[b: b + 1, :n], lengths[b: b + 1]))[0]
        np.testing.assert_allclose(batch[b, :n] if return_sequences else batch[b], alone, rtol=1e-4, atol=1e-5)
        if return_sequences:
            assert not batch[b, n:].any()


def test_gru_mask_equals_lengths():
    layer = GRU(3, bidirectional=True)
    x = RNG.normal(size=(2, 6, 4)).astype("float32")
    lengths = np.array([6, 2], "int32")
    mask = np.arange(6)[None] < lengths[:, None]
    np.testing.assert_allclose(ops.convert_to_numpy(layer(x, mask=mask)), ops.convert_to_numpy(layer(x, lengths)),
                               rtol=1e-6)


def test_gru_matches_keras_gru_and_bidirectional():
    x = RNG.normal(size=(2, 7, 4)).astype("float32")
    ours = GRU(5, bidirectional=True, implementation="keras")
    ours.build(x.shape)
    fwd = keras.layers.GRU(5, return_sequences=True)
    bwd = keras.layers.GRU(5, return_sequences=True, go_backwards=True)
    reference = keras.layers.Bidirectional(fwd, backward_layer=bwd)
    reference.build(x.shape)
    reference.set_weights(ours.get_weights())
    np.testing.assert_allclose(ops.convert_to_numpy(ours(x)), ops.convert_to_numpy(reference(x)), rtol=1e-5, atol=1e-6)


def test_gru_argument_checks():
    with pytest.raises(ValueError, match="units=0"):
        GRU(0)
    with pytest.raises(ValueError, match="implementation='bogus'"):
        GRU(3, implementation="bogus")
    if BACKEND == "tensorflow":
        with pytest.raises(ValueError, match="not available on the 'tensorflow' backend"):
            GRU(3, implementation="fused")


def _grads(layer, x, lengths, probe):
    """Output and gradients of sum(output * probe) w.r.t. the layer's variables."""
    if BACKEND == "jax":
        import jax

        fixed = [v.value for v in layer.non_trainable_variables]

        def loss(values):
            out, _ = layer.stateless_call(values, fixed, x, lengths)
            return (out * probe).sum(), out

        (_, out), grads = jax.value_and_grad(loss, has_aux=True)([v.value for v in layer.trainable_variables])
        return np.asarray(out), [np.asarray(g) for g in grads]
    import torch

    out = layer(x, lengths)
    loss = (out * torch.as_tensor(probe)).sum()
    grads = torch.autograd.grad(loss, [v.value for v in layer.trainable_variables])
    return out.detach().numpy(), [g.numpy() for g in grads]


@pytest.mark.skipif(not FAST, reason=f"no fast GRU path on the {BACKEND} backend")
@pytest.mark.parametrize("implementation", FAST or [None])
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_fast_path_equals_portable_forward_and_gradients(implementation, bidirectional, padded, monkeypatch):
    from asr.layers import gru_kernels

    calls = []
    kernel_name = KERNEL[implementation]
    original = getattr(gru_kernels, kernel_name)
    monkeypatch.setattr(gru_kernels, kernel_name, lambda *a: calls.append(1) or original(*a))
    x = RNG.normal(size=(3, 11, 4)).astype("float32")
    lengths = np.array([11, 6, 2] if padded else [11, 11, 11], "int32")
    portable = GRU(7, bidirectional=bidirectional, implementation="keras")
    portable.build(x.shape)
    fast = GRU(7, bidirectional=bidirectional, implementation=implementation)
    fast.build(x.shape)
    fast.set_weights(portable.get_weights())
    probe = RNG.normal(size=(3, 11, 14 if bidirectional else 7)).astype("float32")
    out_p, grads_p = _grads(portable, x, lengths, probe)
    out_f, grads_f = _grads(fast, x, lengths, probe)
    assert calls, "the fast kernel was not used"
    np.testing.assert_allclose(out_f, out_p, rtol=1e-5, atol=1e-6)
    for gf, gp in zip(grads_f, grads_p):
        np.testing.assert_allclose(gf, gp, rtol=1e-4, atol=1e-5)


def test_auto_picks_the_fastest_measured_kernel():
    from asr.layers.gru import resolve_implementation

    expected = {"jax": "hoisted", "torch": "cudnn"}.get(BACKEND, "keras")  # JAX on CPU here (GPU: fused)
    assert resolve_implementation("auto") == expected
    if BACKEND != "jax":
        with pytest.raises(ValueError, match="'hoisted' is not available"):
            GRU(3, implementation="hoisted")
