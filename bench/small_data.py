"""Small-data benchmark: the LibriSpeech recipe once per held-out speaker, a table of how well
its models do on voices they never heard.

    python bench/small_data.py                          # 3 folds, the recipe's defaults
    python bench/small_data.py --folds 4088 --quick     # one fold in ~10 minutes, for iterating
    python bench/small_data.py --smoke                  # seconds-scale run for CI (tiny model)
    python bench/small_data.py -- --epochs 20 --utterance-norm none   # recipe flags after "--"

Each fold trains ``recipes/librispeech_mini.py`` on the two other speakers of the shared
LibriSpeech sample plus the 247 one-utterance voices (``--extra-train-dir``), in a fresh
process, and holds out one speaker (never in training). Per fold: minutes of training audio,
epochs, wall time (training and the whole fold), dev CER (seen speakers), unseen-speaker
CER/WER (greedy and LM beam), unseen Common Voice voices (cv-corpus-6.1-sample) and LibriVox.
The target is greedy unseen CER <= 0.30 on
every fold within 60 minutes per fold on 2 CPU cores; ratios to it are printed. Results go
to bench/results/small_data.json (``--output``) with the device, versions, date and command, and
the recipe's defaults of the day (``recipe_defaults``), so what the recorded flags changed stays
readable after the defaults move on.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

CER_TARGET = 0.30  # greedy CER on the unseen speaker, every fold (issue 15)
MINUTES_TARGET = 60.0  # wall time per fold on 2 CPU cores
QUICK = ["--epochs", "6", "--speed-perturb", "1.0"]  # ~10 min on 2 cores: same model, a sixth of the work
SMOKE = ["--epochs", "1", "--max-train-utterances", "12", "--max-eval-utterances", "6", "--batch-size", "4",
         "--speed-perturb", "1.0", "--model-params", '{"conv_filters": [16], "units": 16, "n_layers": 1}']


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--data-dir", help="LibriSpeech-layout sample (default: $ASR_DATA_DIR/librispeech-sample)")
    p.add_argument("--extra-train-dir", help="training-only voices (default: $ASR_DATA_DIR/librispeech-voices)")
    p.add_argument("--folds", default="all", help="comma-separated held-out speaker ids, or 'all'")
    p.add_argument("--budget", type=float, default=0.0, help="training minutes per fold (0: the recipe's own budget)")
    p.add_argument("--quick", action="store_true", help="one fold, 6 epochs, no speed perturbation (~10 min)")
    p.add_argument("--smoke", action="store_true", help="one fold, a dozen utterances, a tiny model (CI)")
    p.add_argument("--work-dir", default=str(ROOT / "runs" / "small_data"), help="one run folder per fold, "
                   "WORK_DIR/SPEAKER (default: runs/small_data)")
    p.add_argument("--existing-runs", action="store_true", help="tabulate the folds already finished in --work-dir "
                   "(their report.json) instead of training them again; train the others")
    p.add_argument("--output", help="JSON results (default: bench/results/small_data.json; smoke: none)")
    p.add_argument("recipe_args", nargs="*", help="more recipe flags, after --")
    return p.parse_args(argv)


def speakers(data_dir):
    from asr.corpus import load_entries

    return sorted({str(e["speaker"]) for e in load_entries(data_dir)[0]})


def run_fold(speaker, args, data_dir, extra_dir, recipe_args):
    """Run the recipe with ``speaker`` held out; returns the fold's row of the table."""
    out = pathlib.Path(args.work_dir) / speaker
    command = [sys.executable, str(ROOT / "recipes" / "librispeech_mini.py"), "--data-dir", str(data_dir),
               "--extra-train-dir", str(extra_dir), "--test-speaker", speaker, "--output-dir", str(out), *recipe_args]
    if args.existing_runs and (out / "report.json").is_file():  # tabulated, not trained again
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
        seconds = report.get("total_seconds") or (out / "report.json").stat().st_mtime - (out / "config.json").stat(
        ).st_mtime  # older reports: from the run's config (training start) to its report
    else:
        start = time.monotonic()
        subprocess.run(command, check=True)
        seconds = time.monotonic() - start
        report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    model = report["model"]
    trained = report["train_seconds"]  # None when an epoch of the run lacks its time
    seconds = max(seconds, trained or 0.0)  # reports before total_seconds spanned a resumed run's invocations
    row = {"fold": speaker, "train_audio_minutes": round(report["train_audio_minutes"], 1),
           "train_utterances": report["splits"]["train"], "epochs": report["epochs_run"],
           "train_minutes": None if trained is None else round(trained / 60, 1), "fold_minutes": round(seconds / 60, 1),
           "dev_cer": model["dev"]["greedy"]["cer"]["rate"]}
    for key in ("trained_audio_minutes", "trained_padded_minutes"):  # compute in audio (older reports lack it)
        if report.get(key) is not None:
            row[key] = round(report[key], 1)
    for decoder in ("greedy", "beam"):
        row[f"test_cer_{decoder}"] = model["test"][decoder]["cer"]["rate"]
        row[f"test_wer_{decoder}"] = model["test"][decoder]["wer"]["rate"]
    if "out_of_domain" in model:
        row["librivox_cer"] = model["out_of_domain"]["greedy"]["cer"]["rate"]
        row["librivox_cer_beam"] = model["out_of_domain"]["beam"]["cer"]["rate"]
    if UNSEEN_CV in model:  # the recipe's default --extra-test-dir: Common Voice voices never trained on
        row["cv_utterances"] = model[UNSEEN_CV]["greedy"]["utterances"]  # those whose sentence was not trained on
        for decoder in ("greedy", "beam"):
            row[f"cv_cer_{decoder}"] = model[UNSEEN_CV][decoder]["cer"]["rate"]
            row[f"cv_wer_{decoder}"] = model[UNSEEN_CV][decoder]["wer"]["rate"]
    if "lm" in report:
        row["lm_megabytes"] = round(report["lm"]["megabytes"], 2)
        row["lm_perplexity_test"] = round(report["lm"]["perplexity"].get("test", float("nan")), 1)
    return row


