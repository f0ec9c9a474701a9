"""Atomic file writes and the layout of a training run's folder.

A write goes to a temporary file beside the target and is renamed over it, so a killed
process leaves either the old file or the new one, never half of one.

Run folder (``TrainConfig.output_dir``)::

    config.json              the TrainConfig in effect (resumes record their changes in history.json)
    data_report.json         what was read and skipped, per corpus
    checkpoint-eNNNN.keras   the last finished epoch N: model + optimizer (for --resume)
    best-eNNNN.keras         the epoch with the best dev CER
    state.json               epoch, history, best score and the names of those two files
    model.keras              the exported inference model (best, else last)
    history.json, training_curve.png

``state.json`` is the single commit point of an epoch: the epoch's checkpoint files are
written under new names first, then ``state.json`` is replaced to name them, then the files
of earlier epochs are deleted. A run killed at any moment resumes from a consistent pair.
"""

import json
import os
import pathlib
import shutil

import numpy as np

from asr.errors import CorruptFileError

CONFIG = "config.json"
DATA_REPORT = "data_report.json"
STATE = "state.json"
STATE_KEYS = ("epoch", "history", "best", "checkpoint")
FINAL_MODEL = "model.keras"
HISTORY = "history.json"
TRAINING_CURVE = "training_curve.png"


def _temporary(path):
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def write_text_atomic(path, text):
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path, data):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    tmp.write_bytes(data)
    os.replace(tmp, path)
    return path


def write_json_atomic(path, data):
    return write_text_atomic(path, json.dumps(data, indent=2, default=float))


def save_npy_atomic(path, array):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    with open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to a name
        np.save(f, array)
    os.replace(tmp, path)
    return path


def save_model_atomic(model, path):
    """``model.save`` to ``path`` (a ``.keras`` file) via a temporary file."""
    path = pathlib.Path(path)
    tmp = _temporary(path)
    model.save(tmp)
    os.replace(tmp, path)
    return path


def copy_atomic(source, path):
    path = pathlib.Path(path)
    tmp = _temporary(path)
    shutil.copyfile(source, tmp)
    os.replace(tmp, path)
    return path


def read_json_object(path, error=CorruptFileError, missing="file not found"):
    """The JSON object (a dict) stored at ``path``; ``FileNotFoundError`` (``missing: path``)
    when absent, ``error`` naming the file when it is not valid JSON or not an object."""
    path = pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{missing}: {str(path)!r}")
    try:
        value = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as decode_error:
        raise error(f"{path}: not valid JSON ({decode_error})") from None
    if not isinstance(value, dict):
        raise error(f"{path}: expected a JSON object, found {type(value).__name__}")
    return value


# === training state ===
def checkpoint_name(epoch):
    """File name of the checkpoint of ``epoch`` (0-based; named 1-based)."""
    return f"checkpoint-e{epoch + 1:04d}.keras"


def best_name(epoch):
    return f"best-e{epoch + 1:04d}.keras"


def read_state(output_dir):
    """The committed ``state.json`` of a run folder, checked; raises ``FileNotFoundError``
    when there is nothing to resume and ``CorruptFileError`` naming the file otherwise."""
    path = pathlib.Path(output_dir) / STATE
    state = read_json_object(path, missing="nothing to resume (no epoch finished yet?): no state file")
    for key, legacy in (("checkpoint", "checkpoint.keras"), ("best_checkpoint", "best.keras")):  # asr 0.1 runs
        if key not in state and (path.parent / legacy).is_file():
            state[key] = legacy
    missing = [key for key in STATE_KEYS if key not in state]
    if missing or not isinstance(state["history"], dict) or not isinstance(state["epoch"], int):
        raise CorruptFileError(f"{path}: missing or malformed {missing or ['history/epoch']}; "
                               f"expected the keys {list(STATE_KEYS)}")
    named = [state.get("checkpoint"), state.get("best_checkpoint"), *state.get("recent_checkpoints", [])]
    for name in filter(None, named):
        if not (path.parent / name).is_file():
            raise CorruptFileError(f"{path}: names {name!r}, which is missing from {str(output_dir)!r}")
    return state


def commit_state(output_dir, state):
    """Replace ``state.json`` (the commit point), then delete checkpoint files it no longer names
    (it names the last, the best and the ``recent_checkpoints`` kept for averaging)."""
    output_dir = pathlib.Path(output_dir)
    write_json_atomic(output_dir / STATE, state)
    keep = {state.get("checkpoint"), state.get("best_checkpoint"), *state.get("recent_checkpoints", [])}
    for stale in [*output_dir.glob("checkpoint-e*.keras"), *output_dir.glob("best-e*.keras")]:
        if stale.name not in keep:
            stale.unlink(missing_ok=True)
