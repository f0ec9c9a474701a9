"""The command line, run as users run it (subprocesses), on real audio."""

import json
import os
import subprocess
import sys

import pytest
from conftest import ROOT

from asr.metrics import cer
from asr.text import normalize_transcript


def asr(*args, timeout=600):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "asr", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def test_transcribe_real_wavs_text_and_jsonl(small_model_path, librivox_dir):
    wavs = sorted(librivox_dir.glob("*.wav"))
    result = asr("transcribe", small_model_path, *wavs)
    assert result.returncode == 0, result.stderr
    assert len(result.stdout.splitlines()) == len(wavs)
    result = asr("transcribe", small_model_path, wavs[0], "--format", "jsonl", "--decoder", "beam",
                 "--beam-width", "4")
    assert result.returncode == 0, result.stderr
    line = json.loads(result.stdout)
    from asr.decoding import make_decoder
    from asr.inference import transcribe
    from asr.models import load_model

    model = load_model(small_model_path)
    expected = transcribe(model, [wavs[0]], decoder=make_decoder("beam", model.vocabulary, beam_width=4))
    assert line["path"] == str(wavs[0]) and line["text"] == expected[0].text


def test_evaluate_writes_report(small_model_path, librivox_dir, tmp_path):
    report = tmp_path / "report.json"
    result = asr("evaluate", small_model_path, librivox_dir, "--output", report, "--alignment-plot",
                 tmp_path / "align.png")
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["utterances"] == 5 and len(data["examples"]) == 5
    references = [row["reference"] for row in data["examples"]]
    assert data["cer"]["rate"] == pytest.approx(cer(references, [row["hypothesis"] for row in data["examples"]]))
    assert references[0] == normalize_transcript(sorted(librivox_dir.glob("*.txt"))[0].read_text())
    assert {"substitutions", "deletions", "insertions"} <= set(data["wer"])
    assert (tmp_path / "align.png").stat().st_size > 1000


def test_bad_input_is_one_clear_line(small_model_path, tmp_path):
    missing = asr("transcribe", small_model_path, tmp_path / "nope.wav")
    assert missing.returncode == 1 and "nope.wav: audio file not found" in missing.stderr  # a failed file: exit 1
    assert "Traceback" not in missing.stderr
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    corrupt = asr("transcribe", small_model_path, junk)
    assert corrupt.returncode == 1 and "junk.wav" in corrupt.stderr and "Traceback" not in corrupt.stderr
    no_model = asr("transcribe", tmp_path / "none.keras", junk)
    assert no_model.returncode == 2 and "model file not found" in no_model.stderr
    no_data = asr("train", "--train-data", tmp_path / "absent", "--output-dir", tmp_path / "run")
    assert no_data.returncode == 2 and "absent" in no_data.stderr and "Traceback" not in no_data.stderr


def test_train_flags_map_onto_config():
    from asr.cli import dataclass_from_args, make_parser
    from asr.config import TrainConfig

    args = make_parser().parse_args(["train", "--batch-size", "4", "--no-sortagrad", "--model-params",
                                     '{"units": 8}', "--learning-rate", "0.01"])
    config = dataclass_from_args(TrainConfig, args)
    assert (config.batch_size, config.sortagrad, config.model_params, config.learning_rate) == \
        (4, False, {"units": 8}, 0.01)
    assert config.epochs == TrainConfig().epochs


def test_python_api_import():
    code = ("import asr.evaluate; from asr import load_model, transcribe; from asr.models import cnn_rnn; "
            "print(cnn_rnn.__name__, callable(transcribe), callable(load_model))")  # after the submodules load
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0 and result.stdout.strip() == "cnn_rnn True True", result.stderr


def test_evaluate_counts_what_the_reader_skipped_and_checks_outputs_first(small_model_path, librivox_dir, tmp_path):
    import shutil

    folder = tmp_path / "corpus"
    folder.mkdir()
    wavs = sorted(librivox_dir.glob("*.wav"))
    for wav in wavs[:3]:
        shutil.copy(wav, folder)
        shutil.copy(wav.with_suffix(".txt"), folder)
    (folder / wavs[1].with_suffix(".txt").name).unlink()  # audio without a transcript
    (folder / wavs[2].with_suffix(".txt").name).write_bytes(b"caf\xe9")  # Latin-1, not UTF-8
    report = tmp_path / "report.json"
    result = asr("evaluate", small_model_path, folder, "--output", report)
    assert result.returncode == 0, result.stderr
    data = json.loads(report.read_text())
    assert data["utterances"] == 1
    assert data["skipped"] == {"no .txt transcript": 1, "transcript file not readable as UTF-8": 1}
    assert "skipped 2 utterances: 1 no .txt transcript, 1 transcript file not readable as UTF-8" in result.stderr

    again = asr("evaluate", small_model_path, folder, "--output", report)
    assert again.returncode == 2 and "exists: pass --overwrite" in again.stderr
    assert json.loads(report.read_text()) == data  # untouched
    plot = asr("evaluate", small_model_path, folder, "--alignment-plot", tmp_path / "align.xyz")
    assert plot.returncode == 2 and "--alignment-plot" in plot.stderr and "must end in one of" in plot.stderr
    folder_out = asr("evaluate", small_model_path, folder, "--output", tmp_path)
    assert folder_out.returncode == 2 and "is a folder, not a file" in folder_out.stderr


