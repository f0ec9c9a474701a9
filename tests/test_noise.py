"""Real-noise mixing (``--noise-dir``): seeded, at the drawn SNR, nothing dropped, checked up
front, resume-exact in the training batches, never part of a saved model."""

import json

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA_DIR, require

from asr.augment import DB_TO_LOG
from asr.batches import CTCBatches
from asr.config import TrainConfig
from asr.features import FeatureConfig
from asr.noise import NoiseBank, _log_mean_power

LOG_MEL = FeatureConfig("log_mel")
NOISE_DIR = DATA_DIR / "noise" / "speech-commands-background"


@pytest.fixture(scope="module")
def bank():
    return NoiseBank.from_folder(require(NOISE_DIR), LOG_MEL)


def speech_like(frames=300, seed=0):
    return np.random.default_rng(seed).normal(-6.0, 2.0, size=(frames, 80)).astype(np.float32)


def test_reads_every_recording_of_the_folder(bank):
    assert bank.names == ["doing_the_dishes.flac", "dude_miaowing.flac", "exercise_bike.flac", "running_tap.flac"]
    assert all(f.shape[1] == 80 for f in bank.features) and sum(len(f) for f in bank.features) > 4 * 60 * 100
    assert bank.weights.sum() == pytest.approx(1.0)


@pytest.mark.parametrize("snr_db", [0.0, 7.5, 20.0])
def test_mix_reaches_the_snr_keeps_every_frame_and_only_adds_power(bank, snr_db):
    clean = speech_like()
    noisy = bank.mix(clean, np.random.default_rng(3), snr_db)
    crop = bank.crop(len(clean), np.random.default_rng(3))  # the same draws: the crop that was added
    assert noisy.shape == clean.shape and noisy.dtype == np.float32 and np.isfinite(noisy).all()
    assert (noisy >= clean - 1e-5).all()
    added = np.log(np.maximum(np.exp(noisy.astype(np.float64)) - np.exp(clean.astype(np.float64)), 1e-300))
    measured = (_log_mean_power(clean) - _log_mean_power(added)) / DB_TO_LOG
    assert measured == pytest.approx(snr_db, abs=0.05)
    shape = added - crop  # the crop, scaled by one gain
    assert np.std(shape[np.isfinite(shape) & (shape > -600)]) < 0.05


def test_mix_is_seeded_and_draws_differ(bank):
    clean = speech_like()
    a = bank.mix(clean, np.random.default_rng(1), 10.0)
    np.testing.assert_array_equal(a, bank.mix(clean, np.random.default_rng(1), 10.0))
    assert not np.array_equal(a, bank.mix(clean, np.random.default_rng(2), 10.0))


def test_recordings_shorter_than_the_utterance_wrap_around(tmp_path):
    rng = np.random.default_rng(0)
    sf.write(tmp_path / "short.wav", rng.normal(0, 0.1, 4000).astype(np.float32), 16000)  # 0.25 s
    small = NoiseBank.from_folder(tmp_path, LOG_MEL)
    crop, period = small.crop(200, np.random.default_rng(0)), len(small.features[0])
    assert crop.shape == (200, 80) and period < 30
    np.testing.assert_array_equal(crop[:period], crop[period: 2 * period])


def test_bad_noise_folders_are_one_clear_error(tmp_path):
    with pytest.raises(ValueError, match="noise_dir '.*nowhere' is not a folder"):
        NoiseBank.from_folder(tmp_path / "nowhere", LOG_MEL)
    (tmp_path / "notes.txt").write_text("no audio here")
    with pytest.raises(ValueError, match="holds no audio files"):
        NoiseBank.from_folder(tmp_path, LOG_MEL)
    with pytest.raises(ValueError, match="mixes log-power features"):
        NoiseBank.from_folder(tmp_path, FeatureConfig("mfcc"))
    with pytest.raises(ValueError, match="needs noise_prob > 0"):
        TrainConfig(noise_dir=str(tmp_path))


def utterance_set(n=12):
    from asr.skip_report import SkipReport
    from asr.utterances import UtteranceSet

    features = [speech_like(100 + 10 * i, seed=i) for i in range(n)]
    return UtteranceSet(features, [np.array([1, 2, 3], np.int32)] * n, [{"id": str(i)} for i in range(n)],
                        SkipReport())


def test_noisy_batches_are_resume_exact(bank):
    augment = TrainConfig(noise_prob=0.5, noise_dir=str(NOISE_DIR), noise_snr_db=(0.0, 20.0)).feature_augment(bank)
    data = utterance_set()
    first = CTCBatches(data, 4, seed=7, transform=augment)
    first.set_epoch(2)
    resumed = CTCBatches(data, 4, seed=7, transform=augment)  # a new process after a restart
    resumed.set_epoch(2)
    for i in range(len(first)):
        np.testing.assert_array_equal(first[i][0]["features"], resumed[i][0]["features"])
    clean = CTCBatches(data, 4, seed=7)
    clean.set_epoch(2)
    changed = [not np.array_equal(first[i][0]["features"], clean[i][0]["features"]) for i in range(len(first))]
    assert any(changed)


def test_training_with_noise_records_it_and_the_model_needs_no_noise(tmp_path, librispeech_entries, bank):
    import shutil

    from asr.corpus import write_manifest
    from asr.inference import transcribe
    from asr.models import load_model
    from asr.train import train

    shorts = sorted(librispeech_entries, key=lambda e: e["duration"])
    write_manifest(shorts[:4], tmp_path / "train.jsonl")
    write_manifest(shorts[4:6], tmp_path / "dev.jsonl")
    noise = tmp_path / "noise"
    shutil.copytree(require(NOISE_DIR), noise)
    run = tmp_path / "run"
    train(TrainConfig(train_data=str(tmp_path / "train.jsonl"), dev_data=str(tmp_path / "dev.jsonl"),
                      model="cnn_rnn", model_params={"filters": 8, "units": 8, "padding": "same"}, epochs=1,
                      batch_size=2, output_dir=str(run), cache_dir=str(tmp_path / "cache"), noise_prob=1.0,
                      noise_dir=str(noise)), verbose=0)
    assert json.loads((run / "config.json").read_text())["noise_dir"] == str(noise)
    shutil.rmtree(noise)  # inference never reads it
    model = load_model(run / "model.keras")
    assert "noise" not in json.dumps(model.get_config())
    (result,) = transcribe(model, [shorts[0]["path"]])
    assert result.ok
