"""Train the English base model: all transcribed English speech of the shared data except its
test sets, in a run that spans several invocations, scored on the unseen sets after each.

    python recipes/pretrain_english.py                                       # ~1 CPU-hour: 24 epochs
    python recipes/pretrain_english.py --epochs 96 --stop-after 120          # a ~4-hour plan, 2 hours at a time
    python recipes/pretrain_english.py --epochs 96 --stop-after 120 --resume # the next two, same schedule

Training data (``TRAIN_SOURCES``): the 247 one-utterance LibriSpeech voices, the Kaggle
Common Voice dev set (4,076 clips) and the small Common Voice v1 release sample, less
``DEV_UTTERANCES`` of them drawn as the dev set (model selection only). Never trained on
(``TEST_SETS``): the three ``librispeech-sample`` speakers (each is a fold's unseen speaker of
``librispeech_mini.py``), the Common Voice 6.1 sample (95 unseen voices) and the LibriVox set.

The learning-rate schedule is planned for all ``--epochs``; ``--stop-after`` ends each
invocation after the last epoch that fits, and ``--resume`` continues exactly. After each
invocation the run's model is scored greedily on every test set and the point is added to
``learning_curve.json`` (training minutes so far, epochs, audio seen, CER/WER per set), so the
learning curve of the base is measured as it trains. ``--evaluate-only`` scores the run's model
without training; ``--ship NAME`` then puts it in the package under that name (``asr models``;
``asr.pretrained.ship``: the files, their test-set scores and ``models.json``).
"""

import argparse
import json
import logging
import pathlib
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.cli import add_dataclass_arguments, dataclass_from_args, run_script  # noqa: E402
from asr.config import TrainConfig  # noqa: E402
from asr.keras_backend import choose_backend  # noqa: E402

TRAIN_SOURCES = ("librispeech-voices", "commonvoice-en/cv-valid-dev.csv", "commonvoice-en/cv-corpus-1-sample")
TEST_SETS = {"commonvoice_unseen": "commonvoice-en/cv-corpus-6.1-sample", "librivox": "pocketsphinx-librivox",
             "librispeech_4088": "librispeech-sample/LibriSpeech/train-clean-100/4088",
             "librispeech_4406": "librispeech-sample/LibriSpeech/train-clean-100/4406",
             "librispeech_5652": "librispeech-sample/LibriSpeech/train-clean-100/5652"}
DEV_UTTERANCES = 200  # ~4 % of the 4,419 training utterances: a dev CER to +-0.01, drawn once (seeded)
LEARNING_CURVE = "learning_curve.json"
# The shipped model's text on the first of these files on which its two files agree is recorded
# in models.json, and a test checks it
CHECK_AUDIO = "pocketsphinx-librivox"
SHIP_DESCRIPTION = ("English speech to characters (a-z, space, apostrophe), greedy or with an n-gram LM; trained on "
                    "read LibriSpeech voices and crowd-sourced Common Voice clips; 16 kHz log-mel features")
BASE = dict(  # the base's configuration (docs/pretrained.md). The architecture was chosen at equal CPU minutes (BiGRU
    # 192 x 4 against a Conformer-CTC); the augmentation at equal minutes too: with speeds 0.9 / 1.0 / 1.1 and 5 time
    # masks the model underfit (3.8 CPU-hours: Common Voice 0.555), without speed perturbation and with 2 time masks
    # one CPU-hour gave 0.506. 24 epochs of 5.9 hours (2.3-2.6 minutes each on 2 Intel Xeon cores): ~1 CPU-hour, the
    # learning-rate decay planned over all of them (a longer run plans more: --epochs)
    output_dir="runs/pretrain_english", model="deepspeech", features="log_mel", epochs=24, batch_size=8,
    learning_rate=2e-3, warmup_epochs=1.0, speed_perturb=(1.0,),
    model_params={"conv_filters": [16, 16], "conv_kernels": [[5, 11], [5, 11]], "conv_strides": [[2, 2], [2, 2]],
                  "units": 192, "n_layers": 4, "dropout": 0.2},
    spec_augment={"freq_masks": 2, "freq_mask_width": 15, "time_masks": 2, "time_mask_ratio": 0.05})


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="the shared data folder (default: $ASR_DATA_DIR or ../shared/data)")
    p.add_argument("--resume", action="store_true", help="continue the run in --output-dir")
    p.add_argument("--overwrite", action="store_true", help="delete the run already in --output-dir first")
    p.add_argument("--evaluate-only", action="store_true", help="score the run's model on the test sets, no training")
    p.add_argument("--max-eval-utterances", type=int, default=0, help="per test set (0: all; for smoke runs)")
    p.add_argument("--max-train-utterances", type=int, default=0, help="a seeded subset (0: all; for smoke runs)")
    p.add_argument("--ship", metavar="NAME", help="then ship the run's model in the package as NAME (maintainers)")
    p.add_argument("--ship-overwrite", action="store_true", help="replace a shipped model of that name")
    p.add_argument("--models-dir", help="ship into this folder instead of the package's (asr/pretrained/models)")
    base = TrainConfig(**BASE)
    add_dataclass_arguments(p, TrainConfig, base)
    args = p.parse_args(argv)
    return args, dataclass_from_args(TrainConfig, args, base)


def data_dir(args):
    from asr.paths import default_data_dir

    return pathlib.Path(args.data_dir) if args.data_dir else default_data_dir()


