"""TensorFlow backend only (imported only there): ``asr.batches.CTCBatches`` as a ``tf.data.Dataset``.

Keras' PyDataset adapter on TensorFlow infers a *fixed* time dimension from the first two
batches, so a later, longer bucket fails. Here the signature leaves batch and time
dimensions unknown, and ``ReshuffleEachEpoch`` replaces the PyDataset epoch hook.
"""

import keras


def to_tf_dataset(batches):
    import tensorflow as tf

    def spec(array):
        return tf.TensorSpec((None,) * min(array.ndim, 2) + array.shape[2:], tf.as_dtype(array.dtype))

    sample = batches[0]
    signature = tuple({key: spec(value) for key, value in part.items()} for part in sample)

    def generate():
        for i in range(len(batches)):
            yield batches[i]

    dataset = tf.data.Dataset.from_generator(generate, output_signature=signature)
    # A known length lets Keras start a fresh pass (and generator) each epoch.
    return dataset.apply(tf.data.experimental.assert_cardinality(len(batches))).prefetch(tf.data.AUTOTUNE)


class ReshuffleEachEpoch(keras.callbacks.Callback):
    def __init__(self, batches):
        super().__init__()
        self.batches = batches

    def on_epoch_end(self, epoch, logs=None):
        self.batches.on_epoch_end()
