"""Optimiser and learning-rate schedule (registered, so checkpoints reload with their state)."""

import math

import keras
from keras import ops

from asr.errors import ConfigError


@keras.saving.register_keras_serializable(package="asr")
class WarmupCosine(keras.optimizers.schedules.LearningRateSchedule):
    """Linear warm-up to ``peak`` over ``warmup_steps``, then cosine decay to
    ``peak * final_ratio`` at ``total_steps`` (constant afterwards)."""

    def __init__(self, peak, warmup_steps, total_steps, final_ratio=0.05):
        if peak <= 0 or total_steps < 1 or warmup_steps < 0 or not 0 <= final_ratio <= 1:
            raise ConfigError(f"WarmupCosine(peak={peak}, warmup_steps={warmup_steps}, total_steps={total_steps}, "
                             f"final_ratio={final_ratio}): need peak > 0, total_steps >= 1, warmup_steps >= 0, "
                             "0 <= final_ratio <= 1")
        self.peak, self.warmup_steps = float(peak), int(warmup_steps)
        self.total_steps, self.final_ratio = int(total_steps), float(final_ratio)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        warmup = self.peak * (step + 1.0) / max(self.warmup_steps, 1)
        decay_steps = max(self.total_steps - self.warmup_steps, 1)
        progress = ops.clip((step - self.warmup_steps) / decay_steps, 0.0, 1.0)
        cosine = 0.5 * (1.0 + ops.cos(math.pi * progress))
        decayed = self.peak * (self.final_ratio + (1.0 - self.final_ratio) * cosine)
        return ops.where(step < self.warmup_steps, warmup, decayed)

    def get_config(self):
        return {"peak": self.peak, "warmup_steps": self.warmup_steps, "total_steps": self.total_steps,
                "final_ratio": self.final_ratio}


def make_optimizer(config, steps_per_epoch):
    """Adam (AdamW when ``config.weight_decay`` > 0) with global-norm clipping and WarmupCosine."""
    schedule = WarmupCosine(config.learning_rate, round(config.warmup_epochs * steps_per_epoch),
                            config.epochs * steps_per_epoch, config.final_lr_ratio)
    if config.weight_decay > 0:
        return keras.optimizers.AdamW(schedule, weight_decay=config.weight_decay,
                                      global_clipnorm=config.clipnorm)
    return keras.optimizers.Adam(schedule, global_clipnorm=config.clipnorm)
