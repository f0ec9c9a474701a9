"""Where the LibriSpeech recipe's training step spends its time: the share of the convolution
front end, each BiGRU layer, the CTC loss, the optimizer and the batch loader, each measured
in the same process.

    python bench/step_profile.py              # batch 8 x 1280 frames (12.8 s), the recipe's model
    python bench/step_profile.py --smoke      # tiny sizes for CI

Shares come from differences of whole training steps (``train_on_batch``: forward, backward and
Adam for that part's weights): the recipe's model with 0, 1 and all of its BiGRU layers (each
layer's cost = the difference), and with its strided convolutions' gradients phase-split
(``asr.layers.SubsamplingConv2D``, the default) or XLA's; a step of the CTC loss alone is taken
out of the front end's share (0 layers = front end + logits + CTC), and the loader
(``CTCBatches`` bucketing and padding one batch) is timed alone. Each part's floating-point work is
counted from its shapes (``counted_gflop``: multiply-adds of the convolutions, the GRUs' input and
recurrent matmuls and the logits, x 2 flops, x 3 for forward + backward) and set beside its time and
beside the rate of one large matmul on the same cores (``matmul_gflop_per_s``): how far each part is
from what the CPU can do. Results go to bench/results/step_profile.json (``--output``) with the
device, versions, date and command.
"""

import argparse
import math
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from recipe_step_time import build, step_seconds  # noqa: E402  (bench/recipe_step_time.py)
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

from recipes.librispeech_mini import RECIPE  # noqa: E402

