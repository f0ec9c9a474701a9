"""The throughput benchmark's CPU smoke mode (the GPU figures come from the same script)."""

import importlib
import json
import os
import re
import shlex
import subprocess
import sys

import keras
import pytest
from conftest import ROOT, load_script


def smoke(script, output, *args):
    """Run ``bench/SCRIPT --smoke --output OUTPUT ARGS...``; its JSON result (it must succeed)."""
    result = subprocess.run([sys.executable, str(ROOT / "bench" / script), "--smoke", "--output", str(output),
                             *map(str, args)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(output.read_text())


def test_train_throughput_smoke(tmp_path):
    pytest.importorskip("torch")  # the PyTorch reference is the yardstick
    output = tmp_path / "bench.json"
    backend = keras.backend.backend()
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "train_throughput.py"), "--smoke",
                             "--backends", backend, "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=900,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {(row["path"], row["name"]): row for row in json.loads(output.read_text())}
    assert set(rows) == {("pytorch", "pytorch cuDNN reference"), (f"asr/{backend}", "in-memory tensors"),
                         (f"asr/{backend}", "real data loader")}, rows
    for row in rows.values():
        assert row["steps_per_s"] > 0 and row["audio_s_per_s"] > 0
    assert "vs torch" in result.stdout


@pytest.mark.usefixtures("librispeech_dir")  # the benchmarks read the shared sample
def test_long_audio_bench_smoke():
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "long_audio.py"), "--minutes", "0.5", "--smoke"],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"0\.5 min of audio: RTF [\d.]+ \([\d.]+x the target 0\.05\), peak RSS [\d.]+ MB", result.stdout)


@pytest.mark.usefixtures("librispeech_dir")
def test_long_audio_bench_compares_chunked_and_whole_with_a_model(small_model_path):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "long_audio.py"), "--minutes", "0.2", "--smoke",
                             "--model", str(small_model_path), "--cer-groups", "1", "--per-group", "2",
                             "--max-segment-seconds", "5"], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert re.search(r"CER chunked [\d.]+ vs whole [\d.]+ \(1 files of [\d.]+ s, [\d.]+ segments each\)", result.stdout)


