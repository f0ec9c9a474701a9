"""Real noise two ways: added to cached features in the power domain (what ``--noise-dir``
does) vs added to the waveform before the features are computed. Speed and difference.

    python bench/noise_mixing.py                  # 40 LibriSpeech utterances, 4 noises, 0-20 dB
    python bench/noise_mixing.py --utterances 4   # seconds (CI)

Per utterance and SNR, with the same noise crop and the same gain for both: the time of each
way (waveform: the audio already decoded in memory, only mixing and log-mel; features: the
cached features, only the crop and ``logaddexp``), and how far apart the results are (mean
absolute log-mel difference, in nats; 1 nat = 4.3 dB) next to how far the noise moved the
features at all. Results go to bench/results/noise_mixing.json with the device, versions,
date and command.
"""

import argparse
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

SNRS_DB = (0.0, 10.0, 20.0)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--utterances", type=int, default=40, help="LibriSpeech sample utterances (default: 40)")
    p.add_argument("--output", help="JSON results (default: bench/results/noise_mixing.json; '-': none)")
    return p.parse_args(argv)


def noise_audio(folder, sample_rate):
    from asr.audio import AUDIO_EXTENSIONS, load_audio

    return [load_audio(p, sample_rate) for p in sorted(folder.iterdir()) if p.suffix in AUDIO_EXTENSIONS]


def compare(speech, noise, snr_db, config, rng):
    """Both ways on one utterance; returns (seconds waveform, seconds features, mean |diff|, mean |shift|)."""
    from asr.features import extract_features

    start = int(rng.integers(len(noise) - len(speech))) if len(noise) > len(speech) else 0
    crop = np.resize(noise[start:], len(speech))
    gain = np.sqrt(np.mean(speech**2) / (np.mean(crop**2) * 10 ** (snr_db / 10)))
    clean, noise_features = extract_features(speech, config), extract_features(crop * gain, config)
    tic = time.perf_counter()
    by_waveform = extract_features(speech + gain * crop, config)
    waveform_seconds = time.perf_counter() - tic
    tic = time.perf_counter()
    by_features = np.logaddexp(clean, noise_features)
    feature_seconds = time.perf_counter() - tic
    return (waveform_seconds, feature_seconds, float(np.mean(np.abs(by_features - by_waveform))),
            float(np.mean(np.abs(by_waveform - clean))))


def main(argv=None):
    args = parse_args(argv)
    from asr.audio import load_audio
    from asr.corpus import load_entries
    from asr.features import FeatureConfig
    from asr.paths import default_data_dir

    config = FeatureConfig("log_mel")
    data = default_data_dir()
    entries = load_entries(data / "librispeech-sample")[0][:: max(1, 378 // args.utterances)][: args.utterances]
    noises = noise_audio(data / "noise" / "speech-commands-background", config.sample_rate)
    rng = np.random.default_rng(0)
    rows = []
    for snr_db in SNRS_DB:
        results = np.array([compare(load_audio(e["path"], config.sample_rate), noises[i % len(noises)], snr_db,
                                    config, rng) for i, e in enumerate(entries)])
        wave, feat, diff, shift = results.mean(axis=0)
        rows.append({"snr_db": snr_db, "waveform_ms": 1000 * wave, "features_ms": 1000 * feat,
                     "speedup": wave / feat, "mean_abs_difference": diff, "mean_abs_noise_shift": shift})
        print(f"SNR {snr_db:4.0f} dB: waveform {1000 * wave:6.2f} ms, features {1000 * feat:5.2f} ms per utterance "
              f"({wave / feat:.0f}x faster); |features - waveform| {diff:.3f} nats vs the noise's own shift "
              f"{shift:.3f} ({diff / shift:.2f}x)")
    result = {"utterances": len(entries), "noises": len(noises), "features": "log_mel", "rows": rows,
              **machine_facts("numpy")}
    write_result(args.output or ROOT / "bench" / "results" / "noise_mixing.json", result)
    return result


if __name__ == "__main__":
    main()
