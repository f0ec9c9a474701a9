"""The models shipped inside the package, usable by name wherever a model path is::

    asr models                               # what is shipped: size, data, hours, CER per test set
    asr transcribe en-bigru-small a.wav      # no training, no download
    asr train --init-from en-bigru-small ...  # fine-tune it

Each model ships twice, in ``asr/pretrained/models/``: ``NAME.onnx`` (ONNX Runtime, the light
``[onnx]`` install, float16 weight storage) for inference and ``NAME.keras`` for fine-tuning.
``models.json`` there describes them (the model card's numbers; ``docs/models.md`` is the card).

A name resolves to a file by what is asked of it (``resolve_model``): inference takes the ONNX
file when onnxruntime is installed, else the ``.keras`` one; loading weights (``--init-from``,
export, ``asr.models.load_model``) takes the ``.keras`` one; ``NAME.onnx`` and ``NAME.keras``
choose. An existing file of that name always wins over the shipped model.
"""

import dataclasses
import importlib.util
import json
import os
import pathlib

MODELS_DIR = pathlib.Path(__file__).parent / "models"
CATALOG = "models.json"
FORMATS = ("onnx", "keras")


@dataclasses.dataclass(frozen=True)
class ShippedModel:
    """One shipped model as ``models.json`` describes it (every number measured when it shipped).

    ``results``: ``{test set: {"cer", "wer", "utterances"}}`` (greedy decoding, the ONNX file);
    ``training``: data sources with hours and licenses, epochs, CPU-hours, the command;
    ``check``: a shared audio file (relative to ``$ASR_DATA_DIR``) and the text both files give.
    """

    name: str
    description: str
    architecture: str
    parameters: int
    version: str
    files: dict
    training: dict
    results: dict
    check: dict
    card: str = "docs/models.md"
    folder: str = dataclasses.field(default="", compare=False)  # where its files are (not in models.json)

    def path(self, fmt):
        """The shipped file of format ``fmt`` (``"onnx"`` or ``"keras"``)."""
        return pathlib.Path(self.folder or MODELS_DIR) / self.files[fmt]

    def to_dict(self):
        """The ``models.json`` entry."""
        return {key: value for key, value in dataclasses.asdict(self).items() if key != "folder"}

    def size_mb(self):
        return sum(self.path(fmt).stat().st_size for fmt in self.files if self.path(fmt).is_file()) / 1e6


def shipped_models(models_dir=None):
    """Every shipped model, by name (``{}`` when none is shipped)."""
    folder = pathlib.Path(models_dir or MODELS_DIR)
    if not (folder / CATALOG).is_file():
        return {}
    entries = json.loads((folder / CATALOG).read_text())
    return {entry["name"]: ShippedModel(**entry, folder=str(folder)) for entry in entries}


def _inference_format():
    return "onnx" if importlib.util.find_spec("onnxruntime") is not None else "keras"


def resolve_model(path, purpose="inference"):
    """The file to load for ``path``: ``path`` itself when it exists (or is not a shipped name),
    else the shipped model's file for ``purpose`` (``"inference"``: ONNX when onnxruntime is
    installed; ``"weights"``: ``.keras``). ``NAME.onnx``/``NAME.keras`` choose the format.

    Returns ``path`` unchanged when nothing is shipped under that name: the loader then names the
    missing file (``asr.models.load_model`` / ``asr.onnx_runtime.load_model``).
    """
    path = os.fspath(path)
    if os.path.lexists(path):
        return path
    models, name, fmt = shipped_models(), path, None
    stem, dot, suffix = path.rpartition(".")
    if dot and suffix.lower() in FORMATS and stem in models:
        name, fmt = stem, suffix.lower()
    if name not in models:
        return path
    fmt = fmt or ("keras" if purpose == "weights" else _inference_format())
    return str(models[name].path(fmt))


def not_found_hint(path):
    """The end of a missing model file's message: the shipped names, for a path that looks like one."""
    models = shipped_models()
    if not models or os.sep in os.fspath(path) or (os.altsep and os.altsep in os.fspath(path)):
        return ""
    return f" (nor a shipped model: {', '.join(sorted(models))}; asr models lists them)"
