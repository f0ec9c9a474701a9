"""Keras finds the toolkit's classes after ``import asr``, and ``import asr`` never imports Keras.

A ``.keras`` file names its classes (``asr>AcousticModel``, ``asr>GRU``, ...); Keras resolves
them from its registry, filled when the modules that define them are imported. The
transcription of ONNX models must stay Keras-free (and the command line picks the backend
before Keras loads), so ``import asr`` cannot import those modules itself. Instead:

- Keras already imported: the modules are imported now;
- otherwise a one-shot import hook waits for the first ``import keras`` and imports them
  right after Keras has finished loading. When that import came from one of the toolkit's
  own modules while it was loading, importing them then would be circular: they are
  imported instead at Keras' first lookup of an ``asr>`` name it does not know.

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


def _toolkit_module_loading():
    """Whether an ``asr`` module is being imported right now (its body still running)."""
    return any(name.partition(".")[0] == "asr" and getattr(getattr(module, "__spec__", None), "_initializing", False)
               for name, module in list(sys.modules.items()) if module is not None)


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
        if _toolkit_module_loading():
            _register_at_first_lookup()
            return
        try:
            register_keras_objects()
        except Exception as error:  # never let the toolkit break the user's `import keras`
            warnings.warn(f"asr could not register its Keras classes: {error!r}", stacklevel=2)

    def __getattr__(self, name):  # is_package, get_resource_reader, ...: the real loader's
        return getattr(self.loader, name)


def _register_at_first_lookup():
    """Wrap Keras' registry lookup so that an unknown ``asr>NAME`` imports the registering
    modules once, then asks again (Keras' deserializer calls the lookup through its module)."""
    try:
        from keras.src.saving import object_registration as registry
    except ImportError:  # another Keras layout: the toolkit's import chain registers what it loads
        return
    original = registry.get_registered_object

    def get_registered_object(name, custom_objects=None, module_objects=None):
        found = original(name, custom_objects, module_objects)
        if found is None and isinstance(name, str) and name.startswith("asr>"):
            registry.get_registered_object = original
            register_keras_objects()
            found = original(name, custom_objects, module_objects)
        return found

    registry.get_registered_object = get_registered_object


def install():
    """Register now if Keras is loaded, else when it is (``import asr`` calls this)."""
    if sys.modules.get("keras") is not None:
        register_keras_objects()
    elif not any(isinstance(finder, _RegisterAfterKeras) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterKeras())
