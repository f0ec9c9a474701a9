"""Checkpoint averaging, measured on a finished run: greedy CER of the mean of the last N
epochs' weights against the run's own final model, on the held-out speaker, dev and LibriVox.

    python bench/checkpoint_averaging.py --run-dir runs/small_data/4406 --checkpoints CKPTS --last 1,3,5

``--run-dir`` is a ``bench/small_data.py`` fold folder (``test.jsonl``, ``dev.jsonl``,
``config.json``, ``model.keras``); ``--checkpoints`` holds its per-epoch
``checkpoint-e*.keras`` files (a run with ``--average-last N`` keeps its last N; copies
taken during any run do too). Results go to ``--output`` as JSON with the device, versions,
date and command. Training with ``--average-last N`` gives the same model as the row "last N".
"""

import argparse
import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", required=True, help="a finished recipe run (bench/small_data.py fold folder)")
    p.add_argument("--checkpoints", required=True, help="folder of that run's checkpoint-e*.keras files")
    p.add_argument("--last", default="1,3,5", help="comma-separated numbers of final epochs to average")
    p.add_argument("--ood-dir", help="out-of-domain folder (default: $ASR_DATA_DIR/pocketsphinx-librivox)")
    p.add_argument("--output", help="JSON results (default: print only)")
    return p.parse_args(argv)


def corpora(run_dir, ood_dir):
    from asr.corpus import load_entries, read_transcribed_folder
    from asr.paths import default_data_dir

    found = {name: load_entries(run_dir / f"{name}.jsonl")[0] for name in ("test", "dev")}
    ood = pathlib.Path(ood_dir) if ood_dir else default_data_dir() / "pocketsphinx-librivox"
    if ood.is_dir():
        found["librivox"] = read_transcribed_folder(ood)[0]
    return found


def greedy_cers(model, data, cache_dir):
    from asr.evaluate import evaluate

    return {name: evaluate(model, entries, cache_dir=cache_dir, name=name)["cer"]["rate"]
            for name, entries in data.items()}


def main(argv=None):
    args = parse_args(argv)
    from asr.averaging import average_checkpoints
    from asr.keras_backend import choose_backend
    from asr.models import load_model

    backend = choose_backend()
    run_dir = pathlib.Path(args.run_dir)
    cache_dir = json.loads((run_dir / "config.json").read_text(encoding="utf-8")).get("cache_dir") or None
    checkpoints = sorted(pathlib.Path(args.checkpoints).glob("checkpoint-e*.keras"))
    if not checkpoints:
        sys.exit(f"--checkpoints {args.checkpoints!r}: no checkpoint-e*.keras files there")
    data = corpora(run_dir, args.ood_dir)
    rows = [{"model": "recipe (best dev CER)", **greedy_cers(load_model(run_dir / "model.keras"), data, cache_dir)}]
    for n in (int(v) for v in args.last.split(",")):
        chosen = checkpoints[-n:]
        rows.append({"model": f"last {len(chosen)}", "epochs": [p.name for p in chosen],
                     **greedy_cers(average_checkpoints(chosen), data, cache_dir)})
    for row in rows:
        print(f"{row['model']:>22}: " + "  ".join(f"{k} CER {row[k]:.3f}" for k in data))
    write_result(args.output, {"run_dir": str(run_dir), "rows": rows, **machine_facts(backend)})


if __name__ == "__main__":
    main()
