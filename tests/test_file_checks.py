"""Every file the toolkit reads is checked: --config JSON types, audio headers, damaged .keras
files; and the command line's conventions (--version, help, Ctrl-C)."""

import json
import struct

import numpy as np
import pytest
import soundfile as sf
from conftest import write_tone
from test_cli import asr

from asr.audio import AudioError, audio_info, declared_wav_frames, load_audio
from asr.cli import main
from asr.config import ARCHITECTURE_NAMES, TrainConfig
from asr.errors import ConfigError, CorruptFileError


@pytest.mark.parametrize("field, value, message", [
    ("epochs", "ten", "epochs='ten' must be an integer"),
    ("epochs", None, "epochs=None must be an integer"),
    ("batch_size", 2.5, "batch_size=2.5 must be an integer"),
    ("sortagrad", "no", "sortagrad='no' must be true or false"),
    ("speed_perturb", "0.9,1.1", "speed_perturb='0.9,1.1' must be a list of numbers"),
    ("learning_rate", "fast", "learning_rate='fast' must be a number"),
    ("model", "transformer", "model='transformer' must be one of"),
])
def test_config_json_types_are_checked_per_field(tmp_path, field, value, message):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({field: value}))
    with pytest.raises(ConfigError, match=message.replace("(", r"\(")):
        TrainConfig.from_json(path)


def test_config_json_from_the_command_line_is_one_line(tmp_path):
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"epochs": "ten"}))
    result = asr("train", "--config", path, "--output-dir", tmp_path / "run")
    assert result.returncode == 2 and result.stderr.strip() == \
        "asr train: error: TrainConfig epochs='ten' must be an integer"


def test_the_architecture_names_match_the_registry():
    from asr.models import ARCHITECTURES

    assert tuple(ARCHITECTURES) == ARCHITECTURE_NAMES


def _set_wav_header(path, rate=None, data_size=None):
    data = bytearray(path.read_bytes())
    if rate is not None:
        data[24:28] = struct.pack("<I", rate)
    if data_size is not None:
        index = data.index(b"data")
        data[index + 4: index + 8] = struct.pack("<I", data_size)
    path.write_bytes(bytes(data))
    return path


def test_a_wav_claiming_an_absurd_rate_is_refused(tmp_path):
    path = _set_wav_header(write_tone(tmp_path / "one_hz.wav", 2.5), rate=1)
    with pytest.raises(AudioError, match=r"one_hz.wav' declares a sample rate of 1 Hz, outside 1000-384000 Hz"):
        audio_info(path)
    with pytest.raises(AudioError, match="1 Hz"):
        load_audio(path)


def test_a_streaming_wav_is_not_called_truncated(tmp_path, recwarn):
    path = _set_wav_header(write_tone(tmp_path / "stream.wav", 1.0), data_size=0xFFFFFFFF)
    assert declared_wav_frames(path) is None
    audio = load_audio(path)
    assert abs(len(audio) - 16000) <= 1 and not [w for w in recwarn if "truncated" in str(w.message)]


@pytest.mark.parametrize("content, match", [
    (b"", "not a zip archive"),
    (b"PK\x03\x04 damaged" * 20, "not a zip archive"),
])
def test_a_damaged_keras_file_is_named_without_keras_file_not_found(tmp_path, content, match):
    from asr.models import load_model

    path = tmp_path / "model.keras"
    path.write_bytes(content)
    with pytest.raises(CorruptFileError, match=f"model.keras' is not a loadable asr model file \\({match}") as error:
        load_model(path)
    assert "File not found" not in str(error.value)


def test_a_zip_that_is_no_keras_model(tmp_path):
    import zipfile

    from asr.models import load_model

    with zipfile.ZipFile(tmp_path / "other.keras", "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(CorruptFileError, match="a zip archive without config.json"):
        load_model(tmp_path / "other.keras")


def test_version_and_help():
    from asr import __version__

    version = asr("--version")
    assert version.returncode == 0 and version.stdout.strip() == f"asr {__version__}"
    top = asr("--help").stdout
    assert "``" not in top and "data" in top
    train_help = asr("train", "--help").stdout
    assert all(name in train_help for name in ARCHITECTURE_NAMES) and "--overwrite" in train_help


def test_every_argument_has_help_with_its_default():
    import argparse

    from asr.cli import make_parser

    subcommands = make_parser()._subparsers._group_actions[0].choices
    assert set(subcommands) == {"data", "data-download", "train", "evaluate", "transcribe", "lm", "export", "serve",
                               "models"}
    nested = subcommands["lm"]._subparsers._group_actions[0].choices  # asr lm build
    assert set(nested) == {"build"}
    for name, parser in [*subcommands.items(), *(("lm " + k, v) for k, v in nested.items())]:
        for action in parser._actions:
            if isinstance(action, argparse._HelpAction):
                continue
            assert action.help, (name, action.dest)
            if action.option_strings and action.default not in (None, False):
                assert "default" in action.help, (name, action.dest, action.help)


def test_ctrl_c_is_one_line_and_exit_130(small_model_path, librivox_dir, monkeypatch, capsys):
    import asr.inference

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(asr.inference, "iter_transcribe", interrupted)
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    assert main(["transcribe", str(small_model_path), str(wav), "-q"]) == 130
    assert capsys.readouterr().err == "asr transcribe: interrupted\n"


def test_ctrl_c_keeps_every_finished_file_and_names_the_rest(small_model_path, librivox_dir, tmp_path, monkeypatch,
                                                             capsys):
    """Each file is published as soon as it is known to be done (the segments have moved past it):
    an interrupt while the third window of segments is decoded (one short file per window at
    --batch-size 1) keeps the first file, and the message names the ones not written."""
    import asr.inference

    decode, calls = asr.inference._decode_window, []

    def interrupt_third(window, *args):
        calls.append([index for index, _ in window])
        if len(calls) == 3:
            raise KeyboardInterrupt
        return decode(window, *args)

    monkeypatch.setattr(asr.inference, "WINDOW_BATCHES", 1)
    monkeypatch.setattr(asr.inference, "_decode_window", interrupt_third)
    wavs = sorted(librivox_dir.glob("*.wav"))
    out = tmp_path / "out"
    status = main(["transcribe", str(small_model_path), *map(str, wavs), "--output-dir", str(out), "-q",
                   "--batch-size", "1", "--max-segment-seconds", "600"])
    assert status == 130 and calls == [[0], [1], [2]]
    assert sorted(p.name for p in out.iterdir()) == [wavs[0].stem + ".txt"]  # file 1 finishes with window 3
    err = capsys.readouterr().err
    assert f"interrupted: 1 of {len(wavs)} file(s) written; not written: {out / wavs[1].stem}.txt" in err


def test_float_wav_of_a_real_rate_still_loads(tmp_path):
    path = tmp_path / "f.wav"
    sf.write(path, np.zeros(4410, np.float32), 44100, subtype="FLOAT")
    assert audio_info(path) == (0.1, 44100)