@pytest.mark.usefixtures("librispeech_dir")  # the benchmarks read the shared sample
def test_small_data_bench_smoke(tmp_path):
    output = tmp_path / "small.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "small_data.py"), "--smoke", "--budget", "30",
                             "--work-dir", str(tmp_path / "runs"), "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600,
                            env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"})
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    (row,) = report["folds"]
    assert row["fold"] == "4088" and row["epochs"] == 1 and row["train_utterances"] == 12
    assert report["recipe_args"][:2] == ["--time-budget", "30"]  # recorded, so the trade-off table names it
    recipe = load_script(ROOT / "recipes" / "librispeech_mini.py").RECIPE  # what the flags changed against:
    assert report["recipe_defaults"] == json.loads(json.dumps(recipe))  # the recipe's defaults of the day
    history = json.loads((tmp_path / "runs" / "4088" / "history.json").read_text())
    assert history["planned_epochs"] == [1]  # the recipe ran under that budget
    assert {"dev_cer", "test_cer_greedy", "test_wer_beam", "librivox_cer", "cv_cer_greedy", "cv_wer_beam",
            "lm_megabytes"} <= set(row)
    assert row["cv_utterances"] == 6  # what cv_cer_greedy is over (--max-eval-utterances 6)
    assert row["trained_audio_minutes"] == round(sum(history["audio_seconds"]) / 60, 1) > 0  # the run's compute
    assert row["trained_padded_minutes"] >= row["trained_audio_minutes"]
    assert report["backend_version"] == importlib.import_module(report["backend"]).__version__
    assert re.search(r"worst unseen-speaker greedy CER [\d.]+ = [\d.]+x the target 0\.3", result.stdout)
    again = subprocess.run([sys.executable, str(ROOT / "bench" / "small_data.py"), "--smoke", "--work-dir",
                            str(tmp_path / "runs"), "--existing-runs", "--output", str(tmp_path / "again.json")],
                           capture_output=True, text=True, cwd=ROOT, timeout=600)  # tabulated, not trained again
    assert again.returncode == 0, again.stderr[-3000:]
    (same,) = json.loads((tmp_path / "again.json").read_text())["folds"]
    assert same == {**row, "fold_minutes": same["fold_minutes"]} and same["fold_minutes"] <= row["fold_minutes"]

    fold = tmp_path / "runs" / "4088"  # one epoch: its only checkpoint is the recipe's model
    averaged = subprocess.run([sys.executable, str(ROOT / "bench" / "checkpoint_averaging.py"), "--run-dir",
                               str(fold), "--checkpoints", str(fold), "--last", "1", "--output", str(output)],
                              capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert averaged.returncode == 0, averaged.stderr[-3000:]
    recipe, last = json.loads(output.read_text())["rows"]
    assert last["epochs"] == ["checkpoint-e0001.keras"]
    assert {k: recipe[k] for k in ("test", "dev", "librivox")} == {k: last[k] for k in ("test", "dev", "librivox")}

    pytest.importorskip("flashlight.lib.text.decoder", reason="bench/lm_tuning.py decodes with flashlight-text")
    tuning = subprocess.run([sys.executable, str(ROOT / "bench" / "lm_tuning.py"), "--run-dir", str(fold),
                             "--max-utterances", "2", "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert tuning.returncode == 0, tuning.stderr[-3000:]
    rows = {row["corpus"]: row for row in json.loads(output.read_text())["corpora"]}
    assert {"test", "dev"} <= set(rows) and rows["test"]["utterances"] == 2
    for row in rows.values():  # one grid for every corpus, the dev-tuned point on it, its own best no worse
        assert len(row["grid"]) == 42 and row["dev_tuned"] in row["grid"]
        assert row["own_best"]["wer"] <= row["dev_tuned"]["wer"]
    assert rows["dev"]["dev_tuned"]["wer"] == min(p["wer"] for p in rows["dev"]["grid"] if abs(p["word_bonus"]) <= 2
                                                  and p["lm_weight"] <= 1)
    assert "tuning on dev costs" in tuning.stdout


@pytest.mark.usefixtures("librispeech_dir")  # the benchmarks read the shared sample
def test_decode_speed_bench_smoke(small_model_path, tmp_path):
    output = tmp_path / "decode.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "decode_speed.py"), "--model",
                             str(small_model_path), "--smoke", "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = {row["decoder"]: row for row in json.loads(output.read_text())["rows"]}
    assert {"greedy", "numpy beam + LM", "compiled beam + LM"} <= set(rows)
    assert all(row["utterances_per_s"] > 0 and row["rtf"] > 0 for row in rows.values())
    assert "compiled vs NumPy beam + LM" in result.stdout


@pytest.mark.usefixtures("librispeech_dir")
def test_serve_load_bench_smoke(small_model_path, tmp_path):
    pytest.importorskip("starlette")
    report = smoke("serve_load.py", tmp_path / "serve.json", "--model", small_model_path)
    assert [row["clients"] for row in report["rows"]] == [1, 2] and report["batch_throughput"] > 0
    for row in report["rows"]:
        assert row["answered"] == row["requests"] == 6 and row["wrong_text"] == 0
        assert row["throughput_ratio"] > 0 and row["p95_seconds"] >= row["p50_seconds"] > 0


def test_onnx_speed_bench_smoke(small_model_path, tmp_path):
    pytest.importorskip("tf2onnx")
    report = smoke("onnx_speed.py", tmp_path / "onnx.json", "--model", small_model_path)
    assert [row["batch"] for row in report["rows"]] == [1, 4, 16] and report["max_logit_difference"] < 1e-3
    assert all(row["gru_seconds"] > 0 and row["loop_seconds"] > 0 for row in report["rows"])


@pytest.mark.usefixtures("librispeech_dir")
def test_shipped_speed_bench_smoke(tmp_path):
    report = smoke("shipped_speed.py", tmp_path / "shipped.json")
    assert set(report["sets"]) == {"librispeech_sample", "one_librivox_file"}
    for row in report["sets"].values():
        assert row["same_text"] and row["onnx_rtf"] > 0 and row["keras_rtf"] > 0


def test_recorded_command_pastes_back_into_a_shell(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))
    record = importlib.import_module("record")
    argv = ["bench/small_data.py", "--", "--model-params", '{"units": 8, "n_layers": 2}']
    monkeypatch.setattr(sys, "argv", argv)
    facts = record.machine_facts(keras.backend.backend())
    assert shlex.split(facts["command"]) == ["python", *argv]
    assert facts["cpu"].strip() and "\n" not in facts["cpu"]  # the CPU model: step times differ by machine


@pytest.mark.parametrize("flags, named", [(["--gru", "bogus"], "--gru bogus"),
                                          (["--n-layers", "two"], "--n-layers two"),
                                          (["--units", "256,wide"], "--units 256,wide"),
                                          (["--units", "0"], "--units 0: must be comma-separated whole"),
                                          (["--variant", "{bad"], "--variant {bad: not JSON"),
                                          (["--variant", "[2]"], "--variant [2]: must be a JSON object"),
                                          (["--variant", "{}", "--variant", '{"bogus": 1}'],
                                           "--variant {\"bogus\": 1}: bad params")])
def test_recipe_step_time_names_a_bad_axis_in_one_line(flags, named):
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "recipe_step_time.py"), "--smoke", *flags],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode != 0 and named in result.stderr and "Traceback" not in result.stderr


