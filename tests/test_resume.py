"""Training state under attack: the resume rule, a crash at each step of an epoch's commit,
a killed process, corrupt checkpoint/state/model files, divergence before any checkpoint."""

import json
import os
import subprocess
import sys
import zipfile
from dataclasses import replace

import keras
import numpy as np
import pytest
from conftest import ROOT
from test_train import ExplodeAfter, config

import asr.callbacks
import asr.train as train_module
from asr.config import TrainConfig
from asr.errors import ConfigError, CorruptFileError
from asr.files import read_state
from asr.models import build_model, load_model
from asr.optim import ScheduledAdam, WarmupCosine, schedule_state
from asr.resume import rebuild_optimizer
from asr.train import TrainingDiverged, train

# Under the other backends (tests/test_backends.py) run only what depends on the backend: weights and
# optimizer state restored exactly and the optimizer rebuilt with its moments; the run-folder, process
# and file rules are the same on every backend.
BACKEND_SENSITIVE = pytest.mark.backend_sensitive


@pytest.fixture(scope="module")
def tiny_corpus(tmp_path_factory, librispeech_dir):
    from test_train import tiny_corpus as make  # the same 8 + 4 real utterances

    return make.__wrapped__(tmp_path_factory, librispeech_dir)


def history(run):
    return json.loads((run / "history.json").read_text())


@pytest.fixture(scope="module")
def uninterrupted(tiny_corpus, tmp_path_factory):
    """History of a 3-epoch run that nothing interrupted."""
    folder = tmp_path_factory.mktemp("uninterrupted")
    train(config(tiny_corpus, folder, epochs=3), verbose=0)
    return history(folder / "run")


@BACKEND_SENSITIVE
def test_resume_applies_schedule_changes_and_records_them(tiny_corpus, tmp_path):
    train(config(tiny_corpus, tmp_path, epochs=1), verbose=0)
    result = train(config(tiny_corpus, tmp_path, epochs=2, learning_rate=1e-4), resume=True, verbose=0)
    run = tmp_path / "run"
    assert json.loads((run / "config.json").read_text())["learning_rate"] == 1e-4  # the settings in effect
    assert result["history"]["learning_rate"][1] <= 1e-4 < result["history"]["learning_rate"][0]
    assert history(run)["config_changes"] == [
        {"from_epoch": 2, "changes": {"epochs": [1, 2], "learning_rate": [0.001, 0.0001]}}]


def test_resume_refuses_settings_that_define_the_model_or_data(tiny_corpus, tmp_path):
    train(config(tiny_corpus, tmp_path, epochs=1), verbose=0)
    recorded = (tmp_path / "run" / "config.json").read_text()
    with pytest.raises(ValueError, match=r"cannot change features \('mfcc' -> 'log_mel'\), model_params"):
        train(config(tiny_corpus, tmp_path, epochs=2, features="log_mel", model_params={"units": 4}), resume=True,
              verbose=0)
    assert (tmp_path / "run" / "config.json").read_text() == recorded  # never overwritten with unused settings


class Crash(Exception):
    pass


@pytest.mark.parametrize("point", ["after the checkpoint file", "before the commit",
                                   pytest.param("after the commit", marks=BACKEND_SENSITIVE)])
