"""Reusable, registered Keras layers (all ``get_config``-complete, safe_mode-loadable)."""

from asr.layers.gru import GRU
from asr.layers.lengths import (
    ConvOutputLength,
    conv_output_length,
    reverse_within_lengths,
    sequence_mask,
)
from asr.layers.normalization import FeatureNormalization, SequenceBatchNorm, ZeroPadding

__all__ = [
    "ConvOutputLength",
    "FeatureNormalization",
    "GRU",
    "SequenceBatchNorm",
    "ZeroPadding",
    "conv_output_length",
    "reverse_within_lengths",
    "sequence_mask",
]
