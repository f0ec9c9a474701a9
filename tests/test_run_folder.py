"""A run folder is never clobbered: a new run refuses a folder holding one (unless overwrite,
which deletes only that run's files), resume cannot go backwards, and a failed write (disk
full) names the file, leaves no temporary file and keeps the committed state."""

import errno
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest
from conftest import ROOT
from test_train import config, tiny_corpus  # noqa: F401  (tiny_corpus is a fixture)

from asr.errors import ConfigError, WriteError
from asr.files import claim_run_folder, read_state, run_files, save_model_atomic, write_json_atomic, write_text_atomic
from asr.train import train


@pytest.fixture(scope="module")
def finished_run(tiny_corpus, tmp_path_factory):  # noqa: F811
    folder = tmp_path_factory.mktemp("finished")
    train(config(tiny_corpus, folder, epochs=2), verbose=0)
    return folder / "run"


def snapshot(folder):
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}


def test_a_new_run_refuses_a_folder_holding_a_run(tiny_corpus, finished_run):  # noqa: F811
    before = snapshot(finished_run)
    with pytest.raises(ConfigError, match=r"holds a training run \(.*checkpoint-e0002.keras.*config.json.*\): "
                                          r"continue it with --resume.*--overwrite"):
        train(config(tiny_corpus, finished_run.parent, epochs=1, model="rnn"), verbose=0)
    assert snapshot(finished_run) == before


def test_overwrite_deletes_only_the_runs_files(tiny_corpus, finished_run, tmp_path):  # noqa: F811
    run = shutil.copytree(finished_run, tmp_path / "run")  # a copy: the module's run stays as it was
    (run / "notes.txt").write_text("mine")
    (run / ".model.123.tmp.keras").write_bytes(b"left by a killed process")
    train(config(tiny_corpus, tmp_path, epochs=1, model="rnn", model_params={"units": 8}), overwrite=True, verbose=0)
    assert (run / "notes.txt").read_text() == "mine"
    assert not (run / "checkpoint-e0002.keras").exists() and not (run / ".model.123.tmp.keras").exists()
    assert json.loads((run / "config.json").read_text())["model"] == "rnn" and read_state(run)["epoch"] == 0


def test_a_replaced_run_killed_before_its_first_epoch_cannot_resume_the_old_one(tiny_corpus, finished_run,  # noqa: F811
                                                                                 tmp_path, monkeypatch):
    shutil.copytree(finished_run, tmp_path / "run")

    class Crash(Exception):
        pass

    def crash(*args, **kwargs):
        raise Crash

    monkeypatch.setattr("asr.callbacks.save_model", crash)
    with pytest.raises(Crash):
        train(config(tiny_corpus, tmp_path, epochs=1, model="rnn", model_params={"units": 8}), overwrite=True,
              verbose=0)
    monkeypatch.undo()
    with pytest.raises(FileNotFoundError, match="nothing to resume"):
        train(config(tiny_corpus, tmp_path, epochs=2, model="rnn", model_params={"units": 8}), resume=True, verbose=0)


def test_resume_cannot_ask_for_fewer_epochs_than_finished(tiny_corpus, finished_run):  # noqa: F811
    with pytest.raises(ConfigError, match=r"epochs=1: the run in .* has finished 2 epochs"):
        train(config(tiny_corpus, finished_run.parent, epochs=1), resume=True, verbose=0)


def test_claim_refuses_a_file_and_names_what_it_deletes(tmp_path, caplog):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        claim_run_folder(tmp_path / "file")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "state.json").write_text("{}")
    assert run_files(tmp_path / "run") == ["state.json"]
    claim_run_folder(tmp_path / "run", overwrite=True)
    assert "deleted the earlier run's files" in caplog.text and "state.json" in caplog.text
    assert run_files(tmp_path / "run") == []



def test_a_json_file_ends_its_last_line(tmp_path):  # diffs, `cat` and POSIX tools expect the final newline
    text = write_json_atomic(tmp_path / "report.json", {"cer": 0.25}).read_text()
    assert text.endswith("}\n") and json.loads(text) == {"cer": 0.25}


# === failed writes ===
def test_a_full_disk_names_the_file_and_leaves_no_temporary_file(tmp_path, monkeypatch):
    def full(self, data):
        with open(self, "wb") as f:
            f.write(data[:3])  # a partial file, then the disk is full
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(type(tmp_path), "write_bytes", full)
    with pytest.raises(WriteError, match=r"cannot write '.*report.json': No space left on device"):
        write_text_atomic(tmp_path / "report.json", "{}")
    assert list(tmp_path.iterdir()) == []


def test_a_full_disk_during_a_checkpoint_keeps_the_committed_epoch(tiny_corpus, tmp_path, monkeypatch):  # noqa: F811
    def full(tmp):
        pathlib.Path(tmp).write_bytes(b"half a checkpoint")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def save(model, path):
        if "e0002" not in str(path):
            return save_model_atomic(model, path)
        model.save = full
        try:
            return save_model_atomic(model, path)
        finally:
            del model.save

    monkeypatch.setattr("asr.callbacks.save_model_atomic", save)
    with pytest.raises(WriteError, match=r"checkpoint-e0002.keras'.*No space left on device"):
        train(config(tiny_corpus, tmp_path, epochs=2), verbose=0)
    run = tmp_path / "run"
    assert read_state(run)["epoch"] == 0 and not list(run.glob(".*tmp*"))


def _mount_tmpfs(path, size="300k"):
    path.mkdir()
    result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True)
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({result.stderr.decode().strip() or result.returncode}); "
                    "the injected-error tests above cover the same path")
    return path


def test_a_real_full_disk(tmp_path):
    disk = _mount_tmpfs(tmp_path / "small")
    try:
        with pytest.raises(WriteError, match="No space left on device"):
            write_text_atomic(disk / "big.txt", "x" * 1_000_000)
        assert list(disk.iterdir()) == []
    finally:
        subprocess.run(["umount", str(disk)], check=False)


def test_the_command_line_refuses_a_run_folder_in_one_line(finished_run):
    result = subprocess.run([sys.executable, "-m", "asr", "train", "--output-dir", str(finished_run), "--train-data",
                             str(finished_run / "nothing.jsonl")], capture_output=True, text=True, cwd=ROOT,
                            timeout=300)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "holds a training run" in result.stderr and len(result.stderr.strip().splitlines()) == 1
