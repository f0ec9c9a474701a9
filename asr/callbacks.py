"""Training callbacks: dev CER/WER, atomic checkpoints with resumable state, NaN stop."""

import math
import pathlib
import time

import keras
import numpy as np

from asr.ctc import ctc_nll
from asr.decoding import GreedyDecoder
from asr.distributed import Topology, barrier, from_chief, save_model
from asr.files import best_name, checkpoint_name, commit_state, copy_atomic, save_model_atomic
from asr.inference import decode_logits, predict_logits
from asr.metrics import char_errors, word_errors

RECENT_EPOCHS = 3  # TimeBudget's estimate of an epoch: recent enough that one slow epoch (another job on the
# machine) stops counting, long enough to cover the epoch-to-epoch spread


def ctc_losses(logits, labels, batch_size=32):
    """Per-utterance CTC loss of unpadded ``(frames, vocab)`` logits and label arrays (NumPy
    in, NumPy out ``(n,)``), in NumPy (``asr.ctc.ctc_nll``), in batches of similar length."""
    order = np.argsort([len(lg) for lg in logits], kind="stable")
    out = np.zeros(len(logits), dtype=np.float32)
    for start in range(0, len(order), batch_size):
        ids = order[start: start + batch_size]
        out[ids] = ctc_nll([logits[i] for i in ids], [labels[i] for i in ids])
    return out


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


class EpochAudio(keras.callbacks.Callback):
    """Records what each epoch trained on, in seconds of audio, as ``logs["audio_seconds"]`` (its
    utterances, speed-perturbed copies at their own length) and ``logs["padded_seconds"]`` (what
    the model computed on, padding included), counted from ``batches`` (``CTCBatches``) as the
    epoch begins. Their sum over a run is its compute in audio: comparable between machines and
    between data mixes, where minutes of a CPU are not."""

    def __init__(self, batches, frames_per_second):
        super().__init__()
        self.batches, self.frames_per_second = batches, float(frames_per_second)
        self.seconds = (0.0, 0.0)

    def on_epoch_begin(self, epoch, logs=None):
        self.seconds = tuple(frames / self.frames_per_second for frames in self.batches.epoch_frames())

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["audio_seconds"], logs["padded_seconds"] = self.seconds


class TimeBudget(keras.callbacks.Callback):
    """Fits training into ``minutes`` (of this call) by planning after every epoch.

    An epoch is planned to take as long as the longest of the last ``RECENT_EPOCHS`` (the first
    epoch, which also compiles the train step, counts only until there is another), measured
    from one epoch's end to the next, so dev scoring and checkpointing count. After each epoch,
    the epochs that still fit decide ``planned_epochs`` (at most ``epochs``):

    - the optimiser's ``schedule_steps`` (``asr.optim``) is set to ``planned_epochs *
      steps_per_epoch``, so the learning rate ends its decay at the last epoch that fits
      (an optimiser without it keeps its schedule);
    - when no further epoch fits, training stops (``stopped_after``: that epoch, 0-based).

    With ``plan_schedule=False`` (``stop_after``) it only stops: the schedule keeps its length,
    planned for all ``epochs``, so a later ``--resume`` continues it.

    ``logs["planned_epochs"]`` records each epoch's plan in the history. In a job of several
    processes, process 0's plan is every process' (``topology``).
    """

    def __init__(self, minutes, epochs, steps_per_epoch, topology=None, plan_schedule=True):
        super().__init__()
        self.seconds, self.epochs, self.steps_per_epoch = 60.0 * minutes, int(epochs), int(steps_per_epoch)
        self.plan_schedule = plan_schedule
        self.topology = topology or Topology()
        self.stopped_after = self.planned = None

    def on_train_begin(self, logs=None):
        self.start = self.last_end = time.monotonic()
        self.durations = []

    def on_epoch_end(self, epoch, logs=None):
        now = time.monotonic()
        self.durations.append(now - self.last_end)
        self.last_end = now
        per_epoch = max((self.durations[1:] or self.durations)[-RECENT_EPOCHS:])
        more = max(int((self.seconds - (now - self.start)) // max(per_epoch, 1e-9)), 0)
        planned = from_chief(self.topology, min(self.epochs, epoch + 1 + more))
        if planned != self.planned and self.plan_schedule:
            self.planned = planned
            schedule_steps = getattr(self.model.optimizer, "schedule_steps", None)
            if schedule_steps is not None:
                schedule_steps.assign(float(planned * self.steps_per_epoch))
        if logs is not None and self.plan_schedule:
            logs["planned_epochs"] = planned
        if planned == epoch + 1 < self.epochs and not self.model.stop_training:
            self.stopped_after = epoch
            self.model.stop_training = True


class Checkpoint(keras.callbacks.Callback):
    """Each finished epoch with a finite loss: its checkpoint (model + optimizer), a copy as
    the best checkpoint when ``monitor`` improves, then ``state.json`` naming them, the commit
    point (``asr.files``). Epoch times are added to the logs as ``epoch_seconds``.

    Args:
        state: the committed state to continue (``asr.files.read_state``), or None.
        extra_state: more keys to keep in every ``state.json`` (e.g. resume records).
        keep_last: how many of the latest epoch checkpoints to keep (``recent_checkpoints``,
            for ``asr.averaging``); 1 keeps only the last, which ``checkpoint`` names anyway.
    """

    def __init__(self, output_dir, nan_guard, state=None, monitor="val_cer", topology=None, extra_state=None,
                 keep_last=1):
        super().__init__()
        state = state or {}
        self.topology = topology or Topology()
        self.output_dir, self.nan_guard, self.monitor = pathlib.Path(output_dir), nan_guard, monitor
        self.history = state.get("history") or {}
        self.best = math.inf if state.get("best") is None else state["best"]
        self.keep_last = keep_last  # may be smaller than on the run resumed: its oldest recent checkpoints drop out
        self.files = {"checkpoint": state.get("checkpoint"), "best_checkpoint": state.get("best_checkpoint"),
                      "recent_checkpoints": list(state.get("recent_checkpoints", []))[-keep_last:]}
        self.extra_state = extra_state or {}

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        logs["epoch_seconds"] = time.perf_counter() - self.started
        logs["learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        if self.nan_guard.failed_at is not None or not math.isfinite(float(logs.get("loss", 0.0))):
            return  # the last good checkpoint stays as it is
        for key, value in logs.items():
            self.history.setdefault(key, []).append(float(value))
        self.files["checkpoint"] = checkpoint_name(epoch)
        recent = [*self.files["recent_checkpoints"], self.files["checkpoint"]]
        self.files["recent_checkpoints"] = recent[-self.keep_last:]
        save_model(self.model, self.output_dir / self.files["checkpoint"], self.topology, save_model_atomic)
        score = logs.get(self.monitor)
        if score is not None and score < self.best:
            self.best, self.files["best_checkpoint"] = float(score), best_name(epoch)
            if self.topology.is_chief:
                copy_atomic(self.output_dir / self.files["checkpoint"], self.output_dir / self.files["best_checkpoint"])
        if self.topology.is_chief:
            commit_state(self.output_dir, {"epoch": epoch, "history": self.history, "best": self.best,
                                           "monitor": self.monitor, **self.files, **self.extra_state})
        barrier(self.topology, f"checkpoint {epoch}")