def test_a_crash_at_any_step_of_the_commit_resumes_like_an_uninterrupted_run(tiny_corpus, tmp_path, point,
                                                                             monkeypatch, uninterrupted):
    real_save, real_commit = asr.callbacks.save_model, asr.callbacks.commit_state

    def save(model, path, *args):
        real_save(model, path, *args)
        if point == "after the checkpoint file" and "e0002" in str(path):
            raise Crash  # the new checkpoint exists (best copy and state not yet written)

    def commit(output_dir, state):
        if state["epoch"] == 1 and point == "before the commit":
            raise Crash
        real_commit(output_dir, state)
        if state["epoch"] == 1 and point == "after the commit":
            raise Crash

    monkeypatch.setattr(asr.callbacks, "save_model", save)
    monkeypatch.setattr(asr.callbacks, "commit_state", commit)
    with pytest.raises(Crash):
        train(config(tiny_corpus, tmp_path, epochs=3), verbose=0)
    monkeypatch.undo()
    committed = read_state(tmp_path / "run")["epoch"]
    assert committed == (1 if point == "after the commit" else 0)
    resumed = train(config(tiny_corpus, tmp_path, epochs=3), resume=True, verbose=0)["history"]
    np.testing.assert_allclose(resumed["loss"], uninterrupted["loss"], rtol=1e-5)
    np.testing.assert_allclose(resumed["val_loss"], uninterrupted["val_loss"], rtol=1e-5)
    assert {p.name for p in (tmp_path / "run").glob("*-e*.keras")} <= {"checkpoint-e0003.keras", "best-e0001.keras",
                                                                      "best-e0002.keras", "best-e0003.keras"}


