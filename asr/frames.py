"""Frame-count arithmetic without Keras: how many output frames a stack of time
convolutions (and an output upsampling) makes of ``n`` input frames.

Shared by the model's graph (``asr.layers.ConvOutputLength``), the data pipeline (labels
that cannot fit are skipped) and the Keras-free ONNX runtime path (``asr.onnx_runtime``),
which reads the same ``TimeReduction`` list from the exported file's metadata.
"""

import dataclasses

import numpy as np

from asr.errors import ConfigError

PADDINGS = ("valid", "same", "causal", "full")


def conv_output_length(length, kernel_size, stride=1, padding="valid", dilation=1):
    """Frames out of a convolution along time, for ``length`` frames in.

    ``padding``: ``valid`` (no padding), ``same``/``causal`` (output = ceil(length / stride)),
    or ``full`` (padding of ``span - 1`` on both sides), where
    ``span = dilation * (kernel_size - 1) + 1`` is the receptive field. Empty input gives 0.
    """
    if padding not in PADDINGS:
        raise ConfigError(f"padding={padding!r} must be one of {PADDINGS}")
    for name, value in (("kernel_size", kernel_size), ("stride", stride), ("dilation", dilation)):
        if not isinstance(value, (int, np.integer)) or value < 1:
            raise ConfigError(f"{name}={value!r} must be a positive integer")
    span = dilation * (kernel_size - 1) + 1
    padded = length + {"valid": 0, "same": span - 1, "causal": span - 1, "full": 2 * (span - 1)}[padding]
    out = (padded - span + stride) // stride  # window starts 0, stride, ... with start + span <= padded
    if isinstance(out, (int, np.integer)):
        return int(max(out, 0)) if length > 0 else 0
    if isinstance(out, np.ndarray):
        return np.where(length > 0, np.maximum(out, 0), 0)
    from keras import ops  # a backend tensor: the model's graph

    return ops.where(length > 0, ops.maximum(out, 0), 0)


@dataclasses.dataclass(frozen=True)
class TimeReduction:
    """One convolution along time, as ``conv_output_length`` sees it."""

    kernel_size: int
    strides: int = 1
    padding: str = "valid"
    dilation_rate: int = 1

    def to_dict(self):
        return dataclasses.asdict(self)

    def __call__(self, lengths):
        return conv_output_length(lengths, self.kernel_size, self.strides, self.padding, self.dilation_rate)

    @property
    def span(self):
        return self.dilation_rate * (self.kernel_size - 1) + 1

    def time_padding(self):
        """(left, right) zero frames added before a 'valid' convolution."""
        extra = {"valid": 0, "same": self.span - 1, "full": 2 * (self.span - 1), "causal": self.span - 1}
        total = extra[self.padding]
        left = total if self.padding == "causal" else total // 2
        return left, total - left


@dataclasses.dataclass(frozen=True)
class TimeUpsampling:
    """Every frame split into ``factor`` output frames (the logits' upsampling,
    ``asr.models.blocks.logits_layer``): ``lengths * factor``."""

    factor: int

    def __post_init__(self):
        if not isinstance(self.factor, (int, np.integer)) or self.factor < 1:
            raise ConfigError(f"upsampling factor={self.factor!r} must be a positive integer")

    def to_dict(self):
        return {"upsample": int(self.factor)}

    def __call__(self, lengths):
        return lengths * self.factor


def time_step_from_dict(data):
    """A ``TimeReduction`` or ``TimeUpsampling`` from its ``to_dict()`` (an exported model's metadata)."""
    return TimeUpsampling(data["upsample"]) if "upsample" in data else TimeReduction(**data)
