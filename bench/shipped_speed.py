"""``asr transcribe NAME``: the real-time factor of a shipped model, start-up included.

    python bench/shipped_speed.py                      # the first shipped model (asr models)
    python bench/shipped_speed.py --model en-bigru-small --output -

Each run is a fresh ``asr transcribe`` process on the shared data's LibriSpeech sample (three
speakers, ~75 minutes) and, apart, on one LibriVox file: wall seconds from process start to
exit over the audio's seconds (RTF; the target is <= 0.01 on the set). The shipped ONNX file by
name (ONNX Runtime, no Keras) is measured against the reference, the same model's ``.keras``
file on the Keras backend, in the same invocation; the ratio is reference / ONNX wall time.
Results: bench/results/shipped_speed.json.
"""

import argparse
import os
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

TARGET_RTF = 0.01


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", help="shipped model name (default: the first one asr models lists)")
    p.add_argument("--smoke", action="store_true", help="one speaker's first 10 files; nothing written unless "
                                                        "--output is given")
    p.add_argument("--output", help="JSON results (default: bench/results/shipped_speed.json)")
    return p.parse_args(argv)


def audio_sets(smoke):
    """``{set name: (paths, audio seconds)}``: the LibriSpeech sample and one LibriVox file."""
    import soundfile as sf

    from asr.paths import default_data_dir

    data = default_data_dir()
    sample = sorted(str(p) for p in (data / "librispeech-sample").rglob("*.flac"))
    sample = [p for p in sample if "/4088/" in p][:10] if smoke else sample
    one = sorted(str(p) for p in (data / "pocketsphinx-librivox").glob("*.wav"))[:1]
    return {name: (paths, sum(sf.info(p).duration for p in paths))
            for name, paths in (("librispeech_sample", sample), ("one_librivox_file", one))}


def timed_transcribe(model, paths):
    """Wall seconds of ``asr transcribe MODEL PATHS`` in a fresh process, and its text lines."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "asr", "transcribe", model, *paths, "-q"], capture_output=True,
                          text=True, env={**os.environ, "KERAS_BACKEND": os.environ.get("KERAS_BACKEND", "jax")})
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"asr transcribe {model} failed: {done.stderr.strip().splitlines()[-1:]}")
    return seconds, done.stdout.splitlines()


def main(argv=None):
    args = parse_args(argv)
    from asr.pretrained.catalog import shipped_models

    models = shipped_models()
    if not models:
        raise SystemExit("no model is shipped (asr models)")
    name = args.model or next(iter(models))
    report = {**machine_facts(os.environ.get("KERAS_BACKEND", "jax")), "model": name, "target_rtf": TARGET_RTF,
              "sets": {}}
    for set_name, (paths, audio) in audio_sets(args.smoke).items():
        onnx_seconds, onnx_text = timed_transcribe(name, paths)
        keras_seconds, keras_text = timed_transcribe(str(models[name].path("keras")), paths)
        row = {"files": len(paths), "audio_seconds": round(audio, 1), "onnx_wall_s": round(onnx_seconds, 2),
               "onnx_rtf": onnx_seconds / audio, "keras_wall_s": round(keras_seconds, 2),
               "keras_rtf": keras_seconds / audio, "keras_over_onnx": keras_seconds / onnx_seconds,
               "same_text": onnx_text == keras_text}
        report["sets"][set_name] = row
        print(f"{set_name:>20}: {len(paths)} files, {audio:.0f} s audio: ONNX by name {onnx_seconds:.2f} s (RTF "
              f"{row['onnx_rtf']:.4f}), .keras {keras_seconds:.2f} s (RTF {row['keras_rtf']:.4f}): "
              f"{row['keras_over_onnx']:.1f}x; same text: {row['same_text']}")
    rtf = report["sets"]["librispeech_sample"]["onnx_rtf"]
    print(f"RTF {rtf:.4f} on the set, start-up included: {'meets' if rtf <= TARGET_RTF else 'misses'} the "
          f"target {TARGET_RTF}")
    write_result(args.output if args.output or args.smoke else ROOT / "bench/results/shipped_speed.json", report)


if __name__ == "__main__":
    main()
