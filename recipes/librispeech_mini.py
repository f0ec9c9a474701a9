"""Train a character CTC model on Mini LibriSpeech (or any LibriSpeech-layout folder),
evaluate it with greedy and LM beam-search decoding, and write everything to one folder.

    python recipes/librispeech_mini.py                       # downloads Mini LibriSpeech (~460 MB)
    python recipes/librispeech_mini.py --data-dir ../shared/data/librispeech-sample \
        --extra-train-dir ../shared/data/librispeech-voices --test-speaker 4088

Splits: with train-clean-5 and dev-clean-2 in --data-dir (or downloaded), those; otherwise
--test-speaker (or --test-speakers drawn at random) is held out as an unseen-speaker test set
and --dev-fraction of the remaining utterances is the dev set (model selection, LM tuning:
same speakers as training). Every --extra-train-dir folder (e.g. the 247 one-utterance voices)
only adds training utterances; --train-weights W0,W1,... samples them per epoch (W0 for the
split's speakers, then one per --extra-train-dir: 0.25 draws a quarter, other ones each
epoch). A pruned word 4-gram LM (modified Kneser-Ney) is built from
--lm-text (default: the shared data's text/lm/) plus the training transcripts, every dev and
test sentence removed; its weight and the word bonus are tuned on dev, decoding with the
compiled beam search (flashlight-text) when installed. The report scores dev (seen speakers), test
(unseen speaker) and out-of-domain audio, so the generalisation gap is visible.

Every ``asr train`` flag works here too (defaults below are this recipe's small-data
configuration). --compare-baseline also trains the same model without augmentation.
Outputs in --output-dir: model.keras, lm.arpa, config.json, history.json, training_curve.png,
alignment.png, report.json, and train/dev/test manifests.
"""

import argparse
import logging
import pathlib
import random
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))  # run from a checkout
from asr.cli import add_dataclass_arguments, dataclass_from_args, run_script  # noqa: E402
from asr.config import TrainConfig  # noqa: E402
from asr.keras_backend import choose_backend  # noqa: E402

RECIPE = dict(  # the small-data configuration (docs/results.md: chosen by speaker-disjoint experiments): a small 2-D
    # conv front end (16 filters, 5 x 11 time x mel kernels, stride 2 x 2 twice: 4x fewer recurrent steps) and
    # BiGRU 192 x 4 with dropout 0.2: on folds 4088 / 4406 / 5652 unseen-speaker CER 0.363 / 0.385 / 0.331 against
    # dropout 0.3's 0.371 / 0.386 / 0.344, BiGRU 192 x 3's 0.383 / 0.399 / 0.348 and 256 x 2's 0.401 / 0.408 / 0.369
    # (20 epochs), in 17 epochs of ~96 min of audio x 3 speeds: 45-48 minutes per fold on 2 AMD EPYC cores
    # (docs/results.md: measured); peak learning rate 2e-3: better than 1e-3 on all three folds (unseen CER
    # 0.404 -> 0.393 on average, BiGRU 256 x 2)
    output_dir="runs/librispeech_mini", model="deepspeech", features="log_mel", epochs=17, batch_size=8,
    learning_rate=2e-3, model_params={"conv_filters": [16, 16], "conv_kernels": [[5, 11], [5, 11]],
                                      "conv_strides": [[2, 2], [2, 2]], "units": 192, "n_layers": 4, "dropout": 0.2},
    spec_augment={"freq_masks": 2, "freq_mask_width": 15, "time_masks": 5, "time_mask_ratio": 0.05},
    speed_perturb=(0.9, 1.0, 1.1), time_budget=55.0)
