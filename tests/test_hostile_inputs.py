"""Hostile inputs: typed manifests, broken transcript files, numbers in transcripts, absurd
audio, bad command-line values; each gives one clear error or is skipped and counted, and
a fuzz test of the manifest parser and the audio loader."""

import io
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf
from conftest import ROOT, write_tone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from asr.audio import AudioError, load_audio
from asr.corpus import read_librispeech, read_manifest
from asr.features import FeatureConfig
from asr.text import TranscriptError, Vocabulary, normalize_transcript
from asr.utterances import prepare


# === manifests ===
@pytest.mark.parametrize("entry, reason", [
    ({"path": None, "text": "hi"}, "path is not a non-empty string"),
    ({"path": 42, "text": "hi"}, "path is not a non-empty string"),
    ({"path": "a.wav", "text": None}, "text is not a non-empty string"),
    ({"path": "a.wav", "text": 3.5}, "text is not a non-empty string"),
    ({"path": "a.wav", "text": "   "}, "text is not a non-empty string"),
    ({"path": "a.wav", "text": "..."}, "empty transcript"),
    ({"path": "a.wav", "text": "hi", "duration": "long"}, "duration is not a finite number >= 0"),
    ({"path": "a.wav", "text": "hi", "duration": -1.0}, "duration is not a finite number >= 0"),
    ({"path": "a.wav", "text": "hi", "duration": float("nan")}, "duration is not a finite number >= 0"),
    ({"path": "a.wav", "text": "hi", "speaker": ["x"]}, "speaker is not a string"),
    (["a.wav", "hi"], "line is not a JSON object"),
])
def test_manifest_fields_are_typed(tmp_path, entry, reason):
    path = tmp_path / "m.jsonl"
    write_tone(tmp_path / "good.wav")  # 1 s, as the good line says: the lines' audio is checked too
    good = {"path": "good.wav", "text": "Hello", "duration": 1.0, "speaker": 7}
    path.write_text(json.dumps(good) + "\n" + json.dumps(entry) + "\n")
    entries, report = read_manifest(path)
    assert report.skipped == {reason: 1} and report.examples[reason] == ["line 2"]
    assert entries[0]["text"] == "hello" and entries[0]["speaker"] == "7"  # the good line is kept


def test_a_bad_byte_spoils_its_line_not_the_manifest(tmp_path):
    path = tmp_path / "m.jsonl"
    write_tone(tmp_path / "b.wav")
    path.write_bytes(b'{"path": "a.wav", "text": "caf\xe9"}\n{"path": "b.wav", "text": "fine"}\n')
    entries, report = read_manifest(path)
    assert [e["text"] for e in entries] == ["fine"] and report.skipped == {"line is not valid UTF-8": 1}


def test_broken_transcript_files_and_lines_are_skipped_and_counted(tmp_path):
    chapter = tmp_path / "19" / "198"
    chapter.mkdir(parents=True)
    for i in range(3):
        write_tone(chapter / f"19-198-000{i}.flac", 0.5)
    (chapter / "19-198.trans.txt").write_text(
        "19-198-0000 HELLO\n19-198-0001 " + "7" * 5000 + "\n19-198-0002 THE 3RD OF $42.50\n")
    other = tmp_path / "20" / "200"
    other.mkdir(parents=True)
    (other / "20-200.trans.txt").write_bytes(b"20-200-0000 CAF\xc9 AU LAIT\n")  # Latin-1, not UTF-8
    entries, report = read_librispeech(tmp_path)
    assert [e["text"] for e in entries] == ["hello", "the third of forty two dollars fifty cents"]
    assert report.skipped == {"transcript not encodable": 1, "transcript file not readable as UTF-8": 1}


def test_unspeakable_numbers_are_a_transcript_error():
    with pytest.raises(TranscriptError, match="5000 digits"):
        normalize_transcript("1" * 5000)


# === audio ===
def _float_wav(path, scale):
    sf.write(path, (0.5 * np.sin(np.arange(8000) / 7.0) * scale).astype("float32"), 16000, subtype="FLOAT")
    return path


def test_absurd_float_audio_is_refused_and_never_reaches_the_statistics(tmp_path):
    huge = _float_wav(tmp_path / "huge.wav", 1e30)
    with pytest.raises(AudioError, match=r"huge\.wav' has samples up to \|x\| = 5e\+29"):
        load_audio(huge)
    fine = _float_wav(tmp_path / "fine.wav", 1.0)
    entries = [{"id": "huge", "path": str(huge), "text": "a"}, {"id": "fine", "path": str(fine), "text": "a"}]
    data = prepare(entries, FeatureConfig("log_mel"), Vocabulary(), cache_dir=False)
    assert [e["id"] for e in data.entries] == ["fine"] and data.report.skipped == {"unusable audio": 1}
    assert all(np.isfinite(f).all() for f in data.features)


