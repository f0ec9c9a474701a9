"""A peer in the same table: pocketsphinx's packaged US English model on the toolkit's test sets.

    python bench/peers.py                                  # every shared test set (~30 min on 2 cores)
    python bench/peers.py --max-utterances 3 --output -   # seconds-scale check (CI)
    python bench/peers.py DATA...                          # other corpora (any layout asr data reads)

pocketsphinx (``pip install pocketsphinx``; the acoustic model, the 3-gram LM and the CMU
dictionary ship in the wheel) decodes each utterance at 16 kHz with its defaults; its words
are normalised as transcripts are, then scored with the toolkit's CER/WER. The default test
sets are the ones ``bench/small_data.py`` reports: each LibriSpeech sample speaker (the
unseen speaker of one fold), the 95 Common Voice voices of ``cv-corpus-6.1-sample`` (never
trained on) and the LibriVox set. Results go to bench/results/peers.json (``--output``), with
the real-time factor and the device, versions, date and command.
"""

import argparse
import collections
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts, write_result  # noqa: E402  (bench/record.py)

SAMPLE_RATE = 16000  # the packaged model's rate
INT16_SCALE = 32767  # float samples in [-1, 1] -> the 16-bit PCM pocketsphinx reads


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("data", nargs="*", help="corpora to score (default: the shared test sets, see above)")
    p.add_argument("--sets", help="comma-separated names of the default sets to score (default: all), e.g. "
                                  "librispeech-4406,commonvoice-6.1-sample,librivox")
    p.add_argument("--max-utterances", type=int, default=0, help="first N utterances of each set (0: all)")
    p.add_argument("--output", help="JSON results (default: bench/results/peers.json; '-': print only)")
    return p.parse_args(argv)


def default_sets():
    """``{name: entries}``: each LibriSpeech sample speaker, unseen Common Voice voices, LibriVox."""
    from asr.corpus import load_entries, read_transcribed_folder
    from asr.paths import default_data_dir

    data = default_data_dir()
    sets = collections.defaultdict(list)
    for entry in load_entries(data / "librispeech-sample")[0]:
        sets[f"librispeech-{entry['speaker']}"].append(entry)
    sets["commonvoice-6.1-sample"] = load_entries(data / "commonvoice-en" / "cv-corpus-6.1-sample")[0]
    sets["librivox"] = read_transcribed_folder(data / "pocketsphinx-librivox")[0]
    return dict(sets)


def named_sets(sources):
    from asr.corpus import load_sources

    return {source: load_sources([source])[0] for source in sources}


def decode(decoder, entry):
    """pocketsphinx's words for one manifest entry and the audio's seconds."""
    from asr.audio import load_audio
    from asr.text import normalize_transcript

    segment = (float(entry["offset"]), float(entry["duration"])) if "offset" in entry else (0.0, None)
    audio = load_audio(entry["path"], SAMPLE_RATE, *segment)  # (asr.utterances.segment_of, without Keras)
    pcm = (np.clip(audio, -1.0, 1.0) * INT16_SCALE).astype(np.int16)
    decoder.start_utt()
    decoder.process_raw(pcm.tobytes(), full_utt=True)
    decoder.end_utt()
    hypothesis = decoder.hyp()
    return normalize_transcript(hypothesis.hypstr if hypothesis else ""), len(audio) / SAMPLE_RATE


def score_set(decoder, name, entries):
    from asr.metrics import char_errors, word_errors

    hypotheses, seconds, start = [], 0.0, time.perf_counter()
    for entry in entries:
        text, duration = decode(decoder, entry)
        hypotheses.append(text)
        seconds += duration
    wall = time.perf_counter() - start
    references = [e["text"] for e in entries]
    return {"set": name, "utterances": len(entries), "audio_minutes": seconds / 60,
            "cer": char_errors(references, hypotheses).rate, "wer": word_errors(references, hypotheses).rate,
            "rtf": wall / max(seconds, 1e-9), "examples": [{"reference": r, "hypothesis": h} for r, h in
                                                          list(zip(references, hypotheses))[:3]]}


def main(argv=None):
    args = parse_args(argv)
    try:
        import pocketsphinx
    except ImportError:
        raise SystemExit("bench/peers.py: error: needs pocketsphinx: pip install pocketsphinx") from None

    sets = named_sets(args.data) if args.data else default_sets()
    if args.sets:
        unknown = set(args.sets.split(",")) - set(sets)
        if unknown:
            raise SystemExit(f"bench/peers.py: error: --sets {sorted(unknown)}: not among {sorted(sets)}")
        sets = {name: entries for name, entries in sets.items() if name in args.sets.split(",")}
    decoder = pocketsphinx.Decoder(loglevel="FATAL")  # the packaged en-us model, LM and dictionary
    rows = []
    for name, entries in sets.items():
        entries = entries[: args.max_utterances] if args.max_utterances else entries
        rows.append(score_set(decoder, name, entries))
        row = rows[-1]
        print(f"{name:>24}: CER {row['cer']:.3f}  WER {row['wer']:.3f}  ({row['utterances']} utt, "
              f"{row['audio_minutes']:.1f} min, RTF {row['rtf']:.3f})", flush=True)
    import importlib.metadata

    version = importlib.metadata.version("pocketsphinx")
    result = {"peer": f"pocketsphinx {version} (packaged en-us model, LM and dictionary)", "sets": rows,
              "max_utterances": args.max_utterances, **machine_facts("numpy")}
    write_result(args.output or ROOT / "bench" / "results" / "peers.json", result)
    return result


if __name__ == "__main__":
    main()
