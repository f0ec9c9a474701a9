"""Choosing a Keras backend for the command line and recipes (library code never does)."""

import importlib.util
import os

from asr.errors import AsrError
from asr.paths import default_cache_dir

PREFERENCE = ("jax", "tensorflow", "torch")  # fastest first: a CPU CTC step is ~5x faster on JAX
DISTRIBUTION = "keras-asr"  # the name to pip-install ("asr" on PyPI is another project)
BACKEND_HINT = f"pip install '{DISTRIBUTION}[jax]' (or [torch], [tensorflow])"
EXTRA_OF_MODULE = {  # optional top-level module -> the extra that installs it (pyproject.toml)
    "onnxruntime": "onnx", "tf2onnx": "export", "onnx": "export", "flashlight": "fast-decoder",
    "matplotlib": "jax", "starlette": "server", "uvicorn": "server", "multipart": "server",
    "python_multipart": "server",
}


class MissingDependency(AsrError, ImportError):
    """An optional dependency a command needs is not installed; the message says what to install."""


def missing_dependency(error):
    """A ``MissingDependency`` naming the extra that provides ``error``'s module (a
    ``ModuleNotFoundError``), or None when the module is not one of the optional ones."""
    module = (error.name or "").split(".")[0]
    if module in ("keras", *PREFERENCE):
        return MissingDependency(f"this needs Keras with a backend and {module} is not installed: {BACKEND_HINT}")
    if module in EXTRA_OF_MODULE:
        return MissingDependency(f"this needs {module}, which is not installed: "
                                 f"pip install '{DISTRIBUTION}[{EXTRA_OF_MODULE[module]}]'")
    return None


def jax_platform():
    """The platform JAX computes on ("cpu", "gpu", "tpu") when Keras runs on JAX, else None:
    the layers whose fastest kernel differs by platform ask it at trace time."""
    import keras

    if keras.backend.backend() != "jax":
        return None
    import jax

    return jax.default_backend()


def quiet_tensorflow(backend, verbose=False):
    """Keep TensorFlow's C++ log lines off stderr unless ``verbose`` (or the user set the variables):
    every level below FATAL (oneDNN's "supports DT_INT64 only ..." is logged as an error), and,
    when TensorFlow is not the backend (it only feeds data then), the oneDNN notice it prints on
    import, which no log level reaches."""
    if verbose:
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if backend != "tensorflow":
        os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")


def import_tensorflow_quietly():
    """Import TensorFlow (the backend: Keras imports it next) with its import-time notices
    (written by its C++ code before any log level applies) kept off stderr."""
    import sys

    if "tensorflow" in sys.modules or importlib.util.find_spec("tensorflow") is None:
        return
    sys.stderr.flush()
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow  # noqa: F401
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def choose_backend(required=True, verbose=False):
    """Set ``KERAS_BACKEND`` to the fastest installed backend unless the user already set it.

    Must run before Keras is imported; returns the backend in effect. With none installed:
    ``MissingDependency`` saying what to install, or None when not ``required`` (the command
    line: transcribing an ONNX model needs no Keras). Also quiets
    TensorFlow's C++ logging unless ``verbose`` (``quiet_tensorflow``) and turns on JAX's
    persistent compilation cache (one XLA compilation per padded batch shape costs seconds on a
    CPU; later runs reuse them), unless the user configured these.
    """
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(default_cache_dir() / "jax"))  # XLA programs
    backend = os.environ.get("KERAS_BACKEND") or next(
        (name for name in PREFERENCE if importlib.util.find_spec(name) is not None), None)
    quiet_tensorflow(backend, verbose)
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
        if required and backend == "tensorflow" and not verbose:  # Keras (and so TensorFlow) comes next
            import_tensorflow_quietly()
        return backend
    if required:
        raise MissingDependency(f"no Keras backend is installed: {BACKEND_HINT}")
    return None
