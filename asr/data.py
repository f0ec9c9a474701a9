"""Feature cache, utterance datasets and length-bucketed CTC batches (NumPy, any backend).

``prepare(entries, ...)`` turns manifest entries into an ``UtteranceSet`` (features on disk,
encoded labels), skipping and counting what cannot be used. ``CTCBatches`` is a
``keras.utils.PyDataset`` yielding::

    x = {"features": (B, T, F) float32, "feature_lengths": (B,) int32}
    y = {"labels": (B, L) int32, "label_lengths": (B,) int32}

with ``T`` padded up to a multiple of ``pad_multiple`` frames and ``L`` to ``T / 2``, so
JAX/XLA compiles one program per bucket instead of one per batch.
"""

import dataclasses
import hashlib
import os
import pathlib

import keras
import numpy as np

from asr.audio import AudioError, load_audio, resample
from asr.corpus.manifest import SkipReport
from asr.ctc import fits_ctc
from asr.features import extract
from asr.text import TranscriptError

PAD_MULTIPLE = 128  # frames (1.28 s at 10 ms): one compiled shape per bucket, <= ~10% padding at 13 s
LABELS_PER_FRAME = 0.5  # labels are padded to frames * 0.5 (speech has ~0.15 characters per 10 ms frame),
#                         so each time bucket has a single label length too: one XLA program per bucket
SHUFFLE_JITTER = 0.15  # relative length noise when forming buckets, so batches vary per epoch
DEFAULT_CACHE_DIR = pathlib.Path(os.environ.get("ASR_CACHE_DIR", pathlib.Path.home() / ".cache" / "asr"))


@dataclasses.dataclass
class UtteranceSet:
    """Utterances ready for batching: feature files (or arrays), labels and metadata."""

    features: list  # np.ndarray (frames, n_features) each, memory-mapped from the cache
    labels: list  # int32 arrays
    entries: list  # the manifest entries, in the same order
    report: SkipReport

    def __len__(self):
        return len(self.features)

    @property
    def frame_lengths(self):
        return np.array([f.shape[0] for f in self.features], dtype=np.int32)

    def subset(self, indices):
        return UtteranceSet([self.features[i] for i in indices], [self.labels[i] for i in indices],
                            [self.entries[i] for i in indices], self.report)


def _cache_path(cache_dir, config, entry, variant):
    digest = hashlib.sha1(f"{os.path.abspath(entry['path'])}|{variant}".encode()).hexdigest()[:16]
    return pathlib.Path(cache_dir) / f"features-{config.cache_key()}" / digest[:2] / f"{digest}.npy"


def _save_atomic(path, array):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
    np.save(tmp, array)
    os.replace(tmp, path)


def load_features(entry, config, cache_dir=None, speed=1.0):
    """Features of one manifest entry, from the cache when present (``speed`` != 1 resamples
    the audio by that factor first: speed perturbation)."""
    path = _cache_path(cache_dir, config, entry, f"speed={speed}") if cache_dir else None
    if path is not None and path.is_file():
        return np.load(path, mmap_mode="r")
    audio = load_audio(entry["path"], config.sample_rate)
    if speed != 1.0:  # play faster by treating the audio as recorded at a higher rate
        audio = resample(audio, round(config.sample_rate * speed), config.sample_rate)
    features = extract(audio, config)
    if path is not None:
        _save_atomic(path, features)
        return np.load(path, mmap_mode="r")
    return features


def prepare(entries, feature_config, vocabulary, cache_dir=DEFAULT_CACHE_DIR, speeds=(1.0,),
            output_lengths=None, progress=False, name="dataset"):
    """Extract (or load cached) features and encode labels for manifest ``entries``.

    Utterances with unreadable audio, unencodable text, or (given ``output_lengths``, the
    model's length function) too few output frames for their label are skipped and counted
    in the returned set's ``report``. ``speeds`` adds speed-perturbed copies.
    """
    report = SkipReport(name)
    features, labels, kept = [], [], []
    jobs = [(entry, speed) for speed in speeds for entry in entries]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc=f"features ({name})", unit="utt")
    for entry, speed in jobs:
        try:
            label = np.asarray(vocabulary.encode(entry["text"]), dtype=np.int32)
            feats = load_features(entry, feature_config, cache_dir, speed)
        except (AudioError, ValueError) as error:
            reason = "transcript not encodable" if isinstance(error, TranscriptError) else "unusable audio"
            report.skip(reason, entry.get("id", entry["path"]))
            continue
        if output_lengths is not None and not fits_ctc(label, int(output_lengths(feats.shape[0]))):
            report.skip("label longer than the model's output frames", entry.get("id", entry["path"]))
            continue
        features.append(feats)
        labels.append(label)
        kept.append(entry)
        report.read += 1
    return UtteranceSet(features, labels, kept, report)


