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


def grid_errors(decoder, log_probs, references):
    """``{(lm_weight, word_bonus): ErrorCounts}`` over the grid, for one corpus."""
    from asr.metrics import word_errors

    table = {}
    for weight in LM_WEIGHTS:
        for bonus in WORD_BONUSES:
            decoder.set_weights(weight, bonus)
            table[weight, bonus] = word_errors(references, [decoder.decode_one(lp) for lp in log_probs])
    return table


def point(key, errors):
    return {"lm_weight": key[0], "word_bonus": key[1], "wer": round(errors.rate, 4),
            "deletions": errors.deletions, "insertions": errors.insertions}


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    from asr.decoding import WIDE_LM_WEIGHTS, WIDE_WORD_BONUSES, log_softmax, make_decoder
    from asr.evaluate import TUNING_UTTERANCES, corpus_logits
    from asr.models import load_model

    run = pathlib.Path(args.run_dir)
    model = load_model(run / "model.keras", compile=False)
    corpora = corpora_of(run, args.max_utterances)[1]
    decoder = make_decoder("beam", model.vocabulary, args.beam_width, lm=str(run / "lm.arpa"), engine="flashlight")
    tables = {}
    for name, entries in corpora.items():
        data, logits = corpus_logits(model, entries, name=name)
        log_probs, references = [log_softmax(lg) for lg in logits], [e["text"] for e in data.entries]
        tables[name] = (len(logits), grid_errors(decoder, log_probs, references))
        if name == "dev":  # the recipe tunes on every step-th dev utterance (evaluate_with_lm)
            step = max(1, len(logits) // TUNING_UTTERANCES)
            tuning_errors = (tables[name][1] if step == 1 else
                             grid_errors(decoder, log_probs[::step], references[::step]))
    recipe_grid = [(w, b) for w in WIDE_LM_WEIGHTS for b in WIDE_WORD_BONUSES]  # what the recipe tunes over
    tuned = min(recipe_grid, key=lambda key: tuning_errors[key].rate)
    rows = []
    for name, (utterances, table) in tables.items():
        best = min(table, key=lambda key: table[key].rate)
        rows.append({"corpus": name, "utterances": utterances, "dev_tuned": point(tuned, table[tuned]),
                     "own_best": point(best, table[best]),
                     "grid": [point(key, errors) for key, errors in table.items()]})
        row = rows[-1]
        print(f"{name:>22} ({utterances} utt): dev-tuned {tuned} WER {row['dev_tuned']['wer']:.3f} "
              f"({row['dev_tuned']['deletions']} deleted / {row['dev_tuned']['insertions']} inserted words); "
              f"its own best {best} {row['own_best']['wer']:.3f}: tuning on dev costs "
              f"{row['dev_tuned']['wer'] - row['own_best']['wer']:.3f}", flush=True)
    result = {"run": str(run), "beam_width": args.beam_width, "lm_weights": LM_WEIGHTS, "word_bonuses": WORD_BONUSES,
              "corpora": rows, **machine_facts(backend)}
    write_result(args.output or ROOT / "bench" / "results" / "lm_tuning.json", result)
    return result


if __name__ == "__main__":
    main()
