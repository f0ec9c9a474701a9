"""``AcousticModel``: a functional Keras model that carries its vocabulary, feature
configuration and normalisation statistics, knows its output lengths, and trains with CTC.

Inputs: ``{"features": (batch, time, n_features) float32, "feature_lengths": (batch,) int32}``.
Output: logits ``(batch, time', vocab_size)`` float32 (softmax only in decoding), with
``time' = model.output_lengths(time)``. The whole model saves to one ``.keras`` file that
reloads under ``safe_mode=True`` once ``asr.models`` is imported (``asr.load_model`` does it).

Intermediate CTC (Lee & Watanabe, 2021, "Intermediate loss regularization for CTC-based speech
recognition"): with ``intermediate_ctc`` w > 0 the middle recurrent block's output also goes
through the (shared) logits layer and the training loss is ``(1 - w) CTC(final) + w CTC(middle)``.
Only training sees the second output; inference, saving and export are unchanged.
"""

import os
import zipfile

import keras
from keras import ops

from asr import optim  # noqa: F401  (registers the LR schedule that checkpoints' optimizers use)
from asr.ctc import ctc_loss
from asr.errors import ConfigError, CorruptFileError
from asr.features import FeatureConfig
from asr.layers import GRU, ConformerBlock, FeatureNormalization, SpecAugment
from asr.models.architectures import ARCHITECTURES
from asr.pretrained.catalog import not_found_hint, resolve_model
from asr.text import Vocabulary