def pad_batch(arrays, pad_multiple=PAD_MULTIPLE, dtype=np.float32):
    """Stack ``(time, ...)`` arrays into ``(batch, T, ...)``, ``T`` rounded up to ``pad_multiple``."""
    lengths = np.array([a.shape[0] for a in arrays], dtype=np.int32)
    max_len = int(-(-max(lengths.max(), 1) // pad_multiple) * pad_multiple)
    out = np.zeros((len(arrays), max_len) + arrays[0].shape[1:], dtype=dtype)
    for i, a in enumerate(arrays):
        out[i, : a.shape[0]] = a
    return out, lengths


class CTCBatches(keras.utils.PyDataset):
    """Length-bucketed, padded CTC batches over an ``UtteranceSet``.

    Args:
        data: the utterances.
        batch_size: utterances per batch; the last, partial batch is kept.
        shuffle: new bucket composition and batch order each epoch (seeded).
        sortagrad: the first epoch goes shortest-first (SortaGrad, DeepSpeech 2).
        transform: optional ``f(features, rng) -> features`` applied per utterance (augmentation).
        workers: threads preparing batches ahead of the model (``keras.utils.PyDataset``).
    """

    def __init__(self, data, batch_size=16, shuffle=True, sortagrad=False, seed=0, pad_multiple=PAD_MULTIPLE,
                 transform=None, workers=1, **kwargs):
        super().__init__(workers=workers, use_multiprocessing=False, **kwargs)
        if len(data) == 0:
            raise ValueError(f"no utterances to batch ({data.report})")
        if not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size={batch_size!r} must be a positive integer")
        self.data, self.batch_size, self.shuffle = data, batch_size, shuffle
        self.pad_multiple, self.transform = pad_multiple, transform
        self.seed, self.epoch = seed, 0
        self.sorted_first = sortagrad
        self.lengths = data.frame_lengths
        self.batches = self._make_batches()

    def _make_batches(self):
        if not self.shuffle or (self.sorted_first and self.epoch == 0):
            order = np.argsort(self.lengths, kind="stable")
            batches = [order[i: i + self.batch_size] for i in range(0, len(order), self.batch_size)]
            return batches
        rng = np.random.default_rng((self.seed, self.epoch))
        noisy = self.lengths * (1.0 + SHUFFLE_JITTER * rng.uniform(-1, 1, len(self.lengths)))
        order = np.argsort(noisy, kind="stable")
        batches = [order[i: i + self.batch_size] for i in range(0, len(order), self.batch_size)]
        rng.shuffle(batches)
        return batches

    def __len__(self):
        return len(self.batches)

    def __getitem__(self, index):
        ids = self.batches[index]
        feats = [np.asarray(self.data.features[i], dtype=np.float32) for i in ids]
        if self.transform is not None:
            rng = np.random.default_rng((self.seed, self.epoch, index))
            feats = [self.transform(f, rng) for f in feats]
        features, feature_lengths = pad_batch(feats, self.pad_multiple)
        labels = [self.data.labels[i] for i in ids]
        label_pad = max(int(features.shape[1] * LABELS_PER_FRAME), max(len(label) for label in labels))
        labels, label_lengths = pad_batch(labels, label_pad, dtype=np.int32)
        return ({"features": features, "feature_lengths": feature_lengths},
                {"labels": labels, "label_lengths": label_lengths})

    def on_epoch_end(self):
        self.epoch += 1
        self.batches = self._make_batches()
