"""Long-audio transcription: peak memory and real-time factor on an hour of real speech, and
the CER cost of cutting audio into segments (chunked vs whole-file decoding).

    python bench/long_audio.py                               # 60 min, the recipe's model (untrained)
    python bench/long_audio.py --model runs/x/model.keras    # + chunked vs whole CER with a trained model
    python bench/long_audio.py --minutes 2 --smoke           # seconds, for CI

The long file repeats real LibriSpeech utterances of the shared sample, each followed by
0.4 s of silence. Transcription runs in a fresh process (peak RSS from getrusage) with
greedy decoding; the targets are peak RSS < 1.5 GB and RTF <= 0.05 on 2 CPU cores. The CER
comparison joins groups of utterances into one file each and decodes them once cut at
pauses (``--max-segment-seconds``) and once whole. Results go to bench/results/long_audio.json.
"""

import argparse
import json
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from record import machine_facts  # noqa: E402  (bench/record.py)

from recipes.librispeech_mini import RECIPE  # noqa: E402

RSS_TARGET_MB = 1500.0
RTF_TARGET = 0.05
PAUSE_SECONDS = 0.4
RECIPE_MODEL = RECIPE["model_params"]  # the architecture recipes/librispeech_mini.py trains


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--minutes", type=float, default=60.0)
    p.add_argument("--model", help=".keras model (default: the recipe's architecture, untrained)")
    p.add_argument("--max-segment-seconds", type=float, default=20.0)
    p.add_argument("--cer-groups", type=int, default=6, help="joined files for chunked vs whole CER")
    p.add_argument("--per-group", type=int, default=5, help="utterances per joined file")
    p.add_argument("--output", default=str(ROOT / "bench" / "results" / "long_audio.json"))
    p.add_argument("--smoke", action="store_true", help="tiny run; nothing written unless --output is given")
    return p.parse_args(argv)


def utterances():
    from asr.corpus import read_librispeech
    from asr.paths import default_data_dir

    entries, _ = read_librispeech(default_data_dir() / "librispeech-sample" / "LibriSpeech")
    return entries


def write_long_file(path, entries, minutes):
    """Utterances + pauses, repeated to ``minutes``, written piece by piece."""
    import numpy as np
    import soundfile as sf

    target, written = int(minutes * 60 * 16000), 0
    with sf.SoundFile(path, "w", 16000, 1, subtype="PCM_16") as out:
        while written < target:
            for entry in entries:
                piece = np.concatenate([sf.read(entry["path"], dtype="float32")[0],
                                        np.zeros(int(PAUSE_SECONDS * 16000), "float32")])[: target - written]
                out.write(piece)
                written += len(piece)
                if written >= target:
                    break
    return written / 16000


def measure(model_path, audio_path, max_segment_seconds):
    """``{"seconds", "peak_rss_mb", "segments"}`` of transcribing in a fresh process."""
    code = f"""
import json, resource, time
from asr.inference import transcribe
from asr.models import load_model
model = load_model({str(model_path)!r})
transcribe(model, [{str(audio_path)!r}], max_segment_seconds=5.0)  # warm-up: compile, load libraries
start = time.perf_counter()
result = transcribe(model, [{str(audio_path)!r}], max_segment_seconds={max_segment_seconds})[0]
seconds = time.perf_counter() - start
print(json.dumps({{"seconds": seconds, "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
                  "segments": len(result.segments), "error": result.error, "duration": result.duration}}))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False)
    if out.returncode != 0:
        raise SystemExit(f"transcription failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def chunked_vs_whole(model_path, entries, groups, per_group, max_segment_seconds, folder):
    """CER of joined utterance groups decoded in segments and whole (in one segment as long as
    ``asr.transcribe`` allows, longer than any joined file)."""
    import numpy as np
    import soundfile as sf

    from asr.inference import SEGMENT_SECONDS_RANGE, transcribe
    from asr.metrics import cer
    from asr.models import load_model

    model, paths, references = load_model(model_path), [], []
    for g in range(groups):
        chosen = entries[g * per_group: (g + 1) * per_group]
        pause = np.zeros(int(PAUSE_SECONDS * 16000), "float32")
        audio = np.concatenate([x for e in chosen for x in (sf.read(e["path"], dtype="float32")[0], pause)])
        paths.append(folder / f"joined{g}.wav")
        sf.write(paths[-1], audio, 16000)
        references.append(" ".join(e["text"] for e in chosen))
    chunked = transcribe(model, paths, max_segment_seconds=max_segment_seconds)
    whole = transcribe(model, paths, max_segment_seconds=SEGMENT_SECONDS_RANGE[1])
    return {"files": groups, "seconds_per_file": round(float(np.mean([r.duration for r in whole])), 1),
            "segments_per_file": float(np.mean([len(r.segments) for r in chunked])),
            "cer_chunked": cer(references, [r.text for r in chunked]),
            "cer_whole": cer(references, [r.text for r in whole])}


def main(argv=None):
    args = parse_args(argv)
    from asr.keras_backend import choose_backend

    backend = choose_backend()

    entries = utterances()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = pathlib.Path(tmp)
        model_path = args.model
        if model_path is None:
            from asr.features import FeatureConfig
            from asr.models import build_model

            model = build_model("deepspeech", FeatureConfig("log_mel"), **RECIPE_MODEL)
            model_path = tmp / "recipe_model.keras"
            model.save(model_path)
        seconds = write_long_file(tmp / "long.wav", entries[:40], args.minutes)
        run = measure(model_path, tmp / "long.wav", args.max_segment_seconds)
        report = {"audio_minutes": round(seconds / 60, 2), "transcribe_seconds": round(run["seconds"], 1),
                  "rtf": round(run["seconds"] / seconds, 4), "rtf_target": RTF_TARGET,
                  "peak_rss_mb": round(run["peak_rss_mb"], 1), "rss_target_mb": RSS_TARGET_MB,
                  "segments": run["segments"], "model": str(args.model or f"deepspeech {RECIPE_MODEL} (untrained)")}
        if args.model:
            report["chunked_vs_whole"] = chunked_vs_whole(args.model, entries, args.cer_groups, args.per_group,
                                                          args.max_segment_seconds, tmp)
    report.update(machine_facts(backend))
    print(f"{report['audio_minutes']} min of audio: RTF {report['rtf']} ({report['rtf'] / RTF_TARGET:.2f}x the "
          f"target {RTF_TARGET}), peak RSS {report['peak_rss_mb']} MB ({report['peak_rss_mb'] / RSS_TARGET_MB:.2f}x "
          f"the target {RSS_TARGET_MB:g} MB), {report['segments']} segments")
    if "chunked_vs_whole" in report:
        c = report["chunked_vs_whole"]
        print(f"CER chunked {c['cer_chunked']:.4f} vs whole {c['cer_whole']:.4f} ({c['files']} files of "
              f"{c['seconds_per_file']} s, {c['segments_per_file']} segments each)")
    if not args.smoke or "--output" in " ".join(sys.argv):
        pathlib.Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(args.output).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
