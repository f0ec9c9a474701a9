"""The trade-off table: every measured cell of the recipe, one row per fold, from bench/small_data.py results.

    python bench/tradeoff_table.py                  # every bench/results/small_data*.json
    python bench/tradeoff_table.py A.json B.json    # these results
    python bench/tradeoff_table.py --update docs/results.md   # also rewrite the table in that file

A cell is one ``bench/small_data.py`` result: folds (the held-out speaker) trained with the recipe's
defaults of the day plus the flags the result records (``recipe_args``, or ``recipe_args_per_fold``).
Model parameters are compared with the defaults the result records (``recipe_defaults``, since
2026-12-03), or before that with the model every older result's recipe had (``UNRECORDED_MODEL``).
Prints a Markdown table, best unseen-speaker greedy CER first within each fold: what changed against
that day's recipe (its model named where nothing changed), epochs, minutes of audio in the training set,
minutes of audio trained on (every epoch's draw summed, speed-perturbed copies and sampling weights
included: the run's compute in audio, recorded since 2026-12-03, "-" before), wall minutes of the whole
fold and the CPU that measured them (wall minutes compare only on one CPU; epochs and audio trained on
across machines), then CER / WER per test set, "-" where a result predates the column (Common Voice was
scored from 2026-12-01). The unseen Common Voice CER says what it is over where the result records it
("0.490 (85)"): a run trained on the Kaggle Common Voice set is scored only on the clips whose sentence
is not one of its transcripts. LM beam WERs marked "*" used the LM of their day (a trigram of the
training transcripts), not the pruned 4-gram of the shared LM text. Files without per-fold rows (lever
sweeps of older recipes, kept under their own names) are named below the table as skipped, so none is
dropped unseen. Below it, LM beam WER fitted against greedy CER over the cells decoded with the
shared-text LM (one slope, an offset per fold), and the greedy CER that fit says each fold needs for
issue 28's WER target (0.65) and aim (0.55): what the acoustic model has to reach.

``--update FILE`` puts the same text between FILE's two marker lines (``BEGIN`` and ``END`` below),
written atomically; the rest of the file is left as it was.
"""

import argparse
import json
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from asr.files import write_text_atomic  # noqa: E402

IGNORED_FLAGS = {"--cache-dir", "--resume"}  # where features are cached, and resuming an interrupted run
#                                              (tested to equal an uninterrupted one), change no number
UNRECORDED_MODEL = {"conv_filters": [16, 16], "conv_kernels": [[5, 11], [5, 11]], "conv_strides": [[2, 2], [2, 2]],
                    "units": 256, "n_layers": 2, "dropout": 0.3}  # the recipe's model from 2026-11-23 (4c70348) until
#                                                                    results recorded their defaults (2026-12-03)
WER_TARGETS = (0.65, 0.55)  # issue 28's LM beam WER target on every fold, and its aim
BEGIN, END = "<!-- bench/tradeoff_table.py: begin -->", "<!-- bench/tradeoff_table.py: end -->"
COLUMNS = (("dev_cer", "dev CER"), ("test_cer_greedy", "unseen LS greedy CER"), ("test_wer_greedy", "WER"),
           ("test_wer_beam", "LM beam WER"), ("cv_cer_greedy", "unseen CV greedy CER"),
           ("cv_wer_beam", "CV LM beam WER"), ("librivox_cer", "LibriVox CER"))


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("results", nargs="*", help="small_data.py result files (default: bench/results/small_data*.json)")
    p.add_argument("--update", type=pathlib.Path, metavar="FILE",
                   help=f"also rewrite the text between FILE's lines {BEGIN} and {END}")
    args = p.parse_args(argv)
    if args.update is not None:
        if not args.update.is_file():
            p.error(f"--update {args.update}: no such file")
        try:
            marker_lines(args.update.read_text(encoding="utf-8").splitlines())
        except ValueError as error:
            p.error(f"--update {args.update}: {error}")
    args.results = [pathlib.Path(r) for r in args.results] or sorted((ROOT / "bench" / "results").glob(
        "small_data*.json"))
    for path in args.results:
        if not path.is_file():
            p.error(f"{path}: no such result file")
    return args


def changes(recipe_args, model):
    """What ``recipe_args`` change against the recipe whose model parameters are ``model``, short: model
    parameters that differ, other flags as given; with no change, the recipe's BiGRU named."""
    words, i, out = list(recipe_args), 0, []
    while i < len(words):
        flag, value = words[i], words[i + 1] if i + 1 < len(words) and not words[i + 1].startswith("--") else None
        i += 1 + (value is not None)
        if flag in IGNORED_FLAGS:
            continue
        if flag == "--model-params" and value is not None:
            params = json.loads(value)
            out += [f"{k}={v}" for k, v in params.items() if model.get(k) != v]
        else:
            out.append(flag if value is None else f"{flag} {short_path(value)}")
    return " ".join(out) or f"the recipe's defaults (BiGRU {model['units']} x {model['n_layers']})"


def short_path(value):
    """A path's file and folder names, enough to tell runs apart (``base_e48/model.keras``)."""
    return "/".join(pathlib.Path(value).parts[-2:])


