"""Collect runs of ``recipes/pretrain_english.py`` into one result: each run's model, data, training
minutes, epochs and its learning curve on the unseen test sets, with each test CER as a ratio to the
``--reference`` run's at its last point (architectures compared at equal CPU minutes).

    python bench/pretrain_curve.py RUN_DIR [RUN_DIR ...] --reference RUN_DIR --output bench/results/X.json

A run folder holds ``config.json``, ``history.json`` and ``learning_curve.json`` (one point per
invocation: training minutes so far and greedy CER/WER per test set).
"""

import argparse
import json
import pathlib
import sys

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from bench.record import machine_facts, write_result  # noqa: E402


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("runs", nargs="+", help="run folders of recipes/pretrain_english.py")
    p.add_argument("--reference", help="the run the others are compared with (default: the first)")
    p.add_argument("--note", default="", help="what the runs shared (machine load, concurrent runs)")
    p.add_argument("--output", default="-", help="result JSON ('-': print)")
    return p.parse_args(argv)


def read_run(folder):
    """One run's settings, totals and learning curve."""
    folder = pathlib.Path(folder)
    for name in ("config.json", "history.json", "learning_curve.json"):
        if not (folder / name).is_file():
            raise SystemExit(f"pretrain_curve.py: error: {folder} has no {name}: not a finished pretrain_english run")
    config = json.loads((folder / "config.json").read_text())
    history = json.loads((folder / "history.json").read_text())
    curve = json.loads((folder / "learning_curve.json").read_text())
    return {"run": str(folder), "model": config["model"], "model_params": config["model_params"],
            "learning_rate": config["learning_rate"], "epochs_planned": config["epochs"],
            "speed_perturb": config["speed_perturb"], "spec_augment": config["spec_augment"],
            "time_budget": config["time_budget"],
            "epochs": len(history.get("loss", [])), "train_minutes": sum(history.get("epoch_seconds", [])) / 60,
            "val_cer": history.get("val_cer", []), "curve": curve}


def compare(runs, reference):
    """Each run's last-point test CERs over the reference's (< 1: better than it)."""
    last = reference["curve"][-1]["test"]
    for run in runs:
        mine = run["curve"][-1]["test"]
        run["cer_ratio_to_reference"] = {name: round(mine[name]["cer"] / last[name]["cer"], 3)
                                         for name in mine if name in last and last[name]["cer"] > 0}
    return runs


def main(argv=None):
    args = parse_args(argv)
    runs = [read_run(folder) for folder in args.runs]
    reference = read_run(args.reference) if args.reference else runs[0]
    compare(runs, reference)
    for run in runs:
        point = run["curve"][-1]
        print(f"{run['run']}: {run['model']} {run['epochs']} epochs, {run['train_minutes']:.0f} min: "
              + ", ".join(f"{name} {score['cer']:.3f}" for name, score in point["test"].items())
              + f"  (ratio to reference: {run['cer_ratio_to_reference']})")
    report = {"note": args.note, "reference": reference["run"], "runs": runs, **machine_facts("jax")}
    write_result(args.output, report)


if __name__ == "__main__":
    main()
