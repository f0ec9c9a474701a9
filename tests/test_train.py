import json
import time
from dataclasses import replace
from types import SimpleNamespace

import keras
import numpy as np
import pytest
from keras import ops

import asr.callbacks as callbacks_module
import asr.train as train_module
from asr.callbacks import TimeBudget
from asr.corpus import read_librispeech, read_manifest, write_manifest
from asr.files import save_model_atomic
from asr.models import load_model
from asr.optim import ScheduledAdam, WarmupCosine, make_optimizer
from asr.train import TrainConfig, TrainingDiverged, train

# Run again under every other backend (tests/test_backends.py): the end-to-end training and resume; the
# callbacks, budgets, caps and checks below it are backend-independent.
BACKEND_SENSITIVE = pytest.mark.backend_sensitive

MODEL_PARAMS = {"filters": 8, "units": 8, "padding": "same"}


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, librispeech_dir):
    entries, _ = read_librispeech(librispeech_dir)
    by_speaker = {}
    for e in sorted(entries, key=lambda e: e["duration"]):
        by_speaker.setdefault(e["speaker"], []).append(e)
    root = tmp_path_factory.mktemp("corpus")
    write_manifest(by_speaker["4088"][:8], root / "train.jsonl")
    write_manifest(by_speaker["4406"][:4], root / "dev.jsonl")
    return root


def config(corpus, tmp_path, **overrides):
    base = dict(train_data=str(corpus / "train.jsonl"), dev_data=str(corpus / "dev.jsonl"), model="cnn_rnn",
                model_params=MODEL_PARAMS, features="mfcc", epochs=1, batch_size=4, output_dir=str(tmp_path / "run"),
                cache_dir=str(corpus / "cache"))
    return TrainConfig(**{**base, **overrides})


@BACKEND_SENSITIVE
def test_train_writes_everything_and_resumes(tiny_corpus, tmp_path):
    first = train(config(tiny_corpus, tmp_path, epochs=1), verbose=0)
    run = tmp_path / "run"
    for name in ("model.keras", "checkpoint-e0001.keras", "best-e0001.keras", "state.json", "config.json",
                 "history.json", "training_curve.png", "data_report.json"):
        assert (run / name).is_file(), name
    assert json.loads((run / "config.json").read_text())["model_params"] == MODEL_PARAMS
    assert set(first["history"]) >= {"loss", "val_loss", "val_cer", "val_wer", "epoch_seconds", "audio_seconds"}
    audio = sum(e["duration"] for e in read_manifest(tiny_corpus / "train.jsonl")[0])  # every utterance, once
    assert first["history"]["audio_seconds"][0] == pytest.approx(audio, abs=8 * 0.025)  # +- a window per utterance
    assert audio < first["history"]["padded_seconds"][0] < 1.5 * audio
    steps = int(load_model(run / "checkpoint-e0001.keras").optimizer.iterations.numpy())
    assert steps == 2  # 8 utterances / batch 4

    second = train(config(tiny_corpus, tmp_path, epochs=3), resume=True, verbose=0)
    assert len(second["history"]["loss"]) == 3
    assert second["history"]["loss"][0] == first["history"]["loss"][0]
    state = json.loads((run / "state.json").read_text())
    assert state["epoch"] == 2 and state["checkpoint"] == "checkpoint-e0003.keras"
    assert state["config_changes"] == [{"from_epoch": 2, "changes": {"epochs": [1, 3]}}]
    assert int(load_model(run / "checkpoint-e0003.keras").optimizer.iterations.numpy()) == 6
    assert not (run / "checkpoint-e0001.keras").exists()  # earlier epochs' files go once the new ones commit
    final = load_model(run / "model.keras")
    assert getattr(final, "optimizer", None) is None  # exported for inference, without optimizer state


def test_average_last_keeps_recent_checkpoints_and_exports_their_mean(tiny_corpus, tmp_path):
    train(config(tiny_corpus, tmp_path, epochs=2, average_last=2), verbose=0)
    run = tmp_path / "run"
    state = json.loads((run / "state.json").read_text())
    assert state["recent_checkpoints"] == ["checkpoint-e0001.keras", "checkpoint-e0002.keras"]
    expected = [np.mean(pair, axis=0) for pair in zip(*(load_model(run / name).get_weights()
                                                       for name in state["recent_checkpoints"]))]
    for got, want in zip(load_model(run / "model.keras").get_weights(), expected):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)

    train(config(tiny_corpus, tmp_path, epochs=3, average_last=2), resume=True, verbose=0)
    state = json.loads((run / "state.json").read_text())
    assert state["recent_checkpoints"] == ["checkpoint-e0002.keras", "checkpoint-e0003.keras"]
    assert not (run / "checkpoint-e0001.keras").exists()  # no longer named: deleted
    with pytest.raises(ValueError, match="average_last=0"):
        TrainConfig(average_last=0)


