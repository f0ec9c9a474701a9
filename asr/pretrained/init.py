"""Fine-tuning: start a run from a trained model's weights, and hold named blocks fixed.

>>> base = load_model("base.keras")
>>> model = build_model(base.architecture, base.feature_config, **base.params)
>>> report = load_weights_by_name(model, base)         # {"loaded": [...], "reinitialised": {...}}
>>> report["frozen"] = freeze_layers(model, ["conv"])  # conv_1, conv_1_bn, conv_2, ...

Weights move layer by layer: a layer of the new model takes the base's weights when the base
has a layer of the same name whose weights have the same shapes, in order (the normalisation
statistics included, as non-trainable weights of ``normalize``). Every other layer with
weights keeps its fresh initialisation and is listed with the reason, e.g. the output layer
when the vocabularies differ, or a block named in ``fresh_names`` (``--reinit``: the top of
the base learnt again on the new data).
"""

from asr.errors import ConfigError


def _shapes(layer):
    return [tuple(weight.shape) for weight in layer.weights]


def load_weights_by_name(model, base, fresh_names=()):
    """Copy ``base``'s weights into ``model`` layer by layer (same name, same shapes), except the
    blocks ``fresh_names`` cover (as in ``freeze_layers``), which keep their initialisation.

    Returns ``{"loaded": [names], "reinitialised": {name: reason}}`` over ``model``'s layers
    that hold weights.
    """
    by_name = {layer.name: layer for layer in base.layers}
    named = {layer.name for layer in covered_layers(model, fresh_names, "reinit")}
    loaded, fresh = [], {}
    for layer in model.layers:
        if not layer.weights:
            continue
        source = by_name.get(layer.name)
        if layer.name in named:
            fresh[layer.name] = "named by reinit"
        elif source is None:
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


def covered_layers(model, names, option):
    """The layers with trainable weights that ``names`` cover, in the model's order; a name that
    covers none is a ``ConfigError`` naming ``option`` and listing the blocks there are."""
    weighted = [layer for layer in model.layers  # layers that train (or would, unfrozen): not statistics alone
                if layer.weights and (layer.trainable_weights or not layer.trainable)]
    for name in names:
        if not any(_matches(layer.name, name) for layer in weighted):
            blocks = sorted({layer.name.split("_bn")[0] for layer in weighted})
            raise ConfigError(f"{option}: {name!r} names no layer with trainable weights in {model.architecture}; "
                              f"its layers: {', '.join(blocks)}")
    return [layer for layer in weighted if any(_matches(layer.name, name) for name in names)]


def freeze_layers(model, names):
    """Set ``trainable = False`` on every layer with weights that ``names`` cover; returns the
    frozen layers' names. A name that covers no such layer is a ``ConfigError`` listing the
    blocks there are."""
    frozen = covered_layers(model, names, "freeze")
    for layer in frozen:
        layer.trainable = False
    return [layer.name for layer in frozen]
