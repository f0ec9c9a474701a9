"""Atomic file writes and the layout of a training run's folder.

A write goes to a temporary file beside the target and is renamed over it, so a killed
process leaves either the old file or the new one, never half of one.

Run folder (``TrainConfig.output_dir``)::

    config.json         the TrainConfig of the run
    data_report.json    what was read and skipped, per corpus
    checkpoint.keras    last finished epoch: model + optimizer (for --resume)
    state.json          epoch, history and best score of that checkpoint
    best.keras          the epoch with the best dev CER
    model.keras         the exported inference model (best, else last)
    history.json, training_curve.png
"""

import json
import os
import pathlib
import shutil

import numpy as np

CONFIG = "config.json"
DATA_REPORT = "data_report.json"
CHECKPOINT = "checkpoint.keras"
STATE = "state.json"
BEST = "best.keras"
FINAL_MODEL = "model.keras"
HISTORY = "history.json"
TRAINING_CURVE = "training_curve.png"


def _temporary(path):
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


def write_text_atomic(path, text):
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = _temporary(path)
    tmp.write_text(text, encoding="utf-8")
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
