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
(``CTCBatches`` bucketing and padding one batch) is timed alone. Results go to bench/results/step_profile.json
(``--output``) with the device, versions, date and command.
"""

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from recipe_step_time import build, step_seconds  # noqa: E402  (bench/recipe_step_time.py)
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

from recipes.librispeech_mini import RECIPE  # noqa: E402

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
    total = steps["model"] + parts["loader"]
    rows = [{"part": part, "seconds": round(seconds, 4), "share": round(seconds / total, 3)}
            for part, seconds in parts.items()]
    for row in rows:
        print(f"{row['part']:>15}: {row['seconds']:.3f} s per batch of {args.batch_size} x {args.frames} frames, "
              f"{row['share']:.0%} of the step")
    xla = steps["model_xla_conv"] / steps["model"]
    print(f"whole step {steps['model']:.3f} s (+ loader); with XLA's convolution gradients "
          f"{steps['model_xla_conv']:.3f} s ({xla:.2f}x)")
    what = " ".join(__doc__.split("\n\n")[0].split())
    write_result(args.output, {"what": what, "model": RECIPE["model"], "model_params": params,
                               "batch_size": args.batch_size, "frames": args.frames,
                               "step_seconds": {k: round(v, 4) for k, v in steps.items()},
                               "xla_conv_gradients_vs_phase_split": round(xla, 3), "parts": rows,
                               **machine_facts(backend)})


if __name__ == "__main__":
    main()