# time_budget: the hour less ~5 minutes for features, the LM and scoring (0.9 minutes on fold 4406 from an empty
# feature cache, BiGRU 192 x 4: bench/results/main_command_fold4406_bigru192x4.json).
# Where 17 epochs do not fit (a CPU ~1.5x slower), fewer are trained and the learning-rate decay still
# ends with the last of them (asr.callbacks.TimeBudget).
SHIP_DESCRIPTION = ("English speech to characters (a-z, space, apostrophe), greedy or with an n-gram LM; trained on "
                    "read LibriSpeech speech (two speakers' audiobooks, the recipe's training fold, and 247 "
                    "one-utterance voices); 16 kHz log-mel features")
NO_AUGMENTATION = dict(spec_augment={}, speed_perturb=(), gain_db=0.0, noise_prob=0.0)
DEFAULT_EXTRA_TEST = "commonvoice-en/cv-corpus-6.1-sample"  # unseen voices of another corpus, read speech
LM_ORDER = 4  # docs/results.md (bench/lm_decoding.py): the pruned 4-gram decodes as well as the 3-gram (11.5 MB)
LM_PRUNE = (0, 1)  # and the full 4-gram (22 MB) at 3.5 MB: singletons of order >= 2 dropped, perplexity +5 %


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="LibriSpeech-layout folder (default: download Mini LibriSpeech)")
    p.add_argument("--download-dir", help="where Mini LibriSpeech is downloaded (default: $ASR_DOWNLOAD_DIR or the "
                                          "checkout's data/ folder, then mini-librispeech/)")
    p.add_argument("--test-speakers", type=int, default=1, help="held-out speakers drawn at random (no dev-clean-2)")
    p.add_argument("--test-speaker", action="append", default=[], metavar="ID",
                   help="hold out this speaker (repeatable; instead of --test-speakers)")
    p.add_argument("--extra-train-dir", action="append", default=[], metavar="DIR",
                   help="corpus of any layout (see asr data) whose utterances are added to training only "
                        "(repeatable)")
    p.add_argument("--dev-fraction", type=float, default=0.1, help="dev share of the training speakers' data")
    p.add_argument("--max-train-utterances", type=int, default=0,
                   help="train on a seeded random subset of this many utterances (0: all; for smoke runs)")
    p.add_argument("--max-eval-utterances", type=int, default=0,
                   help="score only this many dev, test and --extra-test-dir utterances each (0: all; for smoke runs)")
    p.add_argument("--ood-dir", help="folder of wav + txt scored as out-of-domain (default: shared LibriVox set)")
    p.add_argument("--extra-test-dir", action="append", default=None, metavar="DIR",
                   help="corpus of any layout scored as well, by its folder name (repeatable; default: "
                        f"$ASR_DATA_DIR/{DEFAULT_EXTRA_TEST} when there: 95 Common Voice voices never trained on)")
    p.add_argument("--lm-text", action="append", default=None, metavar="FILE",
                   help="text for the word LM besides the training transcripts, one sentence a line (repeatable; "
                        "default: $ASR_DATA_DIR/text/lm/*.txt when there; dev and test sentences are removed)")
    p.add_argument("--compare-baseline", action="store_true", help="also train without augmentation")
    p.add_argument("--resume", action="store_true", help="continue the run in --output-dir")
    p.add_argument("--overwrite", action="store_true", help="delete the run already in --output-dir first")
    p.add_argument("--ship", metavar="NAME", help="then ship the run's model in the package as NAME (maintainers; "
                                                  "scored on the unseen speakers, --extra-test-dir and the "
                                                  "out-of-domain set)")
    p.add_argument("--ship-overwrite", action="store_true", help="replace a shipped model of that name")
    p.add_argument("--models-dir", help="ship into this folder instead of the package's (asr/pretrained/models)")
    recipe = TrainConfig(**RECIPE)
    add_dataclass_arguments(p, TrainConfig, recipe)
    args = p.parse_args(argv)
    return args, dataclass_from_args(TrainConfig, args, recipe)


