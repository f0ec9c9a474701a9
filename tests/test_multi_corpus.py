"""``asr train`` and ``asr evaluate`` on a Common Voice folder and a LibriSpeech folder in one run
(real Opus and FLAC audio), with a report per source."""

import json
import shutil

from conftest import DATA_DIR, require
from test_cli import asr

COMMON_VOICE = DATA_DIR / "commonvoice-en"
MODEL_PARAMS = '{"filters": 8, "units": 8, "padding": "same"}'


def small_librispeech(root, n=3):
    """A LibriSpeech tree with ``n`` real one-utterance voices copied from the shared data."""
    voices = require(DATA_DIR / "librispeech-voices" / "LibriSpeech" / "train-clean-100")
    for trans in sorted(voices.rglob("*.trans.txt"))[:n]:
        target = root / trans.parent.relative_to(voices)
        target.mkdir(parents=True)
        shutil.copy(trans, target)
        for flac in trans.parent.glob("*.flac"):
            shutil.copy(flac, target)
    return root


def test_train_and_evaluate_common_voice_with_librispeech(tmp_path):
    librispeech = small_librispeech(tmp_path / "LibriSpeech")
    run = tmp_path / "run"
    result = asr("train", "--train-data", require(COMMON_VOICE / "cv-corpus-1-sample"), "--train-data", librispeech,
                 "--dev-data", COMMON_VOICE / "cv-corpus-6.1-sample", "--model", "cnn_rnn", "--model-params",
                 MODEL_PARAMS, "--features", "mfcc", "--epochs", "1", "--batch-size", "8", "--dev-subset", "8",
                 "--output-dir", run, "--cache-dir", tmp_path / "cache")
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads((run / "data_report.json").read_text())
    sources = [r for r in report if "layout" in r]
    assert [(r["layout"], r["utterances"], r["speakers"]) for r in sources] == [
        ("commonvoice", 96, 6), ("librispeech", 3, 3), ("commonvoice", 100, 95)]
    assert all(r["skipped"] == {} and r["hours"] > 0 for r in sources)
    assert json.loads((run / "config.json").read_text())["train_data"] == \
        f"{COMMON_VOICE / 'cv-corpus-1-sample'},{librispeech}"

    out = tmp_path / "eval.json"
    result = asr("evaluate", run / "model.keras", COMMON_VOICE / "cv-corpus-6.1-sample", librispeech, "--output", out)
    assert result.returncode == 0, result.stderr[-3000:]
    scores = json.loads(out.read_text())
    assert scores["utterances"] == 103 and scores["skipped"] == {}
    assert [s["utterances"] for s in scores["by_source"].values()] == [100, 3]
    assert [s["layout"] for s in scores["sources"]] == ["commonvoice", "librispeech"]
    for key in ("substitutions", "deletions", "insertions", "reference_length"):  # the parts add up to the whole
        assert sum(s["cer"][key] for s in scores["by_source"].values()) == scores["cer"][key]
