"""ONNX export and the Keras-free ONNX Runtime path (``asr export``, ``asr.onnx_runtime``)."""

import json
import subprocess
import sys

import keras
import numpy as np
import pytest
from conftest import ROOT, run_python

pytest.importorskip("onnxruntime")
pytest.importorskip("tf2onnx")
onnx = pytest.importorskip("onnx")

# Importing any of these fails in the "no deep-learning framework" subprocess below (looking
# them up, as the backend chooser does, still works).
BLOCKER = """
import importlib.abc, importlib.util, sys
class Block(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, name, path, target=None):
        if name.split(".")[0] in ("keras", "tensorflow", "jax", "jaxlib", "torch"):
            return importlib.util.spec_from_loader(name, self)
    def create_module(self, spec):
        return None
    def exec_module(self, module):
        raise ImportError(f"{module.__name__} is blocked: the ONNX path must not import it")
sys.meta_path.insert(0, Block())
"""


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    """A small DeepSpeech-style model (per-utterance normalisation, stride 2, logits upsampled 2x) and its ONNX
    export."""
    from asr.export import export_onnx
    from asr.features import FeatureConfig
    from asr.models import build_model

    folder = tmp_path_factory.mktemp("export")
    model = build_model("deepspeech", FeatureConfig("log_mel"), utterance_norm="mean", conv_filters=[16],
                        units=16, n_layers=1, output_upsample=2)
    rng = np.random.default_rng(0)
    model.set_normalization(rng.normal(size=80).astype("float32"), rng.uniform(1, 2, 80).astype("float32"))
    model.save(folder / "model.keras")
    export_onnx(folder / "model.keras", folder / "model.onnx")
    return folder / "model.keras", folder / "model.onnx"


def test_onnx_logits_and_lengths_equal_keras(exported):
    from asr.models import load_model
    from asr.onnx_runtime import OnnxModel

    model, onnx_model = load_model(exported[0], compile=False), OnnxModel(exported[1])
    for batch, frames in ((1, 57), (3, 301)):  # dynamic batch and time
        x = np.random.default_rng(batch).normal(size=(batch, frames, 80)).astype("float32")
        lengths = np.linspace(frames, 9, batch).astype("int32")  # different lengths in one batch
        expected = np.asarray(model.predict_on_batch({"features": x, "feature_lengths": lengths}))
        logits, logit_lengths = onnx_model({"features": x, "feature_lengths": lengths})
        np.testing.assert_array_equal(logit_lengths, model.output_lengths(lengths))
        np.testing.assert_array_equal(onnx_model.output_lengths(lengths), logit_lengths)
        for row, n in enumerate(logit_lengths):
            np.testing.assert_allclose(logits[row, :n], expected[row, :n], atol=1e-4)
    assert onnx_model.vocabulary.symbols == model.vocabulary.symbols
    assert onnx_model.feature_config == model.feature_config
    ops = [node.op_type for node in onnx.load(str(exported[1])).graph.node]
    assert ops.count("GRU") == 1 and "Loop" not in ops  # the BiGRU as ONNX's GRU operator, not a per-step loop
    meta = onnx_model.metadata
    np.testing.assert_allclose(meta["normalization"]["mean"],
                               keras.ops.convert_to_numpy(model.get_layer("normalize").mean), rtol=1e-6)
    assert meta["normalization"]["per_utterance"] == "mean"


def test_onnx_transcribe_imports_no_framework_and_matches_keras(exported, librivox_dir, tmp_path):
    from asr.inference import transcribe
    from asr.models import load_model

    wavs = sorted(str(p) for p in librivox_dir.glob("*.wav"))[:3]
    expected = [r.text for r in transcribe(load_model(exported[0], compile=False), wavs)]
    code = BLOCKER + f"""
from asr.cli import main
status = main(["transcribe", {str(exported[1])!r}, *{wavs!r}, "--format", "jsonl", "-q"])
assert not [m for m in sys.modules if m.split(".")[0] in ("keras", "tensorflow", "jax", "torch")]
sys.exit(status)
"""
    lines = [json.loads(line) for line in run_python(code).splitlines() if line.startswith("{")]
    assert [line["text"] for line in lines] == expected
    assert [line["path"] for line in lines] == wavs


