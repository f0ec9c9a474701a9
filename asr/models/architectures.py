"""Acoustic-model graphs. Each builder takes normalised features ``x`` (batch, time, F),
their ``lengths`` (batch,) and ``vocab_size``, and returns ``(logits, reductions)``:
logits ``(batch, time', vocab_size)`` float32, and the ``TimeReduction`` list that maps
input lengths to ``time'``. Keyword arguments are the architecture's hyper-parameters.
"""

import keras

from asr.errors import ConfigError
from asr.frames import TimeUpsampling
from asr.layers import ConformerBlock
from asr.models.blocks import conv_front_end, logits_layer, recurrent_block, time_conv

DEFAULT_UNITS = 200  # the classic AIND-capstone size
DEFAULT_FILTERS = 200
DEFAULT_KERNEL = 11  # 110 ms of 10 ms frames


def simple_rnn(x, lengths, vocab_size, implementation="auto"):
    """One GRU with ``vocab_size`` units whose outputs are the logits (the classic "model 0";
    tanh-bounded logits make it a weak baseline by design)."""
    x = recurrent_block(x, lengths, vocab_size, batch_norm=False, implementation=implementation, name="gru_1")
    return keras.layers.Activation("linear", dtype="float32", name="logits")(x), []


def rnn(x, lengths, vocab_size, units=DEFAULT_UNITS, implementation="auto"):
    """GRU -> BatchNorm -> per-frame Dense (the classic RNN + TimeDistributed(Dense))."""
    x = recurrent_block(x, lengths, units, implementation=implementation, name="gru_1")
    return logits_layer(x, vocab_size), []


def cnn_rnn(x, lengths, vocab_size, filters=DEFAULT_FILTERS, kernel_size=DEFAULT_KERNEL, strides=2,
            padding="valid", dilation_rate=1, units=DEFAULT_UNITS, implementation="auto"):
    """Conv1D (any stride/padding/dilation) + BatchNorm -> GRU + BatchNorm -> per-frame Dense."""
    x, lengths, reduction = time_conv(x, lengths, filters, kernel_size, strides, padding, dilation_rate,
                                      name="conv_1")
    x = recurrent_block(x, lengths, units, implementation=implementation, name="gru_1")
    return logits_layer(x, vocab_size), [reduction]


def deep_rnn(x, lengths, vocab_size, units=DEFAULT_UNITS, n_layers=2, dropout=0.0, implementation="auto"):
    """``n_layers`` x (GRU + BatchNorm [+ Dropout]) -> per-frame Dense."""
    if not isinstance(n_layers, int) or n_layers < 1:
        raise ConfigError(f"n_layers={n_layers!r} must be a positive integer")
    for i in range(1, n_layers + 1):
        x = recurrent_block(x, lengths, units, dropout=dropout, implementation=implementation, name=f"gru_{i}")
    return logits_layer(x, vocab_size), []


def bidirectional_rnn(x, lengths, vocab_size, units=DEFAULT_UNITS, n_layers=1, dropout=0.0,
                      implementation="auto"):
    """``n_layers`` x BiGRU (+ BatchNorm [+ Dropout]) -> per-frame Dense."""
    for i in range(1, n_layers + 1):
        x = recurrent_block(x, lengths, units, bidirectional=True, dropout=dropout,
                            implementation=implementation, name=f"bigru_{i}")
    return logits_layer(x, vocab_size), []


def deepspeech(x, lengths, vocab_size, conv_filters=(256,), conv_kernels=(11,), conv_strides=(2,), units=256,
               n_layers=3, dropout=0.3, output_upsample=1, implementation="auto"):
    """DeepSpeech2-style: convolutions with time subsampling, ``n_layers`` BiGRU (+ BatchNorm
    + Dropout), per-frame Dense.

    Each convolution is 1-D over time when its kernel/stride is an int, or 2-D over
    (time, frequency) when they are ``[time, freq]`` pairs (DS2's original front end, e.g.
    ``conv_kernels=[[11, 41], [11, 21]], conv_strides=[[2, 2], [1, 2]]``; 2-D layers come
    first). Time padding is "same", so frames out = ceil(frames in / stride).
    ``output_upsample`` k > 1 splits each recurrent frame into k logit frames (``logits_layer``):
    CTC at a k-times finer step than the recurrence.
    """
    upsampling = TimeUpsampling(output_upsample)  # checked before the graph is built
    x, lengths, reductions = conv_front_end(x, lengths, conv_filters, conv_kernels, conv_strides)
    for i in range(1, n_layers + 1):
        x = recurrent_block(x, lengths, units, bidirectional=True, dropout=dropout,
                            implementation=implementation, name=f"bigru_{i}")
    return logits_layer(x, vocab_size, output_upsample), reductions + ([upsampling] if output_upsample > 1 else [])


def conformer(x, lengths, vocab_size, conv_filters=(64, 64), conv_kernels=((3, 3), (3, 3)),
              conv_strides=((2, 2), (2, 2)), d_model=144, n_layers=8, num_heads=4, ff_multiplier=4, conv_kernel=15,
              dropout=0.1):
    """Conformer-CTC: a subsampling convolution front end (as ``deepspeech``'s: 2-D layers over
    time and frequency, 4x in time by default: 40 ms frames), a projection to ``d_model``, then
    ``n_layers`` ``asr.layers.ConformerBlock`` and the per-frame Dense. Defaults: the paper's
    Conformer-S width (144, 4 heads), half its depth."""
    x, lengths, reductions = conv_front_end(x, lengths, conv_filters, conv_kernels, conv_strides)
    x = keras.layers.Dense(d_model, name="project")(x)
    if dropout:
        x = keras.layers.Dropout(dropout, name="project_dropout")(x)
    for i in range(1, n_layers + 1):
        x = ConformerBlock(num_heads, ff_multiplier, conv_kernel, dropout, name=f"conformer_{i}")(x, lengths)
    return logits_layer(x, vocab_size), reductions


ARCHITECTURES = {f.__name__: f for f in (simple_rnn, rnn, cnn_rnn, deep_rnn, bidirectional_rnn, deepspeech,
                                         conformer)}
