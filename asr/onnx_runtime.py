"""Run an exported ``.onnx`` acoustic model with ONNX Runtime and NumPy only: no Keras,
TensorFlow, JAX or torch is imported (``pip install "keras-asr[onnx]"``).

``OnnxModel`` has what ``asr.inference.transcribe`` uses of a Keras ``AcousticModel``
(``vocabulary``, ``feature_config``, ``output_lengths``, ``predict_on_batch``), so::

    from asr import load_model, transcribe
    model = load_model("model.onnx")          # an OnnxModel; a .keras path gives the Keras model
    results = transcribe(model, ["a.wav"])
"""

import json
import os

import numpy as np

from asr.errors import ConfigError, CorruptFileError
from asr.features import FeatureConfig
from asr.frames import time_step_from_dict
from asr.pretrained.catalog import not_found_hint, resolve_model
from asr.text import Vocabulary

METADATA_KEY = "asr"  # asr.export.METADATA_KEY (not imported: that module is the Keras side)
INPUT_NAMES = ("features", "feature_lengths")
PROBE_FRAMES = (203, 77)  # input frames of the batch run at load to check the metadata's frame arithmetic


ORT_ERROR_NAMES = ("Fail", "InvalidArgument", "NoSuchFile", "NoModel", "EngineError", "RuntimeException",
                   "InvalidProtobuf", "ModelLoaded", "NotImplemented", "InvalidGraph", "EPFail")


def _runtime_errors(onnxruntime):
    """onnxruntime's own exception classes (not subclasses of RuntimeError)."""
    state = onnxruntime.capi.onnxruntime_pybind11_state
    return tuple(getattr(state, name) for name in ORT_ERROR_NAMES if hasattr(state, name))


class OnnxModel:
    """An exported acoustic model in an ONNX Runtime session (CPU unless ``providers`` says).

    Raises ``FileNotFoundError`` for a missing file and ``CorruptFileError`` for a file that
    is not an ONNX model exported by ``asr export``.
    """

    def __init__(self, path, providers=None, threads=0):
        try:
            import onnxruntime
        except ImportError:
            raise ConfigError("running .onnx models needs onnxruntime: pip install \"keras-asr[onnx]\"") from None
        path = os.fspath(path)
        if os.path.isdir(path):
            raise IsADirectoryError(f"model path {path!r} is a directory, not an .onnx file")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"model file not found: {path!r}{not_found_hint(path)}")
        self._errors = _runtime_errors(onnxruntime)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        # Idle pool threads sleep instead of spinning: beside a server's event loop and its clients,
        # spinning took the cores they needed (asr serve, 1 client: 153 -> 257 audio s/s; 4 clients
        # 280 -> 309, bench/serve_load.py) and the batch command lost nothing (487 / 484)
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=providers or ["CPUExecutionProvider"])
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map[METADATA_KEY])
            self.vocabulary = Vocabulary.from_config(meta["vocabulary"])
            self.feature_config = FeatureConfig.from_dict(meta["feature_config"])
            self.reductions = tuple(time_step_from_dict(r) for r in meta["reductions"])
            self.outputs = [meta["outputs"]["logits"], meta["outputs"]["logit_lengths"]]
        except KeyError as error:
            raise CorruptFileError(f"{path!r} was not exported by asr (no {error} in its metadata)") from None
        except (ValueError, TypeError, RuntimeError, *self._errors) as error:
            raise CorruptFileError(f"{path!r} is not a loadable ONNX model ({type(error).__name__}: "
                                   f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
        self.path, self.metadata = path, meta
        self._check_graph()

    def _check_graph(self):
        """The metadata must describe the graph: its input and output names, the feature size it
        takes, the vocabulary size it outputs, and the frame arithmetic (a probe batch's
        ``logit_lengths`` from the graph equal ``output_lengths`` from the metadata)."""
        inputs = {i.name: i for i in self.session.get_inputs()}
        outputs = {o.name for o in self.session.get_outputs()}
        missing = [n for n in INPUT_NAMES if n not in inputs] + [n for n in self.outputs if n not in outputs]
        if missing:
            raise CorruptFileError(f"{self.path!r}: its metadata names {missing}, which the graph lacks (inputs "
                                   f"{sorted(inputs)}, outputs {sorted(outputs)})")
        n_features = self.feature_config.n_features
        taken = inputs["features"].shape[-1]
        if isinstance(taken, int) and taken != n_features:
            raise CorruptFileError(f"{self.path!r}: metadata feature_config gives {n_features} features, the graph "
                                   f"takes {taken}")
        frames = np.array(PROBE_FRAMES, dtype=np.int32)
        try:
            logits, lengths = self({"features": np.zeros((len(frames), frames.max(), n_features), np.float32),
                                    "feature_lengths": frames})
        except (RuntimeError, *self._errors) as error:
            raise CorruptFileError(f"{self.path!r}: the graph fails on a probe batch ({str(error).splitlines()[0]})") \
                from None
        if logits.shape[-1] != self.vocabulary.size:
            raise CorruptFileError(f"{self.path!r}: metadata vocabulary has {self.vocabulary.size} classes, the graph "
                                   f"outputs {logits.shape[-1]}")
        expected = np.asarray(self.output_lengths(frames))
        if not np.array_equal(np.asarray(lengths), expected):
            raise CorruptFileError(f"{self.path!r}: metadata reductions give {expected.tolist()} logit frames for "
                                   f"{frames.tolist()} input frames, the graph {np.asarray(lengths).tolist()}")

    def output_lengths(self, lengths):
        """Logit frames for ``lengths`` input frames (int or NumPy array)."""
        for reduction in self.reductions:
            lengths = reduction(lengths)
        return lengths

    def __call__(self, inputs):
        """``(logits, logit_lengths)`` as the graph computes them, for ``{"features", "feature_lengths"}``."""
        features = np.ascontiguousarray(inputs["features"], dtype=np.float32)
        lengths = np.ascontiguousarray(inputs["feature_lengths"], dtype=np.int32)
        return tuple(self.session.run(self.outputs, {INPUT_NAMES[0]: features, INPUT_NAMES[1]: lengths}))

    def predict_on_batch(self, inputs):
        """Logits ``(batch, time', vocab)`` float32 (the Keras model's method of that name)."""
        return self(inputs)[0]


def load_model(path, compile=True, threads=0):
    """A model file by its kind: ``.onnx`` -> ``OnnxModel`` with ``threads`` intra-op threads (0:
    ONNX Runtime's default, one per core; no Keras imported), anything else -> the Keras
    ``AcousticModel`` (``asr.models.load_model``; ``threads`` does not apply). A shipped model's name (``asr
    models``) gives its ONNX file when onnxruntime is installed, else its ``.keras`` file;
    ``NAME.keras`` asks for the Keras model."""
    path = resolve_model(path)
    if path.lower().endswith(".onnx"):
        return OnnxModel(path, threads=threads)
    from asr.models import load_model as load_keras_model

    return load_keras_model(path, compile=compile)
