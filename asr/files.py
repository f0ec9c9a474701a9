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

A folder that holds a run is never trained into afresh by accident (``claim_run_folder``):
only ``--resume`` continues it, and only ``--overwrite`` deletes it (naming what it deletes).
A write that fails (disk full, read-only folder) removes its temporary file and raises
``WriteError`` naming the file.
"""

import contextlib
import json
import logging
import os
import pathlib
import shutil

import numpy as np

from asr.errors import ConfigError, CorruptFileError, WriteError

logger = logging.getLogger("asr")

CONFIG = "config.json"
DATA_REPORT = "data_report.json"
STATE = "state.json"
STATE_KEYS = ("epoch", "history", "best", "checkpoint")
FINAL_MODEL = "model.keras"
HISTORY = "history.json"
TRAINING_CURVE = "training_curve.png"
INIT_REPORT = "init_from.json"  # a fine-tuned run's: what init_from loaded, re-initialised and froze
RUN_FILES = (CONFIG, DATA_REPORT, STATE, FINAL_MODEL, HISTORY, TRAINING_CURVE, INIT_REPORT, "checkpoint.keras",
             "best.keras")
RUN_PATTERNS = ("checkpoint-e*.keras", "best-e*.keras", ".*.tmp.*")  # checkpoints; temporary files of a killed run


def _temporary(path):
    return path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")


@contextlib.contextmanager
def _publishing(path):
    """Yield a temporary path beside ``path``; on success rename it over ``path``; on any
    failure remove it (a write error becomes ``WriteError`` naming ``path``)."""
    path = pathlib.Path(path)
    tmp = _temporary(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        yield tmp
        os.replace(tmp, path)
    except OSError as error:
        raise WriteError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)


def write_text_atomic(path, text):
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_bytes_atomic(path, data):
    with _publishing(path) as tmp:
        tmp.write_bytes(data)
    return pathlib.Path(path)


def write_json_atomic(path, data):
    return write_text_atomic(path, json.dumps(data, indent=2, default=float) + "\n")  # a text file ends its last line


def save_npy_atomic(path, array):
    with _publishing(path) as tmp, open(tmp, "wb") as f:  # a file object: np.save would append ".npy" to a name
        np.save(f, array)
    return pathlib.Path(path)


def save_model_atomic(model, path):
    """``model.save`` to ``path`` (a ``.keras`` file) via a temporary file."""
    with _publishing(path) as tmp:
        model.save(tmp)
    return pathlib.Path(path)


def copy_atomic(source, path):
    with _publishing(path) as tmp:
        shutil.copyfile(source, tmp)
    return pathlib.Path(path)


# === run folders ===
def run_files(output_dir):
    """The files of a training run in ``output_dir`` (sorted names; [] for none or no folder)."""
    output_dir = pathlib.Path(output_dir)
    if not output_dir.is_dir():
        return []
    found = {name for name in RUN_FILES if (output_dir / name).exists()}
    found.update(p.name for pattern in RUN_PATTERNS for p in output_dir.glob(pattern))
    return sorted(found)


def claim_run_folder(output_dir, overwrite=False):
    """Make ``output_dir`` ready for a new run: refuse (``ConfigError``) a folder that holds a
    run unless ``overwrite``, which deletes that run's files (and only them) and says so;
    refuse a path that is a file or a folder that cannot be written."""
    output_dir = pathlib.Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(f"output_dir {str(output_dir)!r} is a file, not a folder")
    existing = run_files(output_dir)
    if existing and not overwrite:
        shown = ", ".join(existing[:6]) + (f" and {len(existing) - 6} more" if len(existing) > 6 else "")
        raise ConfigError(f"output_dir {str(output_dir)!r} holds a training run ({shown}): continue it with "
                          "--resume, train into another --output-dir, or pass --overwrite to delete those files")
    try:
        output_dir.mkdir(parents=True, exist_ok=True)
        for name in existing:
            (output_dir / name).unlink()
    except OSError as error:
        raise WriteError(f"cannot prepare output_dir {str(output_dir)!r}: {error.strerror or error}") from None
    if existing:
        logger.warning("--overwrite: deleted the earlier run's files in %s: %s", output_dir, ", ".join(existing))
    if not os.access(output_dir, os.W_OK):
        raise WriteError(f"cannot write in output_dir {str(output_dir)!r}: permission denied")


def remove_temporary_files(output_dir):
    """Delete the temporary files a killed process left in a run folder (``.NAME.PID.tmp.EXT``)."""
    for stale in pathlib.Path(output_dir).glob(".*.tmp.*"):
        stale.unlink(missing_ok=True)


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
