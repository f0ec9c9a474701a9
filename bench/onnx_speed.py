"""ONNX forward-pass speed: the GRU layers as ONNX's ``GRU`` operator (``asr export``'s default)
against the per-step ``Loop`` tf2onnx makes of Keras' recurrence (``--recurrence loop``).

    python bench/onnx_speed.py --model en-bigru-small.keras     # a .keras file or a shipped name
    python bench/onnx_speed.py --model m.keras --smoke           # short, for CI

Both exports of the same model run in this process on random features of ``--seconds`` of
audio at batch 1, 4 and 16 (ONNX Runtime on the CPU, default threads): seconds per forward
pass, audio seconds per second, and the Loop's time over the operator's (the speed-up). The
logits of the two graphs are compared on a padded batch. Results: bench/results/onnx_speed.json.
"""

import argparse
import os
import pathlib
import sys
import tempfile
import time

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # as the asr command runs (asr/cli/__init__.py), before NumPy loads
import numpy as np  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

BATCHES = (1, 4, 16)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help=".keras model or a shipped model's name")
    p.add_argument("--seconds", type=float, default=10.0, help="audio per input (default: 10)")
    p.add_argument("--repeat-seconds", type=float, default=3.0, help="time each cell this long (default: 3)")
    p.add_argument("--smoke", action="store_true", help="2 s inputs, 0.2 s per cell; nothing written unless "
                                                        "--output is given")
    p.add_argument("--output", help="JSON results (default: bench/results/onnx_speed.json)")
    return p.parse_args(argv)


def seconds_per_pass(model, features, repeat_seconds):
    feed = {"features": features, "feature_lengths": np.full(len(features), features.shape[1], np.int32)}
    model(feed)  # warm-up: the first run plans memory
    start, runs = time.perf_counter(), 0
    while time.perf_counter() - start < repeat_seconds or runs < 2:
        model(feed)
        runs += 1
    return (time.perf_counter() - start) / runs


def main(argv=None):
    args = parse_args(argv)
    from asr.export import export_onnx
    from asr.onnx_runtime import OnnxModel

    seconds, repeat = (2.0, 0.2) if args.smoke else (args.seconds, args.repeat_seconds)
    report = {**machine_facts("onnxruntime"), "model": args.model, "seconds": seconds, "rows": []}
    with tempfile.TemporaryDirectory() as folder:
        models = {}
        for recurrence in ("gru", "loop"):
            export_onnx(args.model, f"{folder}/{recurrence}.onnx", recurrence=recurrence)
            models[recurrence] = OnnxModel(f"{folder}/{recurrence}.onnx")
        frames = int(seconds * models["gru"].feature_config.sample_rate / models["gru"].feature_config.hop_length)
        x = np.random.default_rng(0).normal(size=(max(BATCHES), frames, models["gru"].feature_config.n_features))
        x = x.astype(np.float32)
        lengths = np.linspace(frames, frames // 3, 3).astype(np.int32)
        (a, n), (b, _) = (m({"features": x[:3], "feature_lengths": lengths}) for m in models.values())
        report["max_logit_difference"] = float(max(np.abs(a[i, :k] - b[i, :k]).max() for i, k in enumerate(n)))
        for batch in BATCHES:
            times = {name: seconds_per_pass(m, x[:batch], repeat) for name, m in models.items()}
            row = {"batch": batch, **{f"{name}_seconds": round(t, 4) for name, t in times.items()},
                   "gru_audio_per_second": round(batch * seconds / times["gru"], 1),
                   "loop_audio_per_second": round(batch * seconds / times["loop"], 1),
                   "speedup": round(times["loop"] / times["gru"], 2)}
            report["rows"].append(row)
            print(f"batch {batch:2d}: GRU operator {times['gru']:.4f} s, Loop {times['loop']:.4f} s per pass: "
                  f"{row['speedup']:.2f}x")
    print(f"largest logit difference between the graphs: {report['max_logit_difference']:.2e}")
    write_result(args.output if args.output or args.smoke else ROOT / "bench/results/onnx_speed.json", report)
    return report


if __name__ == "__main__":
    main()
