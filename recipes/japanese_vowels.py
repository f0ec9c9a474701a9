"""Speaker classification of variable-length 12-dim LPC frames: UCI/UEA Japanese Vowels
(9 speakers, standard 270 train / 370 test split), with a baseline trained in the same run.

    python recipes/japanese_vowels.py                 # data from $ASR_DATA_DIR/timeseries/japanese_vowels
    python recipes/japanese_vowels.py --epochs 2 --limit 60 --output-dir /tmp/jv   # smoke run

Model: the CNN-RNN fusion (a masked GRU branch and a Conv1D-BN-ReLU branch with masked
average pooling), or (``--model attention``) BiGRU + AttentionWithContext (``asr.sequence.models``).
Baseline: logistic regression on per-channel mean/std/min/max/first/last of each series.
Writes report.json (test accuracy of both) to --output-dir.
"""

import argparse
import json
import logging
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.keras_backend import choose_backend  # noqa: E402

MODEL_NAMES = {"attention": "BiGRU + AttentionWithContext", "cnn_rnn": "CNN-RNN fusion (GRU + FCN branches)"}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="folder with JapaneseVowels_TRAIN.ts / _TEST.ts "
                                      "(default: $ASR_DATA_DIR/timeseries/japanese_vowels)")
    p.add_argument("--output-dir", default="runs/japanese_vowels")
    p.add_argument("--epochs", type=int, default=60)
    p.add_argument("--model", choices=("attention", "cnn_rnn"), default="cnn_rnn",
                   help="BiGRU + AttentionWithContext, or the CNN-RNN fusion (GRU branch + FCN branch)")
    p.add_argument("--units", type=int, default=64)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--learning-rate", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--limit", type=int, help="use only the first N train and test series (smoke runs)")
    return p.parse_args(argv)


def summary_features(sequences):
    import numpy as np

    return np.stack([np.concatenate([s.mean(0), s.std(0), s.min(0), s.max(0), s[0], s[-1]]) for s in sequences])


def main(argv=None):
    args = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    choose_backend()
    import keras
    import numpy as np
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    from asr.features import FeatureStats
    from asr.padding import pad_batch
    from asr.paths import default_data_dir
    from asr.sequence.corpora import read_ts
    from asr.sequence.models import attention_classifier, cnn_rnn_classifier, compile_for_task

    folder = pathlib.Path(args.data_dir or default_data_dir() / "timeseries" / "japanese_vowels")
    if not (folder / "JapaneseVowels_TRAIN.ts").is_file():
        raise SystemExit(f"--data-dir: JapaneseVowels_TRAIN.ts not found in {folder}")
    (train_x, train_y), (test_x, test_y) = [read_ts(folder / f"JapaneseVowels_{part}.ts") for part in ("TRAIN", "TEST")]
    limit = slice(args.limit)
    train_x, train_y, test_x, test_y = train_x[limit], train_y[limit], test_x[limit], test_y[limit]
    classes = sorted(set(train_y), key=int)
    to_index = {c: i for i, c in enumerate(classes)}
    train_y, test_y = (np.array([to_index[c] for c in labels]) for labels in (train_y, test_y))

    # === baseline ===
    scaler = StandardScaler().fit(summary_features(train_x))
    baseline = LogisticRegression(max_iter=2000).fit(scaler.transform(summary_features(train_x)), train_y)
    baseline_acc = float(baseline.score(scaler.transform(summary_features(test_x)), test_y))

    # === model: standardise with training frames only, pad with 0 and mask (a real frame is never all-zero) ===
    keras.utils.set_random_seed(args.seed)
    standardizer = FeatureStats().fit(np.concatenate(train_x))
    x_train, _ = pad_batch([standardizer.transform(s) for s in train_x])
    x_test, _ = pad_batch([standardizer.transform(s) for s in test_x])
    if args.model == "attention":
        network = attention_classifier(12, len(classes), units=args.units, dropout=0.3)
    else:
        network = cnn_rnn_classifier(12, len(classes), units=args.units, dropout=0.3)
    model = compile_for_task(network, "multiclass", learning_rate=args.learning_rate, weight_decay=1e-4)
    model.fit(x_train, train_y, epochs=args.epochs, batch_size=args.batch_size, verbose=2)
    accuracy = float(model.evaluate(x_test, test_y, verbose=0)[1])

    out = pathlib.Path(args.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    report = {"dataset": "Japanese Vowels", "train": len(train_x), "test": len(test_x),
              "model": {"name": MODEL_NAMES[args.model], "test_accuracy": accuracy},
              "baseline": {"name": "logistic regression on summary statistics", "test_accuracy": baseline_acc},
              "config": vars(args)}
    (out / "report.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    model.save(out / "model.keras")
    print(f"test accuracy: model {accuracy:.4f}  baseline (logistic regression) {baseline_acc:.4f}")


if __name__ == "__main__":
    main()
