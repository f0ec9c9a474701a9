"""Shipped models: ``ship_model`` (files, scores, catalogue), names wherever a model path is
(``asr transcribe NAME``, ``asr.load_model``, ``--init-from``; an existing file wins),
``asr models``, and the model the package ships: its size and its text on a shared file."""

import json
import os

import numpy as np
import onnx
import pytest
from conftest import DATA_DIR, ROOT, require

import asr
from asr.cli import main
from asr.errors import ConfigError
from asr.models import load_model as load_keras_model
from asr.onnx_runtime import OnnxModel
from asr.pretrained import catalog
from asr.pretrained.catalog import resolve_model, shipped_models
from asr.pretrained.ship import ship_model

pytest.importorskip("tf2onnx")
MAX_SHIPPED_MB = 25.0  # every model file in the package together (the budget)
TRAINING = {"data": [{"name": "librispeech-sample/4088", "hours": 0.01, "utterances": 8, "license": "CC BY 4.0"}],
            "epochs": 1, "cpu_hours": 0.01, "device": "test", "command": "pytest"}


@pytest.fixture(scope="module")
def shipped(tmp_path_factory, small_model_path, librivox_dir):
    """The small model shipped as ``tiny-en`` into a folder of its own (``ship_model`` end to end:
    export with float16 weights, scores on LibriVox, the check text)."""
    folder = tmp_path_factory.mktemp("models")
    wavs = sorted(str(p) for p in librivox_dir.glob("*.wav"))
    model = ship_model(small_model_path, "tiny-en", "a test model", TRAINING, {"librivox": librivox_dir}, wavs,
                       librivox_dir.parent, version="1", models_dir=folder)
    return folder, model


@pytest.fixture
def in_package(shipped, monkeypatch):
    """The test folder is the package's model folder."""
    monkeypatch.setattr(catalog, "MODELS_DIR", shipped[0])
    return shipped[1]


def test_ship_model_writes_both_files_scores_the_onnx_one_and_catalogues_them(shipped, librivox_dir):
    folder, model = shipped
    assert sorted(p.name for p in folder.iterdir()) == ["models.json", "tiny-en.keras", "tiny-en.onnx"]
    assert shipped_models(folder) == {"tiny-en": model}
    assert model.results["librivox"]["utterances"] == len(list(librivox_dir.glob("*.wav")))
    assert 0 <= model.results["librivox"]["cer"] and model.check["audio"].startswith("pocketsphinx-librivox/")
    assert model.training["hypotheses_differing_from_keras"] == 0
    initializers = onnx.load(str(folder / "tiny-en.onnx")).graph.initializer
    half = [t for t in initializers if t.data_type == onnx.TensorProto.FLOAT16]
    assert bool(half) == (model.training["onnx_weights"] == "float16")
    keras_model = load_keras_model(folder / "tiny-en.keras", compile=False)
    assert getattr(keras_model, "optimizer", None) is None and model.parameters == keras_model.count_params()
    with pytest.raises(ConfigError, match="'tiny-en' is shipped already"):
        ship_model(folder / "tiny-en.keras", "tiny-en", "again", TRAINING, {}, [], "", "2", models_dir=folder)


def test_float16_weights_halve_the_weights_bytes_and_keep_the_logits_close(small_model_path, tmp_path):
    """``asr export --weights float16``: stored as float16, computed in float32, so the file loses
    2 bytes per weight and the logits move by the weights' rounding only (a random model's text
    may move with them: ship_model compares the text on every test set and keeps float32 when
    any hypothesis changes)."""
    assert main(["export", str(small_model_path), str(tmp_path / "f32.onnx")]) == 0
    assert main(["export", str(small_model_path), str(tmp_path / "f16.onnx"), "--weights", "float16"]) == 0
    full_graph, half_graph = (onnx.load(str(tmp_path / name)).graph for name in ("f32.onnx", "f16.onnx"))
    sizes = {t.name: int(np.prod(t.dims)) for t in full_graph.initializer}
    stored = [t.name.removesuffix("_float16") for t in half_graph.initializer
              if t.data_type == onnx.TensorProto.FLOAT16]
    assert stored and min(sizes[name] for name in stored) >= 1024
    assert {n.output[0] for n in half_graph.node if n.op_type == "Cast" and n.input[0].endswith("_float16")} \
        == set(stored)
    saved = os.path.getsize(tmp_path / "f32.onnx") - os.path.getsize(tmp_path / "f16.onnx")
    assert saved >= 1.9 * sum(sizes[name] for name in stored)
    x = np.random.default_rng(0).normal(size=(2, 120, 80)).astype(np.float32)
    inputs = {"features": x, "feature_lengths": np.array([120, 77], np.int32)}
    full, half = (OnnxModel(tmp_path / name)(inputs)[0] for name in ("f32.onnx", "f16.onnx"))
    np.testing.assert_allclose(half, full, atol=2e-2 * np.abs(full).max())
    assert not np.array_equal(half, full)  # the float16 weights are the ones in use