@keras.saving.register_keras_serializable(package="asr")
class AcousticModel(keras.Model):
    """A CTC acoustic model.

    Args:
        architecture: a name in ``asr.models.ARCHITECTURES``.
        params: keyword arguments of that architecture (JSON-serialisable).
        vocabulary: ``asr.text.Vocabulary`` (or its config dict); blank is index 0.
        feature_config: ``asr.features.FeatureConfig`` (or its dict).
        spec_augment: ``asr.layers.SpecAugment`` arguments (a dict), or None for no SpecAugment;
            active only in training.
        utterance_norm: per-utterance normalisation after the global statistics, ``"none"``,
            ``"mean"`` or ``"mean_std"`` (``asr.layers.FeatureNormalization(per_utterance=...)``).
        intermediate_ctc: weight w in [0, 1) of the intermediate CTC loss on the middle recurrent
            block (0: off); needs two or more recurrent blocks.
        frozen: names of layers held fixed in training (``trainable=False``; fine-tuning's
            ``--freeze``), kept in the config so that a checkpoint reloads with them frozen.
    """

    def __init__(self, architecture="deepspeech", params=None, vocabulary=None, feature_config=None,
                 spec_augment=None, utterance_norm="none", intermediate_ctc=0.0, frozen=(), **kwargs):
        if architecture not in ARCHITECTURES:
            raise ConfigError(f"architecture={architecture!r} must be one of {sorted(ARCHITECTURES)}")
        if isinstance(intermediate_ctc, bool) or not isinstance(intermediate_ctc, (int, float)) \
                or not 0 <= intermediate_ctc < 1:
            raise ConfigError(f"intermediate_ctc={intermediate_ctc!r} must be a loss weight in [0, 1) (0: off)")
        params = dict(params or {})
        if isinstance(vocabulary, dict):
            vocabulary = Vocabulary.from_config(vocabulary)
        if isinstance(feature_config, dict):
            feature_config = FeatureConfig.from_dict(feature_config)
        vocabulary = vocabulary or Vocabulary()
        feature_config = feature_config or FeatureConfig()

        # === inputs and normalisation ===
        features = keras.Input((None, feature_config.n_features), name="features")
        feature_lengths = keras.Input((), dtype="int32", name="feature_lengths")
        x = FeatureNormalization(feature_config.n_features, per_utterance=utterance_norm, dtype="float32",
                                 name="normalize")(features, feature_lengths)
        if spec_augment:
            x = SpecAugment(**spec_augment, name="spec_augment")(x, feature_lengths)
        # === architecture ===
        try:
            logits, reductions = ARCHITECTURES[architecture](x, feature_lengths, vocabulary.size, **params)
        except TypeError as error:
            raise ConfigError(f"bad params for architecture {architecture!r}: {error}") from None
        kwargs.setdefault("name", architecture)
        inputs = {"features": features, "feature_lengths": feature_lengths}
        super().__init__(inputs=inputs, outputs=logits, **kwargs)
        self.architecture, self.params = architecture, params
        self.vocabulary, self.feature_config = vocabulary, feature_config
        self.spec_augment = dict(spec_augment) if spec_augment else None
        self.utterance_norm = utterance_norm
        self.reductions = tuple(reductions)
        self.intermediate_ctc = float(intermediate_ctc)
        for name in frozen:
            self.get_layer(name).trainable = False
        # A function, not a tracked attribute: the training view shares every layer and weight, and
        # the saved file holds each weight once.
        self._training_outputs = None
        if intermediate_ctc:
            training_view = keras.Model(inputs, [logits, self._intermediate_logits()], name=f"{self.name}_training")
            self._training_outputs = lambda inputs: training_view(inputs, training=True)

    def _intermediate_logits(self):
        """The middle recurrent block's output through the logits layer(s): ``(batch, time', vocab)``."""
        blocks = [layer.name for layer in self.layers if isinstance(layer, (GRU, ConformerBlock))]
        if len(blocks) < 2:
            raise ConfigError(f"intermediate_ctc={self.intermediate_ctc} needs two or more recurrent blocks; "
                              f"{self.architecture} with {self.params} has {len(blocks)}")
        middle = blocks[(len(blocks) - 1) // 2]
        block_output = [layer for layer in self.layers if layer.name == middle or layer.name.startswith(middle + "_")]
        x = block_output[-1].output  # after the block's BatchNorm / Dropout
        for layer in self.layers:  # every architecture with two blocks ends in the same-width Dense head
            if layer.name in ("logits_upsampled", "logits"):
                x = layer(x)
        return x

    def call(self, inputs, training=None, mask=None):
        """Logits; in training with ``intermediate_ctc``, ``(logits, intermediate logits)``."""
        if training and self._training_outputs is not None:
            return self._training_outputs(inputs)
        return super().call(inputs, training=training, mask=mask)

    def output_lengths(self, lengths):
        """Logit frames for ``lengths`` input frames (int, NumPy array or tensor)."""
        for reduction in self.reductions:
            lengths = reduction(lengths)
        return lengths

    def set_normalization(self, mean, std):
        """Store per-dimension feature mean/std (computed on the training set) in the model."""
        self.get_layer("normalize").set_normalization(mean, std)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """Mean per-utterance CTC loss with true lengths (mixed with the intermediate CTC loss when
        ``y_pred`` is the training pair), plus any weight regularisation."""
        logit_lengths = self.output_lengths(ops.cast(x["feature_lengths"], "int32"))

        def ctc(logits):
            return ops.mean(ctc_loss(y["labels"], logits, y["label_lengths"], logit_lengths))

        if isinstance(y_pred, (list, tuple)):
            final, intermediate = y_pred
            loss = (1 - self.intermediate_ctc) * ctc(final) + self.intermediate_ctc * ctc(intermediate)
        else:
            loss = ctc(y_pred)
        if self.losses:
            loss = loss + ops.cast(ops.sum(self.losses), loss.dtype)
        return loss

    def get_config(self):
        return {"architecture": self.architecture, "params": self.params,
                "vocabulary": self.vocabulary.get_config(), "feature_config": self.feature_config.to_dict(),
                "spec_augment": self.spec_augment, "utterance_norm": self.utterance_norm,
                "intermediate_ctc": self.intermediate_ctc, "name": self.name, "trainable": self.trainable,
                "frozen": [layer.name for layer in self.layers if layer.weights and not layer.trainable]}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


# What Keras raises for a damaged or foreign .keras file: a truncated or non-zip file, weights
# cut short inside a valid zip (h5py's OSError), a config that is not a dict or names an
# unregistered class (TypeError, ValueError), a missing member (KeyError).
KERAS_CONFIG_MEMBER = "config.json"  # every .keras archive holds it (Keras 3 format)
LOAD_ERRORS = (zipfile.BadZipFile, EOFError, OSError, KeyError, TypeError, ValueError, AttributeError)


def load_model(path, compile=True):
    """Load an ``AcousticModel`` from a ``.keras`` file (``safe_mode=True``), or a shipped
    model's by name (``asr models``; an existing file of that name wins).

    A missing file raises ``FileNotFoundError``, a directory ``IsADirectoryError``, and a
    damaged or foreign file ``CorruptFileError``, each naming the path.
    """
    path = resolve_model(path, purpose="weights")
    if os.path.isdir(path):
        raise IsADirectoryError(f"model path {path!r} is a directory, not a .keras file")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"model file not found: {path!r}{not_found_hint(path)}")
    if not zipfile.is_zipfile(path):  # Keras would call a damaged archive "File not found"
        raise CorruptFileError(f"{path!r} is not a loadable asr model file (not a zip archive: damaged, or not a "
                               ".keras file)")
    with zipfile.ZipFile(path) as archive:
        if KERAS_CONFIG_MEMBER not in archive.namelist():
            raise CorruptFileError(f"{path!r} is not a loadable asr model file (a zip archive without "
                                   f"{KERAS_CONFIG_MEMBER})")
    try:
        model = keras.saving.load_model(path, compile=compile)
    except LOAD_ERRORS as error:
        raise CorruptFileError(f"{path!r} is not a loadable asr model file ({type(error).__name__}: "
                               f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
    if not isinstance(model, AcousticModel):
        raise ConfigError(f"{path!r} holds a {type(model).__name__}, not an asr AcousticModel")
    return model
