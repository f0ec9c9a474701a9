"""Run configuration as frozen dataclasses (Keras-free, so the CLI can parse flags before
choosing a backend). Saved as JSON beside results; CLI flags map one-to-one onto fields."""

import dataclasses
import math
import typing

from asr.errors import ConfigError
from asr.features import FeatureConfig
from asr.files import read_json_object

ARCHITECTURE_NAMES = ("simple_rnn", "rnn", "cnn_rnn", "deep_rnn", "bidirectional_rnn", "deepspeech",
                      "conformer")  # Keras-free
#                     copy of asr.models.ARCHITECTURES' names (a test keeps them equal), for flags and checks
DEFAULT_ARCHITECTURE = "deepspeech"  # a new run's, when neither model nor init_from names one


TYPE_NAMES = {int: "an integer", float: "a number", str: "a string", bool: "true or false",
              dict: "a JSON object", tuple: "a list of numbers"}


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _check_field_types(config):
    """``ConfigError`` naming the first field whose value has the wrong type (``"ten"`` for an
    integer, ``2.5`` for a count, ``"no"`` for a boolean, a string for a list, ``null``)."""
    hints = typing.get_type_hints(type(config))
    for field in dataclasses.fields(config):
        value, kind = getattr(config, field.name), hints[field.name]
        if kind is int:
            ok = isinstance(value, int) and not isinstance(value, bool)
        elif kind is float:
            ok = _is_number(value)
        elif kind is tuple:
            ok = isinstance(value, (list, tuple)) and all(_is_number(v) for v in value)
        else:
            ok = isinstance(value, kind)
        if not ok:
            raise ConfigError(f"TrainConfig {field.name}={value!r} must be {TYPE_NAMES[kind]}")


def check_devices_flag(devices):
    """``devices`` as a canonical string: ``"auto"``, ``"all"`` or a positive count."""
    text = str(devices).strip().lower()
    if text in ("auto", "all") or (text.isdigit() and int(text) >= 1):
        return text
    raise ConfigError(f"devices={devices!r} must be a positive count, 'all' or 'auto'")


def option(default, help, factory=None, sources=False):
    """A dataclass field carrying its CLI help text (``sources``: a repeatable flag whose values
    are joined with commas)."""
    metadata = {"help": help, "sources": sources}
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


