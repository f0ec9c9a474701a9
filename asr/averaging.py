"""Checkpoint averaging: one model whose weights are the mean of several epochs' weights.

Averaging the parameters of the last few epochs (Vaswani et al. 2017; the default model
selection of ESPnet and NeMo's ASR recipes) smooths out the noise of the final optimizer
steps at no training cost. ``TrainConfig.average_last`` keeps the last N epoch checkpoints
and exports their average as the final model (``asr.train``).
"""

import numpy as np

from asr.errors import ConfigError


def average_weights(weight_lists):
    """The element-wise mean of several ``model.get_weights()`` lists.

    Floating-point arrays (kernels, biases, normalisation statistics) are averaged in float64
    and cast back; integer arrays (counters, seed states) are taken from the last list.

    Args:
        weight_lists: a non-empty sequence of lists of arrays, one list per model, with the
            same number of arrays and the same shapes.
    """
    if not weight_lists:
        raise ValueError("average_weights needs at least one list of weights, got none")
    reference = _shapes(weight_lists[0])
    for index, weights in enumerate(weight_lists[1:], start=1):
        if _shapes(weights) != reference:
            raise ValueError(f"weight list {index} has shapes {_shapes(weights)}; list 0 has {reference}")
    averaged = []
    for arrays in zip(*weight_lists):
        last = np.asarray(arrays[-1])
        if np.issubdtype(last.dtype, np.floating):
            averaged.append(np.mean([np.asarray(a, np.float64) for a in arrays], axis=0).astype(last.dtype))
        else:
            averaged.append(last)
    return averaged


def average_checkpoints(paths, load=None):
    """The model saved at ``paths[-1]`` with the mean of the weights of all ``paths``.

    Args:
        paths: ``.keras`` files of the same architecture (e.g. the last epochs of one run).
        load: ``path -> model`` (default ``asr.models.load_model``).
    Raises:
        ConfigError: no paths, or a checkpoint whose weights do not match the others (naming it).
    """
    if not paths:
        raise ConfigError("average_checkpoints: no checkpoint files given")
    if load is None:
        from asr.models import load_model as load
    weight_lists = []
    for path in paths:  # checked here to name the file; average_weights then finds them consistent
        model = load(path)
        weight_lists.append(model.get_weights())
        if _shapes(weight_lists[-1]) != _shapes(weight_lists[0]):
            raise ConfigError(f"{path}: its weights do not match those of {paths[0]} (a different architecture?)")
    model.set_weights(average_weights(weight_lists))
    return model


def _shapes(weights):
    return [np.shape(w) for w in weights]