def test_recipe_step_time_smoke(tmp_path):
    output = tmp_path / "steps.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "recipe_step_time.py"), "--smoke", "--units", "8,6",
                             "--n-layers", "1,2", "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())["rows"]
    assert [(row["units"], row["n_layers"], row["batch_size"]) for row in rows] == [
        (units, layers, batch) for units in (8, 6) for layers in (1, 2) for batch in (2, 4)]
    assert rows[0]["per_utterance_vs_first"] == 1.0 and rows[0]["variant"] == {}
    assert re.search(r"float32 phase-split gru=auto 8 x 1 batch 4 x 200 frames: [\d.]+ s per step, [\d.]+ ms per "
                     r"utterance \([\d.]+x float32 phase-split gru=auto 8 x 1 batch 2\)", result.stdout)


def test_recipe_step_time_times_model_variants(tmp_path):
    """Each --variant overrides the recipe's model parameters (here a 4x time stride with 2x
    upsampled logits), is timed with every other axis, and its row records what was timed."""
    output = tmp_path / "steps.json"
    variant = {"conv_strides": [[4, 2]], "output_upsample": 2}
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "recipe_step_time.py"), "--smoke", "--variant", "{}",
                             "--variant", json.dumps(variant), "--n-layers", "1,2", "--output", str(output)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())["rows"]
    assert [(row["variant"], row["n_layers"], row["batch_size"]) for row in rows] == [
        (v, layers, batch) for v in ({}, variant) for layers in (1, 2) for batch in (2, 4)]
    assert rows[0]["parameters"] < rows[2]["parameters"]  # a second recurrent layer
    assert f"8 x 2 {json.dumps(variant)} batch 4 x 200 frames" in result.stdout


def test_recipe_step_time_compares_dtype_policies_conv_gradients_and_gru_kernels(tmp_path):
    output = tmp_path / "steps.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "recipe_step_time.py"), "--smoke", "--policies",
                             "float32,mixed_bfloat16", "--conv-backward", "xla,phase-split", "--gru", "keras,auto",
                             "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())["rows"]
    assert [(row["dtype_policy"], row["conv_backward"], row["gru"], row["batch_size"]) for row in rows] == [
        (policy, conv, gru, batch) for policy in ("float32", "mixed_bfloat16") for conv in ("xla", "phase-split")
        for gru in ("keras", "auto") for batch in (2, 4)]
    assert rows[0]["per_utterance_vs_first"] == 1.0 and all(row["per_utterance_vs_first"] > 0 for row in rows)


def test_step_profile_smoke(tmp_path):
    output = tmp_path / "profile.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "step_profile.py"), "--smoke", "--output",
                             str(output)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    assert [row["part"] for row in report["parts"]] == ["conv_front_end", "ctc_loss", "bigru_1", "bigru_2", "loader"]
    assert set(report["step_seconds"]) == {"model", "model_xla_conv", "0_bigru", "1_bigru"}
    assert report["xla_conv_gradients_vs_phase_split"] > 0 and "of the step" in result.stdout
    assert report["matmul_gflop_per_s"] > 0 and report["step_gflop"] > report["recurrent_matmul_gflop"] > 0
    assert all("gflop" in row for row in report["parts"] if row["part"] in ("conv_front_end", "bigru_1", "bigru_2"))


