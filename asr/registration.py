"""Keras finds the toolkit's classes after ``import asr``, and ``import asr`` never imports Keras.

A ``.keras`` file names its classes (``asr>AcousticModel``, ``asr>GRU``, ...); Keras resolves
them from its registry, filled when the modules that define them are imported. The
transcription of ONNX models must stay Keras-free (and the command line picks the backend
before Keras loads), so ``import asr`` cannot import those modules itself. Instead:

- Keras already imported: the modules are imported now;
- otherwise a one-shot import hook waits for the first ``import keras`` (by anyone) and
  imports them right after Keras has finished loading.

Either way ``import asr; keras.saving.load_model("model.keras")`` works, as with keras-hub.
"""

import importlib
import importlib.abc
import importlib.util
import sys
import warnings

REGISTERING_MODULES = ("asr.layers", "asr.optim", "asr.models")  # every register_keras_serializable


def register_keras_objects():
    """Import the modules whose classes a saved model may name (needs Keras)."""
    for name in REGISTERING_MODULES:
        importlib.import_module(name)


class _RegisterAfterKeras(importlib.abc.MetaPathFinder):
    """Finds nothing itself: it wraps the real loader of ``keras`` so that the toolkit's
    classes are registered as soon as Keras is importable, then steps aside."""

    def find_spec(self, fullname, path, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)  # one shot; also keeps the lookup below from finding us
        spec = importlib.util.find_spec("keras")
        if spec is not None and spec.loader is not None:
            spec.loader = _LoaderThenRegister(spec.loader)
        return spec


class _LoaderThenRegister(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        self.loader.exec_module(module)
        try:
            register_keras_objects()
        except Exception as error:  # never let the toolkit break the user's `import keras`
            warnings.warn(f"asr could not register its Keras classes: {error!r}", stacklevel=2)

    def __getattr__(self, name):  # is_package, get_resource_reader, ...: the real loader's
        return getattr(self.loader, name)


def install():
    """Register now if Keras is loaded, else when it is (``import asr`` calls this)."""
    if sys.modules.get("keras") is not None:
        register_keras_objects()
    elif not any(isinstance(finder, _RegisterAfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterKeras())
