"""The rule for ``--resume``: what may change when a run continues, and how it is applied.

Settings that define the model or its data (architecture, features, corpora, batch size,
augmentation, seed, ...) are fixed for the life of a run: resuming with another value is
refused with an error naming each setting. Settings of the schedule and the machinery
(``MUTABLE``: epochs, learning rate and its schedule, clipping, dev subset, workers, cache
folder, devices, time budget) may change: the optimizer is rebuilt with them (its moments and step count
kept), ``config.json`` is rewritten with the settings now in effect, and every change is
recorded with the epoch it starts at (``config_changes`` in ``state.json`` and
``history.json``).
"""

import dataclasses
import json
import pathlib

import keras

from asr import files
from asr.config import TrainConfig
from asr.errors import ConfigError, CorruptFileError
from asr.optim import make_optimizer, schedule_state

MUTABLE = ("epochs", "learning_rate", "warmup_epochs", "final_lr_ratio", "clipnorm", "dev_subset", "workers",
           "cache_dir", "devices", "time_budget", "stop_after", "average_last")
NOT_COMPARED = ("output_dir",)  # the same folder, however it is spelled


def recorded_config(output_dir):
    """The ``TrainConfig`` a run folder recorded (``config.json``), checked."""
    path = pathlib.Path(output_dir) / files.CONFIG
    if not path.is_file():
        raise FileNotFoundError(f"nothing to resume in {str(output_dir)!r}: no {files.CONFIG}")
    try:
        return TrainConfig.from_json(path)
    except ConfigError as error:
        raise CorruptFileError(f"{path}: {error}") from None


def check_resume(config, output_dir):
    """``(state, changes)`` for continuing the run in ``output_dir`` with ``config``.

    ``changes`` maps each changed ``MUTABLE`` field to ``[recorded, new]``; a change to any
    other field raises ``ConfigError`` naming it.
    """
    state = files.read_state(output_dir)
    recorded = recorded_config(output_dir).with_absolute_paths()  # a run recorded before paths were made absolute
    changes = {field.name: [getattr(recorded, field.name), getattr(config, field.name)]
               for field in dataclasses.fields(TrainConfig)
               if field.name not in NOT_COMPARED and getattr(recorded, field.name) != getattr(config, field.name)}
    finished = state["epoch"] + 1
    if config.epochs < finished:
        raise ConfigError(f"--resume with epochs={config.epochs}: the run in {str(output_dir)!r} has finished "
                          f"{finished} epochs; ask for at least that many")
    fixed = {name: values for name, values in changes.items() if name not in MUTABLE}
    if fixed:
        listed = ", ".join(f"{name} ({old!r} -> {new!r})" for name, (old, new) in sorted(fixed.items()))
        raise ConfigError(f"--resume cannot change {listed}: these define the model or its data; resume with the "
                          f"recorded values ({files.CONFIG}) or train into a new --output-dir")
    return state, changes


def record_changes(state, changes):
    """The ``config_changes`` list with this resume's changes appended (JSON-safe)."""
    entries = list(state.get("config_changes", []))
    if changes:
        entries.append({"from_epoch": state["epoch"] + 2, "changes": json.loads(json.dumps(changes, default=list))})
    return entries


def rebuild_optimizer(model, config, steps_per_epoch):
    """Compile ``model`` with an optimizer made from ``config`` that continues the loaded
    one: same step count and moments, the schedule and clipping of ``config`` (the schedule's
    length too: a length a time budget had shortened is not carried over)."""
    loaded = model.optimizer
    optimizer = make_optimizer(config, steps_per_epoch)
    optimizer.build(model.trainable_variables)
    state, loaded_state = schedule_state(optimizer), schedule_state(loaded)
    same_kind = isinstance(loaded, keras.optimizers.AdamW) == isinstance(optimizer, keras.optimizers.AdamW)
    if not (same_kind and isinstance(loaded, keras.optimizers.Adam)) or len(state) != len(loaded_state):
        raise ConfigError(f"the checkpoint's optimizer ({type(loaded).__name__}) does not match the one the settings "
                          f"make ({type(optimizer).__name__})")
    for target, source in zip(state, loaded_state):
        target.assign(source)
    model.compile(optimizer=optimizer)
