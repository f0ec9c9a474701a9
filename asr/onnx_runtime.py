"""Run an exported ``.onnx`` acoustic model with ONNX Runtime and NumPy only: no Keras,
TensorFlow, JAX or torch is imported (``pip install "asr[onnx]"``).

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
from asr.frames import TimeReduction
from asr.text import Vocabulary

METADATA_KEY = "asr"  # asr.export.METADATA_KEY (not imported: that module is the Keras side)


class OnnxModel:
    """An exported acoustic model in an ONNX Runtime session (CPU unless ``providers`` says).

    Raises ``FileNotFoundError`` for a missing file and ``CorruptFileError`` for a file that
    is not an ONNX model exported by ``asr export``.
    """

    def __init__(self, path, providers=None, threads=0):
        try:
            import onnxruntime
        except ImportError:
            raise ConfigError("running .onnx models needs onnxruntime: pip install \"asr[onnx]\"") from None
        path = os.fspath(path)
        if os.path.isdir(path):
            raise IsADirectoryError(f"model path {path!r} is a directory, not an .onnx file")
        if not os.path.isfile(path):
            raise FileNotFoundError(f"model file not found: {path!r}")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # errors only
        try:
            self.session = onnxruntime.InferenceSession(path, options, providers=providers or ["CPUExecutionProvider"])
            meta = json.loads(self.session.get_modelmeta().custom_metadata_map[METADATA_KEY])
            self.vocabulary = Vocabulary.from_config(meta["vocabulary"])
            self.feature_config = FeatureConfig.from_dict(meta["feature_config"])
            self.reductions = tuple(TimeReduction(**r) for r in meta["reductions"])
            self.outputs = [meta["outputs"]["logits"], meta["outputs"]["logit_lengths"]]
        except KeyError as error:
            raise CorruptFileError(f"{path!r} was not exported by asr (no {error} in its metadata)") from None
        except (ValueError, TypeError, onnxruntime.capi.onnxruntime_pybind11_state.Fail,
                onnxruntime.capi.onnxruntime_pybind11_state.InvalidGraph,
                onnxruntime.capi.onnxruntime_pybind11_state.InvalidProtobuf) as error:
            raise CorruptFileError(f"{path!r} is not a loadable ONNX model ({type(error).__name__}: "
                                   f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
        self.path, self.metadata = path, meta

    def output_lengths(self, lengths):
        """Logit frames for ``lengths`` input frames (int or NumPy array)."""
        for reduction in self.reductions:
            lengths = reduction(lengths)
        return lengths

    def __call__(self, inputs):
        """``(logits, logit_lengths)`` as the graph computes them, for ``{"features", "feature_lengths"}``."""
        features = np.ascontiguousarray(inputs["features"], dtype=np.float32)
        lengths = np.ascontiguousarray(inputs["feature_lengths"], dtype=np.int32)
        return tuple(self.session.run(self.outputs, {"features": features, "feature_lengths": lengths}))

    def predict_on_batch(self, inputs):
        """Logits ``(batch, time', vocab)`` float32 (the Keras model's method of that name)."""
        return self(inputs)[0]


def load_model(path, compile=True):
    """A model file by its kind: ``.onnx`` -> ``OnnxModel`` (no Keras imported), anything else
    -> the Keras ``AcousticModel`` (``asr.models.load_model``)."""
    if os.fspath(path).endswith(".onnx"):
        return OnnxModel(path)
    from asr.models import load_model as load_keras_model

    return load_keras_model(path, compile=compile)
