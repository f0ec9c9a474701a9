"""Multi-step forecasting of real weather: Seattle daily maximum temperature (2012-2015, from
the ``vega_datasets`` package, offline), next ``--horizon`` days from the last ``--window``
days of max/min temperature, precipitation, wind and the season.

    python recipes/forecast_weather.py
    python recipes/forecast_weather.py --epochs 1 --output-dir /tmp/fc     # smoke run

Split in time order (70 % train, 15 % validation, 15 % test); the seasonal normal
(``SeasonalClimatology``, two yearly harmonics) and the normalisation are fitted on the
training part only. The model forecasts the *anomaly* of the maximum temperature (value minus
its seasonal normal) and adds the normal back, so its capacity goes to the weather, not the
seasons. Model: Conv1D (causal) + GRU (``asr.sequence.models.forecaster``). Baselines in the
same run: persistence (tomorrow = today, for every step), the mean of the last 7 days, and
the seasonal normal alone. Writes report.json (test MAE in degrees C) to --output-dir.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.keras_backend import choose_backend  # noqa: E402

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
    """``(days, 4)`` weather columns and ``(days,)`` day of the year."""
    import numpy as np

    try:
        from vega_datasets import local_data
    except ImportError:
        raise SystemExit("this recipe needs the vega_datasets package: pip install vega_datasets") from None
    frame = local_data.seattle_weather()
    return frame[COLUMNS].to_numpy(dtype=np.float32), frame["date"].dt.day_of_year.to_numpy()


def anomaly_series(weather, day, n_train):
    """``(series, normal)``: inputs ``(days, 6)`` = the target's anomaly, the other three
    columns and sin/cos of the day of the year; ``normal`` the target's seasonal normal per day."""
    import numpy as np

    from asr.sequence.data import SeasonalClimatology

    climatology = SeasonalClimatology(harmonics=2, period=DAYS_PER_YEAR).fit(day[:n_train], weather[:n_train, TARGET])
    normal = climatology(day)
    series = weather.copy()
    series[:, TARGET] -= normal
    phase = 2 * np.pi * day / DAYS_PER_YEAR
    return np.concatenate([series, np.stack([np.sin(phase), np.cos(phase)], axis=1)], axis=1), normal


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    choose_backend()
    import keras
    import numpy as np

    from asr.features import FeatureStats
    from asr.sequence.data import make_windows, time_split
    from asr.sequence.models import compile_for_task, forecaster

    weather, day = load_series()
    n_train = len(time_split(weather, 0.7, 0.15)[0])
    series, normal = anomaly_series(weather, day, n_train)
    scaler = FeatureStats().fit(series[:n_train])
    inputs = scaler.transform(series)
    truth_columns = np.stack([normal, weather[:, TARGET]], axis=1)  # seasonal normal and observed temp_max
    windows = {name: make_windows(part, args.window, args.horizon, [TARGET])
               for name, part in zip(("train", "val", "test"), time_split(inputs, 0.7, 0.15))}
    past, future = make_windows(time_split(truth_columns, 0.7, 0.15)[2], args.window, args.horizon)

    keras.utils.set_random_seed(args.seed)
    model = compile_for_task(forecaster(inputs.shape[1], args.horizon, filters=32, units=32, dropout=0.2),
                             "regression", learning_rate=args.learning_rate, weight_decay=1e-4)
    stop = keras.callbacks.EarlyStopping(patience=10, restore_best_weights=True)
    model.fit(*windows["train"], validation_data=windows["val"], epochs=args.epochs, batch_size=args.batch_size,
              callbacks=[stop], verbose=2)

    x_test = windows["test"][0]
    degrees = lambda z: scaler.inverse(z, TARGET)  # noqa: E731  (scaled anomaly -> degrees)
    test_normal, truth, observed = future[..., 0], future[..., 1], past[..., 1]
    predictions = {"model": test_normal + degrees(model.predict(x_test, verbose=0)[..., 0]),
                   "persistence": np.repeat(observed[:, -1:], args.horizon, axis=1),
                   "mean of last 7 days": np.repeat(observed[:, -7:].mean(1, keepdims=True), args.horizon, axis=1),
                   "seasonal normal": test_normal}
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
