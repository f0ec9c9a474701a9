"""Training callbacks: dev CER/WER, atomic checkpoints with resumable state, NaN stop."""

import json
import math
import os
import pathlib
import shutil
import time

import keras
import numpy as np

from asr.ctc import ctc_losses
from asr.decoding import GreedyDecoder
from asr.metrics import char_errors, word_errors
from asr.inference import decode_logits, predict_logits

CHECKPOINT = "checkpoint.keras"
BEST = "best.keras"
STATE = "state.json"


def write_json_atomic(path, data):
    path = pathlib.Path(path)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=float), encoding="utf-8")
    os.replace(tmp, path)


def save_model_atomic(model, path):
    """Save to ``path`` via a temporary file, so an interruption never leaves half a model."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.stem}.tmp.keras")
    model.save(tmp)
    os.replace(tmp, path)


def copy_atomic(source, path):
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.stem}.tmp{path.suffix}")
    shutil.copyfile(source, tmp)
    os.replace(tmp, path)


class DevMetrics(keras.callbacks.Callback):
    """Dev-set CTC loss and greedy CER/WER at the end of every epoch (``val_loss``,
    ``val_cer``, ``val_wer`` in logs), from one prediction pass."""

    def __init__(self, dev_set, batch_size=16):
        super().__init__()
        self.dev_set, self.batch_size = dev_set, batch_size

    def on_epoch_end(self, epoch, logs=None):
        logits = predict_logits(self.model, self.dev_set.features, self.batch_size)
        hyps = decode_logits(GreedyDecoder(self.model.vocabulary), logits)
        refs = [e["text"] for e in self.dev_set.entries]
        if logs is not None:
            logs["val_loss"] = float(np.mean(ctc_losses(logits, self.dev_set.labels, self.batch_size)))
            logs["val_cer"] = char_errors(refs, hyps).rate
            logs["val_wer"] = word_errors(refs, hyps).rate


class StopOnNaN(keras.callbacks.Callback):
    """Stops training at the first non-finite batch loss and remembers where."""

    def __init__(self):
        super().__init__()
        self.failed_at = None

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            self.failed_at = (self.epoch, batch, float(loss))
            self.model.stop_training = True

    def on_epoch_begin(self, epoch, logs=None):
        self.epoch = epoch


class Checkpoint(keras.callbacks.Callback):
    """Each finished epoch with a finite loss: ``checkpoint.keras`` (model + optimizer) and
    ``state.json`` (epoch, history) written atomically; ``best.keras`` when ``monitor`` improves.
    Epoch times are added to the logs as ``epoch_seconds``."""

    def __init__(self, output_dir, nan_guard, history=None, monitor="val_cer", best=None):
        super().__init__()
        self.output_dir, self.nan_guard, self.monitor = pathlib.Path(output_dir), nan_guard, monitor
        self.history = history or {}
        self.best = math.inf if best is None else best

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["epoch_seconds"] = time.perf_counter() - self.started
        logs["learning_rate"] = float(np.asarray(self.model.optimizer.learning_rate))
        if self.nan_guard.failed_at is not None or not math.isfinite(float(logs.get("loss", 0.0))):
            return  # the last good checkpoint stays as it is
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        save_model_atomic(self.model, self.output_dir / CHECKPOINT)
        score = logs.get(self.monitor)
        if score is not None and score < self.best:
            self.best = float(score)
            copy_atomic(self.output_dir / CHECKPOINT, self.output_dir / BEST)
        write_json_atomic(self.output_dir / STATE, {"epoch": epoch, "history": self.history, "best": self.best,
                                                    "monitor": self.monitor})