def make_splits(args, config):
    """Write train/dev/test manifests into the output folder; returns them as entry lists."""
    from asr.corpus import load_entries, random_split, speaker_split, write_manifest
    from asr.corpus.download import resolve_mini_librispeech
    from asr.errors import ConfigError

    train_source, dev_source = resolve_mini_librispeech(args.data_dir, args.download_dir)
    train, report = load_entries(train_source, config.max_duration)
    logging.info("%s", report)
    if dev_source is not None:
        dev, test = load_entries(dev_source, config.max_duration)[0], []
    else:
        train, test = speaker_split(train, args.test_speaker or args.test_speakers, config.seed)
        train, dev = random_split(train, args.dev_fraction, config.seed)
    held_out = {str(e["speaker"]) for e in test + dev}
    parts = [train]
    for folder in args.extra_train_dir:
        extra, report = load_entries(folder, config.max_duration)
        logging.info("%s", report)
        clash = held_out & {str(e["speaker"]) for e in extra}
        if clash:
            raise ConfigError(f"--extra-train-dir {folder!r} has speakers of the dev/test sets: {sorted(clash)}")
        parts.append(extra)
    train = [e for part in parts for e in part]
    if 0 < args.max_train_utterances < len(train):
        kept = {id(e) for e in random.Random(config.seed).sample(train, args.max_train_utterances)}
        parts = [[e for e in part if id(e) in kept] for part in parts]
        train = [e for part in parts for e in part]
    if args.max_eval_utterances:
        dev, test = dev[: args.max_eval_utterances], test[: args.max_eval_utterances]
    out = pathlib.Path(config.output_dir)
    for name, entries in (("train", train), ("dev", dev), ("test", test)):
        write_manifest(entries, out / f"{name}.jsonl")
    train_data = [out / "train.jsonl"]
    if config.train_weights:  # one manifest per weighted source: the split's speakers, then each extra folder
        train_data = [out / f"train-{i}.jsonl" for i in range(len(parts))]
        for path, part in zip(train_data, parts):
            write_manifest(part, path)
    return train, dev, test, ",".join(map(str, train_data))


def lm_texts(args):
    """The LM text files: --lm-text, else the shared data's text/lm/*.txt (none if absent)."""
    from asr.paths import default_data_dir

    if args.lm_text is not None:
        return [pathlib.Path(path) for path in args.lm_text]
    return sorted((default_data_dir() / "text" / "lm").glob("*.txt"))


def build_recipe_lm(lm_text, path, train_entries, corpora):
    """A pruned ``LM_ORDER``-gram on ``lm_text`` (``read_sentences``' result) plus the training
    transcripts, every evaluation sentence removed, written to ``path``; returns its report
    (size, perplexity per corpus)."""
    from asr.lm_build import build_lm, perplexity

    sentences, counts = lm_text
    held_out = [e["text"] for entries in corpora.values() for e in entries]
    lm, report = build_lm(sentences + [e["text"] for e in train_entries], LM_ORDER, LM_PRUNE, exclude=held_out)
    lm.write_arpa(path)
    scores = {name: perplexity(lm, [e["text"] for e in entries]) for name, entries in corpora.items() if entries}
    report.update(files=counts, training_transcripts=len(train_entries), megabytes=path.stat().st_size / 2**20,
                  perplexity={name: s["perplexity"] for name, s in scores.items()},
                  oov_rate={name: s["oov_rate"] for name, s in scores.items()})
    logging.info("LM: %d-gram, %s n-grams, %.1f MB, perplexity %s", LM_ORDER, report["ngrams"],
                 report["megabytes"], {k: round(v, 1) for k, v in report["perplexity"].items()})
    return report


