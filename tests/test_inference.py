"""Transcription users can rely on: per-file results, long audio in constant memory, word
times from the best path, subtitles that parse back."""

import json
import re
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT, run_python
from test_cli import asr

from asr.alignment import best_path_words, subtitle_cues, to_srt, to_vtt
from asr.inference import transcribe
from asr.models import load_model
from asr.text import Vocabulary


def test_best_path_words_and_times():
    vocab = Vocabulary()
    ids = {c: vocab.encode(c)[0] for c in "hi yo "}
    path = [0, ids["h"], ids["h"], ids["i"], 0, ids[" "], 0, 0, ids["y"], 0, ids["o"], ids["o"]]
    logits = np.full((len(path), vocab.size), -5.0, "float32")
    logits[np.arange(len(path)), path] = 5.0
    words = best_path_words(logits, vocab, seconds_per_frame=0.04, offset=10.0)
    assert [(w.text, round(w.start, 2), round(w.end, 2)) for w in words] == [("hi", 10.04, 10.16),
                                                                              ("yo", 10.32, 10.48)]
    assert all(0.99 < w.confidence <= 1.0 for w in words)
    gap = [ids["h"], ids["i"]] + [0] * 12 + [ids["y"], ids["o"]]  # no space, but a 0.48 s pause
    gap_logits = np.full((len(gap), vocab.size), -5.0, "float32")
    gap_logits[np.arange(len(gap)), gap] = 5.0
    assert [w.text for w in best_path_words(gap_logits, vocab, 0.04)] == ["hi", "yo"]


def test_subtitles_parse_back():
    vocab = Vocabulary()
    logits = np.full((400, vocab.size), -5.0, "float32")
    logits[:, 0] = 5.0
    for t in range(0, 400, 10):  # a two-letter word every 0.4 s
        logits[t, vocab.encode("a")[0]], logits[t + 1, vocab.encode("b")[0]] = 9.0, 9.0
        logits[t + 5, vocab.encode(" ")[0]] = 9.0
    cues = subtitle_cues(best_path_words(logits, vocab, 0.04, offset=3599.0))
    srt, vtt = to_srt(cues), to_vtt(cues)
    stamp = r"(\d\d):(\d\d):(\d\d)[,.](\d\d\d)"
    blocks = srt.strip().split("\n\n")
    assert len(blocks) == len(cues) > 1 and vtt.startswith("WEBVTT\n\n")
    previous_end = 0.0
    for i, block in enumerate(blocks, 1):
        number, times, text = block.split("\n")
        match = re.fullmatch(f"{stamp} --> {stamp}", times)
        h1, m1, s1, ms1, h2, m2, s2, ms2 = map(int, match.groups())
        start, end = h1 * 3600 + m1 * 60 + s1 + ms1 / 1000, h2 * 3600 + m2 * 60 + s2 + ms2 / 1000
        assert int(number) == i and previous_end <= start < end <= start + 6.0 and set(text.split()) == {"ab"}
        previous_end = end
    assert re.search(f"^{stamp} --> {stamp}$", vtt.split("\n\n")[1].split("\n")[0].replace(",", "."))
    assert "00:59:59,000 --> 01:00:0" in srt  # hours carry over


def test_one_bad_file_never_loses_the_batch(small_model_path, librivox_dir, tmp_path):
    wavs = [str(p) for p in sorted(librivox_dir.glob("*.wav"))]
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really")
    paths = wavs[:2] + [str(tmp_path / "bad.wav")] + wavs[2:]
    model = load_model(small_model_path)
    results = transcribe(model, paths, batch_size=2)
    assert [r.path for r in results] == paths and [r.ok for r in results] == [True, True, False, True, True, True]
    assert "bad.wav" in results[2].error and results[2].text is None
    alone = transcribe(model, wavs[3:4])[0]
    # batching does not change results (confidences up to float noise: oneDNN's sums depend on the padded shape)
    assert results[4].text == alone.text
    assert [(w.text, w.start, w.end) for w in results[4].words] == [(w.text, w.start, w.end) for w in alone.words]
    assert [w.confidence for w in results[4].words] == pytest.approx([w.confidence for w in alone.words], rel=1e-5)

    cli = asr("transcribe", small_model_path, *paths, "--batch-size", 2, "-q")
    assert cli.returncode == 1 and cli.stdout.splitlines() == [f"{r.path}\t{r.text}" for r in results if r.ok]
    assert cli.stderr.strip().endswith(f"{tmp_path / 'bad.wav'}: {results[2].error}")
    jsonl = [json.loads(line) for line in asr("transcribe", small_model_path, *paths, "--format", "jsonl",
                                               "-q").stdout.splitlines()]
    assert [("error" in line) for line in jsonl] == [False, False, True, False, False, False]
    assert {"text", "duration", "confidence", "segments", "words"} <= set(jsonl[0])


