"""Fine-tuning: start a run from a trained model's weights, and hold named blocks fixed.

>>> base = load_model("base.keras")
>>> model = build_model(base.architecture, base.feature_config, **base.params)
>>> report = load_weights_by_name(model, base)         # {"loaded": [...], "reinitialised": {...}}
>>> report["frozen"] = freeze_layers(model, ["conv"])  # conv_1, conv_1_bn, conv_2, ...

Weights move layer by layer: a layer of the new model takes the base's weights when the base
has a layer of the same name whose weights have the same shapes, in order (the normalisation
statistics included, as non-trainable weights of ``normalize``). Every other layer with
weights keeps its fresh initialisation and is listed with the reason, e.g. the output layer
when the vocabularies differ.
"""

from asr.errors import ConfigError


def _shapes(layer):
    return [tuple(weight.shape) for weight in layer.weights]


def load_weights_by_name(model, base):
    """Copy ``base``'s weights into ``model`` layer by layer (same name, same shapes).

    Returns ``{"loaded": [names], "reinitialised": {name: reason}}`` over ``model``'s layers
    that hold weights.
    """
    by_name = {layer.name: layer for layer in base.layers}
    loaded, fresh = [], {}
    for layer in model.layers:
        if not layer.weights:
            continue
        source = by_name.get(layer.name)
        if source is None:
            fresh[layer.name] = "not in the base model"
        elif _shapes(source) != _shapes(layer):
            fresh[layer.name] = f"weight shapes {_shapes(layer)} differ from the base's {_shapes(source)}"
        else:
            layer.set_weights(source.get_weights())
            loaded.append(layer.name)
    if not loaded:
        raise ConfigError(f"init_from: no layer of the base model ({base.architecture}) matches the new model "
                          f"({model.architecture}) by name and shape; fine-tune with the base's architecture "
                          "(leave --model and --model-params out)")
    return {"loaded": loaded, "reinitialised": fresh}


def _matches(layer_name, name):
    """``name`` covers a layer named ``name`` or ``name_...`` (``bigru_1`` covers ``bigru_1_bn``, not
    ``bigru_10``)."""
    return layer_name == name or layer_name.startswith(name + "_")


def freeze_layers(model, names):
    """Set ``trainable = False`` on every layer with weights that ``names`` cover; returns the
    frozen layers' names. A name that covers no such layer is a ``ConfigError`` listing the
    blocks there are."""
    weighted = [layer for layer in model.layers  # layers that train (or would, unfrozen): not statistics alone
                if layer.weights and (layer.trainable_weights or not layer.trainable)]
    frozen = []
    for name in names:
        covered = [layer for layer in weighted if _matches(layer.name, name)]
        if not covered:
            blocks = sorted({layer.name.split("_bn")[0] for layer in weighted})
            raise ConfigError(f"freeze: {name!r} names no layer with trainable weights in {model.architecture}; "
                              f"its layers: {', '.join(blocks)}")
        for layer in covered:
            layer.trainable = False
            frozen.append(layer.name)
    return sorted(set(frozen), key=frozen.index)