def cells(path):
    """``(rows, None)`` for a result with per-fold rows, ``([], why)`` for one without."""
    result = json.loads(path.read_text(encoding="utf-8"))
    folds = result.get("folds")
    if not isinstance(folds, list):
        return [], "no per-fold rows"
    per_fold = result.get("recipe_args_per_fold") or [result.get("recipe_args", [])] * len(folds)
    cpu = result.get("cpu") or result.get("device", "?")
    model = result.get("recipe_defaults", {}).get("model_params", UNRECORDED_MODEL)
    return [{**row, "result": path.name, "date": result.get("date", "?"), "cpu": cpu,
             "change": changes(args, model)} for row, args in zip(folds, per_fold)], None


def fmt(row, key):
    value = row.get(key)
    if value is None:
        return "-"
    text = f"{value:.3f}" + ("*" if key == "test_wer_beam" and "lm_megabytes" not in row else "")
    return text + (f" ({row['cv_utterances']})" if key == "cv_cer_greedy" and "cv_utterances" in row else "")


def table(rows):
    head = ["fold", "change against that day's recipe", "epochs", "train set audio min", "audio min trained",
            "fold min (CPU)",
            *(name for _, name in COLUMNS), "result, date"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in sorted(rows, key=lambda r: (r["fold"], r.get("test_cer_greedy", 1.0))):
        lines.append("| " + " | ".join([str(row["fold"]), row["change"], str(row.get("epochs", "-")),
                                         f"{row.get('train_audio_minutes', 0):.0f}",
                                         f"{row['trained_audio_minutes']:,.0f}" if "trained_audio_minutes" in row
                                         else "-",
                                         f"{row.get('fold_minutes', 0):.0f} ({row['cpu']})",
                                         *(fmt(row, key) for key, _ in COLUMNS),
                                         f"{row['result']}, {row['date']}"]) + " |")
    return "\n".join(lines)


def wer_fit(rows):
    """LM beam WER against unseen-speaker greedy CER over the cells decoded with the shared-text LM:
    one slope for every fold, an offset per fold (a fold's text is nearer the LM's or farther) by
    least squares. Returns ``{"cells", "slope", "rmse", "offsets": {fold: offset}, "best": {fold: its
    lowest greedy CER}}``, or None with too few cells to fit (fewer than one more than the parameters)."""
    cells = [r for r in rows if "lm_megabytes" in r and "test_wer_beam" in r and "test_cer_greedy" in r]
    folds = sorted({str(r["fold"]) for r in cells})
    if len(cells) < len(folds) + 2:
        return None
    design = np.zeros((len(cells), 1 + len(folds)))
    design[:, 0] = [r["test_cer_greedy"] for r in cells]
    design[np.arange(len(cells)), 1 + np.array([folds.index(str(r["fold"])) for r in cells])] = 1.0
    wer = np.array([r["test_wer_beam"] for r in cells])
    coef = np.linalg.lstsq(design, wer, rcond=None)[0]
    rmse = float(np.sqrt(np.mean((design @ coef - wer) ** 2)))
    return {"cells": len(cells), "slope": float(coef[0]), "rmse": rmse,
            "offsets": {fold: float(b) for fold, b in zip(folds, coef[1:])},
            "best": {fold: min(r["test_cer_greedy"] for r in cells if str(r["fold"]) == fold) for fold in folds}}


def fit_lines(fit):
    """The fit in words: per fold, the greedy CER each WER target needs beside the best measured."""
    lines = [f"LM beam WER = {fit['slope']:.2f} x unseen greedy CER + a fold's offset ({fit['cells']} cells with the "
             f"shared-text LM, RMSE {fit['rmse']:.3f}); the greedy CER each LM beam WER needs:"]
    for fold, offset in fit["offsets"].items():
        needs = ", ".join(f"{target:.2f} needs {(target - offset) / fit['slope']:.3f}" for target in WER_TARGETS)
        lines.append(f"- fold {fold}: {needs} (best measured {fit['best'][fold]:.3f})")
    return lines


def report(paths):
    """The table, what it holds and skips, and the fit, as text."""
    rows, skipped = [], []
    for path in paths:
        found, why = cells(path)
        rows += found
        if why:
            skipped.append(f"{path.name} ({why})")
    parts = [table(rows), f"{len(rows)} cells from {len(paths) - len(skipped)} results"
             + (f"; skipped: {', '.join(skipped)}" if skipped else "")]
    fit = wer_fit(rows)
    if fit is not None:
        parts.append("\n".join(fit_lines(fit)))
    return "\n\n".join(parts)


def marker_lines(lines):
    """``(begin, end)``: the indices of the ``BEGIN`` and ``END`` lines, or ValueError unless there is
    one of each, in that order."""
    stripped = [line.strip() for line in lines]
    found = stripped.count(BEGIN), stripped.count(END)
    if found != (1, 1):
        raise ValueError(f"needs one line {BEGIN} and one line {END}, found {found[0]} and {found[1]}")
    begin, end = stripped.index(BEGIN), stripped.index(END)
    if end < begin:
        raise ValueError(f"{END} comes before {BEGIN}")
    return begin, end


def replace_between_markers(text, block):
    """``text`` with the lines between its ``BEGIN`` and ``END`` lines replaced by ``block``."""
    lines = text.splitlines(keepends=True)
    begin, end = marker_lines(lines)
    return "".join(lines[:begin + 1]) + block.rstrip("\n") + "\n" + "".join(lines[end:])


def main(argv=None):
    args = parse_args(argv)
    text = report(args.results)
    print(text)
    if args.update is not None:  # its markers were checked by parse_args
        write_text_atomic(args.update, replace_between_markers(args.update.read_text(encoding="utf-8"), text))


if __name__ == "__main__":
    main()
