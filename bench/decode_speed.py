"""Decoding speed and accuracy: greedy, the NumPy beam search and the compiled (flashlight-text +
KenLM) beam search, with and without a word LM, on logits of a real model.

    python bench/decode_speed.py --model runs/librispeech_mini/model.keras
    python bench/decode_speed.py --model m.keras --smoke          # a few utterances, for CI

Logits are computed once (the held-out speaker ``--test-speaker`` of the shared LibriSpeech
sample and the LibriVox utterances); each decoder then decodes all of them. The LM is a
word trigram of the other speakers' and the 247 voices' transcripts (``asr.lm``, written as
ARPA and read by KenLM for the compiled decoder); both beam searches use its words as the
lexicon, the same beam width, LM weight and word bonus. Printed per decoder: utterances/s,
real-time factor (decoding seconds per audio second), CER/WER; then the compiled decoder's
speed ratio to the NumPy one. Results: bench/results/decode_speed.json.
"""

import argparse
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help=".keras or .onnx model")
    p.add_argument("--test-speaker", default="4088")
    p.add_argument("--utterances", type=int, default=0, help="at most this many test utterances (0: all)")
    p.add_argument("--beam-width", type=int, default=32)
    p.add_argument("--lm-weight", type=float, default=0.5)
    p.add_argument("--word-bonus", type=float, default=1.0)
    p.add_argument("--smoke", action="store_true", help="6 utterances; nothing written unless --output is given")
    p.add_argument("--output", help="JSON results (default: bench/results/decode_speed.json)")
    return p.parse_args(argv)


def corpora(args):
    """``(test entries, LM training sentences)`` from the shared data."""
    from asr.corpus import load_entries, read_transcribed_folder
    from asr.paths import default_data_dir

    data = default_data_dir()
    sample = load_entries(data / "librispeech-sample")[0]
    test = [e for e in sample if str(e["speaker"]) == args.test_speaker]
    sentences = [e["text"] for e in sample if str(e["speaker"]) != args.test_speaker]
    if (data / "librispeech-voices").is_dir():
        sentences += [e["text"] for e in load_entries(data / "librispeech-voices")[0]]
    limit = 6 if args.smoke else args.utterances
    test = test[:limit] if limit else test
    if (data / "pocketsphinx-librivox").is_dir():
        test += read_transcribed_folder(data / "pocketsphinx-librivox")[0][: 2 if args.smoke else None]
    return test, sentences


def run(name, decoder, logits, references, audio_seconds):
    from asr.metrics import char_errors, word_errors

    start = time.perf_counter()
    hypotheses = [decoder.decode([lg])[0] for lg in logits]
    seconds = time.perf_counter() - start
    row = {"decoder": name, "utterances_per_s": len(logits) / seconds, "rtf": seconds / audio_seconds,
           "cer": char_errors(references, hypotheses).rate, "wer": word_errors(references, hypotheses).rate}
    print(f"{name:>26}: {row['utterances_per_s']:8.1f} utt/s  RTF {row['rtf']:.5f}  CER {row['cer']:.3f}  "
          f"WER {row['wer']:.3f}")
    return row, hypotheses


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()
    from asr import decoding_flashlight
    from asr.decoding import make_decoder
    from asr.evaluate import corpus_logits
    from asr.lm import NGramLM
    from asr.onnx_runtime import load_model

    model = load_model(args.model, compile=False)
    test, sentences = corpora(args)
    data, logits = corpus_logits(model, test, name="test")
    references = [e["text"] for e in data.entries]
    audio_seconds = sum(e["duration"] for e in data.entries if "duration" in e) or sum(
        len(f) * model.feature_config.hop_length / model.feature_config.sample_rate for f in data.features)
    lm = NGramLM.train(sentences, order=3)
    lexicon = sorted(lm.words)
    options = dict(beam_width=args.beam_width, lm_weight=args.lm_weight, word_bonus=args.word_bonus)
    with tempfile.TemporaryDirectory() as tmp:
        arpa = pathlib.Path(tmp) / "lm.arpa"
        lm.write_arpa(arpa)
        decoders = {"greedy": make_decoder("greedy", model.vocabulary),
                    "numpy beam": make_decoder("beam", model.vocabulary, beam_width=args.beam_width, engine="numpy"),
                    "numpy beam + lexicon": make_decoder("beam", model.vocabulary, lexicon=lexicon, engine="numpy",
                                                         **{**options, "lm_weight": 0.0}),
                    "numpy beam + LM": make_decoder("beam", model.vocabulary, lm=lm, lexicon=lexicon, engine="numpy",
                                                    **options)}
        if decoding_flashlight.available():
            decoders["compiled beam + lexicon"] = make_decoder("beam", model.vocabulary, lexicon=lexicon,
                                                               engine="flashlight", **{**options, "lm_weight": 0.0})
            decoders["compiled beam + LM"] = make_decoder("beam", model.vocabulary, lm=str(arpa), lexicon=lexicon,
                                                          engine="flashlight", **options)
        rows, texts = [], {}
        for name, decoder in decoders.items():
            row, texts[name] = run(name, decoder, logits, references, audio_seconds)
            rows.append(row)
    by_name = {row["decoder"]: row for row in rows}
    ratios = {}
    for kind in ("lexicon", "LM"):
        if f"compiled beam + {kind}" in by_name:
            compiled, numpy_beam = by_name[f"compiled beam + {kind}"], by_name[f"numpy beam + {kind}"]
            ratios[kind] = compiled["utterances_per_s"] / numpy_beam["utterances_per_s"]
            same = sum(a == b for a, b in zip(texts[f"compiled beam + {kind}"], texts[f"numpy beam + {kind}"]))
            print(f"compiled vs NumPy beam + {kind}: {ratios[kind]:.1f}x the speed, WER {compiled['wer']:.3f} vs "
                  f"{numpy_beam['wer']:.3f}, same text for {same}/{len(logits)} utterances")
    report = {"rows": rows, "compiled_speedup": ratios, "utterances": len(logits),
              "audio_seconds": round(audio_seconds, 1), "model": str(args.model), "options": options,
              **machine_facts(backend)}
    write_result(args.output or (None if args.smoke else ROOT / "bench" / "results" / "decode_speed.json"), report)
    return report


if __name__ == "__main__":
    main()
