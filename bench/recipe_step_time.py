"""Training-step cost of the LibriSpeech recipe's model at several batch sizes, dtype policies,
convolution backward passes, GRU kernels, BiGRU widths and depths and other model variants, per
utterance, as a ratio to the first in the same process: does a larger batch, bf16, the phase-split
convolution gradient, the hoisted GRU, a narrower or a coarser recurrence buy more epochs per CPU hour?

    python bench/recipe_step_time.py                      # batch 8, 16, 24 x 1280 frames (12.8 s)
    python bench/recipe_step_time.py --batch-sizes 8 --conv-backward xla,phase-split \
        --output bench/results/recipe_step_time_conv.json  # asr.layers.SubsamplingConv2D vs XLA's
    python bench/recipe_step_time.py --smoke              # tiny sizes for CI
    python bench/recipe_step_time.py --batch-sizes 8 --policies float32,mixed_bfloat16 \
        --output bench/results/recipe_step_time_bf16.json   # does bf16 (--mixed-precision) pay here?
    python bench/recipe_step_time.py --batch-sizes 8 --gru keras,hoisted --n-layers 2,3 \
        --output bench/results/recipe_step_time_gru.json    # asr.layers.GRU's kernels (JAX), 2 or 3 BiGRU
    python bench/recipe_step_time.py --batch-sizes 8 --units 256,192 --n-layers 2,3 \
        --output bench/results/recipe_step_time_depth.json  # narrower and deeper at the same step time?
    python bench/recipe_step_time.py --batch-sizes 8 --variant '{}' \
        --variant '{"conv_strides": [[2, 2], [4, 2]], "output_upsample": 2, "n_layers": 3}' \
        --output bench/results/recipe_step_time_stride8.json  # the recurrence at 80 ms, CTC at 40 ms

Random features and labels of fixed shape (one compiled shape per batch size); the first step
compiles and is not timed. Results go to bench/results/recipe_step_time.json (``--output``)
with the device, versions, date and command.
"""

import argparse
import itertools
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

from recipes.librispeech_mini import RECIPE  # noqa: E402

LABEL_CHARS_PER_SECOND = 14  # LibriSpeech read speech: ~14 characters per second of audio


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--batch-sizes", default="8,16,24", help="comma-separated; the first is the reference")
    p.add_argument("--frames", type=int, default=1280, help="feature frames per utterance (10 ms each)")
    p.add_argument("--steps", type=int, default=4, help="timed steps per batch size")
    p.add_argument("--policies", default="float32", help="comma-separated Keras dtype policies, each timed at "
                                                          "every batch size (mixed_bfloat16: --mixed-precision)")
    p.add_argument("--conv-backward", default="phase-split", help="comma-separated, each timed at every batch "
                   "size: phase-split (asr.layers.SubsamplingConv2D on JAX's CPU backend) or xla (Keras' Conv2D)")
    p.add_argument("--gru", default="auto", help="comma-separated asr.layers.GRU implementations, each timed at "
                   "every batch size: auto, keras, hoisted or fused (JAX), cudnn (torch)")
    p.add_argument("--n-layers", default="", help="comma-separated BiGRU layer counts, each timed at every batch size "
                   "(default: the recipe's)")
    p.add_argument("--units", default="", help="comma-separated BiGRU widths, each timed with every layer count "
                   "(default: the recipe's)")
    p.add_argument("--variant", action="append", default=[], metavar="JSON",
                   help="repeatable: a JSON object of model parameters overriding the recipe's (any "
                        "deepspeech argument, e.g. conv_strides, output_upsample), each timed with every other axis")
    p.add_argument("--smoke", action="store_true", help="batch 2 and 4 x 200 frames, 1 step, a tiny model")
    p.add_argument("--output", help="JSON results (default: bench/results/recipe_step_time.json; smoke: none)")
    args = p.parse_args(argv)
    if args.smoke:
        args.batch_sizes, args.frames, args.steps = "2,4", 200, 1
    args.batch_sizes = [int(b) for b in args.batch_sizes.split(",")]
    args.policies = args.policies.split(",")
    args.conv_backward = args.conv_backward.split(",")
    args.gru = args.gru.split(",")
    for axis in ("n_layers", "units"):
        text = getattr(args, axis)
        try:
            values = [int(n) for n in text.split(",")] if text else [None]
        except ValueError:
            values = [0]
        if text and min(values) < 1:  # 0 would silently mean "the recipe's"
            p.error(f"--{axis.replace('_', '-')} {text}: must be comma-separated whole numbers above 0")
        setattr(args, axis, values)
    args.variant = [_variant(p, text) for text in args.variant] or [{}]
    if not set(args.conv_backward) <= {"phase-split", "xla"}:
        p.error(f"--conv-backward {','.join(args.conv_backward)}: each must be phase-split or xla")
    if args.output is None and not args.smoke:
        args.output = str(ROOT / "bench" / "results" / "recipe_step_time.json")
    return args