def main(argv=None):
    args, config = parse_args(argv)
    begun = time.monotonic()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    logging.info("Keras backend: %s", choose_backend())
    from asr.errors import ConfigError
    from asr.evaluate import compare_decoders, evaluate_with_lm
    from asr.files import claim_run_folder, write_json_atomic
    from asr.lm_build import read_sentences
    from asr.models import load_model
    from asr.train import train

    if config.train_weights and len(config.train_weights) != 1 + len(args.extra_train_dir):
        raise ConfigError(f"--train-weights {','.join(map(str, config.train_weights))}: give one weight for the "
                          f"split's training speakers and one per --extra-train-dir ({1 + len(args.extra_train_dir)})")
    if args.ship:  # before the long work
        from asr.pretrained.ship import check_ship_name

        check_ship_name(args.ship, args.models_dir, args.ship_overwrite)
    out = pathlib.Path(config.output_dir)
    if not args.resume:  # before the manifests are written: a finished run is never half replaced
        claim_run_folder(out, args.overwrite)
    train_entries, dev_entries, test_entries, train_data = make_splits(args, config)
    lm_text = read_sentences(lm_texts(args))  # read (and checked) before the long work, as the test corpora
    corpora = eval_corpora(args, train_entries, dev_entries, test_entries)
    config = TrainConfig(**{**config.to_dict(), "train_data": train_data,
                            "dev_data": str(out / "dev.jsonl")})
    started = time.monotonic()
    runs = {"model": train(config, resume=args.resume)}
    earlier = (train_seconds(runs["model"]["history"]) or 0.0) - (time.monotonic() - started)  # resumed: before
    if args.compare_baseline:
        baseline = TrainConfig(**{**config.to_dict(), **NO_AUGMENTATION, "output_dir": str(out / "baseline")})
        runs["baseline"] = train(baseline, resume=args.resume, overwrite=args.overwrite)

    lm_report = build_recipe_lm(lm_text, out / "lm.arpa", train_entries, corpora)
    history = runs["model"]["history"]
    report = {"splits": {"train": len(train_entries), "dev": len(dev_entries), "test": len(test_entries)},
              "train_audio_minutes": sum(e.get("duration", 0.0) for e in train_entries) / 60,
              "trained_audio_minutes": trained_minutes(history, "audio_seconds"),  # every epoch's draw, summed
              "trained_padded_minutes": trained_minutes(history, "padded_seconds"),
              "epochs_run": len(history.get("loss", [])),
              "train_seconds": train_seconds(history),  # every epoch of the run, over all its invocations
              "test_speakers": sorted({str(e["speaker"]) for e in test_entries}), "lm": lm_report}
    for name, run in runs.items():
        model = load_model(run["model"], compile=False)
        report[name] = evaluate_with_lm(model, dev_entries, corpora, lm=str(out / "lm.arpa"),
                                        cache_dir=config.cache_dir or None)
        report[name]["best_val_cer"] = run["best_val_cer"]
    first = next(iter(corpora))
    compare_decoders(load_model(runs["model"]["model"], compile=False), corpora[first][:1], {"greedy": "greedy"},
                     alignment_plot=out / "alignment.png")
    report["invocation_seconds"] = time.monotonic() - begun  # data, training, LM, every evaluation
    report["total_seconds"] = report["invocation_seconds"] + max(0.0, earlier)  # + earlier invocations' epochs
    write_json_atomic(out / "report.json", report)
    print_summary(report, runs, corpora, out)
    if args.ship:
        ship(args, config, report["test_speakers"], argv)


