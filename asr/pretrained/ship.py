"""Ship a trained model inside the package (for the project's maintainers; recipes call it).

``ship_model`` writes ``NAME.keras`` (weights for fine-tuning, no optimizer state) and
``NAME.onnx`` (float16 weight storage when that leaves every test-set hypothesis unchanged,
else float32) to ``asr/pretrained/models/``, scores the ONNX file greedily on the test sets,
records the text both files give for one shared audio file (the test that loads the shipped
model checks it), and adds the entry to ``models.json``. Every number in the catalogue is
measured here, on the files as shipped.
"""

import json
import logging
import os
import pathlib
import tempfile

from asr.errors import ConfigError
from asr.pretrained.catalog import CATALOG, MODELS_DIR, ShippedModel

logger = logging.getLogger(__name__)


def _score(model, entries, name, cache_dir=None):
    from asr.evaluate import evaluate

    report = evaluate(model, entries, cache_dir=cache_dir, name=name, all_rows=True)
    hypotheses = [row["hypothesis"] for row in report["rows"]]
    return {"cer": report["cer"]["rate"], "wer": report["wer"]["rate"], "utterances": report["utterances"],
            "skipped": report["skipped"]}, hypotheses


def reference_hypotheses(model, test_sets, cache_dir=None, max_utterances=0):
    """``(reference, scores)``: ``{set name: (entries, the Keras model's greedy hypotheses)}`` and
    its greedy scores per set (``test_sets``: ``{name: corpus path}``; ``cache_dir``: a feature
    cache; ``max_utterances``: the first that many of each set, 0 for all)."""
    from asr.corpus import load_entries

    reference, scores = {}, {}
    for name, folder in test_sets.items():
        entries = load_entries(str(folder))[0][: max_utterances or None]
        scores[name], hypotheses = _score(model, entries, name, cache_dir)
        reference[name] = entries, hypotheses
    return reference, scores


def score_onnx(onnx_path, reference, cache_dir=None):
    """``(results, changed)``: the ONNX file's greedy scores per test set, and how many of its
    hypotheses differ from the Keras model's (``reference``, from ``reference_hypotheses``)."""
    from asr.onnx_runtime import OnnxModel

    onnx_model, results, changed = OnnxModel(onnx_path), {}, 0
    for name, (entries, theirs) in reference.items():
        results[name], ours = _score(onnx_model, entries, name, cache_dir)
        changed += sum(a != b for a, b in zip(ours, theirs))
    return results, changed


def check_text(model, onnx_path, candidates):
    """``(audio, text)``: the first of ``candidates`` (audio paths) on which the Keras model and
    the ONNX file give the same text (float rounding may split them on a near tie)."""
    from asr.inference import transcribe
    from asr.onnx_runtime import OnnxModel

    onnx_model = OnnxModel(onnx_path)
    for audio in candidates:
        ours, theirs = (transcribe(m, [audio])[0] for m in (onnx_model, model))
        if ours.ok and ours.text == theirs.text:
            return audio, ours.text
    raise ConfigError(f"the ONNX file and the Keras model give different texts on every check file: {candidates}")


def ship_model(model_path, name, description, training, test_sets, check_audios, data_root, version,
               models_dir=MODELS_DIR, overwrite=False, cache_dir=None, max_utterances=0, reference=None):
    """Ship the ``.keras`` model at ``model_path`` as ``name``; returns the ``ShippedModel``.

    ``training``: data sources (name, hours, license), epochs, CPU-hours, command (as
    ``ShippedModel.training``); ``check_audios``: audio paths under ``data_root``, the first on
    which both files agree is recorded with its text (relative to ``data_root``). An existing
    name is refused unless ``overwrite``; ``cache_dir`` and ``max_utterances`` as for
    ``reference_hypotheses`` (a limit is for smoke tests: shipped numbers are over whole sets);
    ``reference``: that function's first result when the caller scored the Keras model already.
    The files land in ``models_dir`` only when every check passed, the catalogue last.
    """
    from asr.export import export_onnx
    from asr.files import save_model_atomic, write_json_atomic
    from asr.models import load_model

    models_dir = pathlib.Path(models_dir)
    catalog = json.loads((models_dir / CATALOG).read_text()) if (models_dir / CATALOG).is_file() else []
    if any(entry["name"] == name for entry in catalog) and not overwrite:
        raise ConfigError(f"a model named {name!r} is shipped already: pass overwrite=True to replace it")
    models_dir.mkdir(parents=True, exist_ok=True)
    model = load_model(model_path, compile=False)
    if reference is None:
        reference = reference_hypotheses(model, test_sets, cache_dir, max_utterances)[0]
    with tempfile.TemporaryDirectory(dir=models_dir) as folder:  # nothing lands until every check passed
        keras_path, onnx_path = pathlib.Path(folder) / f"{name}.keras", pathlib.Path(folder) / f"{name}.onnx"
        save_model_atomic(model, keras_path)
        weights, float16_changed = "float16", 0
        export_onnx(keras_path, onnx_path, weights=weights)
        results, changed = score_onnx(onnx_path, reference, cache_dir)
        if changed:
            logger.warning("float16 weights change %d test hypotheses: shipping float32 weights", changed)
            weights, float16_changed = "float32", changed
            export_onnx(keras_path, onnx_path, overwrite=True, weights=weights)
            results, changed = score_onnx(onnx_path, reference, cache_dir)
        check_audio, text = check_text(model, onnx_path, check_audios)
        for path in (keras_path, onnx_path):
            os.replace(path, models_dir / path.name)
    shipped = ShippedModel(
        name=name, description=description, architecture=_architecture(model), parameters=model.count_params(),
        version=version, files={"onnx": onnx_path.name, "keras": keras_path.name},
        training={**training, "onnx_weights": weights, "float16_hypotheses_changed": float16_changed,
                  "hypotheses_differing_from_keras": changed},
        results=results, check={"audio": os.path.relpath(check_audio, data_root), "text": text},
        folder=str(models_dir))
    write_json_atomic(models_dir / CATALOG, [*(e for e in catalog if e["name"] != name), shipped.to_dict()])
    return shipped


def _architecture(model):
    params = ", ".join(f"{key}={value}" for key, value in sorted(model.params.items()))
    return f"{model.architecture} ({params})" if params else model.architecture
