"""End to end on real speech, as a user runs it: `asr train` overfits five real LibriSpeech
utterances, then `asr transcribe` reads one of them back (CER < 0.1)."""

import json

import pytest
from test_cli import asr

from asr.corpus import read_librispeech, write_manifest
from asr.metrics import cer

N_UTTERANCES = 5
COPIES = 4  # each epoch sees every utterance 4 times: fewer per-epoch overheads


@pytest.mark.slow
def test_overfit_real_utterances_then_transcribe(librispeech_dir, tmp_path):
    entries, _ = read_librispeech(librispeech_dir / "train-clean-100" / "4088")
    chosen = sorted(entries, key=lambda e: e["duration"])[:N_UTTERANCES]
    write_manifest(chosen * COPIES, tmp_path / "train.jsonl")
    write_manifest(chosen, tmp_path / "dev.jsonl")
    result = asr("train", "--train-data", tmp_path / "train.jsonl", "--dev-data", tmp_path / "dev.jsonl",
                 "--model", "deepspeech", "--model-params",
                 json.dumps({"conv_filters": [64], "units": 128, "n_layers": 2, "dropout": 0.0}),
                 "--features", "log_mel", "--epochs", 30, "--batch-size", N_UTTERANCES, "--learning-rate", 3e-3,
                 "--warmup-epochs", 5, "--output-dir", tmp_path / "run", "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    history = json.loads((tmp_path / "run" / "history.json").read_text())
    assert min(history["val_cer"]) < 0.1, history["val_cer"]

    paths = [e["path"] for e in chosen[:2]]
    result = asr("transcribe", tmp_path / "run" / "model.keras", *paths)
    assert result.returncode == 0, result.stderr[-3000:]
    hypotheses = result.stdout.splitlines()
    assert cer([e["text"] for e in chosen[:2]], hypotheses) < 0.1, hypotheses
