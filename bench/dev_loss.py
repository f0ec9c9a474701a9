"""The dev loss after every epoch: NumPy (``asr.ctc.ctc_nll``, what training uses) against the
backend's ``keras.ops.ctc_loss`` in padded batches, on random logits of dev-utterance lengths.

    KERAS_BACKEND=tensorflow python bench/dev_loss.py --utterances 16
    python bench/dev_loss.py --utterances 4 --output -          # smoke

Prints both times, their ratio (backend / NumPy) and the largest relative difference of the
losses. Results: bench/results/dev_loss_<backend>.json.
"""

import argparse
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

VOCAB = 29  # blank + 26 letters + space + apostrophe
FRAMES = (200, 1500)  # 2-15 s at 10 ms: LibriSpeech dev utterances
FRAMES_PER_LABEL = 8  # ~12 characters per second of speech


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--utterances", type=int, default=100)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--output", help="JSON results (default: bench/results/dev_loss_<backend>.json; - prints)")
    return p.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    import keras
    from keras import ops

    from asr.callbacks import ctc_losses
    from asr.ctc import ctc_loss
    from asr.padding import PAD_MULTIPLE, pad_batch

    rng = np.random.default_rng(0)
    logits = [rng.normal(size=(n, VOCAB)).astype("float32") for n in rng.integers(*FRAMES, args.utterances)]
    labels = [rng.integers(1, VOCAB, size=len(lg) // FRAMES_PER_LABEL).astype("int32") for lg in logits]
    start = time.perf_counter()
    numpy_losses = ctc_losses(logits, labels, args.batch_size)
    numpy_seconds = time.perf_counter() - start
    start, backend_losses = time.perf_counter(), []
    for i in range(0, len(logits), args.batch_size):
        padded, frames = pad_batch(logits[i: i + args.batch_size], PAD_MULTIPLE)
        label_batch, label_lengths = pad_batch(labels[i: i + args.batch_size], dtype=np.int32)
        backend_losses.append(ops.convert_to_numpy(ctc_loss(label_batch, padded, label_lengths, frames)))
    backend_seconds = time.perf_counter() - start
    difference = np.max(np.abs(numpy_losses - np.concatenate(backend_losses)) / np.abs(numpy_losses))
    backend = keras.backend.backend()
    report = {**machine_facts(backend), "utterances": args.utterances, "batch_size": args.batch_size,
              "numpy_seconds": round(numpy_seconds, 3), "backend_seconds": round(backend_seconds, 3),
              "backend_over_numpy": round(backend_seconds / numpy_seconds, 2),
              "max_relative_difference": float(difference)}
    print(f"{backend}: {args.utterances} utterances, NumPy {numpy_seconds:.2f} s, backend {backend_seconds:.2f} s "
          f"({report['backend_over_numpy']}x), largest relative difference {difference:.1e}")
    write_result(args.output or ROOT / "bench" / "results" / f"dev_loss_{backend}.json", report)
    return report


if __name__ == "__main__":
    main()