def _comma_names(text):
    """``"a, b,"`` -> ``["a", "b"]``: a comma-separated flag's names, blanks dropped."""
    return [name.strip() for name in text.split(",") if name.strip()]


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field is a CLI flag of ``asr train`` (``--field-name``)."""

    train_data: str = option("", "corpora of any layout (asr data): folders or files, LAYOUT:PATH to choose the "
                                 "reader; repeatable or comma-separated", sources=True)
    dev_data: str = option("", "corpora as for train_data; empty: hold out dev_speakers speakers of train_data",
                           sources=True)
    train_weights: tuple = option((), "per train_data source, in order: the share of its utterances drawn each "
                                      "epoch, e.g. 1,0.25 (0.25: other ones each epoch, all in turn; 2: each twice; "
                                      "empty: all once)", factory=tuple)
    dev_speakers: int = option(1, "speakers held out for dev when dev_data is empty")
    output_dir: str = option("runs/asr", "folder for checkpoints, model, history and plots")
    model: str = option("", "architecture: " + " | ".join(ARCHITECTURE_NAMES) + " (empty: deepspeech, or with "
                            "init_from the base model's architecture and model_params)")
    model_params: dict = option(None, "architecture hyper-parameters as JSON", factory=dict)
    init_from: str = option("", "fine-tune: a .keras model, or a shipped model's name (asr models), whose "
                                "weights start the run, layer by layer by name and shape (its features and "
                                "normalisation statistics are kept; a layer that does not match, e.g. the output "
                                "layer of another vocabulary, starts fresh)")
    freeze: str = option("", "comma-separated layer or block names held fixed in training (a name covers the layers "
                             "named NAME or NAME_..., e.g. conv for conv_1, conv_1_bn, conv_2, ...)")
    reinit: str = option("", "comma-separated layer or block names (as for freeze) that start fresh instead of taking "
                             "init_from's weights, e.g. bigru_4,logits: the top of the base learnt again")
    utterance_norm: str = option("none", "per-utterance normalisation after the global statistics: none | mean "
                                         "(each utterance's own mean removed) | mean_std")
    intermediate_ctc: float = option(0.0, "weight w of an intermediate CTC loss on the middle recurrent block "
                                          "through the shared logits layer: loss = (1 - w) CTC + w CTC(middle); "
                                          "training only (0: off; 0.3 is usual)")
    features: str = option("log_mel", "spectrogram | mfcc | log_mel")
    n_mels: int = option(0, "mel filters of log_mel and mfcc features (0: the kind's default, 80 and 26)")
    epochs: int = option(20, "training epochs")
    batch_size: int = option(16, "utterances per batch")
    learning_rate: float = option(1e-3, "peak, after warm-up")
    warmup_epochs: float = option(1.0, "linear learning-rate warm-up, in epochs")
    final_lr_ratio: float = option(0.05, "cosine decay ends at learning_rate * final_lr_ratio")
    weight_decay: float = option(0.0, "AdamW decoupled weight decay (0: Adam)")
    clipnorm: float = option(5.0, "global gradient-norm clipping")
    max_duration: float = option(20.0, "seconds; longer utterances are skipped (and counted)")
    sortagrad: bool = option(True, "first epoch shortest-first")
    speaker_cap: int = option(0, "most training items (utterances x speed copies) per speaker per epoch, taken in "
                                 "turn so all are used over the epochs: balances heavy speakers against many light "
                                 "ones (0: no cap)")
    time_budget: float = option(0.0, "minutes of training: after each epoch, the learning-rate decay is fitted to "
                                     "end with the last epoch that fits, and training stops there (0: no limit)")
    stop_after: float = option(0.0, "minutes of this invocation: training stops after the last epoch that fits, the "
                                    "learning-rate schedule of all the epochs unchanged, so a long run spreads over "
                                    "several --resume invocations (0: no limit)")
    dev_subset: int = option(200, "dev utterances decoded for CER/WER each epoch")
    mixed_precision: bool = option(False, "bf16 compute, float32 CTC and logits")
    seed: int = option(0, "seed for weights, batching and augmentation")
    average_last: int = option(1, "final model: the mean of the weights of the last N epochs' checkpoints "
                                  "(1: the best checkpoint by dev CER)")
    cache_dir: str = option("", "feature cache folder (empty: $ASR_CACHE_DIR or ~/.cache/asr)")
    workers: int = option(1, "threads preparing batches")
    devices: str = option("auto", "data-parallel devices: a count, 'all', or 'auto' (JAX: every local accelerator, "
                                  "else one device); batch_size is split over them")
    # === augmentation (all seeded by `seed`) ===
    spec_augment: dict = option(None, "asr.layers.SpecAugment arguments as JSON; {} = off", factory=dict)
    speed_perturb: tuple = option((), "speed factors, e.g. 0.9,1.0,1.1 (cached copies of the training audio)",
                                  factory=tuple)
    gain_db: float = option(0.0, "random gain in [-gain_db, +gain_db] dB (log-power features)")
    noise_prob: float = option(0.0, "probability of additive noise per utterance (log-power features)")
    noise_snr_db: tuple = option((10.0, 30.0), "additive-noise SNR range in dB, e.g. 10,30")
    noise_dir: str = option("", "folder of noise recordings (any audio format, searched recursively): the noise "
                                "that noise_prob adds, a random crop per utterance (empty: synthetic white noise)")
    time_shift: int = option(0, "delay each training utterance by 0..N frames at random (copies of its first "
                                "frame), so the model does not depend on where the subsampled frame grid falls")
    vtlp: float = option(0.0, "vocal tract length perturbation: each utterance's frequency axis warped by a factor "
                              "in [1 - vtlp, 1 + vtlp] (spectrogram, log_mel; 0.1 is usual)")

    def __post_init__(self):
        if isinstance(self.devices, int) and not isinstance(self.devices, bool):  # a count may be a JSON number
            object.__setattr__(self, "devices", str(self.devices))
        _check_field_types(self)
        for name in ("epochs", "batch_size", "dev_subset", "workers", "dev_speakers", "average_last"):
            if getattr(self, name) < 1:
                raise ConfigError(f"TrainConfig {name}={getattr(self, name)!r} must be >= 1")
        if not isinstance(self.speaker_cap, int) or self.speaker_cap < 0:
            raise ConfigError(f"TrainConfig speaker_cap={self.speaker_cap!r} must be an integer >= 0 (0: no cap)")
        for name in ("time_budget", "stop_after"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ConfigError(f"TrainConfig {name}={getattr(self, name)!r} must be a finite number of minutes >= 0")
        for name in ("learning_rate", "max_duration", "clipnorm"):
            if not getattr(self, name) > 0 or not math.isfinite(getattr(self, name)):
                raise ConfigError(f"TrainConfig {name}={getattr(self, name)!r} must be a finite number > 0")
        for name in ("model_params", "spec_augment"):
            if not isinstance(getattr(self, name), dict):
                raise ConfigError(f"TrainConfig {name}={getattr(self, name)!r} must be a JSON object, e.g. "
                                  '{"units": 256}')
        if not self.model and not self.init_from:
            object.__setattr__(self, "model", DEFAULT_ARCHITECTURE)
        if self.freeze and not self.init_from:
            raise ConfigError(f"TrainConfig freeze={self.freeze!r} needs init_from: fresh weights are not worth "
                              "holding fixed")
        if self.reinit and not self.init_from:
            raise ConfigError(f"TrainConfig reinit={self.reinit!r} needs init_from: without a base every layer "
                              "starts fresh")
        if self.model and self.model not in ARCHITECTURE_NAMES:
            raise ConfigError(f"TrainConfig model={self.model!r} must be one of {ARCHITECTURE_NAMES}")
        self.feature_config()  # validates the kind and n_mels
        if self.utterance_norm not in ("none", "mean", "mean_std"):
            raise ConfigError(f"TrainConfig utterance_norm={self.utterance_norm!r} must be none, mean or mean_std")
        if not 0 <= self.intermediate_ctc < 1:
            raise ConfigError(f"TrainConfig intermediate_ctc={self.intermediate_ctc!r} must be a loss weight in [0, 1) "
                              "(0: off)")
        object.__setattr__(self, "devices", check_devices_flag(self.devices))
        for name in ("speed_perturb", "noise_snr_db", "train_weights"):  # JSON gives lists
            object.__setattr__(self, name, tuple(float(v) for v in getattr(self, name)))
        if any(not 0 < w < math.inf for w in self.train_weights):
            raise ConfigError(f"TrainConfig train_weights={self.train_weights} must be finite numbers > 0")
        if self.train_weights and self.speaker_cap:
            raise ConfigError("TrainConfig train_weights and speaker_cap cannot be combined: use one of them")
        if any(not 0.5 <= s <= 2.0 for s in self.speed_perturb):
            raise ConfigError(f"TrainConfig speed_perturb={self.speed_perturb} factors must be in [0.5, 2]")
        self.feature_augment()  # validates gain, noise, time-shift and VTLP settings
        if self.noise_dir and not self.noise_prob:
            raise ConfigError(f"TrainConfig noise_dir={self.noise_dir!r} needs noise_prob > 0: the share of "
                              "utterances that get its noise")

    def with_absolute_paths(self):
        """This configuration with its data, noise, cache and init_from paths absolute (layouts
        kept), as ``config.json`` records them: ``--resume`` from another working folder reads
        the same files."""
        import os

        from asr.corpus.sources import absolute_sources

        paths = {name: os.path.abspath(getattr(self, name)) for name in ("noise_dir", "cache_dir", "init_from")
                 if getattr(self, name) and (name != "init_from" or os.path.exists(self.init_from))}
        return dataclasses.replace(self, train_data=absolute_sources(self.train_data),
                                   dev_data=absolute_sources(self.dev_data), **paths)

    def freeze_names(self):
        """The ``freeze`` names as a list (empty when nothing is frozen)."""
        return _comma_names(self.freeze)

    def reinit_names(self):
        """The ``reinit`` names as a list (empty when every matching layer loads)."""
        return _comma_names(self.reinit)

    def feature_config(self):
        """The ``FeatureConfig`` these settings describe."""
        return FeatureConfig(self.features, n_mels=self.n_mels or None)

    def feature_augment(self, noise=None):
        """The data-pipeline ``FeatureAugment`` these settings describe (``noise``: the
        ``asr.noise.NoiseBank`` read from ``noise_dir``)."""
        from asr.augment import FeatureAugment, check_kind

        augment = FeatureAugment(self.gain_db, self.noise_prob, self.noise_snr_db, self.time_shift, self.vtlp,
                                 self.feature_config(), noise)
        check_kind(augment, self.features)
        return augment

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, path):
        """The config saved at ``path``; a damaged file or unknown field is a ``ConfigError`` naming it."""
        values = read_json_object(path, ConfigError, missing="config file not found")
        unknown = set(values) - {field.name for field in dataclasses.fields(cls)}
        if unknown:
            raise ConfigError(f"{path}: unknown TrainConfig fields {sorted(unknown)}")
        return cls(**values)