def test_load_model_dispatches_on_the_file_kind(exported, tmp_path):
    import asr
    from asr.errors import CorruptFileError
    from asr.onnx_runtime import OnnxModel

    assert isinstance(asr.load_model(exported[1]), OnnxModel)
    assert type(asr.load_model(exported[0])).__name__ == "AcousticModel"
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a protobuf at all" * 10)
    with pytest.raises(CorruptFileError, match="garbage.onnx"):
        OnnxModel(garbage)
    with pytest.raises(FileNotFoundError, match="missing.onnx"):
        OnnxModel(tmp_path / "missing.onnx")


def test_foreign_onnx_file_is_refused(tmp_path):
    import onnx
    from onnx import TensorProto, helper

    from asr.errors import CorruptFileError
    from asr.onnx_runtime import OnnxModel

    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1])])
    onnx.save(helper.make_model(graph), tmp_path / "foreign.onnx")
    with pytest.raises(CorruptFileError, match="not exported by asr"):
        OnnxModel(tmp_path / "foreign.onnx")


def test_export_cli_errors(small_model_path, tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "asr", *args], capture_output=True, text=True, cwd=ROOT)

    bad_suffix = cli("export", str(small_model_path), str(tmp_path / "model.bin"))
    assert bad_suffix.returncode == 2 and "must end in .onnx" in bad_suffix.stderr
    missing = cli("export", str(tmp_path / "none.keras"), str(tmp_path / "m.onnx"))
    assert missing.returncode == 2 and "none.keras" in missing.stderr and "Traceback" not in missing.stderr


def _edited(exported, tmp_path, name, edit):
    """A copy of the exported model whose asr metadata went through ``edit(meta)``."""
    import onnx

    proto = onnx.load(exported[1])
    entry = next(p for p in proto.metadata_props if p.key == "asr")
    meta = json.loads(entry.value)
    edit(meta)
    entry.value = json.dumps(meta)
    onnx.save(proto, tmp_path / name)
    return tmp_path / name


@pytest.mark.parametrize("name, edit, match", [
    ("outputs.onnx", lambda m: m["outputs"].update(logits="probabilities"), r"names \['probabilities'\], which the "
                                                                             "graph lacks"),
    ("vocab.onnx", lambda m: m["vocabulary"].update(symbols=" abc"), "vocabulary has 5 classes, the graph outputs 29"),
    ("features.onnx", lambda m: m["feature_config"].update(n_mels=40), "gives 40 features, the graph takes 80"),
    ("frames.onnx", lambda m: m.update(reductions=[]), r"reductions give \[203, 77\] logit frames for \[203, 77\] "
                                                       r"input frames, the graph \[204, 78\]"),
])
def test_onnx_metadata_is_checked_against_the_graph(exported, tmp_path, name, edit, match):
    from asr.errors import CorruptFileError
    from asr.onnx_runtime import OnnxModel

    with pytest.raises(CorruptFileError, match=f"{name}'?: .*{match}"):
        OnnxModel(_edited(exported, tmp_path, name, edit))


def test_empty_and_upper_case_onnx_files(exported, tmp_path):
    import shutil

    import asr
    from asr.errors import CorruptFileError
    from asr.onnx_runtime import OnnxModel

    (tmp_path / "empty.onnx").write_bytes(b"")
    with pytest.raises(CorruptFileError, match="empty.onnx' is not a loadable ONNX model"):
        OnnxModel(tmp_path / "empty.onnx")
    shutil.copy(exported[1], tmp_path / "MODEL.ONNX")
    assert isinstance(asr.load_model(tmp_path / "MODEL.ONNX"), OnnxModel)


