"""Reusable, registered Keras layers (all ``get_config``-complete, safe_mode-loadable)."""

from asr.layers.attention import AttentionPooling, AttentionWithContext, masked_softmax
from asr.layers.conformer import ConformerBlock, MaskedSelfAttention
from asr.layers.conv import SubsamplingConv2D
from asr.layers.gru import GRU
from asr.layers.lengths import (
    ConvOutputLength,
    conv_output_length,
    reverse_within_lengths,
    sequence_mask,
)
from asr.layers.masking import (
    DropMask,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
    MaskFromValue,
    ZeroPaddedFrames,
    frame_mask,
)
from asr.layers.normalization import FeatureNormalization, SequenceBatchNorm
from asr.layers.specaugment import SpecAugment

__all__ = [
    "AttentionPooling",
    "AttentionWithContext",
    "ConformerBlock",
    "ConvOutputLength",
    "DropMask",
    "FeatureNormalization",
    "GRU",
    "MaskFromValue",
    "MaskedSelfAttention",
    "MaskedGlobalAveragePooling1D",
    "MaskedGlobalMaxPooling1D",
    "SequenceBatchNorm",
    "SpecAugment",
    "SubsamplingConv2D",
    "ZeroPaddedFrames",
    "conv_output_length",
    "frame_mask",
    "masked_softmax",
    "reverse_within_lengths",
    "sequence_mask",
]