def test_step_profile_counts_flops_from_shapes(monkeypatch):
    """A 2 x 20-frame batch of 10 features: one 3 x 3 convolution of 4 filters, stride 2 x 2 -> 10 frames
    x 5 bins x 4 channels; one BiGRU of 8 units; 5 logits. Multiply-adds x 2 flops x 3 (forward + backward) x 2
    utterances."""
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # its sibling modules, as when run as a script
    counted, counted_recurrent = load_script(ROOT / "bench" / "step_profile.py").counted_gflop(
        {"conv_filters": [4], "conv_kernels": [[3, 3]], "conv_strides": [[2, 2]], "units": 8, "n_layers": 1},
        n_features=10, vocab_size=5, batch_size=2, frames=20)
    conv, logits = 10 * 5 * 4 * (3 * 3 * 1), 10 * (5 * 4) * 5
    recurrent, inputs = 2 * 10 * 3 * 8 * 8, 2 * 10 * 3 * 8 * (5 * 4)  # two directions, three gates
    assert counted == pytest.approx({"conv_front_end": (conv + logits) * 12e-9,
                                     "bigru_1": (inputs + recurrent) * 12e-9})
    assert counted_recurrent == pytest.approx(recurrent * 12e-9)


@pytest.mark.usefixtures("librispeech_dir")  # the default test sets are the shared ones
def test_peers_bench_smoke(tmp_path):
    pytest.importorskip("pocketsphinx")
    output = tmp_path / "peers.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "peers.py"), "--max-utterances", "1",
                             "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(output.read_text())
    names = [row["set"] for row in report["sets"]]
    assert names == ["librispeech-4088", "librispeech-4406", "librispeech-5652", "commonvoice-6.1-sample", "librivox"]
    for row in report["sets"]:
        assert row["utterances"] == 1 and 0 <= row["cer"] < 0.6 and row["rtf"] > 0, row  # a real recognizer
    assert report["peer"].startswith("pocketsphinx") and "RTF" in result.stdout


@pytest.mark.usefixtures("librispeech_dir")
def test_noise_mixing_bench_smoke(tmp_path):
    output = tmp_path / "noise.json"
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "noise_mixing.py"), "--utterances", "2",
                             "--output", str(output)], capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = json.loads(output.read_text())["rows"]
    assert [row["snr_db"] for row in rows] == [0.0, 10.0, 20.0]
    for row in rows:  # the power-domain sum is close to mixing waveforms, next to what the noise changes
        assert row["mean_abs_difference"] < 0.5 * row["mean_abs_noise_shift"] and row["waveform_ms"] > 0
    assert re.search(r"SNR +0 dB: waveform +[\d.]+ ms, features +[\d.]+ ms", result.stdout)


def test_tradeoff_table_has_a_row_per_fold_and_names_what_it_skips(tmp_path):
    cell = {"date": "2026-12-02", "cpu": "AMD EPYC", "recipe_args": [
        "--cache-dir", "/tmp/x", "--resume", "--epochs", "17", "--model-params", '{"units": 256, "n_layers": 3}'],
        "folds": [{"fold": "4406", "epochs": 17, "train_audio_minutes": 96.8, "trained_audio_minutes": 4940.2,
                   "fold_minutes": 85.5,
                   "dev_cer": 0.291, "test_cer_greedy": 0.395, "test_wer_beam": 0.707, "lm_megabytes": 3.5,
                   "cv_cer_greedy": 0.49, "cv_utterances": 85},
                  {"fold": "4088", "epochs": 17, "test_cer_greedy": 0.4, "test_wer_beam": 0.81}]}
    (tmp_path / "small_data_a.json").write_text(json.dumps(cell))
    (tmp_path / "small_data_sweep.json").write_text(json.dumps({"runs": {}}))
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "tradeoff_table.py"),
                             *map(str, sorted(tmp_path.glob("*.json")))],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    rows = [line for line in result.stdout.splitlines() if line.startswith("| 4")]
    assert [row.split(" | ")[0] for row in rows] == ["| 4088", "| 4406"]  # sorted by fold
    assert "--epochs 17 n_layers=3 |" in rows[1] and "/tmp/x" not in rows[1]  # units=256 is the recipe's
    assert "--resume" not in rows[1]  # resuming changes no number
    assert "| 0.490 (85) |" in rows[1]  # what the Common Voice number is over
    assert "| 97 | 4,940 |" in rows[1] and "| 0 | - |" in rows[0]  # compute in audio, where it was recorded
    assert "| 0.707 |" in rows[1] and "| 0.810* |" in rows[0] and "| - |" in rows[0]  # old LM marked, gaps shown
    assert "2 cells from 1 results; skipped: small_data_sweep.json (no per-fold rows)" in result.stdout


