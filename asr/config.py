"""Run configuration as frozen dataclasses (Keras-free, so the CLI can parse flags before
choosing a backend). Saved as JSON beside results; CLI flags map one-to-one onto fields."""

import dataclasses
import json
import pathlib

from asr.features import FeatureConfig


def option(default, help, factory=None):
    """A dataclass field carrying its CLI help text."""
    if factory is not None:
        return dataclasses.field(default_factory=factory, metadata={"help": help})
    return dataclasses.field(default=default, metadata={"help": help})


@dataclasses.dataclass(frozen=True)
class TrainConfig:
    """One training run. Every field is a CLI flag of ``asr train`` (``--field-name``)."""

    train_data: str = option("", "manifest (.jsonl) or LibriSpeech-layout folder")
    dev_data: str = option("", "manifest or folder; empty: hold out dev_speakers speakers of train_data")
    dev_speakers: int = option(1, "speakers held out for dev when dev_data is empty")
    output_dir: str = option("runs/asr", "folder for checkpoints, model, history and plots")
    model: str = option("deepspeech", "architecture name (asr.models.ARCHITECTURES)")
    model_params: dict = option(None, "architecture hyper-parameters as JSON", factory=dict)
    features: str = option("log_mel", "spectrogram | mfcc | log_mel")
    epochs: int = option(20, "training epochs")
    batch_size: int = option(16, "utterances per batch")
    learning_rate: float = option(1e-3, "peak, after warm-up")
    warmup_epochs: float = option(1.0, "linear learning-rate warm-up, in epochs")
    final_lr_ratio: float = option(0.05, "cosine decay ends at learning_rate * final_lr_ratio")
    weight_decay: float = option(0.0, "AdamW decoupled weight decay (0: Adam)")
    clipnorm: float = option(5.0, "global gradient-norm clipping")
    max_duration: float = option(20.0, "seconds; longer utterances are skipped (and counted)")
    sortagrad: bool = option(True, "first epoch shortest-first")
    dev_subset: int = option(200, "dev utterances decoded for CER/WER each epoch")
    mixed_precision: bool = option(False, "bf16 compute, float32 CTC and logits")
    seed: int = option(0, "seed for weights, batching and augmentation")
    cache_dir: str = option("", "feature cache folder (empty: $ASR_CACHE_DIR or ~/.cache/asr)")
    workers: int = option(1, "threads preparing batches")

    def __post_init__(self):
        for name in ("epochs", "batch_size", "dev_subset", "workers", "dev_speakers"):
            if getattr(self, name) < 1:
                raise ValueError(f"TrainConfig {name}={getattr(self, name)!r} must be >= 1")
        for name in ("learning_rate", "max_duration"):
            if not getattr(self, name) > 0:
                raise ValueError(f"TrainConfig {name}={getattr(self, name)!r} must be > 0")
        FeatureConfig(self.features)  # validates the kind

    def to_dict(self):
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, path):
        return cls(**json.loads(pathlib.Path(path).read_text(encoding="utf-8")))
