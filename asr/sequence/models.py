"""Models for text and tabular sequences, built from the same layers (``asr.layers``) as
the acoustic models. All are functional Keras models with named layers.

Inputs are right-padded: float sequences ``(batch, time, n_features)`` padded with
``mask_value`` (masked with ``keras.layers.Masking``), or token ids ``(batch, time)``
padded with 0. Heads (``task``): ``"binary"`` -> sigmoid ``(batch, 1)``, ``"multiclass"``
-> softmax ``(batch, n_outputs)``, ``"regression"`` -> linear ``(batch, n_outputs)``;
``compile_for_task`` picks the matching loss and metrics.
"""

import keras

from asr.errors import ConfigError
from asr.layers import (
    GRU,
    AttentionWithContext,
    DropMask,
    MaskedGlobalAveragePooling1D,
    MaskedGlobalMaxPooling1D,
    MaskFromValue,
    SequenceBatchNorm,
    ZeroPaddedFrames,
)

TASKS = ("binary", "multiclass", "regression")
TEXT_POOLINGS = ("attention", "max", "attention+max", "last")


def output_head(x, n_outputs, task, name="output"):
    if task not in TASKS:
        raise ConfigError(f"task={task!r} must be one of {TASKS}")
    if task == "binary":
        return keras.layers.Dense(1, activation="sigmoid", dtype="float32", name=name)(x)
    activation = "softmax" if task == "multiclass" else None
    return keras.layers.Dense(n_outputs, activation=activation, dtype="float32", name=name)(x)


def compile_for_task(model, task, learning_rate=1e-3, weight_decay=0.0):
    """Compile with AdamW and the loss/metrics that match ``task``'s head."""
    loss, metrics = {"binary": ("binary_crossentropy", ["accuracy", keras.metrics.AUC(name="auc")]),
                     "multiclass": ("sparse_categorical_crossentropy", ["accuracy"]),
                     "regression": ("mse", ["mae"])}[task]
    model.compile(optimizer=keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay), loss=loss,
                  metrics=metrics)
    return model


def conv_blocks(x, mask, filters, kernel_sizes, name="conv"):
    """Conv1D("same") -> BatchNorm -> ReLU blocks; statistics and outputs ignore padding."""
    for i, (n, k) in enumerate(zip(filters, kernel_sizes), 1):
        x = keras.layers.Conv1D(n, k, padding="same", use_bias=False, name=f"{name}_{i}")(x)
        x = SequenceBatchNorm(name=f"{name}_{i}_bn")(x, mask=mask)
        x = keras.layers.Activation("relu", name=f"{name}_{i}_relu")(x)
        x = ZeroPaddedFrames(name=f"{name}_{i}_zero_padded")(x, mask=mask)
    return x


def cnn_classifier(n_features, n_outputs, task="multiclass", filters=(128, 256, 128), kernel_sizes=(8, 5, 3),
                   mask_value=0.0):
    """Fully convolutional classifier (Wang et al. 2017): Conv1D-BN-ReLU blocks + masked
    global average pooling. Input ``(batch, time, n_features)``."""
    inputs = keras.Input((None, n_features), name="sequence")
    mask = MaskFromValue(mask_value, name="mask")(inputs)
    x = conv_blocks(inputs, mask, filters, kernel_sizes)
    x = MaskedGlobalAveragePooling1D(name="average_pool")(x, mask=mask)
    return keras.Model(inputs, output_head(x, n_outputs, task), name="cnn_classifier")


def gru_classifier(n_features, n_outputs, task="multiclass", units=(64, 64), dropout=0.2, mask_value=0.0):
    """Stacked GRUs on masked variable-length input; the last returns its final valid state."""
    inputs = keras.Input((None, n_features), name="sequence")
    x = keras.layers.Masking(mask_value, name="masking")(inputs)
    for i, n in enumerate(units, 1):
        x = GRU(n, return_sequences=i < len(units), name=f"gru_{i}")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, n_outputs, task), name="gru_classifier")


def attention_classifier(n_features, n_outputs, task="multiclass", units=64, n_layers=1, dropout=0.2,
                         mask_value=0.0):
    """BiGRU layers + AttentionWithContext pooling over valid steps."""
    inputs = keras.Input((None, n_features), name="sequence")
    x = keras.layers.Masking(mask_value, name="masking")(inputs)
    for i in range(1, n_layers + 1):
        x = GRU(units, bidirectional=True, name=f"bigru_{i}")(x)
    x = AttentionWithContext(name="attention")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, n_outputs, task), name="attention_classifier")