def ship(args, config, test_speakers, argv):
    """Ship the run's model as ``--ship`` NAME, scored greedily on the unseen speakers (test.jsonl),
    each --extra-test-dir and the out-of-domain folder: none of them trained on."""
    import shlex

    from asr.paths import default_data_dir
    from asr.pretrained.ship import ship_model, training_summary
    from bench.record import cpu_description

    out, root = pathlib.Path(config.output_dir), default_data_dir()
    ood, extra = test_folders(args)
    test_sets = {f"librispeech_{'_'.join(test_speakers)}": out / "test.jsonl"} if test_speakers else {}
    test_sets.update({pathlib.Path(folder).name: pathlib.Path(folder) for folder in [*extra, ood]
                      if pathlib.Path(folder).is_dir()})
    command = shlex.join(["python", "recipes/librispeech_mini.py", *(sys.argv[1:] if argv is None else argv)])
    training = training_summary(out, root, command, cpu_description())
    shipped = ship_model(out / "model.keras", args.ship, SHIP_DESCRIPTION, training, test_sets,
                         sorted(str(path) for path in ood.glob("*.wav")), root, models_dir=args.models_dir,
                         overwrite=args.ship_overwrite,
                         cache_dir=config.cache_dir or None, max_utterances=args.max_eval_utterances)
    print(f"shipped {shipped.name}: {shipped.size_mb():.1f} MB, ONNX weights {shipped.training['onnx_weights']}")


def test_folders(args):
    """``(out-of-domain folder, [--extra-test-dir folders])``, the defaults from the shared data
    (a default folder that is not there is left out; the out-of-domain one is checked by callers)."""
    from asr.paths import default_data_dir

    ood = pathlib.Path(args.ood_dir) if args.ood_dir else default_data_dir() / "pocketsphinx-librivox"
    extra = args.extra_test_dir
    if extra is None:
        extra = [d for d in [default_data_dir() / DEFAULT_EXTRA_TEST] if d.is_dir()]
    return ood, extra


def eval_corpora(args, train_entries, dev_entries, test_entries):
    """The corpora scored after training, read before it: test (the unseen speakers), dev, the
    out-of-domain folder, and each --extra-test-dir (its utterances whose sentence is also a
    training transcript scored apart, as NAME_seen_sentences)."""
    from asr.corpus import load_entries, read_transcribed_folder

    corpora = {"test": test_entries, "dev": dev_entries} if test_entries else {"dev": dev_entries}
    ood, extra = test_folders(args)
    if ood.is_dir():
        corpora["out_of_domain"] = read_transcribed_folder(ood)[0]
    seen = {e["text"] for e in train_entries}
    for folder in extra:
        entries, name = load_entries(folder)[0], pathlib.Path(folder).name
        for key, part in ((name, [e for e in entries if e["text"] not in seen]),
                          (f"{name}_seen_sentences", [e for e in entries if e["text"] in seen])):
            if part:
                corpora[key] = part[: args.max_eval_utterances or None]
    return corpora


def trained_minutes(history, key):
    """The sum of ``history[key]`` (seconds per epoch) in minutes; None when an epoch lacks it (a run
    resumed from a checkpoint that predates the record), rather than a sum over some epochs."""
    seconds = history.get(key, [])
    return sum(seconds) / 60 if len(seconds) == len(history.get("loss", [])) else None


def train_seconds(history):
    """The run's training time, every epoch (its validation included) summed over all the
    invocations that trained it; None when an epoch lacks its time (see ``trained_minutes``)."""
    minutes = trained_minutes(history, "epoch_seconds")
    return None if minutes is None else 60 * minutes


def print_summary(report, runs, corpora, out):
    for name in runs:
        for corpus in corpora:
            for decoder, r in report[name][corpus].items():
                print(f"{name:>8} {corpus:>13} {decoder:>6}: CER {r['cer']['rate']:.3f}  WER {r['wer']['rate']:.3f}"
                      f"  ({r['utterances']} utt)")
    audio, seconds = report["trained_audio_minutes"], report["train_seconds"]
    print(f"trained on {'?' if audio is None else f'{audio:,.0f}'} audio-minutes ({report['epochs_run']} epoch"
          f"{'s' if report['epochs_run'] != 1 else ''} of a {report['train_audio_minutes']:.0f}-minute training set) "
          f"in {'?' if seconds is None else f'{seconds / 60:.1f}'} minutes")
    print(f"model: {runs['model']['model']}\nreport: {out / 'report.json'}")


if __name__ == "__main__":
    run_script(main, pathlib.Path(__file__).name)