def test_a_shipped_name_works_wherever_a_model_path_does(in_package, capsys):
    name, audio = in_package.name, str(DATA_DIR / in_package.check["audio"])
    assert isinstance(asr.load_model(name), OnnxModel)  # inference: ONNX (onnxruntime is installed)
    assert type(asr.load_model(f"{name}.keras")).__name__ == "AcousticModel"
    assert type(load_keras_model(name)).__name__ == "AcousticModel"  # weights: .keras
    assert resolve_model(name, purpose="weights").endswith("tiny-en.keras")
    assert main(["transcribe", name, audio, "--format", "jsonl", "-q"]) == 0
    assert json.loads(capsys.readouterr().out)["text"] == in_package.check["text"]
    assert main(["models"]) == 0
    listing = capsys.readouterr().out
    assert listing.startswith("tiny-en  (") and "librivox" in listing and "a test model" in listing
    assert main(["models", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)[0]["results"] == in_package.results


def test_an_existing_file_wins_over_a_shipped_name_and_a_missing_one_lists_the_names(in_package, tmp_path,
                                                                                      monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tiny-en").write_bytes(b"my own file")
    assert resolve_model("tiny-en") == "tiny-en"
    assert main(["transcribe", "tiny-en", "x.wav"]) == 2
    assert "'tiny-en' is not a loadable asr model file" in capsys.readouterr().err
    with pytest.raises(FileNotFoundError, match=r"'tiny-em' \(nor a shipped model: tiny-en; asr models lists them\)"):
        asr.load_model("tiny-em")


def test_without_onnxruntime_a_name_gives_the_keras_file(in_package, monkeypatch):
    monkeypatch.setattr(catalog, "_inference_format", lambda: "keras")
    assert resolve_model("tiny-en").endswith("tiny-en.keras")
    assert resolve_model("tiny-en.onnx").endswith("tiny-en.onnx")  # asked for by name and format


def test_init_from_a_shipped_name(in_package, tmp_path, librispeech_dir):
    from asr.corpus import read_librispeech, write_manifest
    from asr.train import TrainConfig, train

    for name, speaker in (("train", "4088"), ("dev", "4406")):
        entries = read_librispeech(librispeech_dir / "train-clean-100" / speaker)[0]
        write_manifest(sorted(entries, key=lambda e: e["duration"])[:4], tmp_path / f"{name}.jsonl")
    config = TrainConfig(train_data=str(tmp_path / "train.jsonl"), dev_data=str(tmp_path / "dev.jsonl"),
                         output_dir=str(tmp_path / "run"), epochs=1,
                         batch_size=4, init_from="tiny-en", features="log_mel")
    train(config, verbose=0)
    report = json.loads((tmp_path / "run" / "init_from.json").read_text())
    assert report["init_from"] == "tiny-en" and "logits" in report["loaded"] and not report["reinitialised"]


def test_the_shipped_model_is_small_and_gives_its_recorded_text():
    """The package's own models: within the size budget, and both files of each give the text
    recorded when it shipped, on that shared file."""
    from asr.inference import transcribe

    models = shipped_models()
    assert models, "no model is shipped in asr/pretrained/models"
    assert sum(m.size_mb() for m in models.values()) <= MAX_SHIPPED_MB
    for model in models.values():
        audio = str(require(DATA_DIR / model.check["audio"]))
        for fmt in ("onnx", "keras"):
            (result,) = transcribe(asr.load_model(str(model.path(fmt))), [audio])
            assert result.text == model.check["text"], (model.name, fmt)
        scored = set(model.results)  # the unseen Common Voice voices and LibriVox, as either recipe names them
        assert scored & {"commonvoice_unseen", "cv-corpus-6.1-sample"}
        assert scored & {"librivox", "pocketsphinx-librivox"}
        card = (ROOT / model.card).read_text(encoding="utf-8")  # the model card states the measured numbers
        for name, result in model.results.items():
            assert f"{result['cer']:.3f}" in card and f"{result['wer']:.3f}" in card, (model.name, name)


def test_a_ship_name_is_checked_before_any_work(tmp_path):
    from asr.pretrained.ship import check_ship_name

    for bad in ("En Small", "x.onnx", "../up", ""):
        with pytest.raises(ConfigError, match="lower-case letters"):
            check_ship_name(bad, tmp_path)
    assert check_ship_name("en-new", tmp_path) == []
    (tmp_path / "models.json").write_text(json.dumps([{"name": "en-new"}]))
    with pytest.raises(ConfigError, match="'en-new' is shipped already .* --ship-overwrite"):
        check_ship_name("en-new", tmp_path)
    assert check_ship_name("en-new", tmp_path, overwrite=True) == [{"name": "en-new"}]
