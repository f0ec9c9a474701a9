"""The SimpleRNN-with-attention regression demo: predict the next (scaled) Fibonacci number
from the previous ``--time-steps``, with and without an attention layer over the RNN states.

    python recipes/fibonacci_attention.py
    python recipes/fibonacci_attention.py --epochs 2 --output-dir /tmp/fib    # smoke run

Both models: SimpleRNN(``--units``) -> Dense(1); the attention model keeps every RNN state
and pools them with ``asr.layers.AttentionPooling`` (score = tanh(x W + b), softmax over
time). Writes report.json (test MSE of both, same data, same seed) to --output-dir.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.keras_backend import choose_backend  # noqa: E402

N_NUMBERS = 1200  # Fibonacci numbers generated (F_1200 ~ 2.7e250 still fits a float64)
TEST_FRACTION = 0.3


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output-dir", default="runs/fibonacci_attention")
    p.add_argument("--time-steps", type=int, default=20)
    p.add_argument("--units", type=int, default=2)
    p.add_argument("--epochs", type=int, default=30)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def fibonacci_windows(time_steps):
    """Min-max scaled Fibonacci numbers cut into (windows, time_steps, 1) -> next value."""
    import numpy as np

    numbers = [0.0, 1.0]
    while len(numbers) < N_NUMBERS:
        numbers.append(numbers[-1] + numbers[-2])
    scaled = np.log1p(np.array(numbers))  # log keeps the growth learnable in float32
    scaled = (scaled - scaled.min()) / (scaled.max() - scaled.min())
    x = np.stack([scaled[i: i + time_steps] for i in range(len(scaled) - time_steps)])[..., None]
    y = scaled[time_steps:]
    return x.astype("float32"), y.astype("float32")


def build(time_steps, units, attention):
    import keras

    from asr.layers import AttentionPooling

    inputs = keras.Input((time_steps, 1), name="window")
    x = keras.layers.SimpleRNN(units, return_sequences=attention, activation="tanh", name="rnn")(inputs)
    if attention:
        x = AttentionPooling(name="attention")(x)
    return keras.Model(inputs, keras.layers.Dense(1, name="output")(x), name="attention" if attention else "plain")


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    choose_backend()
    import keras
    import numpy as np

    x, y = fibonacci_windows(args.time_steps)
    rng = np.random.default_rng(args.seed)
    order = rng.permutation(len(x))
    n_test = int(len(x) * TEST_FRACTION)
    test, train = order[:n_test], order[n_test:]
    mse = {}
    for attention in (False, True):
        keras.utils.set_random_seed(args.seed)
        model = build(args.time_steps, args.units, attention)
        model.compile(optimizer="adam", loss="mse")
        model.fit(x[train], y[train], epochs=args.epochs, batch_size=1, verbose=2)
        mse["with attention" if attention else "without attention"] = float(model.evaluate(x[test], y[test], verbose=0))
    out = pathlib.Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "report.json").write_text(json.dumps({"test_mse": mse, "config": vars(args)}, indent=2), encoding="utf-8")
    print("test MSE: " + "  ".join(f"{k} {v:.3e}" for k, v in mse.items()))


if __name__ == "__main__":
    main()