FORWARD_AND_BACKWARD = 3  # a matmul's backward pass is two matmuls of its size (input and weight gradients)
GRU_GATES = 3  # update, reset and candidate: each a units-wide matmul of the input and of the state
MATMUL_SIZE = 2048  # a square matmul large enough to run at the CPU's peak rate (~100 ms on 2 cores)
SMOKE_PARAMS = {"conv_filters": [4], "conv_kernels": [[5, 5]], "conv_strides": [[2, 2]], "units": 8, "n_layers": 2}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-size", type=int, default=RECIPE["batch_size"])
    p.add_argument("--frames", type=int, default=1280, help="feature frames per utterance (10 ms each)")
    p.add_argument("--steps", type=int, default=4, help="timed steps per measurement")
    p.add_argument("--smoke", action="store_true", help="batch 2 x 200 frames, 1 step, a tiny model")
    p.add_argument("--output", help="JSON results (default: bench/results/step_profile.json; smoke: none)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch_size, args.frames, args.steps = 2, 200, 1
    if args.output is None and not args.smoke:
        args.output = str(ROOT / "bench" / "results" / "step_profile.json")
    return args


def mean_seconds(function, steps):
    function()  # compiles
    start = time.perf_counter()
    for _ in range(steps):
        function()
    return (time.perf_counter() - start) / steps


def ctc_seconds(model, args, rng):
    """A training step of the CTC loss alone: logits of the model's output shape through one
    vocabulary x vocabulary Dense (a negligible matmul, so that there is a weight to train)."""
    import keras
    import numpy as np

    from asr.ctc import ctc_loss

    frames_out = int(model.output_lengths(np.array([args.frames]))[0])
    n_labels = min(args.frames * 14 // 100, frames_out)
    logits = rng.normal(size=(args.batch_size, frames_out, model.vocabulary.size)).astype("float32")
    labels = rng.integers(1, model.vocabulary.size, (args.batch_size, n_labels)).astype("int32")
    label_lengths, logit_lengths = np.full(args.batch_size, n_labels), np.full(args.batch_size, frames_out)
    head = keras.Sequential([keras.Input(logits.shape[1:]), keras.layers.Dense(model.vocabulary.size)])
    head.compile(optimizer=keras.optimizers.Adam(RECIPE["learning_rate"]),
                 loss=lambda y, p: ctc_loss(y, p, label_lengths, logit_lengths))
    return mean_seconds(lambda: head.train_on_batch(logits, labels), args.steps)


def loader_seconds(model, args, rng):
    """``CTCBatches.__getitem__`` (bucketing, padding) for one batch of cached-feature-like arrays."""

    from asr.batches import CTCBatches
    from asr.skip_report import SkipReport
    from asr.utterances import UtteranceSet

    count = 8 * args.batch_size
    features = [rng.normal(size=(int(args.frames * f), model.feature_config.n_features)).astype("float32")
                for f in rng.uniform(0.5, 1.0, count)]
    labels = [rng.integers(1, model.vocabulary.size, len(f) * 14 // 100).astype("int32") for f in features]
    data = UtteranceSet(features, labels, [{} for _ in features], SkipReport())
    batches = CTCBatches(data, batch_size=args.batch_size)
    return mean_seconds(lambda: [batches[i] for i in range(len(batches))], args.steps) / len(batches)


def counted_gflop(params, n_features, vocab_size, batch_size, frames):
    """GFLOP of one training step of the recipe's model (a 2-D front end: ``[time, freq]`` kernels
    and strides), counted from its shapes: ``(parts, recurrent)``, ``parts`` per timed part
    (``{"conv_front_end", "bigru_1", ...}``; the front end's count holds the logits Dense, as its
    timing does: the 0-layer model) and ``recurrent`` the recurrent matmuls of every layer
    (``batch x units @ units x 3 units`` per time step), a share of the layers' counts."""
    time, freq, channels, conv = frames, n_features, 1, 0
    for filters, (kt, kf), (st, sf) in zip(params["conv_filters"], params["conv_kernels"], params["conv_strides"]):
        time, freq = math.ceil(time / st), math.ceil(freq / sf)  # "same" padding
        conv += time * freq * filters * kt * kf * channels
        channels = filters
    inputs, units = freq * channels, params["units"]
    recurrent = 2 * time * GRU_GATES * units * units  # per layer, two directions
    out = {"conv_front_end": conv + time * inputs * vocab_size}
    for n in range(1, params["n_layers"] + 1):
        out[f"bigru_{n}"] = 2 * time * GRU_GATES * units * inputs + recurrent
        inputs = 2 * units
    gflop = 2 * FORWARD_AND_BACKWARD * batch_size / 1e9  # per multiply-add
    return {part: macs * gflop for part, macs in out.items()}, params["n_layers"] * recurrent * gflop


def significant(value, digits=4):
    """``value`` to ``digits`` significant digits (a smoke run's counts are ~1e-4 GFLOP)."""
    return float(f"{value:.{digits}g}")


def part_rows(parts, gflop, total):
    """One row per part: seconds, share of ``total``, and where counted, GFLOP and GFLOP/s (None
    when a part's time, a difference of two steps, is not above zero)."""
    rows = []
    for part, seconds in parts.items():
        row = {"part": part, "seconds": round(seconds, 4), "share": round(seconds / total, 3)}
        if part in gflop:
            rate = round(gflop[part] / seconds, 1) if seconds > 0 else None
            row.update(gflop=significant(gflop[part]), gflop_per_s=rate)
        rows.append(row)
    return rows


def matmul_gflop_per_s(steps):
    """The cores' rate on one ``MATMUL_SIZE``-square float32 matmul (keras.ops, result fetched)."""
    import keras
    import numpy as np

    a = keras.ops.convert_to_tensor(np.ones((MATMUL_SIZE, MATMUL_SIZE), "float32"))
    seconds = mean_seconds(lambda: keras.ops.convert_to_numpy(keras.ops.matmul(a, a)), steps)
    return 2 * MATMUL_SIZE ** 3 / seconds / 1e9


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    import numpy as np

    params = SMOKE_PARAMS if args.smoke else RECIPE["model_params"]
    rng = np.random.default_rng(0)
    steps = {}
    for name, layers, conv_backward in (("model", params["n_layers"], "phase-split"),
                                        ("model_xla_conv", params["n_layers"], "xla"),
                                        *((f"{n}_bigru", n, "phase-split") for n in range(params["n_layers"]))):
        model = build(RECIPE["model"], {**params, "n_layers": layers}, "float32", conv_backward)
        steps[name] = step_seconds(model, args.batch_size, args.frames, args.steps, rng)
    ctc = ctc_seconds(model, args, rng)
    parts = {"conv_front_end": steps["0_bigru"] - ctc, "ctc_loss": ctc}
    for n in range(1, params["n_layers"] + 1):
        parts[f"bigru_{n}"] = steps["model" if n == params["n_layers"] else f"{n}_bigru"] - steps[f"{n - 1}_bigru"]
    parts["loader"] = loader_seconds(model, args, rng)
    gflop, recurrent = counted_gflop(params, model.feature_config.n_features, model.vocabulary.size,
                                     args.batch_size, args.frames)
    rows = part_rows(parts, gflop, steps["model"] + parts["loader"])
    for row in rows:
        rate = f", {row['gflop']} GFLOP at {row['gflop_per_s']} GFLOP/s" if "gflop" in row else ""
        print(f"{row['part']:>15}: {row['seconds']:.3f} s per batch of {args.batch_size} x {args.frames} frames, "
              f"{row['share']:.0%} of the step{rate}")
    peak = matmul_gflop_per_s(args.steps)
    step_gflop = sum(gflop.values())
    step_rate = step_gflop / steps["model"]
    print(f"the step: {step_gflop:.1f} GFLOP at {step_rate:.0f} GFLOP/s, of which the recurrent matmuls "
          f"{recurrent:.1f}; a {MATMUL_SIZE}-square matmul on these cores: {peak:.0f} GFLOP/s")
    xla = steps["model_xla_conv"] / steps["model"]
    print(f"whole step {steps['model']:.3f} s (+ loader); with XLA's convolution gradients "
          f"{steps['model_xla_conv']:.3f} s ({xla:.2f}x)")
    what = " ".join(__doc__.split("\n\n")[0].split())
    write_result(args.output, {"what": what, "model": RECIPE["model"], "model_params": params,
                               "batch_size": args.batch_size, "frames": args.frames,
                               "step_seconds": {k: round(v, 4) for k, v in steps.items()},
                               "xla_conv_gradients_vs_phase_split": round(xla, 3), "parts": rows,
                               "step_gflop": significant(step_gflop), "recurrent_matmul_gflop": significant(recurrent),
                               "step_gflop_per_s": round(step_rate, 1), "matmul_gflop_per_s": round(peak, 1),
                               **machine_facts(backend)})


if __name__ == "__main__":
    main()
