"""Every public layer of ``asr.layers`` through the shared harness (keras-hub's
``run_layer_test``): config round trip, output shape, trainable weights, one training
step, ``.keras`` reload under safe_mode; then all of them reloaded in a fresh process."""

import numpy as np
import pytest
from harness import check_reload_in_fresh_process, fit_and_save, run_layer_test

from asr import layers

pytestmark = pytest.mark.backend_sensitive  # also run under every other backend

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 7, 4)).astype("float32")
LENGTHS = np.array([7, 4, 1], "int32")
X_PADDED = X * (np.arange(7)[None, :, None] < LENGTHS[:, None, None])  # zeros past each length: maskable

# name -> (class, init kwargs, input data, output shape, trainable weights, masked input, train step)
CASES = {
    "gru": (layers.GRU, {"units": 5}, (X, LENGTHS), (3, 7, 5), 3, None, True),
    "bigru": (layers.GRU, {"units": 5, "bidirectional": True}, (X, LENGTHS), (3, 7, 10), 6, None, True),
    "bigru_last": (layers.GRU, {"units": 5, "bidirectional": True, "return_sequences": False}, (X, LENGTHS),
                   (3, 10), 6, None, True),
    "gru_masked": (layers.GRU, {"units": 5}, X_PADDED, (3, 7, 5), 3, 0.0, True),
    "sequence_batch_norm": (layers.SequenceBatchNorm, {"momentum": 0.9}, (X, LENGTHS), (3, 7, 4), 2, None, True),
    "feature_normalization": (layers.FeatureNormalization, {"n_features": 4}, (X, LENGTHS), (3, 7, 4), 0, None,
                              False),
    "feature_normalization_per_utterance": (layers.FeatureNormalization, {"n_features": 4, "per_utterance": "mean_std"},
                                            (X, LENGTHS), (3, 7, 4), 0, None, False),
    "zero_padded_frames": (layers.ZeroPaddedFrames, {}, (X, LENGTHS), (3, 7, 4), 0, None, False),
    "spec_augment": (layers.SpecAugment, {"freq_masks": 1, "time_masks": 1, "seed": 0}, (X, LENGTHS), (3, 7, 4),
                     0, None, False),
    "conv_output_length": (layers.ConvOutputLength, {"kernel_size": 3, "strides": 2, "padding": "same"}, LENGTHS,
                           (3,), 0, None, False),
    "attention_with_context": (layers.AttentionWithContext, {}, X_PADDED, (3, 4), 3, 0.0, True),
    "attention_pooling": (layers.AttentionPooling, {"units": 8}, X_PADDED, (3, 4), 3, 0.0, True),
    "masked_average": (layers.MaskedGlobalAveragePooling1D, {}, X_PADDED, (3, 4), 0, 0.0, False),
    "masked_max": (layers.MaskedGlobalMaxPooling1D, {}, X_PADDED, (3, 4), 0, 0.0, False),
    "drop_mask": (layers.DropMask, {}, X_PADDED, (3, 7, 4), 0, 0.0, False),
    "mask_from_value": (layers.MaskFromValue, {"mask_value": 0.0}, X_PADDED, (3, 7), 0, None, False),
    "masked_self_attention": (layers.MaskedSelfAttention, {"num_heads": 2, "dropout": 0.1}, (X, LENGTHS),
                              (3, 7, 4), 4, None, True),
    "conformer_block": (layers.ConformerBlock, {"num_heads": 2, "ff_multiplier": 2, "conv_kernel": 3},
                        (X, LENGTHS), (3, 7, 4), 29, None, True),
    "subsampling_conv2d": (layers.SubsamplingConv2D, {"filters": 2, "kernel_size": (3, 2), "strides": (2, 2)},
                           X[..., None], (3, 3, 2, 2), 2, None, True),
}


def test_every_public_layer_has_a_case():
    public = {name for name in layers.__all__ if name[0].isupper()}
    assert public == {case[0].__name__ for case in CASES.values()}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer(name, tmp_path):
    cls, kwargs, data, shape, n_weights, mask_value, train = CASES[name]
    run_layer_test(cls, kwargs, data, shape, n_weights, tmp_path, mask_value=mask_value, run_training_step=train)


def test_saved_layers_reload_in_a_fresh_process(tmp_path):
    factories = {
        "bigru": (lambda: layers.GRU(5, bidirectional=True, name="bigru"), True),
        "normalize": (lambda: layers.FeatureNormalization(4, name="normalize"), True),
        "zero_padded": (lambda: layers.ZeroPaddedFrames(name="zero_padded"), True),
        "bn": (lambda: layers.SequenceBatchNorm(momentum=0.9, name="bn"), True),
        "conformer": (lambda: layers.ConformerBlock(num_heads=2, conv_kernel=3, name="conformer"), True),
        "attention": (lambda: layers.AttentionWithContext(name="attention"), False),
        "pooling": (lambda: layers.AttentionPooling(units=8, name="pooling"), False),
    }
    folders = [fit_and_save(factory, (None, 4), tmp_path / name, with_lengths=lengths)
               for name, (factory, lengths) in factories.items()]
    check_reload_in_fresh_process(folders)
