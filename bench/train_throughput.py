"""Training throughput: the toolkit against a hand-written PyTorch/cuDNN model, in one run.

Reference model (the yardstick, written here in plain PyTorch): Conv1D(200, kernel 11,
stride 2) + BatchNorm + 2 x BiGRU(200) (cuDNN) + BatchNorm + per-frame Dense(29), CTC, Adam.
The toolkit runs ``deepspeech`` with the same layers (plus a BatchNorm between the GRUs) via
``model.fit``, (a) on in-memory tensors and (b) through its real data loader (``CTCBatches``
over memory-mapped feature files, as the feature cache stores them), under every requested
Keras backend (one subprocess each). Prints steps/s, audio-seconds/s, peak device memory and
the ratio to the PyTorch reference measured in the same run.

    python bench/train_throughput.py                          # GPU sizes: batch 32 x 1000 frames x 161
    python bench/train_throughput.py --smoke                  # CPU sizes, a few steps (CI)
    python bench/train_throughput.py --backends jax,torch --mixed-precision
"""

import argparse
import importlib.util
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
N_FEATURES, VOCAB, UNITS, FILTERS, KERNEL, STRIDE = 161, 29, 200, 200, 11, 2
FRAME_SECONDS = 0.01  # 10 ms hop
LABEL_RATIO = 0.15  # label length / input frames (~15 characters per second of speech)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--frames", type=int, default=1000)
    p.add_argument("--steps", type=int, default=30, help="timed steps (after warm-up)")
    p.add_argument("--warmup", type=int, default=5)
    p.add_argument("--backends", default="jax,torch,tensorflow", help="Keras backends to time, if installed")
    p.add_argument("--mixed-precision", action="store_true", help="bf16 for the toolkit (and the reference)")
    p.add_argument("--smoke", action="store_true", help="tiny CPU sizes: batch 4 x 200 frames, 3 steps")
    p.add_argument("--worker", help=argparse.SUPPRESS)  # internal: time the toolkit under this backend
    p.add_argument("--output", help="write all results as JSON here")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch_size, args.frames, args.steps, args.warmup = 4, 200, 3, 1
    return args


def batch_arrays(args, seed=0):
    import numpy as np

    rng = np.random.default_rng(seed)
    labels_len = int(args.frames * LABEL_RATIO)
    features = rng.normal(size=(args.batch_size, args.frames, N_FEATURES)).astype("float32")
    labels = rng.integers(1, VOCAB, size=(args.batch_size, labels_len)).astype("int32")
    return features, labels


def summary(name, seconds_per_step, args, peak_bytes=None):
    steps = 1.0 / seconds_per_step
    audio = steps * args.batch_size * args.frames * FRAME_SECONDS
    return {"name": name, "steps_per_s": steps, "audio_s_per_s": audio,
            "peak_memory_gib": None if peak_bytes is None else peak_bytes / 2**30}