def test_config_flags_help_shows_given_defaults_as_the_flags_take_them():
    import argparse

    from asr.cli import add_dataclass_arguments
    from asr.config import TrainConfig

    parser = argparse.ArgumentParser()
    mine = TrainConfig(output_dir="runs/50%", speed_perturb=(0.9, 1.0), model_params={"units": 64})
    add_dataclass_arguments(parser, TrainConfig, mine)
    text = " ".join(parser.format_help().split())  # a "%" in a value does not break argparse's formatting
    assert "(default: runs/50%)" in text and "(default: 0.9,1)" in text and '(default: {"units": 64})' in text
    assert parser.parse_args(["--speed-perturb", "0.9,1"]).speed_perturb == (0.9, 1.0)  # what the help shows parses


def test_tensorflow_log_lines_stay_off_stderr_unless_verbose(small_model_path, librivox_dir):
    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "TF_ENABLE_ONEDNN_OPTS")}
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    for backend in ("tensorflow", "jax"):
        result = subprocess.run([sys.executable, "-m", "asr", "transcribe", str(small_model_path), str(wav), "-q"],
                                capture_output=True, text=True, cwd=ROOT, env={**env, "KERAS_BACKEND": backend},
                                timeout=600)
        assert result.returncode == 0, result.stderr[-2000:]
        for noise in ("oneDNN", "I0000", "E0000", "absl"):
            assert noise not in result.stderr, (backend, result.stderr[-2000:])


def test_an_error_after_a_progress_bar_starts_its_own_line(small_model_path, tmp_path, capsys):
    from asr.cli import main

    for i in range(3):  # transcripts whose audio decodes to nothing usable: found, then refused at features
        (tmp_path / f"{i}.wav").write_bytes(b"RIFF\x24\x00\x00\x00WAVEfmt ")
        (tmp_path / f"{i}.txt").write_text("hello\n")
    (tmp_path / "m.jsonl").write_text("".join(json.dumps({"path": str(tmp_path / f"{i}.wav"), "text": "hello"})
                                              + "\n" for i in range(3)))
    assert main(["evaluate", str(small_model_path), str(tmp_path / "m.jsonl")]) == 2
    err = capsys.readouterr().err
    assert "asr evaluate: error:" in err and "\nasr evaluate: error:" in "\n" + err.replace("\r", "\n"), err


def test_evaluate_hypotheses_lists_every_utterance_and_plots_into_a_new_folder(small_model_path, librivox_dir,
                                                                              tmp_path):
    from asr.cli import main

    out = tmp_path / "errors.jsonl"
    plot = tmp_path / "new" / "folder" / "alignment.png"
    assert main(["evaluate", str(small_model_path), str(librivox_dir), "--hypotheses", str(out),
                 "--alignment-plot", str(plot), "--output", str(tmp_path / "report.json")]) == 0
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(rows) == 5 and plot.is_file()
    assert set(rows[0]) == {"id", "source", "reference", "hypothesis", "cer", "wer", "duration"}
    assert all(row["duration"] > 0 and 0 <= row["cer"] for row in rows)
    report = json.loads((tmp_path / "report.json").read_text())
    assert "rows" not in report and report["utterances"] == 5


def test_a_file_name_with_a_line_break_stays_on_one_line(small_model_path, librivox_dir, tmp_path, capsys):
    import shutil

    from asr.cli import main

    wavs = sorted(librivox_dir.glob("*.wav"))[:2]
    odd = tmp_path / "two\nlines.wav"
    shutil.copy(wavs[0], odd)
    assert main(["transcribe", str(small_model_path), str(odd), str(wavs[1]), "-q"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2 and lines[0].startswith(str(tmp_path / "two\\nlines.wav") + "\t")


@pytest.mark.parametrize("value", ["-1", "0", "nan", "inf", "ten"])
def test_max_duration_must_be_positive_seconds(value, librivox_dir, capsys):
    from asr.cli import main

    with pytest.raises(SystemExit):
        main(["data", str(librivox_dir), "--max-duration", value])
    assert "expected a finite number of seconds > 0" in capsys.readouterr().err


def test_lm_build_on_empty_text_says_so(tmp_path, capsys):
    from asr.cli import main

    (tmp_path / "empty.txt").write_text("\n\n")
    assert main(["lm", "build", str(tmp_path / "empty.txt"), "-o", str(tmp_path / "lm.arpa")]) == 2
    err = capsys.readouterr().err
    assert "the text files hold no sentence" in err and "excluded" not in err