def write_splits(args, config):
    """``train.jsonl`` and ``dev.jsonl`` in the run folder (dev: ``DEV_UTTERANCES`` drawn from the
    training sources, seeded); returns ``(train_path, dev_path)``."""
    import random

    from asr.corpus import load_entries, write_manifest

    root = data_dir(args)
    entries, report = load_entries(",".join(str(root / source) for source in TRAIN_SOURCES), config.max_duration)
    logging.info("%s", report)
    order = list(range(len(entries)))
    random.Random(config.seed).shuffle(order)
    dev_ids = set(order[:DEV_UTTERANCES])
    train = [e for i, e in enumerate(entries) if i not in dev_ids]
    dev = [e for i, e in enumerate(entries) if i in dev_ids]
    if 0 < args.max_train_utterances < len(train):
        train = random.Random(config.seed).sample(train, args.max_train_utterances)
    out = pathlib.Path(config.output_dir)
    write_manifest(train, out / "train.jsonl")
    write_manifest(dev, out / "dev.jsonl")
    return out / "train.jsonl", out / "dev.jsonl"


def test_sets(args):
    """``{name: corpus path}`` of every test set there is (a missing one is named and left out)."""
    root, sets = data_dir(args), {}
    for name, folder in TEST_SETS.items():
        if (root / folder).exists():
            sets[name] = root / folder
        else:
            logging.warning("test set %s not found at %s: not scored", name, root / folder)
    return sets


def score_test_sets(args, model_path, cache_dir=None):
    """``(scores, reference)``: greedy CER/WER of the model on every test set there is (``{name:
    {"cer", "wer", "utterances", "skipped"}}``), and its hypotheses, which ``--ship`` reuses."""
    from asr.models import load_model
    from asr.pretrained.ship import reference_hypotheses

    model = load_model(model_path, compile=False)
    reference, scores = reference_hypotheses(model, test_sets(args), cache_dir, args.max_eval_utterances)
    return scores, reference


def add_curve_point(out, history, scores):
    """Append this invocation's point to ``learning_curve.json`` (replacing the last one when no
    epoch was trained since); returns the point. The scored model is the run's ``model.keras``,
    the checkpoint of its best dev CER (``model_epoch``)."""
    from asr.files import write_json_atomic
    from asr.pretrained.ship import best_epoch

    seconds = history.get("epoch_seconds", [])
    point = {"epochs": len(history.get("loss", [])), "train_minutes": sum(seconds) / 60,
             "model_epoch": best_epoch(history), "audio_hours": sum(history.get("audio_seconds", [])) / 3600,
             "best_val_cer": min(history.get("val_cer") or [float("nan")]), "test": scores,
             "date": time.strftime("%Y-%m-%d %H:%M")}
    path = out / LEARNING_CURVE
    curve = json.loads(path.read_text()) if path.is_file() else []
    if curve and curve[-1]["epochs"] == point["epochs"]:  # the same model scored again (--evaluate-only)
        curve.pop()
    write_json_atomic(path, [*curve, point])
    return point


def ship(args, config, reference):
    from asr.pretrained.ship import ship_model, training_summary
    from bench.record import cpu_description

    root, out = data_dir(args), pathlib.Path(config.output_dir)
    checks = sorted(str(path) for path in (root / CHECK_AUDIO).glob("*.wav"))
    planned = json.loads((out / "config.json").read_text())["epochs"]
    training = training_summary(out, root, f"python recipes/pretrain_english.py --epochs {planned} --stop-after "
                                           "MINUTES [--resume]", cpu_description())
    shipped = ship_model(out / "model.keras", args.ship, SHIP_DESCRIPTION, training, test_sets(args), checks, root,
                         models_dir=args.models_dir, overwrite=args.ship_overwrite, cache_dir=config.cache_dir or None,
                         max_utterances=args.max_eval_utterances, reference=reference)
    print(f"shipped {shipped.name}: {shipped.size_mb():.1f} MB, ONNX weights {shipped.training['onnx_weights']}")


def main(argv=None):
    args, config = parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.info("Keras backend: %s", choose_backend())
    from asr.files import HISTORY, claim_run_folder
    from asr.train import train

    if args.ship:  # before the long work
        from asr.pretrained.ship import check_ship_name

        check_ship_name(args.ship, args.models_dir, args.ship_overwrite)
    out = pathlib.Path(config.output_dir)
    if not args.evaluate_only:
        if not args.resume:
            claim_run_folder(out, args.overwrite)
            train_path, dev_path = write_splits(args, config)
        else:
            train_path, dev_path = out / "train.jsonl", out / "dev.jsonl"
        config = TrainConfig(**{**config.to_dict(), "train_data": str(train_path), "dev_data": str(dev_path)})
        train(config, resume=args.resume)
    model_path = out / "model.keras"
    if not model_path.is_file():
        from asr.errors import ConfigError

        raise ConfigError(f"--evaluate-only: no model in {str(out)!r}: train first")
    history = json.loads((out / HISTORY).read_text())
    scores, reference = score_test_sets(args, model_path, config.cache_dir or None)
    point = add_curve_point(out, history, scores)
    for name, score in point["test"].items():
        print(f"{name:>20}: CER {score['cer']:.3f}  WER {score['wer']:.3f}  ({score['utterances']} utt)")
    print(f"after {point['epochs']} epochs, {point['train_minutes']:.0f} training minutes: {out / LEARNING_CURVE}")
    if args.ship:
        ship(args, config, reference)


if __name__ == "__main__":
    run_script(main, pathlib.Path(__file__).name)
