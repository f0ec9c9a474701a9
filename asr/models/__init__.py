"""Acoustic models: ``build_model(name, ...)`` and one builder per family.

Every builder returns an ``AcousticModel`` (inputs ``features`` + ``feature_lengths``,
logits out, ``output_lengths`` exact) and takes the feature configuration, the vocabulary,
optional SpecAugment arguments, and its architecture's hyper-parameters
(``asr.models.architectures``).

>>> from asr.models import cnn_rnn
>>> model = cnn_rnn(feature_config=FeatureConfig("spectrogram"), strides=2, padding="same")
>>> model.output_lengths(1000)   # 500
"""

from asr.models.acoustic import AcousticModel, load_model
from asr.models.architectures import ARCHITECTURES, DEFAULT_FILTERS, DEFAULT_KERNEL, DEFAULT_UNITS


def build_model(name, feature_config=None, vocabulary=None, spec_augment=None, utterance_norm="none",
                intermediate_ctc=0.0, **params):
    """Build the acoustic model ``name`` (see ``ARCHITECTURES``) with hyper-parameters ``params``
    (SpecAugment arguments ``spec_augment``, a dict, for training; ``utterance_norm`` and
    ``intermediate_ctc`` as in ``AcousticModel``)."""
    return AcousticModel(name, params, vocabulary=vocabulary, feature_config=feature_config,
                         spec_augment=spec_augment, utterance_norm=utterance_norm, intermediate_ctc=intermediate_ctc)


def simple_rnn(feature_config=None, vocabulary=None, spec_augment=None, implementation="auto"):
    """One GRU with ``vocabulary.size`` units whose outputs are the logits (the classic weak baseline)."""
    return build_model("simple_rnn", feature_config, vocabulary, spec_augment, implementation=implementation)


def rnn(feature_config=None, vocabulary=None, spec_augment=None, units=DEFAULT_UNITS, implementation="auto"):
    """GRU -> BatchNorm -> per-frame Dense (the classic RNN + TimeDistributed(Dense))."""
    return build_model("rnn", feature_config, vocabulary, spec_augment, units=units, implementation=implementation)


def cnn_rnn(feature_config=None, vocabulary=None, spec_augment=None, filters=DEFAULT_FILTERS,
            kernel_size=DEFAULT_KERNEL, strides=2, padding="valid", dilation_rate=1, units=DEFAULT_UNITS,
            implementation="auto"):
    """Conv1D (any stride/padding/dilation) + BatchNorm -> GRU + BatchNorm -> per-frame Dense.

    ``model.output_lengths`` follows the convolution exactly (e.g. 495 frames for 1000 with
    ``kernel_size=11, strides=2, padding="valid"``).
    """
    return build_model("cnn_rnn", feature_config, vocabulary, spec_augment, filters=filters,
                       kernel_size=kernel_size, strides=strides, padding=padding, dilation_rate=dilation_rate,
                       units=units, implementation=implementation)


def deep_rnn(feature_config=None, vocabulary=None, spec_augment=None, units=DEFAULT_UNITS, n_layers=2,
             dropout=0.0, implementation="auto"):
    """``n_layers`` x (GRU + BatchNorm [+ Dropout]) -> per-frame Dense."""
    return build_model("deep_rnn", feature_config, vocabulary, spec_augment, units=units, n_layers=n_layers,
                       dropout=dropout, implementation=implementation)


def bidirectional_rnn(feature_config=None, vocabulary=None, spec_augment=None, units=DEFAULT_UNITS, n_layers=1,
                      dropout=0.0, implementation="auto"):
    """``n_layers`` x BiGRU (+ BatchNorm [+ Dropout]) -> per-frame Dense."""
    return build_model("bidirectional_rnn", feature_config, vocabulary, spec_augment, units=units,
                       n_layers=n_layers, dropout=dropout, implementation=implementation)


def deepspeech(feature_config=None, vocabulary=None, spec_augment=None, conv_filters=(256,), conv_kernels=(11,),
               conv_strides=(2,), units=256, n_layers=3, dropout=0.3, output_upsample=1, implementation="auto"):
    """DeepSpeech2-style: convolutions with time subsampling (1-D, or 2-D over time and
    frequency when kernels/strides are pairs), ``n_layers`` BiGRU (+ BatchNorm + Dropout),
    per-frame Dense (``output_upsample`` logit frames per recurrent frame). See
    ``asr.models.architectures.deepspeech``."""
    return build_model("deepspeech", feature_config, vocabulary, spec_augment, conv_filters=list(conv_filters),
                       conv_kernels=list(conv_kernels), conv_strides=list(conv_strides), units=units,
                       n_layers=n_layers, dropout=dropout, output_upsample=output_upsample,
                       implementation=implementation)


__all__ = ["ARCHITECTURES", "AcousticModel", "bidirectional_rnn", "build_model", "cnn_rnn", "deep_rnn",
           "deepspeech", "load_model", "rnn", "simple_rnn"]
