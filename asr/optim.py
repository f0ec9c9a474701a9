"""Optimiser and learning-rate schedule (registered, so checkpoints reload with their state).

The schedule's length is a variable of the optimiser (``schedule_steps``), not a constant of
the compiled train step: ``asr.callbacks.TimeBudget`` shortens it between epochs, so a run
that a time budget cuts still ends its decay, with nothing recompiled.
"""

import math

import keras
from keras import ops

from asr.errors import ConfigError


@keras.saving.register_keras_serializable(package="asr")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup_steps``, then cosine decay to
    ``peak * final_ratio`` at ``total_steps`` (constant afterwards).

    ``total_steps`` is the configured length; a call may pass another (a scalar tensor: the
    optimiser's ``schedule_steps`` variable), which then applies instead.
    """

    def __init__(self, peak, warmup_steps, total_steps, final_ratio=0.05):
        if peak <= 0 or total_steps < 1 or warmup_steps < 0 or not 0 <= final_ratio <= 1:
            raise ConfigError(f"WarmupCosine(peak={peak}, warmup_steps={warmup_steps}, total_steps={total_steps}, "
                             f"final_ratio={final_ratio}): need peak > 0, total_steps >= 1, warmup_steps >= 0, "
                             "0 <= final_ratio <= 1")
        self.peak, self.warmup_steps = float(peak), int(warmup_steps)
        self.total_steps, self.final_ratio = int(total_steps), float(final_ratio)

    def __call__(self, step, total_steps=None):
        step = ops.cast(step, "float32")
        total = float(self.total_steps) if total_steps is None else ops.cast(total_steps, "float32")
        warmup = self.peak * (step + 1.0) / max(self.warmup_steps, 1)
        decay_steps = ops.maximum(total - self.warmup_steps, 1.0)
        progress = ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        decayed = self.peak * (self.final_ratio + (1.0 - self.final_ratio) * cosine)
        return ops.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "final_ratio": self.final_ratio}


class _ResizableSchedule:
    """Mixin for a Keras optimiser whose ``learning_rate`` is a ``WarmupCosine``: its length
    lives in the optimiser variable ``schedule_steps`` (saved with the optimiser's state, and
    part of the state a JAX train step is given, so assigning it takes effect at once)."""

    def __init__(self, learning_rate, **kwargs):
        if not isinstance(learning_rate, WarmupCosine):
            raise ConfigError(f"{type(self).__name__} needs a WarmupCosine learning rate, got {learning_rate!r}")
        super().__init__(learning_rate, **kwargs)
        with keras.name_scope(self.name):
            self.schedule_steps = keras.Variable(float(learning_rate.total_steps), name="schedule_steps",
                                                 dtype="float32", trainable=False, aggregation="only_first_replica")

    def _get_current_learning_rate(self):
        return self._learning_rate(self._iterations, self.schedule_steps)


@keras.saving.register_keras_serializable(package="asr")
class ScheduledAdam(_ResizableSchedule, keras.optimizers.Adam):
    """``keras.optimizers.Adam`` with a resizable ``WarmupCosine`` (``schedule_steps``)."""


@keras.saving.register_keras_serializable(package="asr")
class ScheduledAdamW(_ResizableSchedule, keras.optimizers.AdamW):
    """``keras.optimizers.AdamW`` with a resizable ``WarmupCosine`` (``schedule_steps``)."""


def schedule_state(optimizer):
    """The optimiser's variables that carry training state (step count, moments): all but
    ``schedule_steps``, which the settings in effect decide."""
    resizable = getattr(optimizer, "schedule_steps", None)
    return [variable for variable in optimizer.variables if variable is not resizable]


def make_optimizer(config, steps_per_epoch):
    """Adam (AdamW when ``config.weight_decay`` > 0) with global-norm clipping and a
    WarmupCosine over ``config.epochs`` that ``schedule_steps`` can shorten."""
    schedule = WarmupCosine(config.learning_rate, round(config.warmup_epochs * steps_per_epoch),
                            config.epochs * steps_per_epoch, config.final_lr_ratio)
    if config.weight_decay > 0:
        return ScheduledAdamW(schedule, weight_decay=config.weight_decay, global_clipnorm=config.clipnorm)
    return ScheduledAdam(schedule, global_clipnorm=config.clipnorm)
