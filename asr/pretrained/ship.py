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
import re
import tempfile
import time

from asr.errors import ConfigError
from asr.pretrained.catalog import CATALOG, MODELS_DIR, ShippedModel

logger = logging.getLogger(__name__)

DATA_LICENSES = {  # the shared data's corpora a shipped model may train on, by top folder: what its card says
    "librispeech-voices": "CC BY 4.0 (LibriSpeech, Panayotov et al. 2015, openslr 12)",
    "librispeech-sample": "CC BY 4.0 (LibriSpeech, Panayotov et al. 2015, openslr 12)",
    "commonvoice-en": "CC0 (Mozilla Common Voice)",
}


def check_ship_name(name, models_dir=None, overwrite=False):
    """``models_dir``'s catalogue entries (None: the package's); refuses (before any long work) a name that is not a
    plain lower-case name, or that is shipped already unless ``overwrite``."""
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]*", name or "") or name.endswith((".onnx", ".keras")):
        raise ConfigError(f"ship name {name!r}: lower-case letters, digits, '.', '_' and '-' with no extension, "
                          "e.g. en-bigru-small")
    models_dir = pathlib.Path(models_dir or MODELS_DIR)
    path = models_dir / CATALOG
    catalog = json.loads(path.read_text()) if path.is_file() else []
    if any(entry["name"] == name for entry in catalog) and not overwrite:
        raise ConfigError(f"a model named {name!r} is shipped already in {str(models_dir)!r}: replace it with "
                          "--ship-overwrite (overwrite=True)")
    return catalog


def training_summary(run_dir, data_root, command, device):
    """What a shipped model's card says of its training, from its run folder: hours, utterances
    and license per source of ``train.jsonl`` (named relative to ``data_root``), dev utterances,
    epochs trained and the one shipped (best dev CER: the run's ``model.keras``), audio hours
    seen, training hours on ``device`` (the machine, in words), the command. A source of
    unknown license is refused."""
    from asr.files import HISTORY

    run_dir, sources = pathlib.Path(run_dir), {}
    history = json.loads((run_dir / HISTORY).read_text())
    for line in (run_dir / "train.jsonl").read_text().splitlines():
        entry = json.loads(line)
        name = os.path.relpath(entry["source"].split(" ", 1)[-1], data_root)
        hours, count = sources.get(name, (0.0, 0))
        sources[name] = (hours + entry["duration"] / 3600, count + 1)
    unknown = sorted(name for name in sources if name.split("/")[0] not in DATA_LICENSES)
    if unknown:
        raise ConfigError(f"no license known for training source {unknown[0]!r}: a shipped model names the license "
                          f"of all its data (asr.pretrained.ship.DATA_LICENSES)")
    return {"data": [{"name": name, "hours": round(hours, 2), "utterances": count,
                      "license": DATA_LICENSES[name.split("/")[0]]} for name, (hours, count) in sources.items()],
            "dev_utterances": len((run_dir / "dev.jsonl").read_text().splitlines()), "epochs": len(history["loss"]),
            "selected_epoch": best_epoch(history),
            "audio_hours_seen": round(sum(history["audio_seconds"]) / 3600, 1),
            "cpu_hours": round(sum(history["epoch_seconds"]) / 3600, 2),
            "device": device, "command": command}


def best_epoch(history):
    """The epoch (from 1) of the best dev CER in a run's history: the one its ``model.keras`` holds."""
    val_cer = history.get("val_cer", [])
    return 1 + min(range(len(val_cer)), key=val_cer.__getitem__) if val_cer else None


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


def ship_model(model_path, name, description, training, test_sets, check_audios, data_root, version=None,
               models_dir=None, overwrite=False, cache_dir=None, max_utterances=0, reference=None):
    """Ship the ``.keras`` model at ``model_path`` as ``name``; returns the ``ShippedModel``.

    ``training``: data sources (name, hours, license), epochs, CPU-hours, command (as
    ``ShippedModel.training``); ``check_audios``: audio paths under ``data_root``, the first on
    which both files agree is recorded with its text (relative to ``data_root``). An existing
    name is refused unless ``overwrite``; ``cache_dir`` and ``max_utterances`` as for
    ``reference_hypotheses`` (a limit is for smoke tests: shipped numbers are over whole sets);
    ``reference``: that function's first result when the caller scored the Keras model already.
    The files land in ``models_dir`` (None: the package's) only when every check passed, the
    catalogue last. ``version``: today's date (``YYYY.MM.DD``) unless given.
    """
    from asr.export import export_onnx
    from asr.files import save_model_atomic, write_json_atomic
    from asr.models import load_model

    models_dir = pathlib.Path(models_dir or MODELS_DIR)
    catalog = check_ship_name(name, models_dir, overwrite)
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
        version=version or time.strftime("%Y.%m.%d"), files={"onnx": onnx_path.name, "keras": keras_path.name},
        training={**training, "onnx_weights": weights, "float16_hypotheses_changed": float16_changed,
                  "hypotheses_differing_from_keras": changed},
        results=results, check={"audio": os.path.relpath(check_audio, data_root), "text": text},
        folder=str(models_dir))
    write_json_atomic(models_dir / CATALOG, [*(e for e in catalog if e["name"] != name), shipped.to_dict()])
    return shipped


def _architecture(model):
    params = ", ".join(f"{key}={value}" for key, value in sorted(model.params.items()))
    return f"{model.architecture} ({params})" if params else model.architecture
