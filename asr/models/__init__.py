"""Acoustic models: ``build_model(name, ...)`` and one builder per family.

>>> from asr.models import cnn_rnn
>>> model = cnn_rnn(feature_config=FeatureConfig("spectrogram"), strides=2, padding="same")
>>> model.output_lengths(1000)   # 500
"""

from asr.models.acoustic import AcousticModel, load_model
from asr.models.architectures import ARCHITECTURES


def build_model(name, feature_config=None, vocabulary=None, spec_augment=None, **params):
    """Build the acoustic model ``name`` (see ``ARCHITECTURES``) with hyper-parameters ``params``
    (and SpecAugment arguments ``spec_augment``, a dict, for training)."""
    return AcousticModel(name, params, vocabulary=vocabulary, feature_config=feature_config,
                         spec_augment=spec_augment)


def _builder(name):
    def build(feature_config=None, vocabulary=None, spec_augment=None, **params):
        return build_model(name, feature_config, vocabulary, spec_augment, **params)

    build.__name__ = build.__qualname__ = name
    build.__doc__ = f"Build an ``AcousticModel`` of architecture {name!r}.\n\n{ARCHITECTURES[name].__doc__}"
    return build


simple_rnn = _builder("simple_rnn")
rnn = _builder("rnn")
cnn_rnn = _builder("cnn_rnn")
deep_rnn = _builder("deep_rnn")
bidirectional_rnn = _builder("bidirectional_rnn")
deepspeech = _builder("deepspeech")

__all__ = ["ARCHITECTURES", "AcousticModel", "bidirectional_rnn", "build_model", "cnn_rnn", "deep_rnn",
           "deepspeech", "load_model", "rnn", "simple_rnn"]
