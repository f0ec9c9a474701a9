"""Multi-step forecasting of real weather: Seattle daily maximum temperature (2012-2015, from
the ``vega_datasets`` package, offline), next ``--horizon`` days from the last ``--window``
days of max/min temperature, precipitation, wind and the season.

    python recipes/forecast_weather.py
    python recipes/forecast_weather.py --epochs 1 --output-dir /tmp/fc     # smoke run

Split in time order (70 % train, 15 % validation, 15 % test); normalisation is fitted on
the training part only. Model: Conv1D (causal) + GRU (``asr.models.sequence.forecaster``).
Baselines in the same run: persistence (tomorrow = today, for every step) and the mean of
the last 7 days. Writes report.json (test MAE in degrees C) to --output-dir.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.backend import choose_backend  # noqa: E402

COLUMNS = ["temp_max", "temp_min", "precipitation", "wind"]
TARGET = 0  # temp_max
DAYS_PER_YEAR = 365.25


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--output-dir", default="runs/forecast_weather")
    p.add_argument("--window", type=int, default=30, help="input days")
    p.add_argument("--horizon", type=int, default=7, help="days forecast")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--learning-rate", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    return p.parse_args(argv)


def load_series():
    """(days, 6) array: the four weather columns plus sin/cos of the day of the year."""
    import numpy as np

    try:
        from vega_datasets import local_data
    except ImportError:
        raise SystemExit("this recipe needs the vega_datasets package: pip install vega_datasets") from None
    frame = local_data.seattle_weather()
    day = frame["date"].dt.dayofyear.to_numpy()
    season = np.stack([np.sin(2 * np.pi * day / DAYS_PER_YEAR), np.cos(2 * np.pi * day / DAYS_PER_YEAR)], axis=1)
    return np.concatenate([frame[COLUMNS].to_numpy(dtype=np.float32), season], axis=1).astype(np.float32)


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    choose_backend()
    import keras
    import numpy as np

    from asr.models.sequence import compile_for_task, forecaster
    from asr.sequence_data import Standardizer, make_windows, time_split

    series = load_series()
    train, val, test = time_split(series, 0.7, 0.15)
    scaler = Standardizer().fit(train)
    windows = {name: make_windows(scaler.transform(part), args.window, args.horizon, [TARGET])
               for name, part in (("train", train), ("val", val), ("test", test))}
    keras.utils.set_random_seed(args.seed)
    model = compile_for_task(forecaster(series.shape[1], args.horizon, filters=32, units=32, dropout=0.2),
                             "regression", learning_rate=args.learning_rate, weight_decay=1e-4)
    stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(*windows["train"], validation_data=windows["val"], epochs=args.epochs, batch_size=args.batch_size,
              callbacks=[stop], verbose=2)

    x_test, y_test = windows["test"]
    degrees = lambda z: scaler.inverse(z, TARGET)  # noqa: E731
    truth = degrees(y_test[..., 0])
    predictions = {"model": degrees(model.predict(x_test, verbose=0)[..., 0]),
                   "persistence": np.repeat(degrees(x_test[:, -1:, TARGET]), args.horizon, axis=1),
                   "mean of last 7 days": np.repeat(degrees(x_test[:, -7:, TARGET]).mean(1, keepdims=True),
                                                    args.horizon, axis=1)}
    mae = {name: float(np.abs(p - truth).mean()) for name, p in predictions.items()}
    per_step = {name: np.abs(p - truth).mean(0).round(3).tolist() for name, p in predictions.items()}
    out = pathlib.Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"dataset": "vega_datasets seattle_weather, daily temp_max (deg C)", "test_windows": len(x_test),
              "test_mae": mae, "test_mae_per_horizon_step": per_step, "config": vars(args)}
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    print("test MAE (deg C): " + "  ".join(f"{name} {value:.3f}" for name, value in mae.items()))


if __name__ == "__main__":
    main()