def test_tradeoff_table_rewrites_only_the_text_between_its_markers(tmp_path):
    cell = {"recipe_args": [], "folds": [{"fold": "4406", "test_cer_greedy": 0.4, "test_wer_beam": 0.7}]}
    (tmp_path / "small_data_a.json").write_text(json.dumps(cell))
    table = load_script(ROOT / "bench" / "tradeoff_table.py")
    doc = tmp_path / "results.md"
    doc.write_text(f"# Results\n\nbefore\n{table.BEGIN}\nan old table\n{table.END}\n\nafter\n")
    table.main([str(tmp_path / "small_data_a.json"), "--update", str(doc)])
    text = doc.read_text()
    assert text.startswith(f"# Results\n\nbefore\n{table.BEGIN}\n| fold |") and "an old table" not in text
    assert text.endswith(f"1 cells from 1 results\n{table.END}\n\nafter\n")
    table.main([str(tmp_path / "small_data_a.json"), "--update", str(doc)])
    assert doc.read_text() == text  # the same results, the same file
    doc.write_text("no markers\n")
    result = subprocess.run([sys.executable, str(ROOT / "bench" / "tradeoff_table.py"), "--update", str(doc)],
                            capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 2 and "found 0 and 0" in result.stderr and "Traceback" not in result.stderr
    assert doc.read_text() == "no markers\n"


def test_tradeoff_table_names_changes_against_the_defaults_each_result_records(tmp_path):
    table = load_script(ROOT / "bench" / "tradeoff_table.py")
    deep = {**table.UNRECORDED_MODEL, "units": 192, "n_layers": 3}
    row = {"fold": "4406", "test_cer_greedy": 0.4}
    for name, recorded, args in [("old", None, ["--model-params", json.dumps(deep)]),
                                 ("new", {"model_params": deep}, []),
                                 ("back", {"model_params": deep}, ["--model-params", json.dumps(
                                     table.UNRECORDED_MODEL)]),
                                 ("init", {"model_params": deep}, ["--init-from", "/work/runs/base/model.keras"])]:
        cell = {"recipe_args": args, "folds": [row], **({"recipe_defaults": recorded} if recorded else {})}
        (tmp_path / f"small_data_{name}.json").write_text(json.dumps(cell))
    changes = {path.stem: table.cells(path)[0][0]["change"] for path in tmp_path.glob("*.json")}
    assert changes == {"small_data_old": "units=192 n_layers=3",  # against the model older results ran
                       "small_data_new": "the recipe's defaults (BiGRU 192 x 3)",  # against the recorded defaults
                       "small_data_back": "units=256 n_layers=2",
                       "small_data_init": "--init-from base/model.keras"}  # which model.keras: its folder


def test_tradeoff_table_fits_lm_wer_to_greedy_cer_per_fold():
    table = load_script(ROOT / "bench" / "tradeoff_table.py")
    offsets = {"4088": 0.05, "4406": 0.1}
    rows = [{"fold": fold, "test_cer_greedy": cer, "test_wer_beam": 1.5 * cer + offsets[fold], "lm_megabytes": 3.5}
            for fold in offsets for cer in (0.38, 0.42, 0.45)]
    old_lm = {"fold": "4406", "test_cer_greedy": 0.3, "test_wer_beam": 0.99}  # its day's LM: not in the fit
    fit = table.wer_fit([*rows, old_lm])
    assert fit["cells"] == 6 and fit["slope"] == pytest.approx(1.5) and fit["rmse"] < 1e-9
    assert fit["offsets"] == pytest.approx(offsets)
    lines = table.fit_lines(fit)
    assert "fold 4406: 0.65 needs 0.367, 0.55 needs 0.300 (best measured 0.380)" in lines[2]  # (0.65 - 0.1) / 1.5
    assert table.wer_fit(rows[:2]) is None  # two cells of one fold: a slope and an offset fit them whatever they are


def test_dev_loss_bench_agrees_with_the_backend_and_records_its_machine(tmp_path, monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "bench"))  # its bench/record.py, as when run as a script
    report = load_script(ROOT / "bench" / "dev_loss.py").main(["--utterances", "3", "--output",
                                                               str(tmp_path / "r.json")])
    assert report["max_relative_difference"] < 1e-4 and report["numpy_seconds"] > 0
    assert json.loads((tmp_path / "r.json").read_text())["backend"] == report["backend"]