@pytest.mark.slow
def test_killed_process_resumes_from_the_command_line(tiny_corpus, tmp_path, uninterrupted):
    """A real kill (os._exit, nothing cleaned up) between an epoch's checkpoint and its commit."""
    cfg = config(tiny_corpus, tmp_path, epochs=3)
    (tmp_path / "config.json").write_text(json.dumps(cfg.to_dict()))
    script = f"""
import os, asr.callbacks
from asr.config import TrainConfig
from asr.train import train
real = asr.callbacks.commit_state
def commit(output_dir, state):
    if state["epoch"] == 1:
        os._exit(9)
    real(output_dir, state)
asr.callbacks.commit_state = commit
train(TrainConfig.from_json({str(tmp_path / 'config.json')!r}), verbose=0)
"""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": keras.backend.backend()}  # as in-process
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, timeout=600)
    assert killed.returncode == 9, killed.stderr[-2000:]
    resumed = subprocess.run([sys.executable, "-m", "asr", "train", "--output-dir", cfg.output_dir, "--resume"],
                             cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr[-3000:]
    np.testing.assert_allclose(history(tmp_path / "run")["loss"], uninterrupted["loss"], rtol=1e-5)


def test_resume_continues_a_plain_adam_checkpoint_and_refuses_another_kind():
    model = build_model("rnn", units=4)  # as checkpointed before the schedule's length became a variable
    model.compile(optimizer=keras.optimizers.Adam(WarmupCosine(1e-3, 2, 10)))
    model.optimizer.build(model.trainable_variables)
    model.optimizer.iterations.assign(5)
    for variable in model.optimizer.variables[1:]:
        variable.assign(np.full(variable.shape, 0.25, dtype=variable.dtype))
    rebuild_optimizer(model, TrainConfig(epochs=3), steps_per_epoch=4)
    optimizer = model.optimizer
    assert isinstance(optimizer, ScheduledAdam) and int(optimizer.iterations) == 5
    assert float(optimizer.schedule_steps) == 12  # the settings' length, not the loaded one
    assert all(np.all(np.asarray(v) == 0.25) for v in schedule_state(optimizer)[1:])
    with pytest.raises(ConfigError, match=r"checkpoint's optimizer \(ScheduledAdam\) does not match.*AdamW"):
        rebuild_optimizer(model, TrainConfig(epochs=3, weight_decay=0.01), steps_per_epoch=4)


def test_divergence_before_any_checkpoint_names_none(tiny_corpus, tmp_path, monkeypatch):
    monkeypatch.setattr(train_module, "make_optimizer", lambda cfg, steps_per_epoch: keras.optimizers.SGD(
        ExplodeAfter(0)))
    with pytest.raises(TrainingDiverged, match="epoch 1.*there is no checkpoint: start again with a lower"):
        train(config(tiny_corpus, tmp_path, epochs=2, batch_size=2), verbose=0)
    assert not list((tmp_path / "run").glob("*.keras"))


# === corrupt files ===
@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "model.keras"
    build_model("rnn", units=4).save(path)
    return path


def _rewritten(source, target, edit):
    """A copy of the .keras zip ``source`` with ``edit(name, data) -> data`` applied to each member."""
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for name in old.namelist():
            new.writestr(name, edit(name, old.read(name)))
    return target


def _config_edit(change):
    def edit(name, data):
        return json.dumps(change(json.loads(data))).encode() if name == "config.json" else data
    return edit


CORRUPTIONS = {
    "truncated zip": lambda src, dst: dst.write_bytes(src.read_bytes()[: src.stat().st_size // 2]) and dst,
    "truncated weights": lambda src, dst: _rewritten(src, dst, lambda n, d: d[: len(d) // 3] if n.endswith(".h5")
                                                     else d),
    "config not a dict": lambda src, dst: _rewritten(src, dst, _config_edit(lambda c: [c])),
    "unregistered class": lambda src, dst: _rewritten(src, dst, _config_edit(
        lambda c: {**c, "registered_name": "nobody>Nothing", "class_name": "Nothing"})),
}


@pytest.mark.parametrize("case", sorted(CORRUPTIONS))
def test_corrupt_model_files_are_one_clear_error(model_file, tmp_path, case):
    damaged = tmp_path / "damaged.keras"
    CORRUPTIONS[case](model_file, damaged)
    with pytest.raises(CorruptFileError, match=r"damaged\.keras' is not a loadable asr model file"):
        load_model(damaged)
    result = subprocess.run([sys.executable, "-m", "asr", "transcribe", str(damaged), str(damaged)], cwd=ROOT,
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2 and "damaged.keras" in result.stderr and "Traceback" not in result.stderr


def test_model_path_that_is_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_model(tmp_path)


@pytest.mark.parametrize("text, message", [
    ("{not json", r"state\.json: not valid JSON"),
    ("[1, 2]", r"state\.json: expected a JSON object"),
    ('{"epoch": 0, "best": 1.0, "checkpoint": "checkpoint-e0001.keras"}', r"state\.json: missing .*'history'"),
    ('{"epoch": 0, "history": {}, "best": 1.0, "checkpoint": "gone.keras"}', r"names 'gone\.keras', which is missing"),
])
def test_corrupt_state_is_one_clear_error_naming_the_file(tmp_path, text, message):
    (tmp_path / "state.json").write_text(text)
    with pytest.raises(CorruptFileError, match=message):
        read_state(tmp_path)


def test_a_run_resumes_from_another_working_folder(tiny_corpus, tmp_path, monkeypatch):
    """config.json records absolute paths, so --resume works wherever it is typed."""
    monkeypatch.chdir(tiny_corpus)
    relative = config(tiny_corpus, tmp_path, epochs=1)
    relative = replace(relative, train_data="train.jsonl", dev_data="manifest:dev.jsonl", cache_dir="cache")
    train(relative, verbose=0)
    recorded = json.loads((tmp_path / "run" / "config.json").read_text())
    assert recorded["train_data"] == str(tiny_corpus / "train.jsonl")
    assert recorded["dev_data"] == f"manifest:{tiny_corpus / 'dev.jsonl'}"
    monkeypatch.chdir(tmp_path)
    resumed = train(replace(TrainConfig.from_json(tmp_path / "run" / "config.json"), epochs=2), resume=True, verbose=0)
    assert len(resumed["history"]["loss"]) == 2
    with pytest.raises(FileNotFoundError, match=f"tried '{tmp_path / 'nowhere.jsonl'}'"):
        train(replace(relative, train_data="nowhere.jsonl", output_dir=str(tmp_path / "other")), verbose=0)
    with pytest.raises(ConfigError, match="unknown layout 'libirspeech'"):
        train(replace(relative, train_data="libirspeech:x", output_dir=str(tmp_path / "other")), verbose=0)
