"""Smoke runs of every recipe on a subset, as users run them (fresh interpreter)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
from conftest import DATA_DIR, ROOT, load_script, require


def recipe(name, *args, timeout=900):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / f"{name}.py"), *map(str, args)],
                            capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout)
    assert result.returncode == 0, f"{name} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


def tiny_librispeech(root, source, per_speaker=3):
    """A LibriSpeech-layout folder holding the shortest utterances of two real speakers (copies)."""
    for speaker in ("4088", "4406"):
        for trans in sorted((source / "train-clean-100" / speaker).rglob("*.trans.txt")):
            lines = trans.read_text().splitlines()[:per_speaker]
            folder = root / "LibriSpeech" / "train-clean-100" / speaker / trans.parent.name
            folder.mkdir(parents=True)
            (folder / trans.name).write_text("\n".join(lines) + "\n")
            for line in lines:
                utt = line.split()[0]
                shutil.copy(trans.parent / f"{utt}.flac", folder / f"{utt}.flac")  # links out are refused
            break
    return root


def tiny_voices(root, per_speaker=2):
    """Two one-utterance voices of the shared 247-voice folder, LibriSpeech layout (copies)."""
    source = require(DATA_DIR / "librispeech-voices")
    for trans in sorted(source.rglob("*.trans.txt"))[:per_speaker]:
        folder = root / trans.parent.relative_to(source)
        folder.mkdir(parents=True)
        (folder / trans.name).write_text(trans.read_text())
        for audio in trans.parent.glob("*.flac"):
            shutil.copy(audio, folder / audio.name)
    return root


def test_librispeech_mini_recipe(tmp_path, librispeech_dir, librivox_dir):
    data = tiny_librispeech(tmp_path / "data", librispeech_dir)
    voices = tiny_voices(tmp_path / "voices")
    out = tmp_path / "run"
    stdout = recipe("librispeech_mini", "--data-dir", data, "--epochs", 1, "--batch-size", 3, "--output-dir", out,
                    "--extra-train-dir", voices, "--test-speaker", "4406",
                    "--model-params", json.dumps({"conv_filters": [16], "units": 16, "n_layers": 1}))
    assert "model          test greedy: CER" in stdout and "out_of_domain   beam: CER" in stdout
    assert "model           dev greedy: CER" in stdout  # seen speakers beside unseen: the generalisation gap
    report = json.loads((out / "report.json").read_text())
    assert report["splits"]["test"] == 3 and report["test_speakers"] == ["4406"]  # the named unseen speaker
    train_speakers = {json.loads(line)["speaker"] for line in (out / "train.jsonl").read_text().splitlines()}
    assert "4406" not in train_speakers and len(train_speakers) == 3  # 4088 + the two extra voices
    assert report["splits"]["train"] == 2 + 2 and report["epochs_run"] == 1
    assert report["total_seconds"] >= report["train_seconds"] > 0
    speeds = sum(1 / f for f in (0.9, 1.0, 1.1))  # the recipe's speed perturbation: three copies, each its length
    assert report["trained_audio_minutes"] == pytest.approx(speeds * report["train_audio_minutes"], rel=0.02)
    assert f"trained on {report['trained_audio_minutes']:,.0f} audio-minutes (1 epoch of a" in stdout
    assert set(report["model"]["test"]) == {"greedy", "beam"}
    assert report["model"]["out_of_domain"]["beam"]["utterances"] == 5
    assert {"lm_weight", "word_bonus", "wer"} <= set(report["model"]["tuning"]["best"])
    assert report["model"]["tuning"]["engine"] == "FlashlightBeamDecoder"  # the compiled search, tuned and used
    lm = report["lm"]  # the shared LM text + the training transcripts, a pruned 4-gram, test sentences out
    assert lm["order"] == 4 and lm["prune"] == [0, 1, 1, 1] and lm["sentences"] > 20000
    assert lm["training_transcripts"] == 4 and set(lm["perplexity"]) >= {"test", "dev", "out_of_domain"}
    assert report["model"]["cv-corpus-6.1-sample"]["greedy"]["utterances"] == 100  # unseen Common Voice voices
    for name in ("model.keras", "history.json", "training_curve.png", "alignment.png", "config.json", "lm.arpa",
                 "train.jsonl", "dev.jsonl", "test.jsonl"):
        assert (out / name).is_file(), name


def test_spoken_digits_recipe(tmp_path):
    require(DATA_DIR / "fsdd")
    stdout = recipe("spoken_digits", "--epochs", 1, "--limit", 200, "--output-dir", tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["splits"] == {"train": 160, "dev": 20, "test": 20}  # test = recordings 0-4
    for name in ("greedy", "lexicon beam"):
        result = report["test"][name]
        assert result["utterances"] == 20 and name in stdout
        correct = [row["hypothesis"] == row["reference"] for row in result["rows"]]
        assert result["word_accuracy"] == pytest.approx(sum(correct) / 20)
    assert (tmp_path / "model.keras").is_file()


def test_japanese_vowels_recipe(tmp_path):
    require(DATA_DIR / "timeseries" / "japanese_vowels")
    stdout = recipe("japanese_vowels", "--epochs", 1, "--limit", 60, "--output-dir", tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    assert report["baseline"]["name"] and "baseline" in stdout
    for result in (report["model"], report["baseline"]):  # accuracies are counts over the test series
        correct = result["test_accuracy"] * report["test"]
        assert correct == pytest.approx(round(correct), abs=1e-6)


def test_text_classification_recipe(tmp_path):
    require(DATA_DIR / "text")
    recipe("text_classification", "--epochs", 1, "--limit", 300, "--ensemble", 1, "--output-dir", tmp_path)
    report = json.loads((tmp_path / "report.json").read_text())
    for name in ("sms", "sentiment"):
        assert report[name]["test"] == 60
        correct = report[name]["model"]["accuracy"] * 60
        assert correct == pytest.approx(round(correct), abs=1e-6)
    assert report["sms"]["baseline"]["roc_auc"] > 0.9  # spam is easy for bag-of-words, even on 240 texts


def test_forecast_recipe(tmp_path):
    pytest.importorskip("vega_datasets")
    recipe("forecast_weather", "--epochs", 1, "--output-dir", tmp_path)
    mae = json.loads((tmp_path / "report.json").read_text())["test_mae"]
    assert set(mae) == {"model", "persistence", "mean of last 7 days", "seasonal normal"}
    assert mae["seasonal normal"] < mae["persistence"]  # the normal is fitted on the training years only


def test_fibonacci_recipe(tmp_path):
    recipe("fibonacci_attention", "--epochs", 1, "--output-dir", tmp_path)
    mse = json.loads((tmp_path / "report.json").read_text())["test_mse"]
    assert set(mse) == {"with attention", "without attention"}


@pytest.mark.parametrize("name", ["japanese_vowels", "librispeech_mini", "spoken_digits"])
def test_missing_dataset_names_the_flag(tmp_path, name):
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / f"{name}.py"), "--data-dir", str(tmp_path),
                             "--output-dir", str(tmp_path / "out")], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode != 0 and "--data-dir" in result.stderr and "Traceback" not in result.stderr


def test_librispeech_mini_recipe_weights_each_source(tmp_path, librispeech_dir):
    """--train-weights: one manifest per source, sampled per epoch; a wrong count is refused first."""
    data = tiny_librispeech(tmp_path / "data", librispeech_dir, per_speaker=4)
    voices = tiny_voices(tmp_path / "voices", per_speaker=2)
    out = tmp_path / "run"
    common = ["--data-dir", data, "--epochs", 1, "--batch-size", 2, "--extra-train-dir", voices, "--test-speaker",
              "4406", "--model-params", json.dumps({"conv_filters": [8], "units": 8, "n_layers": 1}), "--speed-perturb",
              "1.0",
              "--extra-test-dir", voices, "--lm-text", DATA_DIR / "text" / "lm" / "librispeech.txt"]
    result = subprocess.run([sys.executable, str(ROOT / "recipes" / "librispeech_mini.py"), *map(str, common),
                             "--output-dir", str(out), "--train-weights", "1"], capture_output=True, text=True,
                            cwd=ROOT)
    assert result.returncode != 0 and "give one weight for the split's training speakers and one per" in \
        result.stderr and not out.exists()
    recipe("librispeech_mini", *common, "--output-dir", out, "--train-weights", "1,0.5")
    config = json.loads((out / "config.json").read_text())
    assert config["train_data"] == f"{out / 'train-0.jsonl'},{out / 'train-1.jsonl'}"
    batches = json.loads((out / "data_report.json").read_text())[-1]
    assert batches["items_per_epoch"] == 3 + 1  # 3 training utterances of 4088 (one is dev), half of 2 voices
    report = json.loads((out / "report.json").read_text())
    assert "voices" not in report["model"] and report["model"]["voices_seen_sentences"]["greedy"]["utterances"] == 2


def test_librispeech_mini_ships_its_model(tmp_path, librispeech_dir, librivox_dir, monkeypatch):
    """--ship NAME: the run's model lands in the models folder, scored on the unseen speaker and the
    out-of-domain set (never trained on), each training source named with its hours and license;
    a name shipped already is refused before any work."""
    pytest.importorskip("tf2onnx")
    root = tmp_path / "shared"  # the data root the card names sources by
    data = tiny_librispeech(root / "librispeech-sample", librispeech_dir)
    voices = tiny_voices(root / "librispeech-voices")
    shutil.copytree(librivox_dir, root / "pocketsphinx-librivox")
    monkeypatch.setenv("ASR_DATA_DIR", str(root))
    models = tmp_path / "models"
    common = ["--data-dir", data, "--epochs", 1, "--batch-size", 2, "--extra-train-dir", voices, "--test-speaker",
              "4406", "--model-params", json.dumps({"conv_filters": [8], "units": 8, "n_layers": 1}),
              "--speed-perturb", "1.0", "--max-eval-utterances", 3, "--lm-text",
              DATA_DIR / "text" / "lm" / "librispeech.txt", "--ship", "tiny-ls", "--models-dir", models]
    out = recipe("librispeech_mini", *common, "--output-dir", tmp_path / "run")
    assert "shipped tiny-ls" in out
    (shipped,) = json.loads((models / "models.json").read_text())
    assert {name: r["utterances"] for name, r in shipped["results"].items()} == {"librispeech_4406": 3,
                                                                               "pocketsphinx-librivox": 3}
    sources = {source["name"]: source for source in shipped["training"]["data"]}
    assert set(sources) == {"librispeech-sample", "librispeech-voices"}
    assert all(source["license"].startswith("CC BY 4.0") for source in sources.values())
    assert sources["librispeech-voices"]["utterances"] == 2 and shipped["training"]["epochs"] == 1
    assert shipped["training"]["command"].startswith("python recipes/librispeech_mini.py --data-dir")
    assert shipped["check"]["audio"].startswith("pocketsphinx-librivox/")
    assert {p.name for p in models.iterdir()} == {"models.json", "tiny-ls.onnx", "tiny-ls.keras"}
    trained = json.loads((tmp_path / "run" / "report.json").read_text())["train_seconds"]
    recipe("librispeech_mini", *common[:-4], "--output-dir", tmp_path / "run", "--resume")  # finished: scored again
    rescored = json.loads((tmp_path / "run" / "report.json").read_text())
    assert rescored["train_seconds"] == trained  # the run's time, not this invocation's
    assert rescored["total_seconds"] >= trained and rescored["invocation_seconds"] <= rescored["total_seconds"]
    again = subprocess.run([sys.executable, str(ROOT / "recipes" / "librispeech_mini.py"), *map(str, common),
                            "--output-dir", str(tmp_path / "run2")], capture_output=True, text=True, cwd=ROOT)
    assert again.returncode != 0 and "'tiny-ls' is shipped already" in again.stderr
    assert "Traceback" not in again.stderr and not (tmp_path / "run2").exists()


def test_librispeech_mini_defaults_are_the_recipe_and_flags_still_win():
    module = load_script(ROOT / "recipes" / "librispeech_mini.py")
    hour = module.parse_args([])[1]
    assert (hour.model_params["units"], hour.model_params["n_layers"], hour.model_params["dropout"], hour.epochs,
            hour.time_budget) == (192, 4, 0.2, 17, 55.0)
    assert hour.model_params == module.RECIPE["model_params"]
    mine = module.parse_args(["--epochs", "5", "--output-dir", "runs/x", "--model-params", '{"n_layers": 2}'])[1]
    assert (mine.epochs, mine.output_dir, mine.model_params) == (5, "runs/x", {"n_layers": 2})
    assert (mine.learning_rate, mine.speed_perturb) == (hour.learning_rate, hour.speed_perturb)  # the rest: RECIPE's


def test_recipe_help_shows_the_recipe_defaults_not_the_library_ones(capsys):
    for script in ("librispeech_mini.py", "spoken_digits.py"):
        module = load_script(ROOT / "recipes" / script)
        with pytest.raises(SystemExit):
            module.parse_args(["--help"])
        text = " ".join(capsys.readouterr().out.split())  # argparse wraps the help lines; the last
        # occurrence of each flag is its help entry (the first, the usage line)
        recipe = module.parse_args([])[1]
        assert f"(default: {recipe.batch_size})" in text.split("--batch-size BATCH_SIZE")[-1][:80]
        assert f"(default: {recipe.learning_rate})" in text.split("--learning-rate LEARNING_RATE")[-1][:80]
        assert f"(default: {recipe.epochs})" in text.split("--epochs EPOCHS")[-1][:120]
        assert f"(default: {json.dumps(recipe.model_params)})" in text  # as --model-params takes it


def test_librispeech_mini_counts_audio_trained_on_only_when_every_epoch_recorded_it():
    trained_minutes = load_script(ROOT / "recipes" / "librispeech_mini.py").trained_minutes
    assert trained_minutes({"loss": [9.0, 8.0], "audio_seconds": [60.0, 120.0]}, "audio_seconds") == 3.0
    resumed = {"loss": [9.0, 8.0], "audio_seconds": [120.0]}  # its first epoch predates the record
    assert trained_minutes(resumed, "audio_seconds") is None  # unknown, not the sum over some epochs


def test_pretrain_english_recipe_spans_invocations_and_records_its_learning_curve(tmp_path):
    """Two invocations of one run (--stop-after ends the first after an epoch, --resume finishes it on
    the same schedule), a learning-curve point after each, the test sets never in the training data,
    and bench/pretrain_curve.py collecting it."""
    require(DATA_DIR / "commonvoice-en" / "cv-valid-dev.csv")
    run = tmp_path / "base"
    common = ["--output-dir", run, "--max-train-utterances", 24, "--max-eval-utterances", 3, "--epochs", 2,
              "--model", "rnn", "--model-params", '{"units": 16}', "--speed-perturb", "", "--cache-dir",
              tmp_path / "cache", "--dev-subset", 20]
    recipe("pretrain_english", *common, "--stop-after", 1e-4)
    assert json.loads((run / "state.json").read_text())["epoch"] == 0  # stopped after the first epoch
    out = recipe("pretrain_english", *common, "--resume")
    assert "commonvoice_unseen: CER" in out
    curve = json.loads((run / "learning_curve.json").read_text())
    assert [point["epochs"] for point in curve] == [1, 2]
    assert set(curve[-1]["test"]) == {"commonvoice_unseen", "librivox", "librispeech_4088", "librispeech_4406",
                                      "librispeech_5652"}
    trained = {json.loads(line)["path"] for line in (run / "train.jsonl").read_text().splitlines()}
    assert not any("librispeech-sample" in p or "cv-corpus-6.1" in p or "librivox" in p for p in trained)
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "pretrain_curve.py"), str(run), "--output",
                             str(tmp_path / "curve.json")], capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 0, result.stderr
    report = json.loads((tmp_path / "curve.json").read_text())
    assert report["runs"][0]["epochs"] == 2 and report["runs"][0]["cer_ratio_to_reference"]["librivox"] == 1.0
    pytest.importorskip("tf2onnx")
    out = recipe("pretrain_english", *common, "--evaluate-only", "--ship", "tiny-base", "--models-dir",
                 tmp_path / "models")
    assert "shipped tiny-base" in out
    assert [point["epochs"] for point in json.loads((run / "learning_curve.json").read_text())] == [1, 2]
    (shipped,) = json.loads((tmp_path / "models" / "models.json").read_text())
    assert shipped["training"]["epochs"] == 2 and shipped["training"]["dev_utterances"] == 200
    assert sum(source["utterances"] for source in shipped["training"]["data"]) == 24
    assert {name: r["utterances"] for name, r in shipped["results"].items()} == dict.fromkeys(curve[-1]["test"], 3)
