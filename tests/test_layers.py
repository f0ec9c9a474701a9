"""Every asr layer through the shared harness, plus GRU semantics and fast-path equivalence."""

import keras
import numpy as np
import pytest
from keras import ops

from asr.layers import GRU, ConvOutputLength, FeatureNormalization, SequenceBatchNorm, ZeroPadding, reverse_within_lengths
from harness import check_config_round_trip, check_reload_in_fresh_process, fit_and_save

RNG = np.random.default_rng(0)
BACKEND = keras.backend.backend()
FAST = {"jax": "fused", "torch": "cudnn"}.get(BACKEND)


LAYER_CASES = {
    "gru": (lambda: GRU(5, name="gru"), (None, 4), True),
    "bigru": (lambda: GRU(5, bidirectional=True, name="bigru"), (None, 4), True),
    "bigru_last": (lambda: GRU(5, bidirectional=True, return_sequences=False, name="bigru_last"), (None, 4), True),
    "normalize": (lambda: FeatureNormalization(4, name="normalize"), (None, 4), True),
    "zero_padding": (lambda: ZeroPadding(name="zero_padding"), (None, 4), True),
    "bn": (lambda: SequenceBatchNorm(momentum=0.9, name="bn"), (None, 4), True),
}


def test_layer_harness(tmp_path):
    folders = []
    for name, (factory, shape, with_lengths) in LAYER_CASES.items():
        check_config_round_trip(factory())
        folders.append(fit_and_save(factory, shape, tmp_path / name, with_lengths=with_lengths))
    check_reload_in_fresh_process(folders)


def test_conv_output_length_layer_config():
    layer = ConvOutputLength(11, 2, "same", 1, name="lengths")
    check_config_round_trip(layer)
    assert list(ops.convert_to_numpy(layer(np.array([10, 11], "int32")))) == [5, 6]


def test_sequence_batch_norm_ignores_padding():
    x = np.concatenate([np.ones((1, 3, 2)), np.full((1, 2, 2), 100.0)], axis=1).astype("float32")
    bn = SequenceBatchNorm(momentum=0.0)
    bn(x, np.array([3]), training=True)
    np.testing.assert_allclose(ops.convert_to_numpy(bn.moving_mean), [1.0, 1.0], rtol=1e-5)
    out = ops.convert_to_numpy(SequenceBatchNorm()(np.ones((2, 4, 3, 5), "float32"), np.array([1, 4])))
    assert out.shape == (2, 4, 3, 5)


def test_reverse_within_lengths():
    x = np.arange(10, dtype="float32").reshape(2, 5, 1)
    out = ops.convert_to_numpy(reverse_within_lengths(x, np.array([3, 5])))[..., 0]
    np.testing.assert_array_equal(out, [[2, 1, 0, 3, 4], [9, 8, 7, 6, 5]])


def test_feature_normalization_zeroes_padding_and_checks_dims():
    layer = FeatureNormalization(2)
    layer.build((None, None, 2))
    layer.set_statistics(np.array([1.0, 2.0]), np.array([2.0, 4.0]))
    out = ops.convert_to_numpy(layer(np.full((1, 3, 2), 3.0, "float32"), np.array([2])))
    np.testing.assert_allclose(out[0], [[1.0, 0.25], [1.0, 0.25], [0, 0]])
    with pytest.raises(ValueError, match="n_features=2"):
        layer.set_statistics(np.zeros(3), np.ones(3))


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


@pytest.mark.skipif(FAST is None, reason=f"no fast GRU path on the {BACKEND} backend")
@pytest.mark.parametrize("bidirectional", [False, True])
@pytest.mark.parametrize("padded", [False, True])
def test_fast_path_equals_portable_forward_and_gradients(bidirectional, padded, monkeypatch):
    from asr.layers import gru_kernels

    calls = []
    kernel_name = "jax_gru" if BACKEND == "jax" else "torch_gru"
    original = getattr(gru_kernels, kernel_name)
    monkeypatch.setattr(gru_kernels, kernel_name, lambda *a: calls.append(1) or original(*a))
    x = RNG.normal(size=(3, 11, 4)).astype("float32")
    lengths = np.array([11, 6, 2] if padded else [11, 11, 11], "int32")
    portable = GRU(7, bidirectional=bidirectional, implementation="keras")
    portable.build(x.shape)
    fast = GRU(7, bidirectional=bidirectional, implementation=FAST)
    fast.build(x.shape)
    fast.set_weights(portable.get_weights())
    probe = RNG.normal(size=(3, 11, 14 if bidirectional else 7)).astype("float32")
    out_p, grads_p = _grads(portable, x, lengths, probe)
    out_f, grads_f = _grads(fast, x, lengths, probe)
    assert calls, "the fast kernel was not used"
    np.testing.assert_allclose(out_f, out_p, rtol=1e-5, atol=1e-6)
    for gf, gp in zip(grads_f, grads_p):
        np.testing.assert_allclose(gf, gp, rtol=1e-4, atol=1e-5)
