"""What a language model buys one trained recipe model: LM variants x test sets.

    python bench/lm_decoding.py --run-dir runs/librispeech_mini       # a finished recipe run
    python bench/lm_decoding.py --run-dir RUN --variants 3gram-train  # one variant

Every variant is tuned on the run's dev set (LM weight x word bonus, ``evaluate_with_lm``)
and scored on each corpus the recipe scores (test: the unseen speaker, dev, LibriVox, unseen
Common Voice voices), greedy beside beam. Variants: the recipe's LM before this benchmark
(a trigram of the training transcripts, the NumPy prefix search), and KN models of the
shared LM text plus the training transcripts (evaluation sentences removed) at orders 3
and 4, pruned or not, decoded by flashlight's lexicon search. Per variant: n-grams, ARPA
megabytes, build seconds, perplexity and OOV rate per corpus (an OOV scores as ``<unk>``:
perplexities of LMs with different vocabularies do not compare), decoding seconds. Results go to
bench/results/lm_decoding.json (``--output``) with the device, versions, date and command.
"""

import argparse
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

VARIANTS = {  # name: (LM text: training transcripts only, or the shared LM text too; order; prune; engine)
    "3gram-train-numpy": ("train", 3, (), "numpy"),
    "3gram-shared": ("shared", 3, (), "flashlight"),
    "4gram-shared-pruned": ("shared", 4, (0, 1), "flashlight"),
    "4gram-shared": ("shared", 4, (), "flashlight"),
}


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--run-dir", required=True, help="a finished recipes/librispeech_mini.py run")
    p.add_argument("--variants", default=",".join(VARIANTS), help=f"comma-separated, of {', '.join(VARIANTS)}")
    p.add_argument("--max-utterances", type=int, default=0, help="first N utterances of each corpus (0: all)")
    p.add_argument("--output", help="JSON results (default: bench/results/lm_decoding.json; '-': print only)")
    return p.parse_args(argv)


def corpora_of(run, limit):
    """The recipe's scored corpora, from the run's manifests and its defaults."""
    from asr.corpus import read_manifest
    from recipes.librispeech_mini import eval_corpora, parse_args

    args, _ = parse_args(["--max-eval-utterances", str(limit)])
    train = read_manifest(run / "train.jsonl")[0]
    dev, test = read_manifest(run / "dev.jsonl")[0], read_manifest(run / "test.jsonl")[0]
    corpora = eval_corpora(args, train, dev[: limit or None], test[: limit or None])
    return train, corpora, args


def build(variant, train, corpora, args, folder):
    """The variant's ARPA file and its description."""
    from asr.lm_build import build_lm, perplexity, read_sentences
    from recipes.librispeech_mini import lm_texts

    text, order, prune, engine = VARIANTS[variant]
    sentences = [e["text"] for e in train] + (read_sentences(lm_texts(args))[0] if text == "shared" else [])
    held_out = [e["text"] for entries in corpora.values() for e in entries]
    lm, report = build_lm(sentences, order, prune, exclude=held_out)
    path = folder / f"{variant}.arpa"
    lm.write_arpa(path)
    scores = {name: perplexity(lm, [e["text"] for e in entries]) for name, entries in corpora.items() if entries}
    return path, {"text": text, "order": order, "prune": list(prune), "engine": engine,
                  "ngrams": report["ngrams"], "megabytes": round(path.stat().st_size / 2**20, 2),
                  "build_seconds": round(report["seconds"], 1),
                  "perplexity": {k: round(s["perplexity"], 1) for k, s in scores.items()},
                  "oov_rate": {k: round(s["oov_rate"], 4) for k, s in scores.items()}}


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    from asr.evaluate import evaluate_with_lm
    from asr.models import load_model

    run = pathlib.Path(args.run_dir)
    model = load_model(run / "model.keras", compile=False)
    train, corpora, recipe_args = corpora_of(run, args.max_utterances)
    rows = []
    with tempfile.TemporaryDirectory(prefix="asr-lm-bench-") as folder:
        for variant in args.variants.split(","):
            path, row = build(variant, train, corpora, recipe_args, pathlib.Path(folder))
            start = time.perf_counter()
            result = evaluate_with_lm(model, corpora["dev"], corpora, lm=str(path), engine=row["engine"])
            row.update(variant=variant, seconds=round(time.perf_counter() - start, 1),
                       tuned=result["tuning"]["best"], scores={
                           name: {decoder: {"cer": r["cer"]["rate"], "wer": r["wer"]["rate"],
                                            "utterances": r["utterances"]} for decoder, r in result[name].items()}
                           for name in corpora})
            rows.append(row)
            print(f"{variant:>20} ({row['megabytes']:.1f} MB, test perplexity {row['perplexity'].get('test', 0):.0f},"
                  f" {row['seconds']:.0f} s): " + "; ".join(
                      f"{name} WER {s['greedy']['wer']:.3f} -> {s['beam']['wer']:.3f}" for name, s in
                      row["scores"].items()), flush=True)
    result = {"run": str(run), "variants": rows, **machine_facts(backend)}
    write_result(args.output or ROOT / "bench" / "results" / "lm_decoding.json", result)
    return result


if __name__ == "__main__":
    main()
