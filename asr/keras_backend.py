"""Choosing a Keras backend for the command line and recipes (library code never does)."""

import importlib.util
import os

from asr.paths import default_cache_dir

PREFERENCE = ("jax", "tensorflow", "torch")  # fastest first: a CPU CTC step is ~5x faster on JAX


def choose_backend():
    """Set ``KERAS_BACKEND`` to the fastest installed backend unless the user already set it.

    Must run before Keras is imported; returns the backend in effect. Also quiets
    TensorFlow's C++ start-up logging and turns on JAX's persistent compilation cache (one
    XLA compilation per padded batch shape costs seconds on a CPU; later runs reuse them),
    unless the user configured these.
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("JAX_COMPILATION_CACHE_DIR", str(default_cache_dir() / "jax"))  # XLA programs
    if os.environ.get("KERAS_BACKEND"):
        return os.environ["KERAS_BACKEND"]
    for name in PREFERENCE:
        if importlib.util.find_spec(name) is not None:
            os.environ["KERAS_BACKEND"] = name
            return name
    raise RuntimeError(f"no Keras backend installed: install one of {PREFERENCE} (e.g. pip install 'asr[jax]')")
