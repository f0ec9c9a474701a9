"""End to end on real speech, as a user runs it: `asr train` overfits five real LibriSpeech
utterances, then `asr transcribe` reads them back (CER < 0.1; with a lexicon, an LM or both, on
both beam engines, < 0.15) and times the words of two of them joined by a second of silence
(the second's first word within 0.3 s of the join)."""

import json

import numpy as np
import pytest
import soundfile as sf
from test_cli import asr

from asr.corpus import read_librispeech, write_manifest
from asr.metrics import cer

N_UTTERANCES = 5
COPIES = 4  # each epoch sees every utterance 4 times: fewer per-epoch overheads


@pytest.mark.slow
def test_overfit_real_utterances_then_transcribe(librispeech_dir, tmp_path):
    entries, _ = read_librispeech(librispeech_dir / "train-clean-100" / "4088")
    chosen = sorted(entries, key=lambda e: e["duration"])[:N_UTTERANCES]
    # the first two utterances joined by a second of a recording's silence (noise at -60 dBFS), trained on too:
    # its word times are checked below against where the second utterance starts
    first, second = (sf.read(e["path"], dtype="float32")[0] for e in chosen[:2])
    silence = np.random.default_rng(0).normal(0, 1e-3, 16000).astype("float32")
    sf.write(tmp_path / "joined.wav", np.concatenate([first, silence, second]), 16000)
    joined = {"id": "joined", "path": str(tmp_path / "joined.wav"), "speaker": "4088",
              "text": f"{chosen[0]['text']} {chosen[1]['text']}"}
    write_manifest((chosen + [joined]) * COPIES, tmp_path / "train.jsonl")
    write_manifest(chosen, tmp_path / "dev.jsonl")
    result = asr("train", "--train-data", tmp_path / "train.jsonl", "--dev-data", tmp_path / "dev.jsonl",
                 "--model", "deepspeech", "--model-params",
                 json.dumps({"conv_filters": [64], "units": 128, "n_layers": 2, "dropout": 0.0}),
                 "--features", "log_mel", "--epochs", 30, "--batch-size", N_UTTERANCES + 1, "--learning-rate", 3e-3,
                 "--warmup-epochs", 5, "--output-dir", tmp_path / "run", "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert min(history["val_cer"]) < 0.1, history["val_cer"]

    paths = [e["path"] for e in chosen[:2]]
    result = asr("transcribe", tmp_path / "run" / "model.keras", *paths)
    assert result.returncode == 0, result.stderr[-3000:]
    lines = [line.split("\t", 1) for line in result.stdout.splitlines()]  # PATH<TAB>TEXT with several inputs
    assert [path for path, _ in lines] == paths
    hypotheses = [text for _, text in lines]
    assert cer([e["text"] for e in chosen[:2]], hypotheses) < 0.1, hypotheses

    # the two beam engines on the same model and audio: lexicon only, LM only, both: the same kind of answer
    lexicon, text = tmp_path / "words.txt", tmp_path / "text.txt"
    text.write_text("".join(e["text"] + "\n" for e in entries))
    assert asr("lm", "build", text, "--order", 2, "-o", tmp_path / "lm.arpa", "--lexicon", lexicon).returncode == 0
    answers = {}
    for words in (["--lexicon", lexicon], ["--lm", tmp_path / "lm.arpa"], ["--lexicon", lexicon, "--lm",
                                                                            tmp_path / "lm.arpa"]):
        for engine in ("numpy", "flashlight"):
            result = asr("transcribe", tmp_path / "run" / "model.keras", *paths, *words, "--beam-engine", engine)
            assert result.returncode == 0, result.stderr[-3000:]
            answers[(str(words[0]), len(words), engine)] = [line.split("\t", 1)[1] for line in
                                                            result.stdout.splitlines()]
    for key, hypotheses in answers.items():
        assert cer([e["text"] for e in chosen[:2]], hypotheses) < 0.15, (key, hypotheses)

    join = (len(first) + len(silence)) / 16000
    result = asr("transcribe", tmp_path / "run" / "model.keras", tmp_path / "joined.wav", "--format", "jsonl")
    assert result.returncode == 0, result.stderr[-3000:]
    words = json.loads(result.stdout)["words"]
    end_of_first = len(first) / 16000
    before = [w for w in words if w["start"] < end_of_first]
    after = [w for w in words if w["start"] >= end_of_first]
    timeline = " ".join(f"{w['word']}@{w['start']}-{w['end']}" for w in words)
    assert before and after and before[-1]["end"] <= join, (timeline, end_of_first, join)  # none in the silence
    assert abs(after[0]["start"] - join) < 0.3, (after[0], join)  # the second utterance's first word
    assert cer([chosen[1]["text"]], [" ".join(w["word"] for w in after)]) < 0.2, after