def test_prepared_files_finish_as_transcribe_does(small_model_path, librivox_dir, librispeech_entries, tmp_path):
    """prepare_file + finish_files (the server's two stages) give transcribe's results: texts,
    words, segments of a long file cut in pieces, and a bad file's error."""
    from asr.inference import finish_files, prepare_file

    long_audio = np.concatenate([sf.read(e["path"])[0] for e in librispeech_entries[:6]])
    sf.write(tmp_path / "long.wav", long_audio, 16000)
    (tmp_path / "bad.wav").write_bytes(b"RIFF not really")
    paths = [str(p) for p in sorted(librivox_dir.glob("*.wav"))[:2]] + [str(tmp_path / n) for n in ("bad.wav",
                                                                                                     "long.wav")]
    model = load_model(small_model_path)
    expected = transcribe(model, paths, batch_size=4, max_segment_seconds=15)
    got = finish_files(model, [prepare_file(model, p, max_segment_seconds=15) for p in paths], batch_size=4)
    assert len(expected[3].segments) > 1  # the long file was cut
    for a, b in zip(got, expected):
        assert (a.path, a.text, a.error, a.segments) == (b.path, b.text, b.error, b.segments)
        assert [(w.text, w.start, w.end) for w in a.words] == [(w.text, w.start, w.end) for w in b.words]


def test_subtitle_files_for_several_inputs(small_model_path, librivox_dir, tmp_path):
    wavs = sorted(librivox_dir.glob("*.wav"))[:2]
    refused = asr("transcribe", small_model_path, *wavs, "--format", "srt")
    assert refused.returncode == 2 and "needs --output-dir" in refused.stderr
    written = asr("transcribe", small_model_path, *wavs, "--format", "vtt", "--output-dir", tmp_path, "-q")
    assert written.returncode == 0 and sorted(p.name for p in tmp_path.glob("*.vtt")) == [w.stem + ".vtt"
                                                                                           for w in wavs]


def long_file(path, librispeech_entries, minutes):
    """Real utterances, each followed by 0.4 s of silence, repeated to ``minutes``."""
    pieces, total = [], 0
    clips = [sf.read(e["path"], dtype="float32")[0] for e in librispeech_entries[:6]]
    while total < minutes * 60 * 16000:
        for clip in clips:
            pieces += [clip, np.zeros(6400, "float32")]
            total += len(clip) + 6400
    sf.write(path, np.concatenate(pieces)[: minutes * 60 * 16000], 16000, subtype="PCM_16")
    return path


def test_long_audio_in_constant_memory_and_deterministic(small_model_path, librispeech_entries, tmp_path):
    peaks = {}
    for minutes in (2, 8):
        path = long_file(tmp_path / f"long{minutes}.wav", librispeech_entries, minutes)
        out = run_python(f"""
import json, resource
from asr.inference import transcribe
from asr.models import load_model
result = transcribe(load_model({str(small_model_path)!r}), [{str(path)!r}])[0]
print(json.dumps({{"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss, "duration": result.duration,
                  "segments": result.segments, "error": result.error}}))
""")
        peaks[minutes] = json.loads(out.splitlines()[-1])
    long = peaks[8]
    assert long["error"] is None and long["duration"] == pytest.approx(480, abs=0.1)
    assert all(s["end"] - s["start"] <= 20.0 + 1e-6 for s in long["segments"]) and len(long["segments"]) >= 24
    assert long["rss"] - peaks[2]["rss"] < 100_000, peaks  # KiB: 4x the audio, not 4x the memory
    assert [s["start"] for s in peaks[2]["segments"]] == [s["start"] for s in long["segments"]][
        : len(peaks[2]["segments"]) - 1] + [peaks[2]["segments"][-1]["start"]]  # the same cuts, deterministic


def test_python_api_takes_one_path(small_model_path, librivox_dir):
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    code = (f"from asr import load_model, transcribe; r = transcribe(load_model({str(small_model_path)!r}), "
            f"{str(wav)!r}); print(len(r), r[0].ok)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.stdout.split() == ["1", "True"], result.stderr[-2000:]