def _variant(parser, text):
    """One ``--variant``: a JSON object, or a one-line parser error naming it."""
    try:
        variant = json.loads(text)
    except json.JSONDecodeError as error:
        parser.error(f"--variant {text}: not JSON ({error.msg})")
    if not isinstance(variant, dict):
        parser.error(f"--variant {text}: must be a JSON object of model parameters")
    return variant


def step_seconds(model, batch, frames, steps, rng):
    """Mean seconds of one training step on a random batch, after one untimed (compiling) step."""
    import numpy as np

    n_labels = frames * LABEL_CHARS_PER_SECOND // 100
    x = {"features": rng.normal(size=(batch, frames, model.feature_config.n_features)).astype("float32"),
         "feature_lengths": np.full(batch, frames, "int32")}
    y = {"labels": rng.integers(1, model.vocabulary.size, (batch, n_labels)).astype("int32"),
         "label_lengths": np.full(batch, n_labels, "int32")}
    model.train_on_batch(x, y)
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return (time.perf_counter() - start) / steps


def build(name, params, policy, conv_backward):
    """The recipe's model under a dtype policy, its strided Conv2D gradients phase-split or XLA's
    (``params["implementation"]`` picks the GRU kernel)."""
    import keras

    from asr.features import FeatureConfig
    from asr.layers import SubsamplingConv2D
    from asr.models import build_model
    from asr.text import Vocabulary

    keras.config.set_dtype_policy(policy)  # as asr.train does for --mixed-precision
    try:
        model = build_model(name, FeatureConfig(RECIPE["features"]), Vocabulary(), **params)
    finally:
        keras.config.set_dtype_policy("float32")
    if conv_backward == "xla":  # Keras' own Conv2D: the same weights and outputs, XLA's gradients
        for layer in model._flatten_layers():
            if isinstance(layer, SubsamplingConv2D):
                layer.phase_split = False
    model.compile(optimizer=keras.optimizers.Adam(RECIPE["learning_rate"]))
    return model


def _name(row):
    variant = f" {json.dumps(row['variant'])}" if row["variant"] else ""
    return (f"{row['dtype_policy']} {row['conv_backward']} gru={row['gru']} {row['units']} x {row['n_layers']}"
            f"{variant} batch {row['batch_size']}")


def time_steps(args, params, rng):
    """One row per combination of the axes and batch size. Every model is built before any is
    timed, so a ``--variant`` the model rejects stops the run in one line at once."""
    from asr.errors import ConfigError

    models = []
    for policy, conv_backward, gru, variant, units, layers in itertools.product(
            args.policies, args.conv_backward, args.gru, args.variant, args.units, args.n_layers):
        variant_params = {**params, **variant}
        units, layers = units or variant_params["units"], layers or variant_params["n_layers"]
        try:
            model = build(RECIPE["model"], {**variant_params, "implementation": gru, "units": units,
                                            "n_layers": layers}, policy, conv_backward)
        except (ConfigError, TypeError, ValueError) as error:  # name what was asked for, not a traceback
            asked = f"--variant {json.dumps(variant)}" if variant else f"--units {units} --n-layers {layers}"
            sys.exit(f"recipe_step_time.py: error: {asked}: {error}")
        models.append(({"dtype_policy": policy, "conv_backward": conv_backward, "gru": gru, "variant": variant,
                        "units": units, "n_layers": layers, "parameters": model.count_params()}, model))
    rows = []
    for axes, model in models:
        for batch in args.batch_sizes:
            seconds = step_seconds(model, batch, args.frames, args.steps, rng)
            rows.append({**axes, "batch_size": batch, "frames": args.frames, "step_seconds": round(seconds, 4),
                         "ms_per_utterance": round(1000 * seconds / batch, 1)})
    return rows


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    import numpy as np

    from asr.errors import ConfigError
    from asr.layers.gru import resolve_implementation

    for gru in args.gru:  # checked here, not in parse_args: the backend must be chosen first
        try:
            resolve_implementation(gru)
        except ConfigError as error:
            sys.exit(f"recipe_step_time.py: error: --gru {gru}: {error}")

    params = {"conv_filters": [4], "conv_kernels": [[5, 5]], "conv_strides": [[2, 2]], "units": 8,
              "n_layers": 1} if args.smoke else RECIPE["model_params"]
    rows = time_steps(args, params, np.random.default_rng(0))
    reference = rows[0]["ms_per_utterance"]
    for row in rows:
        row["per_utterance_vs_first"] = round(row["ms_per_utterance"] / reference, 3)
        print(f"{_name(row)} x {row['frames']} frames: {row['step_seconds']:.3f} s per step, "
              f"{row['ms_per_utterance']:.1f} ms per utterance ({row['per_utterance_vs_first']:.2f}x {_name(rows[0])})")
    what = " ".join(__doc__.split("\n\n")[0].split())
    write_result(args.output, {"what": what, "model": RECIPE["model"], "model_params": params, "rows": rows,
                               **machine_facts(backend)})


if __name__ == "__main__":
    main()