def test_time_budget_stops_after_an_epoch(tiny_corpus, tmp_path):
    result = train(config(tiny_corpus, tmp_path, epochs=4, time_budget=1e-4))  # 6 ms: over after the first epoch
    assert result["stopped_by_budget_after_epoch"] == 1 and len(result["history"]["loss"]) == 1
    assert load_model(result["model"]).output_lengths(100) > 0
    with pytest.raises(ValueError, match="time_budget=-1"):
        TrainConfig(time_budget=-1)


class EpochClock:
    """A stand-in for ``asr.callbacks.time``: every ``monotonic()`` call is one minute later."""

    perf_counter = staticmethod(time.perf_counter)

    def __init__(self):
        self.now = 0.0

    def monotonic(self):
        self.now += 60.0
        return self.now


@BACKEND_SENSITIVE
def test_time_budget_fits_the_learning_rate_decay_to_the_epochs_that_fit(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(callbacks_module, "time", EpochClock())  # each epoch takes a minute
    cfg = config(tiny_corpus, tmp_path, epochs=6, time_budget=3.5, learning_rate=1e-3, final_lr_ratio=0.1)
    result = train(cfg, verbose=0)
    history = result["history"]  # 3 epochs fit in 3.5 minutes: planned after the first, then kept
    assert history["planned_epochs"] == [3, 3, 3] and result["stopped_by_budget_after_epoch"] == 3
    assert history["learning_rate"][-1] == pytest.approx(1e-4, rel=1e-5)  # the decay ended with the last epoch
    assert history["learning_rate"][1] == pytest.approx(5.5e-4, rel=1e-5)  # half-way down a 6-step decay, not 12
    optimizer = load_model(tmp_path / "run" / "checkpoint-e0003.keras").optimizer
    assert float(optimizer.schedule_steps) == 3 * 2  # 8 utterances in batches of 4: 2 steps per epoch

    train(replace(cfg, epochs=5, time_budget=0.0), resume=True, verbose=0)  # no budget: the configured decay again
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert history["learning_rate"][3] == pytest.approx(1e-4 + 9e-4 * (1 - 0.5 ** 0.5) / 2, rel=1e-5)  # 3/4 of 10 steps
    assert history["learning_rate"][-1] == pytest.approx(1e-4, rel=1e-5) and len(history["loss"]) == 5


def test_time_budget_plans_with_the_recent_epochs(monkeypatch):
    ends = iter([0, 300, 400, 650, 750, 850, 950, 1050, 1150])  # seconds: start, then each epoch's end
    monkeypatch.setattr(callbacks_module, "time", SimpleNamespace(monotonic=lambda: next(ends)))
    budget = TimeBudget(minutes=20, epochs=50, steps_per_epoch=10)
    budget.set_model(SimpleNamespace(optimizer=SimpleNamespace(schedule_steps=keras.Variable(500.0)),
                                     stop_training=False))
    budget.on_train_begin()
    planned = []
    for epoch in range(8):
        logs = {}
        budget.on_epoch_end(epoch, logs)
        planned.append(logs["planned_epochs"])
    # the first epoch (300 s, compiling) counts until the second; then the longest of the last three
    assert planned == [4, 10, 5, 5, 6, 8, 8, 8]
    assert budget.stopped_after == 7 and budget.model.stop_training
    assert float(budget.model.optimizer.schedule_steps) == 80


def test_warmup_cosine_takes_its_length_from_the_optimizer():
    schedule = WarmupCosine(1.0, warmup_steps=2, total_steps=12, final_ratio=0.0)
    assert float(schedule(7)) == pytest.approx(0.5) and float(schedule(7, total_steps=7.0)) == pytest.approx(0.0)
    optimizer = make_optimizer(TrainConfig(epochs=3, learning_rate=1.0, final_lr_ratio=0.0, warmup_epochs=0.5), 4)
    assert float(optimizer.schedule_steps) == 12 and float(optimizer.learning_rate) == pytest.approx(0.5)  # step 0
    optimizer.iterations.assign(7)
    assert float(optimizer.learning_rate) == pytest.approx(0.5)
    optimizer.schedule_steps.assign(7.0)
    assert float(optimizer.learning_rate) == pytest.approx(0.0)
    assert isinstance(make_optimizer(TrainConfig(weight_decay=0.01), 4), keras.optimizers.AdamW)
    with pytest.raises(ValueError, match="needs a WarmupCosine"):
        ScheduledAdam(1e-3)


def test_speaker_cap_limits_each_speakers_items_per_epoch(tiny_corpus, tmp_path):
    result = train(config(tiny_corpus, tmp_path, epochs=2, speaker_cap=4), verbose=0)  # one speaker, 8 utterances
    report = json.loads((tmp_path / "run" / "data_report.json").read_text())
    assert report[-1]["items_per_epoch"] == 4 and report[-1]["batches_per_epoch"] == 1
    halves = result["history"]["audio_seconds"]  # 4 utterances each epoch, the other 4 in the second
    audio = sum(e["duration"] for e in read_manifest(tiny_corpus / "train.jsonl")[0])
    assert halves[0] != halves[1] and sum(halves) == pytest.approx(audio, abs=8 * 0.025)  # each epoch its own draw
    with pytest.raises(ValueError, match="speaker_cap=-2"):
        TrainConfig(speaker_cap=-2)


def test_resume_without_checkpoint_is_a_clear_error(tiny_corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(config(tiny_corpus, tmp_path), resume=True, verbose=0)


def test_corpus_without_usable_audio_is_a_clear_error(tiny_corpus, tmp_path):
    bad = tmp_path / "bad.flac"
    bad.write_bytes(b"not audio at all")
    write_manifest([{"id": "bad-1", "path": str(bad), "text": "hello", "speaker": "x"}], tmp_path / "bad.jsonl")
    with pytest.raises(ValueError, match=r"no usable utterances in .*bad.jsonl.*missing or unreadable audio"):
        train(config(tiny_corpus, tmp_path, train_data=str(tmp_path / "bad.jsonl")), verbose=0)


@keras.saving.register_keras_serializable(package="asr_tests")
class ExplodeAfter(keras.optimizers.schedules.LearningRateSchedule):
    """A sane learning rate for ``steps`` steps, then an absurd one (weights overflow)."""

    def __init__(self, steps):
        self.steps = steps

    def __call__(self, step):
        return ops.where(ops.cast(step, "float32") < self.steps, 1e-3, 1e38)

    def get_config(self):
        return {"steps": self.steps}


def test_nan_stops_training_and_keeps_last_good_checkpoint(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "make_optimizer",
                        lambda cfg, steps_per_epoch: keras.optimizers.SGD(ExplodeAfter(steps_per_epoch)))
    with pytest.raises(TrainingDiverged, match=r"epoch 2, batch \d.*checkpoint-e0001.keras.*--resume"):
        train(config(tiny_corpus, tmp_path, epochs=4, batch_size=2), verbose=0)
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    assert state["epoch"] == 0 and all(np.isfinite(state["history"]["loss"]))
    weights = load_model(tmp_path / "run" / state["checkpoint"]).get_weights()
    assert all(np.all(np.isfinite(w)) for w in weights)


def test_checkpoint_write_is_atomic(tmp_path):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    path = tmp_path / "checkpoint.keras"
    save_model_atomic(model, path)
    before = path.read_bytes()

    class Crash(Exception):
        pass

    def crashing_save(target, *args, **kwargs):
        open(target, "wb").write(b"half a model")
        raise Crash

    model.save = crashing_save
    with pytest.raises(Crash):
        save_model_atomic(model, path)
    assert path.read_bytes() == before


def test_train_config_validation():
    with pytest.raises(ValueError, match="batch_size=0"):
        TrainConfig(batch_size=0)
    with pytest.raises(ValueError, match="kind='wavelet'"):
        TrainConfig(features="wavelet")
    with pytest.raises(ValueError, match="n_mels=40 applies to log_mel and mfcc"):
        TrainConfig(features="spectrogram", n_mels=40)
    with pytest.raises(ValueError, match="n_mels=-3"):
        TrainConfig(n_mels=-3)
    assert TrainConfig(n_mels=40).feature_config().n_features == 40
    with pytest.raises(ValueError, match="intermediate_ctc=1.0 must be a loss weight in"):
        TrainConfig(intermediate_ctc=1.0)
    deep = TrainConfig(model="deep_rnn", model_params={"units": 4, "n_layers": 2}, intermediate_ctc=0.3)
    assert train_module._build(deep, deep.feature_config()).intermediate_ctc == 0.3
    assert TrainConfig().feature_config().n_features == 80
    with pytest.raises(ValueError, match="train_data is empty"):
        train(TrainConfig(), verbose=0)