COLUMNS = [("fold", "{}"), ("train_audio_minutes", "{:.1f}"), ("epochs", "{}"), ("fold_minutes", "{:.1f}"),
           ("dev_cer", "{:.3f}"), ("test_cer_greedy", "{:.3f}"), ("test_wer_greedy", "{:.3f}"),
           ("test_cer_beam", "{:.3f}"), ("test_wer_beam", "{:.3f}"), ("cv_cer_greedy", "{:.3f}"),
           ("cv_wer_beam", "{:.3f}"), ("librivox_cer", "{:.3f}")]
UNSEEN_CV = "cv-corpus-6.1-sample"


def table(rows):
    """Markdown table of the folds and their mean."""
    lines = ["| " + " | ".join(name for name, _ in COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    for row in rows:
        lines.append("| " + " | ".join(fmt.format(row[n]) if n in row else "-" for n, fmt in COLUMNS) + " |")
    return "\n".join(lines)


def mean_row(rows):
    mean = {"fold": "mean"}
    for name, _ in COLUMNS[1:]:
        values = [row[name] for row in rows if name in row]
        if values:
            mean[name] = sum(values) / len(values)
    return mean


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend
    from asr.paths import default_data_dir
    from recipes.librispeech_mini import RECIPE  # the defaults the folds' recipe processes start from

    backend = choose_backend()  # the recipe's backend, for the record (it runs in its own process)

    data_dir = pathlib.Path(args.data_dir or default_data_dir() / "librispeech-sample")
    extra_dir = pathlib.Path(args.extra_train_dir or default_data_dir() / "librispeech-voices")
    folds = speakers(data_dir) if args.folds == "all" else args.folds.split(",")
    recipe_args = list(args.recipe_args)
    if args.quick or args.smoke:
        folds = folds[:1]
        recipe_args = (SMOKE if args.smoke else QUICK) + recipe_args
    if args.budget:  # a recipe flag too, so the result records it
        recipe_args = ["--time-budget", f"{args.budget:g}", *recipe_args]
    rows = [run_fold(speaker, args, data_dir, extra_dir, recipe_args) for speaker in folds]
    summary = mean_row(rows)
    print(table(rows + [summary]))
    worst = max(row["test_cer_greedy"] for row in rows)
    slowest = max(row["fold_minutes"] for row in rows)
    print(f"worst unseen-speaker greedy CER {worst:.3f} = {worst / CER_TARGET:.2f}x the target {CER_TARGET}; "
          f"slowest fold {slowest:.1f} min = {slowest / MINUTES_TARGET:.2f}x the {MINUTES_TARGET:g}-minute budget")
    result = {"folds": rows, "mean": summary, "recipe_args": recipe_args, "recipe_defaults": RECIPE,
              "quick": args.quick, "smoke": args.smoke, **machine_facts(backend)}
    write_result(args.output or (None if args.smoke else ROOT / "bench" / "results" / "small_data.json"), result)
    return result


if __name__ == "__main__":
    main()
