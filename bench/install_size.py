"""The light install, measured: ``pip install "WHEEL[onnx]"`` into a fresh virtualenv, its
size, install time, ``import asr`` time and a cold ``asr transcribe model.onnx`` of one
LibriVox file, for this checkout's wheel and (``--reference-wheel``) an older one, with ratios.

    python bench/install_size.py --reference-wheel OLD.whl     # bench/results/install_size.json
    python bench/install_size.py --smoke                      # this wheel only, no result file

The model is the recipe's architecture (untrained: inference cost does not depend on the
weights), exported here with the TensorFlow backend. "cold" is the first command after the
install (Python compiles every module it imports); "warm" the best of three runs after it.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import shlex
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import write_result  # noqa: E402  (bench/record.py)

from recipes.librispeech_mini import RECIPE  # noqa: E402

FRAMEWORKS = ("keras", "tensorflow", "jax", "torch", "librosa", "scipy", "numba")
REPEATS = 3


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--reference-wheel", help="an older wheel to measure the same way (the ratios' denominator)")
    p.add_argument("--reference-label", default="", help="what the reference wheel is (e.g. its commit)")
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "install_size.json"))
    p.add_argument("--smoke", action="store_true", help="this wheel only, nothing written")
    return p.parse_args(argv)


def _seconds(command, **kwargs):
    start = time.perf_counter()
    subprocess.run(command, check=True, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start


def _folder_mb(path):
    return sum(f.stat().st_size for f in pathlib.Path(path).rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def measure(wheel, model, audio, work):
    """Install ``wheel[onnx]`` into a new virtualenv under ``work`` and time its use."""
    env_dir = work / f"venv-{pathlib.Path(wheel).stem}"
    subprocess.run([sys.executable, "-m", "venv", str(env_dir)], check=True)
    python, asr = env_dir / "bin" / "python", env_dir / "bin" / "asr"
    install = _seconds([str(python), "-m", "pip", "install", "-q", f"{wheel}[onnx]"])
    transcribe = [str(asr), "transcribe", str(model), str(audio), "-q"]
    cold = _seconds(transcribe)
    warm = min(_seconds(transcribe) for _ in range(REPEATS))
    imports = min(_seconds([str(python), "-c", "import asr"]) for _ in range(REPEATS))
    text = subprocess.run(transcribe, check=True, capture_output=True, text=True).stdout.strip()
    probe = f"import importlib.util as u, json; print(json.dumps([m for m in {FRAMEWORKS!r} if u.find_spec(m)]))"
    present = json.loads(subprocess.run([str(python), "-c", probe], check=True, capture_output=True,
                                        text=True).stdout)
    return {"wheel": pathlib.Path(wheel).name, "wheel_kb": round(pathlib.Path(wheel).stat().st_size / 1024, 1),
            "venv_mb": round(_folder_mb(env_dir), 1), "install_s": round(install, 1),
            "import_asr_s": round(imports, 3), "transcribe_cold_s": round(cold, 2),
            "transcribe_warm_s": round(warm, 2), "heavy_packages_installed": present, "text": text}


def export_recipe_model(folder):
    code = f"""
import numpy as np
from asr.export import export_onnx
from asr.features import FeatureConfig
from asr.models import build_model
model = build_model({RECIPE["model"]!r}, FeatureConfig({RECIPE["features"]!r}), **{RECIPE["model_params"]!r})
rng = np.random.default_rng(0)
model.set_normalization(rng.normal(size=80).astype("float32"), rng.uniform(1, 2, 80).astype("float32"))
model.save({str(folder / "recipe.keras")!r})
export_onnx({str(folder / "recipe.keras")!r}, {str(folder / "recipe.onnx")!r})
"""
    subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, cwd=ROOT,
                   env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    return folder / "recipe.onnx"


def main(argv=None):
    args = parse_args(argv)
    from asr.paths import default_data_dir

    audio = sorted((default_data_dir() / "pocketsphinx-librivox").glob("*.wav"))[0]
    with tempfile.TemporaryDirectory() as tmp:
        work = pathlib.Path(tmp)
        subprocess.run([sys.executable, "-m", "build", "--wheel", "--outdir", str(work), str(ROOT)], check=True,
                       capture_output=True)
        (wheel,) = work.glob("*.whl")
        model = export_recipe_model(work)
        rows = {"this": measure(wheel, model, audio, work)}
        if args.reference_wheel and not args.smoke:
            rows["reference"] = measure(pathlib.Path(args.reference_wheel).resolve(), model, audio, work)
            rows["reference"]["label"] = args.reference_label
    report = {"what": "pip install WHEEL[onnx] in a fresh virtualenv; asr transcribe of one 7.1 s LibriVox file "
                      "with the recipe's architecture exported to ONNX", "audio": audio.name, **rows}
    if "reference" in rows:
        report["ratios_this_over_reference"] = {
            key: round(rows["this"][key] / rows["reference"][key], 3)
            for key in ("venv_mb", "install_s", "import_asr_s", "transcribe_cold_s", "transcribe_warm_s")}
    report.update(python=platform.python_version(), cpus=os.cpu_count(),
                  device=platform.processor() or platform.machine(), date=datetime.date.today().isoformat(),
                  command=shlex.join(["python", *sys.argv]))
    print(json.dumps(report, indent=2))
    if not args.smoke:
        write_result(args.output, report)


if __name__ == "__main__":
    main()