@pytest.mark.parametrize("architecture, params, policy, tolerance", [
    ("simple_rnn", {}, "float32", 1e-4), ("deep_rnn", {"units": 12, "n_layers": 2}, "float32", 1e-4),
    ("bidirectional_rnn", {"units": 12, "n_layers": 2}, "float32", 1e-4),
    ("bidirectional_rnn", {"units": 12}, "mixed_bfloat16", 2e-2)])
def test_every_recurrent_architecture_exports_its_grus_as_onnx_gru_operators(architecture, params, policy, tolerance,
                                                                             tmp_path):
    """Unidirectional and bidirectional, stacked, with and without BatchNorm, trained in mixed
    precision too (the GRU operator runs float32): one ONNX GRU per layer, and the logits of a
    padded batch equal Keras' within the compute dtype's rounding."""
    from asr.export import export_onnx
    from asr.features import FeatureConfig
    from asr.models import build_model, load_model
    from asr.onnx_runtime import OnnxModel

    keras.config.set_dtype_policy(policy)
    try:
        model = build_model(architecture, FeatureConfig("mfcc"), **params)
    finally:
        keras.config.set_dtype_policy("float32")
    model.set_normalization(np.zeros(13, "float32"), np.ones(13, "float32"))
    model.save(tmp_path / "m.keras")
    export_onnx(tmp_path / "m.keras", tmp_path / "m.onnx")
    ops = [node.op_type for node in onnx.load(str(tmp_path / "m.onnx")).graph.node]
    assert ops.count("GRU") == params.get("n_layers", 1) and "Loop" not in ops
    x = np.random.default_rng(1).normal(size=(3, 90, 13)).astype("float32")
    lengths = np.array([90, 41, 7], "int32")
    model = load_model(tmp_path / "m.keras", compile=False)
    expected = np.asarray(model.predict_on_batch({"features": x, "feature_lengths": lengths}))
    logits, logit_lengths = OnnxModel(tmp_path / "m.onnx")({"features": x, "feature_lengths": lengths})
    for row, n in enumerate(logit_lengths):
        np.testing.assert_allclose(logits[row, :n], expected[row, :n], atol=tolerance)


def test_conformer_exports_with_the_same_logits_and_text(tmp_path, librivox_dir):
    """Self-attention with rotary positions, masking of padded keys and the depthwise convolution
    survive tf2onnx: the same logits over dynamic batch and time, the same text."""
    from asr.export import export_onnx
    from asr.features import FeatureConfig
    from asr.inference import transcribe
    from asr.models import build_model, load_model
    from asr.onnx_runtime import OnnxModel

    model = build_model("conformer", FeatureConfig("log_mel"), conv_filters=[8, 8], d_model=16, n_layers=2,
                        num_heads=2, conv_kernel=5)
    rng = np.random.default_rng(0)
    model.set_normalization(rng.normal(size=80).astype("float32"), rng.uniform(1, 2, 80).astype("float32"))
    model.save(tmp_path / "conformer.keras")
    export_onnx(tmp_path / "conformer.keras", tmp_path / "conformer.onnx")
    model, onnx_model = load_model(tmp_path / "conformer.keras", compile=False), OnnxModel(tmp_path / "conformer.onnx")
    x = rng.normal(size=(3, 203, 80)).astype("float32")
    lengths = np.array([203, 150, 37], "int32")
    expected = np.asarray(model.predict_on_batch({"features": x, "feature_lengths": lengths}))
    logits, logit_lengths = onnx_model({"features": x, "feature_lengths": lengths})
    np.testing.assert_array_equal(logit_lengths, model.output_lengths(lengths))
    for row, n in enumerate(logit_lengths):
        np.testing.assert_allclose(logits[row, :n], expected[row, :n], atol=1e-4)
    wavs = sorted(str(p) for p in librivox_dir.glob("*.wav"))[:2]
    assert [r.text for r in transcribe(onnx_model, wavs)] == [r.text for r in transcribe(model, wavs)]
