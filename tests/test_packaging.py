"""What a user installs: the wheel and sdist, the Keras-free ``[onnx]`` install, one version,
Keras' own loader after ``import asr``, and a clear line when an extra is missing."""

import json
import os
import re
import subprocess
import sys
import tarfile
import venv
import zipfile

import pytest
from conftest import DATA_DIR, ROOT, run_python

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

FRAMEWORKS = ("keras", "tensorflow", "jax", "torch")
HEAVY = ("librosa", "scipy", "numba", "matplotlib")  # not needed to transcribe: the light install has none
# Makes the frameworks look not installed, as in a venv without them: find_spec gives None and
# importing raises ModuleNotFoundError.
HIDE_FRAMEWORKS = f"""
import sys
sys.modules.update(dict.fromkeys({FRAMEWORKS!r}))
"""


def test_one_version_everywhere():
    from asr import __version__

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    assert project["name"] == "keras-asr" and "version" in project["dynamic"]
    assert re.fullmatch(r"\d+\.\d+\.\d+", __version__)
    changelog = (ROOT / "CHANGELOG.md").read_text(encoding="utf-8")
    assert f"## {__version__}" in changelog


def test_keras_load_model_finds_asr_classes_after_import_asr(small_model_path):
    """The ordinary Keras way, in fresh processes: whichever of Keras and asr comes first, and
    when Keras was first imported by one of the toolkit's own modules; ``import asr`` alone
    imports no Keras, and nothing warns."""
    load = f"print(type(keras.saving.load_model({str(small_model_path)!r})).__name__)"
    cases = {"import asr, sys; print('keras' in sys.modules); import keras": ["False", "AcousticModel"],
             "import keras; import asr": ["AcousticModel"],
             "from asr.evaluate import evaluate; import keras": ["AcousticModel"]}
    for imports, expected in cases.items():
        code = f"import warnings; warnings.simplefilter('error', UserWarning); {imports}; {load}"
        assert run_python(code).split() == expected, imports


def test_registration_imports_every_module_that_registers_a_class():
    registering = sorted(".".join(path.relative_to(ROOT).with_suffix("").parts)
                         for path in (ROOT / "asr").rglob("*.py")
                         if "register_keras_serializable" in path.read_text(encoding="utf-8"))
    code = ("import sys, keras; from asr.registration import register_keras_objects; register_keras_objects(); "
            f"print([m for m in {registering!r} if m not in sys.modules])")
    assert run_python(code).strip().splitlines()[-1] == "[]"


def test_without_a_backend_each_command_names_the_extra(tmp_path):
    code = HIDE_FRAMEWORKS + f"""
from asr.cli import main
sys.exit(main(["train", "--train-data", {str(tmp_path)!r}, "--output-dir", {str(tmp_path / "run")!r}]))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2, result.stderr
    assert result.stderr.strip().splitlines() == [
        "asr train: error: this needs Keras with a backend and keras is not installed: "
        "pip install 'keras-asr[jax]' (or [torch], [tensorflow])"]


@pytest.fixture(scope="module")
def dist(tmp_path_factory):
    """The sdist and the wheel, built as a release would be (``python -m build``)."""
    pytest.importorskip("build")
    out = tmp_path_factory.mktemp("dist")
    subprocess.run([sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)], check=True,
                   capture_output=True, text=True)
    (wheel,), (sdist,) = out.glob("*.whl"), out.glob("*.tar.gz")
    return wheel, sdist


def test_wheel_and_sdist_hold_the_package(dist):
    wheel, sdist = dist
    from asr import __version__

    assert wheel.name == f"keras_asr-{__version__}-py3-none-any.whl"
    names = zipfile.ZipFile(wheel).namelist()
    sources = {str(p.relative_to(ROOT)) for p in (ROOT / "asr").rglob("*.py")}
    assert sources <= set(names), sorted(sources - set(names))
    catalogue = {f"asr/catalogue/{p.name}" for p in (ROOT / "data" / "catalogue").glob("*.json")}
    assert catalogue and catalogue <= set(names)  # the top-level data/catalogue, installed as asr.catalogue
    assert "asr/serving/page.html" in names  # asr serve's web page
    from asr.pretrained.catalog import shipped_models

    for model in shipped_models().values():  # asr models, and each shipped model's two files
        assert {f"asr/pretrained/models/{name}" for name in ("models.json", *model.files.values())} <= set(names)
    entry_points = zipfile.ZipFile(wheel).read(f"keras_asr-{__version__}.dist-info/entry_points.txt").decode()
    assert "asr = asr.cli:main" in entry_points
    with tarfile.open(sdist) as tar:
        members = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    assert {"README.md", "CHANGELOG.md", "pyproject.toml"} <= members


@pytest.mark.slow
def test_onnx_only_install_transcribes_without_any_framework(dist, tmp_path, librivox_dir):
    """``pip install "keras-asr[onnx]"`` into a clean virtualenv: the command works, no
    framework is importable, and an exported model transcribes a real LibriVox file as it
    does here."""
    pytest.importorskip("tf2onnx")
    from asr.export import export_onnx
    from asr.inference import transcribe
    from asr.onnx_runtime import load_model

    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    bin_dir = env_dir / "bin"
    subprocess.run([str(bin_dir / "python"), "-m", "pip", "install", "-q", f"{dist[0]}[onnx]"], check=True,
                   capture_output=True, text=True)
    clean_env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "KERAS_BACKEND")}

    def run(*args):
        return subprocess.run([*map(str, args)], capture_output=True, text=True, env=clean_env, cwd=tmp_path)

    from asr import __version__

    assert run(bin_dir / "asr", "--version").stdout.strip() == f"asr {__version__}"
    probe = run(bin_dir / "python", "-c", "import importlib.util, json; import asr; "
                f"print(json.dumps([importlib.util.find_spec(m) is not None for m in {FRAMEWORKS + HEAVY!r}]))")
    assert json.loads(probe.stdout) == [False] * len(FRAMEWORKS + HEAVY), probe.stderr

    from asr.features import FeatureConfig
    from asr.models import build_model

    model = build_model("cnn_rnn", FeatureConfig("log_mel"), filters=16, units=16, padding="same")
    model.set_normalization(*_statistics(80))
    model.save(tmp_path / "small.keras")
    export_onnx(tmp_path / "small.keras", tmp_path / "small.onnx")
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    result = run(bin_dir / "asr", "transcribe", tmp_path / "small.onnx", wav, "--format", "jsonl", "-q")
    assert result.returncode == 0, result.stderr
    expected = next(iter(transcribe(load_model(tmp_path / "small.onnx"), [str(wav)])))
    assert json.loads(result.stdout)["text"] == expected.text
    train = run(bin_dir / "asr", "train", "--train-data", librivox_dir, "--output-dir", tmp_path / "run")
    assert train.returncode == 2 and "pip install 'keras-asr[jax]'" in train.stderr
    from asr.pretrained.catalog import shipped_models

    for name, model in shipped_models().items():  # a shipped model by name: no training, no download
        shipped = run(bin_dir / "asr", "transcribe", name, DATA_DIR / model.check["audio"], "--format", "jsonl", "-q")
        assert shipped.returncode == 0, shipped.stderr
        assert json.loads(shipped.stdout)["text"] == model.check["text"]
        assert name in run(bin_dir / "asr", "models").stdout


def _statistics(n):
    import numpy as np

    rng = np.random.default_rng(0)
    return rng.normal(size=n).astype("float32"), rng.uniform(1, 2, n).astype("float32")
