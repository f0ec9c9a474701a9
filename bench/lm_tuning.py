"""Whether the LM weight and word bonus tuned on dev carry over to unseen voices: a wide grid on every corpus.

    python bench/lm_tuning.py --run-dir runs/librispeech_mini    # a finished recipe run

The recipe tunes the beam search's LM weight x word bonus on its dev set (seen speakers,
``evaluate_with_lm``) and decodes every test set with that point. This decodes every corpus the
recipe scores (test: the unseen speaker, dev, LibriVox, unseen Common Voice voices) with the run's
own model and LM (``lm.arpa``, flashlight's lexicon search) at every point of a wider grid, and
reports per corpus its WER at the dev-tuned point, at its own best point (what perfect tuning
would buy: an upper bound, as it is chosen on the corpus itself), and the deletions and insertions
at both. Results go to bench/results/lm_tuning.json (``--output``) with the device, versions,
date and command.
"""

import argparse
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from lm_decoding import corpora_of  # noqa: E402  (bench/lm_decoding.py)
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

LM_WEIGHTS = (0.2, 0.35, 0.5, 0.75, 1.0, 1.5)  # asr.decoding's WIDE_LM_WEIGHTS and one heavier point
WORD_BONUSES = (-3.0, -2.0, -1.0, 0.0, 1.0, 2.0, 3.0)  # WIDE_WORD_BONUSES and one step past each end


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", required=True, help="a finished recipes/librispeech_mini.py run (model.keras, "
                                                     "lm.arpa and its manifests)")
    p.add_argument("--beam-width", type=int, default=32, help="the recipe's (evaluate_with_lm's default)")
    p.add_argument("--max-utterances", type=int, default=0, help="first N utterances of each corpus (0: all)")
    p.add_argument("--output", help="JSON results (default: bench/results/lm_tuning.json; '-': print only)")
    args = p.parse_args(argv)
    run = pathlib.Path(args.run_dir)
    for name in ("model.keras", "lm.arpa", "train.jsonl", "dev.jsonl", "test.jsonl"):
        if not (run / name).is_file():
            p.error(f"--run-dir {args.run_dir}: no {name} (not a finished recipe run)")
    return args


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    from asr.decoding import tune_beam_search
    from asr.evaluate import TUNING_UTTERANCES, corpus_logits
    from asr.models import load_model

    run = pathlib.Path(args.run_dir)
    model = load_model(run / "model.keras", compile=False)
    corpora = corpora_of(run, args.max_utterances)[1]
    lm, rows = str(run / "lm.arpa"), []
    for name, entries in corpora.items():
        data, logits = corpus_logits(model, entries, name=name)
        references = [e["text"] for e in data.entries]
        if name == "dev":  # tuned as evaluate_with_lm tunes: the recipe's grid, every step-th dev utterance
            step = max(1, len(logits) // TUNING_UTTERANCES)
            tuned = tune_beam_search(logits[::step], references[::step], model.vocabulary, lm=lm,
                                     beam_width=args.beam_width, engine="flashlight")[0]
        grid = tune_beam_search(logits, references, model.vocabulary, lm=lm, beam_width=args.beam_width,
                                lm_weights=LM_WEIGHTS, word_bonuses=WORD_BONUSES, engine="flashlight")[1]
        rows.append({"corpus": name, "utterances": len(logits), "grid": grid,
                     "own_best": min(grid, key=lambda point: point["wer"])})
    for row in rows:
        row["dev_tuned"] = next(p for p in row["grid"] if (p["lm_weight"], p["word_bonus"]) == (
            tuned["lm_weight"], tuned["word_bonus"]))
        tuned_row, best = row["dev_tuned"], row["own_best"]
        print(f"{row['corpus']:>22} ({row['utterances']} utt): dev-tuned ({tuned_row['lm_weight']}, "
              f"{tuned_row['word_bonus']}) WER {tuned_row['wer']:.3f} ({tuned_row['deletions']} deleted / "
              f"{tuned_row['insertions']} inserted words); its own best ({best['lm_weight']}, {best['word_bonus']}) "
              f"{best['wer']:.3f}: tuning on dev costs {tuned_row['wer'] - best['wer']:.3f}", flush=True)
    result = {"run": str(run), "beam_width": args.beam_width, "lm_weights": LM_WEIGHTS, "word_bonuses": WORD_BONUSES,
              "corpora": rows, **machine_facts(backend)}
    write_result(args.output or ROOT / "bench" / "results" / "lm_tuning.json", result)
    return result


if __name__ == "__main__":
    main()
