"""Building blocks shared by the acoustic models: time convolutions with exact length
bookkeeping, and recurrent blocks.

Every block takes and returns ``(x, lengths)``: ``x`` is ``(batch, time, channels)`` (or
``(batch, time, freq, channels)`` for 2-D convolutions) and ``lengths`` ``(batch,)``.

"same" and "full" padding are applied as explicit, fixed zero padding followed by a
"valid" convolution, so a frame's output never depends on how much padding the batch has
(Keras' own strided "same" shifts its window with the padded length).
"""

import keras

from asr.errors import ConfigError
from asr.frames import TimeReduction
from asr.layers import GRU, ConvOutputLength, SequenceBatchNorm, SubsamplingConv2D, ZeroPaddedFrames

# BatchNorm moving-average momentum: an effective window of 1 / (1 - 0.95) = 20 steps, so the
# inference statistics catch up within an epoch even in short small-data runs (Keras' 0.99
# lags ~100 steps behind the weights).
BN_MOMENTUM = 0.95


def time_conv(x, lengths, filters, kernel_size, strides=1, padding="same", dilation_rate=1,
              freq_kernel=None, freq_strides=1, activation="relu", batch_norm=True, name="conv_1"):
    """Conv1D (or Conv2D when ``freq_kernel`` is given) + optional BatchNorm + activation.

    Returns ``(x, lengths, TimeReduction)``; padded output frames are zeroed.
    """
    if strides > 1 and dilation_rate > 1:
        raise ConfigError(f"{name}: strides={strides} with dilation_rate={dilation_rate} is not supported by "
                         "Keras convolutions; use strides=1 or dilation_rate=1")
    reduction = TimeReduction(kernel_size, strides, padding, dilation_rate)
    left, right = reduction.time_padding()
    if freq_kernel is None:
        if left or right:
            x = keras.layers.ZeroPadding1D((left, right), name=f"{name}_pad")(x)
        x = keras.layers.Conv1D(filters, kernel_size, strides=strides, dilation_rate=dilation_rate,
                                padding="valid", use_bias=not batch_norm, name=name)(x)
    else:
        freq_pad = (freq_kernel - 1) // 2
        x = keras.layers.ZeroPadding2D(((left, right), (freq_pad, freq_kernel - 1 - freq_pad)),
                                       name=f"{name}_pad")(x)
        x = SubsamplingConv2D(filters, (kernel_size, freq_kernel), strides=(strides, freq_strides),
                                dilation_rate=(dilation_rate, 1), padding="valid", use_bias=not batch_norm,
                                name=name)(x)
    lengths = ConvOutputLength(kernel_size, strides, padding, dilation_rate, name=f"{name}_lengths")(lengths)
    if batch_norm:
        x = SequenceBatchNorm(momentum=BN_MOMENTUM, name=f"{name}_bn")(x, lengths)
    if activation:
        x = keras.layers.Activation(activation, name=f"{name}_{activation}")(x)
    x = ZeroPaddedFrames(name=f"{name}_zero_padded")(x, lengths)
    return x, lengths, reduction


def conv_front_end(x, lengths, conv_filters, conv_kernels, conv_strides):
    """A stack of "same"-padded convolutions with time subsampling, returning ``(x, lengths,
    reductions)`` with ``x`` 3-D again.

    Each convolution is 1-D over time when its kernel/stride is an int, or 2-D over (time,
    frequency) when they are ``[time, freq]`` pairs (2-D layers first; their channels are
    merged with the frequency axis afterwards). Frames out = ceil(frames in / stride).
    """
    if not len(conv_filters) == len(conv_kernels) == len(conv_strides):
        raise ConfigError(f"conv_filters={conv_filters}, conv_kernels={conv_kernels} and "
                          f"conv_strides={conv_strides} must have the same length")
    reductions, two_d = [], None
    for i, (filters, kernel, stride) in enumerate(zip(conv_filters, conv_kernels, conv_strides), 1):
        is_2d = isinstance(kernel, (list, tuple))
        if is_2d and two_d is False:
            raise ConfigError(f"conv_kernels={conv_kernels}: 2-D convolutions must precede 1-D ones")
        if is_2d and two_d is None:
            x = keras.layers.Reshape((-1, x.shape[-1], 1), name="add_channel")(x)
        if not is_2d and two_d:
            x = keras.layers.Reshape((-1, x.shape[-2] * x.shape[-1]), name="merge_channels")(x)
        two_d = is_2d
        (kt, kf), (st, sf) = (kernel, stride) if is_2d else ((kernel, None), (stride, 1))
        x, lengths, reduction = time_conv(x, lengths, filters, kt, st, "same", freq_kernel=kf, freq_strides=sf,
                                          name=f"conv_{i}")
        reductions.append(reduction)
    if two_d:
        x = keras.layers.Reshape((-1, x.shape[-2] * x.shape[-1]), name="merge_channels")(x)
    return x, lengths, reductions


def recurrent_block(x, lengths, units, bidirectional=False, batch_norm=True, dropout=0.0,
                    implementation="auto", name="gru_1"):
    """GRU (or BiGRU) over true lengths, then optional BatchNorm and Dropout."""
    x = GRU(units, bidirectional=bidirectional, implementation=implementation, name=name)(x, lengths)
    if batch_norm:
        x = SequenceBatchNorm(momentum=BN_MOMENTUM, name=f"{name}_bn")(x, lengths)
    if dropout:
        x = keras.layers.Dropout(dropout, name=f"{name}_dropout")(x)
    return x


def logits_layer(x, vocab_size, upsample=1):
    """Per-frame Dense to ``vocab_size`` logits, always float32 (the classic TimeDistributed(Dense)).

    With ``upsample`` k > 1 each frame gives k logit frames in a row (a Dense to k x
    ``vocab_size``, reshaped to ``(batch, k * time, vocab_size)``): CTC gets k times the frames
    (room for a blank between the characters of fast speech) at no recurrent cost. Returns the
    logits; the caller adds ``TimeUpsampling(k)`` to its reductions.
    """
    if upsample == 1:
        return keras.layers.Dense(vocab_size, dtype="float32", name="logits")(x)
    x = keras.layers.Dense(vocab_size * upsample, dtype="float32", name="logits_upsampled")(x)
    return keras.layers.Reshape((-1, vocab_size), dtype="float32", name="logits")(x)
