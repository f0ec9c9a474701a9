"""Utterances ready for batching: manifest entries -> features (cached) + encoded labels.

``prepare(entries, ...)`` returns an ``UtteranceSet``, skipping and counting (in its
``SkipReport``) every utterance that cannot be used: unreadable audio, a transcript the
vocabulary cannot write, or a label too long for the model's output frames.
"""

import dataclasses

import numpy as np

from asr.audio import AudioError
from asr.ctc import fits_ctc
from asr.feature_cache import FeatureCache
from asr.features import extract_file
from asr.paths import default_cache_dir
from asr.skip_report import SkipReport
from asr.text import TranscriptError


@dataclasses.dataclass
class UtteranceSet:
    """Utterances ready for batching: feature arrays, labels and their manifest entries."""

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


def segment_of(entry):
    """``(offset, duration)`` seconds of an entry that is a segment of a longer recording (it has
    an ``offset``: Kaldi ``segments``, NeMo manifests), else ``(0.0, None)``: the whole file."""
    if "offset" not in entry:
        return 0.0, None
    return float(entry["offset"]), float(entry["duration"])


def prepare(entries, feature_config, vocabulary, cache_dir=None, speeds=(1.0,), output_lengths=None,
            progress=False, name="dataset"):
    """Extract (or load cached) features and encode labels for manifest ``entries``.

    Args:
        cache_dir: feature cache folder; None: ``asr.paths.default_cache_dir()``; False: no cache.
        speeds: speed-perturbation factors; each adds a copy of every utterance.
        output_lengths: the model's length function; labels that cannot fit are skipped.
    """
    cache_dir = default_cache_dir() if cache_dir is None else cache_dir
    cache = FeatureCache(cache_dir, feature_config) if cache_dir else None
    report = SkipReport(name)
    features, labels, kept = [], [], []
    jobs = [(entry, speed) for speed in speeds for entry in entries]
    if progress:
        from tqdm.auto import tqdm

        jobs = tqdm(jobs, desc=f"features ({name})", unit="utt")
    for entry, speed in jobs:
        item = entry.get("id", entry["path"])
        try:
            label = np.asarray(vocabulary.encode(entry["text"]), dtype=np.int32)
            segment = segment_of(entry)
            feats = (cache.load(entry["path"], speed, *segment) if cache
                     else extract_file(entry["path"], feature_config, speed, *segment))
        except TranscriptError:
            report.skip("transcript not encodable", item)
            continue
        except AudioError:
            report.skip("unusable audio", item)
            continue
        if output_lengths is not None and not fits_ctc(label, int(output_lengths(feats.shape[0]))):
            report.skip("label longer than the model's output frames", item)
            continue
        features.append(feats)
        labels.append(label)
        kept.append(entry)
        report.read += 1
    return UtteranceSet(features, labels, kept, report)