# === the yardstick: plain PyTorch + cuDNN ===
def torch_reference(args):
    import torch
    from torch import nn

    device = "cuda" if torch.cuda.is_available() else "cpu"

    class Reference(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv1d(N_FEATURES, FILTERS, KERNEL, stride=STRIDE, padding=KERNEL // 2)
            self.conv_bn = nn.BatchNorm1d(FILTERS)
            self.gru = nn.GRU(FILTERS, UNITS, num_layers=2, bidirectional=True, batch_first=True)
            self.gru_bn = nn.BatchNorm1d(2 * UNITS)
            self.logits = nn.Linear(2 * UNITS, VOCAB)

        def forward(self, x):  # (batch, time, features)
            x = torch.relu(self.conv_bn(self.conv(x.transpose(1, 2))))
            x, _ = self.gru(x.transpose(1, 2))
            return self.logits(self.gru_bn(x.transpose(1, 2)).transpose(1, 2))

    model = Reference().to(device)
    optimizer = torch.optim.Adam(model.parameters(), 1e-4)
    features, labels = (torch.as_tensor(a, device=device) for a in batch_arrays(args))
    out_frames = (args.frames - 1) // STRIDE + 1
    input_lengths = torch.full((args.batch_size,), out_frames, dtype=torch.long)
    label_lengths = torch.full((args.batch_size,), labels.shape[1], dtype=torch.long)
    autocast = torch.autocast(device, dtype=torch.bfloat16, enabled=args.mixed_precision)

    def step():
        optimizer.zero_grad(set_to_none=True)
        with autocast:
            logits = model(features)
        log_probs = torch.log_softmax(logits.float(), -1).transpose(0, 1)
        loss = nn.functional.ctc_loss(log_probs, labels, input_lengths, label_lengths, zero_infinity=True)
        loss.backward()
        optimizer.step()

    return _time(step, args, torch.cuda.synchronize if device == "cuda" else (lambda: None),
                 "pytorch cuDNN reference", peak=_torch_peak)


def _torch_peak():
    import torch

    return torch.cuda.max_memory_allocated() if torch.cuda.is_available() else None


def _time(step, args, sync, name, peak=lambda: None):
    for _ in range(args.warmup):
        step()
    sync()
    start = time.perf_counter()
    for _ in range(args.steps):
        step()
    sync()
    return summary(name, (time.perf_counter() - start) / args.steps, args, peak())


# === the toolkit, one backend per process ===
def toolkit_model(args):
    import keras

    from asr.features import FeatureConfig
    from asr.models import build_model

    if args.mixed_precision:
        keras.config.set_dtype_policy("mixed_bfloat16")
    model = build_model("deepspeech", FeatureConfig("spectrogram"), conv_filters=[FILTERS], conv_kernels=[KERNEL],
                        conv_strides=[STRIDE], units=UNITS, n_layers=2, dropout=0.0)
    keras.config.set_dtype_policy("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-4))
    return model


def _sync_and_peak():
    import keras

    backend = keras.backend.backend()
    if backend == "torch":
        import torch

        return (torch.cuda.synchronize if torch.cuda.is_available() else (lambda: None)), _torch_peak
    if backend == "jax":
        import jax

        def peak():
            stats = jax.devices()[0].memory_stats() or {}
            return stats.get("peak_bytes_in_use")

        return (lambda: None), peak  # fit() returns after syncing the training state
    return (lambda: None), (lambda: None)


def _in_memory(features, labels, steps, frames):
    import numpy as np

    n = len(features) * steps
    return ({"features": np.concatenate([features] * steps), "feature_lengths": np.full(n, frames, "int32")},
            {"labels": np.concatenate([labels] * steps), "label_lengths": np.full(n, labels.shape[1], "int32")})


def _loader(features, labels, steps, folder, batch_size):
    """CTCBatches over memory-mapped .npy files, as the feature cache stores them."""
    import keras
    import numpy as np

    from asr.batches import CTCBatches
    from asr.skip_report import SkipReport
    from asr.utterances import UtteranceSet

    n = len(features) * steps
    for i in range(len(features)):
        np.save(pathlib.Path(folder) / f"{i}.npy", features[i])
    arrays = [np.load(pathlib.Path(folder) / f"{i % len(features)}.npy", mmap_mode="r") for i in range(n)]
    data = UtteranceSet(arrays, [labels[i % len(labels)] for i in range(n)], [{"id": str(i)} for i in range(n)],
                        SkipReport())
    batches = CTCBatches(data, batch_size, shuffle=False, pad_multiple=8, workers=2)
    if keras.backend.backend() == "tensorflow":
        from asr.tf_dataset import to_tf_dataset

        return to_tf_dataset(batches)
    return batches


def _timed_fit(model, warm, timed, batch_size, sync):
    """Seconds per step of ``fit`` over ``timed`` after a warm-up ``fit`` (compilation) over ``warm``."""
    fit = dict(epochs=1, verbose=0, shuffle=False)
    if isinstance(warm, tuple):
        model.fit(*warm, batch_size=batch_size, **fit)
        start = time.perf_counter()
        model.fit(*timed, batch_size=batch_size, **fit)
        steps = len(timed[0]["features"]) // batch_size
    else:
        model.fit(warm, **fit)
        start = time.perf_counter()
        model.fit(timed, **fit)
        steps = len(timed) if hasattr(timed, "__len__") else int(timed.cardinality())
    sync()
    return (time.perf_counter() - start) / steps


def toolkit_worker(args):
    sync, peak = _sync_and_peak()
    features, labels = batch_arrays(args)
    model = toolkit_model(args)
    seconds = _timed_fit(model, _in_memory(features, labels, args.warmup, args.frames),
                         _in_memory(features, labels, args.steps, args.frames), args.batch_size, sync)
    results = [summary("in-memory tensors", seconds, args, peak())]
    with tempfile.TemporaryDirectory() as folder:
        model = toolkit_model(args)
        seconds = _timed_fit(model, _loader(features, labels, args.warmup, folder, args.batch_size),
                             _loader(features, labels, args.steps, folder, args.batch_size), args.batch_size, sync)
        results.append(summary("real data loader", seconds, args, peak()))
    print(json.dumps(results))


def run_backend(backend, args):
    command = [sys.executable, __file__, "--worker", backend, "--batch-size", str(args.batch_size), "--frames",
               str(args.frames), "--steps", str(args.steps), "--warmup", str(args.warmup)]
    command += ["--mixed-precision"] if args.mixed_precision else []
    env = {**os.environ, "KERAS_BACKEND": backend, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT)
    if result.returncode != 0:
        return [{"name": f"failed: {result.stderr.strip().splitlines()[-1] if result.stderr else '?'}"}]
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv=None):
    args = parse_args(argv)
    if args.worker:
        return toolkit_worker(args)
    rows = [("pytorch", torch_reference(args))] if importlib.util.find_spec("torch") else []
    reference = rows[0][1]["steps_per_s"] if rows else None
    for backend in args.backends.split(","):
        if importlib.util.find_spec(backend) is None:
            continue
        rows += [(f"asr/{backend}", r) for r in run_backend(backend, args)]
    print(f"batch {args.batch_size} x {args.frames} frames x {N_FEATURES} features, "
          f"{'bf16' if args.mixed_precision else 'fp32'}, {args.steps} timed steps")
    print(f"{'path':<16} {'measurement':<26} {'steps/s':>8} {'audio s/s':>10} {'peak GiB':>9} {'vs torch':>9}")
    for path, r in rows:
        if "steps_per_s" not in r:
            print(f"{path:<16} {r['name']}")
            continue
        ratio = f"{r['steps_per_s'] / reference:.2f}x" if reference else "-"
        peak = f"{r['peak_memory_gib']:.2f}" if r["peak_memory_gib"] is not None else "-"
        print(f"{path:<16} {r['name']:<26} {r['steps_per_s']:>8.2f} {r['audio_s_per_s']:>10.0f} {peak:>9} {ratio:>9}")
    if args.output:
        pathlib.Path(args.output).write_text(json.dumps([{"path": p, **r} for p, r in rows], indent=2))


if __name__ == "__main__":
    main()