def cnn_rnn_classifier(n_features, n_outputs, task="multiclass", units=64, filters=(128, 256, 128),
                       kernel_sizes=(8, 5, 3), dropout=0.2, conv_features=None, mask_value=0.0):
    """CNN-RNN fusion (the MLSTM-FCN pattern): a masked GRU branch and a convolutional branch,
    concatenated, Dense head. With ``conv_features`` the conv branch reads a second input
    ``(batch, time2, conv_features)``; else both branches read the same sequence."""
    inputs = [keras.Input((None, n_features), name="sequence")]
    rnn = keras.layers.Masking(mask_value, name="masking")(inputs[0])
    rnn = GRU(units, return_sequences=False, name="gru_1")(rnn)
    rnn = keras.layers.Dropout(dropout, name="gru_dropout")(rnn)
    if conv_features:
        inputs.append(keras.Input((None, conv_features), name="conv_sequence"))
    mask = MaskFromValue(mask_value, name="mask")(inputs[-1])
    conv = conv_blocks(inputs[-1], mask, filters, kernel_sizes)
    conv = MaskedGlobalAveragePooling1D(name="average_pool")(conv, mask=mask)
    x = keras.layers.Concatenate(name="fusion")([rnn, conv])
    return keras.Model(inputs, output_head(x, n_outputs, task), name="cnn_rnn_classifier")


def text_classifier(vocab_size, n_outputs=1, task="binary", embed_dim=64, units=64, cell="gru",
                    bidirectional=True, pooling="attention", dropout=0.3):
    """Embedding (id 0 = padding, masked) -> (Bi)GRU or (Bi)LSTM -> pooling -> head.

    ``pooling``: ``"attention"`` (AttentionWithContext), ``"max"`` (masked max), ``"attention+max"``
    (both, concatenated), or ``"last"`` (final valid state). Input: token ids ``(batch, time)``
    from ``asr.sequence.TextVectorizer``.
    """
    if cell not in ("gru", "lstm") or pooling not in TEXT_POOLINGS:
        raise ConfigError(f"cell={cell!r} must be 'gru'/'lstm' and pooling={pooling!r} one of {TEXT_POOLINGS}")
    inputs = keras.Input((None,), dtype="int32", name="tokens")
    x = keras.layers.Embedding(vocab_size, embed_dim, mask_zero=True, name="embedding")(inputs)
    x = keras.layers.SpatialDropout1D(dropout, name="embedding_dropout")(x)
    sequences = pooling != "last"
    if cell == "gru":
        x = GRU(units, bidirectional=bidirectional, return_sequences=sequences, name="bigru_1")(x)
    else:
        lstm = keras.layers.LSTM(units, return_sequences=sequences, name="lstm_1")
        x = (keras.layers.Bidirectional(lstm, name="bilstm_1") if bidirectional else lstm)(x)
    pooled = []
    if "attention" in pooling:
        pooled.append(AttentionWithContext(name="attention")(x))
    if "max" in pooling:
        pooled.append(MaskedGlobalMaxPooling1D(name="max_pool")(x))
    if pooled:
        x = keras.layers.Concatenate(name="pooled")(pooled) if len(pooled) > 1 else pooled[0]
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    return keras.Model(inputs, output_head(x, n_outputs, task), name="text_classifier")


def forecaster(n_features, horizon, n_targets=1, filters=64, kernel_size=3, units=64, dropout=0.1):
    """Conv1D (causal) + GRU forecaster: a window ``(batch, time, n_features)`` ->
    ``(batch, horizon, n_targets)`` future values."""
    inputs = keras.Input((None, n_features), name="window")
    x = keras.layers.Conv1D(filters, kernel_size, padding="causal", activation="relu", name="conv_1")(inputs)
    x = GRU(units, return_sequences=False, name="gru_1")(x)
    x = keras.layers.Dropout(dropout, name="dropout")(x)
    x = keras.layers.Dense(horizon * n_targets, dtype="float32", name="forecast")(x)
    outputs = keras.layers.Reshape((horizon, n_targets), name="output")(x)
    return keras.Model(inputs, outputs, name="forecaster")


def stateful_lstm(batch_size, n_features, units=32, n_outputs=1):
    """Stateful LSTM for one long series cut into consecutive windows.

    Window ``k + 1`` of batch row ``b`` must continue window ``k`` of the same row: the LSTM
    state carries from one call to the next (do not shuffle), and
    ``model.get_layer("lstm_1").reset_state()`` clears it between series or epochs. Input
    ``(batch_size, window, n_features)`` (fixed batch size); output one value per step,
    ``(batch_size, window, n_outputs)``.

    Backends (Keras 3.15, measured): calling the model directly (``model(window)``) carries the
    state on all three; ``predict_on_batch``/``train_on_batch`` carry it on TensorFlow, and
    ``predict_on_batch`` on torch; JAX's compiled steps do not write the state back, and torch
    cannot train a stateful LSTM (autograd rejects the in-place state update). Train stateful
    models on TensorFlow.
    """
    inputs = keras.Input(batch_shape=(batch_size, None, n_features), name="window")
    x = keras.layers.LSTM(units, stateful=True, return_sequences=True, name="lstm_1")(inputs)
    x = DropMask(name="drop_mask")(x)
    outputs = keras.layers.Dense(n_outputs, dtype="float32", name="output")(x)
    return keras.Model(inputs, outputs, name="stateful_lstm")


SEQUENCE_MODELS = {f.__name__: f for f in (cnn_classifier, gru_classifier, attention_classifier,
                                           cnn_rnn_classifier, text_classifier, forecaster, stateful_lstm)}