def test_a_folder_is_not_an_audio_file(tmp_path):
    with pytest.raises(AudioError, match="is a directory"):
        load_audio(tmp_path)


# === command line ===
def asr(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "KERAS_BACKEND": "jax"}
    return subprocess.run([sys.executable, "-m", "asr", *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                          env=env, timeout=300)


def test_decoder_flags_are_checked(small_model_path, tmp_path, librivox_dir, capsys):
    from asr.cli import main

    wav = sorted(librivox_dir.glob("*.wav"))[0]
    (tmp_path / "words.txt").write_text("the\nand\n")
    (tmp_path / "empty.txt").write_text("\n")
    (tmp_path / "bad.arpa").write_text("\\data\\\nngram 1=1\n\n\\1-grams:\nhigh the\n\\end\\\n")
    implied = asr("transcribe", small_model_path, wav, "--lexicon", tmp_path / "words.txt", "--beam-width", 2)
    assert implied.returncode == 0 and set(implied.stdout.split()) <= {"the", "and"}  # --lexicon implies beam
    assert "Unable to initialize backend" not in implied.stderr  # JAX's TPU probe is not shown
    cases = {("--decoder", "greedy", "--lexicon", tmp_path / "words.txt"): "drop --decoder greedy",
             ("--lexicon", tmp_path / "empty.txt"): "holds no words",
             ("--decoder", "beam", "--word-bonus", "nan"): "word_bonus=nan",
             ("--decoder", "beam", "--lm-weight", "nan"): "lm_weight=nan",
             ("--lm", tmp_path / "bad.arpa"): r"bad.arpa:5: 'high' is not a number",
             ("--lm", tmp_path / "missing.arpa"): "ARPA file not found"}
    for flags, message in cases.items():  # in this process: the command's own error path, without a start-up each
        status = main(["transcribe", str(small_model_path), str(wav), *map(str, flags)])
        stderr = capsys.readouterr().err
        assert status == 2 and "Traceback" not in stderr, (flags, stderr[-2000:])
        assert message.replace("\\", "") in stderr, (flags, stderr)


def test_training_flags_are_checked(tmp_path):
    for flags, message in {("--clipnorm", "0"): "clipnorm=0.0 must be a finite number > 0",
                           ("--clipnorm", "-1"): "clipnorm=-1.0",
                           ("--model-params", "[1, 2]"): "model_params=[1, 2] must be a JSON object",
                           ("--devices", "many"): "devices='many'"}.items():
        result = asr("train", "--train-data", tmp_path, "--output-dir", tmp_path / "run", *flags)
        assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr, flags


# === fuzzing ===
_values = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=12),
                    st.lists(st.integers(), max_size=2))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(lines=st.lists(st.one_of(st.dictionaries(st.sampled_from(["path", "text", "duration", "id", "speaker"]),
                                                _values, max_size=5),
                                st.text(max_size=30), st.binary(max_size=30)), max_size=6))
def test_manifest_parser_never_crashes(tmp_path, lines):
    path = tmp_path / "fuzz.jsonl"
    path.write_bytes(b"\n".join(json.dumps(x).encode() if isinstance(x, dict) else
                                x.encode() if isinstance(x, str) else x for x in lines))
    entries, report = read_manifest(path)
    assert all(isinstance(e["path"], str) and e["text"] and isinstance(e["speaker"], str) for e in entries)
    assert report.read == len(entries)


def _wav_header(data_bytes, channels, rate, bits):
    buffer = io.BytesIO()
    sf.write(buffer, np.zeros((4, channels), "float32"), rate, format="WAV",
             subtype={8: "PCM_U8", 16: "PCM_16", 32: "FLOAT"}[bits])
    return buffer.getvalue()[:44] + data_bytes


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(payload=st.binary(max_size=400), header=st.booleans(), channels=st.integers(1, 3),
       rate=st.sampled_from([8000, 16000, 44100]), bits=st.sampled_from([8, 16, 32]))
def test_audio_loader_on_random_bytes_returns_audio_or_an_audio_error(tmp_path, payload, header, channels, rate,
                                                                      bits):
    path = tmp_path / "fuzz.wav"
    path.write_bytes(_wav_header(payload, channels, rate, bits) if header else payload)
    try:
        audio = load_audio(path)
    except AudioError as error:
        assert "fuzz.wav" in str(error)
    else:
        assert audio.dtype == np.float32 and audio.ndim == 1 and np.isfinite(audio).all()
