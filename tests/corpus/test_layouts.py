"""Every corpus layout's reader: real Common Voice files from the shared data, and small
LJSpeech, Kaldi (with segments), NeMo and Hugging Face fixtures built from real speech."""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from conftest import DATA_DIR, require

from asr.audio import load_audio
from asr.corpus import (
    read_audiofolder,
    read_common_voice,
    read_common_voice_csv,
    read_kaldi,
    read_ljspeech,
    read_manifest,
    write_manifest,
)
from asr.features import FeatureConfig, extract_file
from asr.text import Vocabulary, normalize_transcript
from asr.utterances import prepare

COMMON_VOICE = DATA_DIR / "commonvoice-en"


@pytest.fixture(scope="module")
def speech_files(librivox_dir):
    """Two real LibriVox utterances: [(path, transcript)]."""
    return [(wav, wav.with_suffix(".txt").read_text().strip()) for wav in sorted(librivox_dir.glob("*.wav"))[:2]]


# === Common Voice (real files) ===
def test_common_voice_release_layout_6_1():
    entries, report = read_common_voice(require(COMMON_VOICE / "cv-corpus-6.1-sample" / "validated.tsv"))
    assert len(entries) == 100 and report.read == 100 and not report.skipped
    assert len({e["speaker"] for e in entries}) == 95
    first = entries[0]
    assert first["id"] == "common_voice_en_78545" and first["path"].endswith("clips/common_voice_en_78545.opus")
    assert first["text"] == "what is the forecast in kentucky for temperate weather"
    assert 1.0 < first["duration"] < 10.0


def test_common_voice_release_layout_1_keeps_quoted_sentences():
    entries, report = read_common_voice(require(COMMON_VOICE / "cv-corpus-1-sample" / "validated.tsv"))
    assert len(entries) == 96 and len({e["speaker"] for e in entries}) == 6 and not report.skipped
    texts = {e["id"]: e["text"] for e in entries}
    assert texts["common_voice_en_3"] == "i'm a woman of the desert she said averting her face"


def test_common_voice_kaggle_csv():
    entries, report = read_common_voice_csv(require(COMMON_VOICE / "cv-valid-dev.csv"))
    assert len(entries) == 4076 and not report.skipped
    assert entries[0]["id"] == "cv-valid-dev/sample-000000" and entries[0]["speaker"] == "unknown"
    assert entries[0]["text"] == "be careful with your prognostications said the stranger"
    assert 4.9 < sum(e["duration"] for e in entries) / 3600 < 5.1


# === LJSpeech ===
def test_ljspeech_reads_the_normalized_column(tmp_path, speech_files):
    (tmp_path / "wavs").mkdir()
    for i, (wav, _) in enumerate(speech_files):
        shutil.copy(wav, tmp_path / "wavs" / f"LJ001-000{i}.wav")
    (tmp_path / "metadata.csv").write_text(
        "LJ001-0000|Printing, in 1455.|Printing, in fourteen fifty-five.\n"
        "LJ001-0001|only raw|\n"
        "LJ001-0009|no such clip|no such clip\n"
        "a line without pipes\n")
    entries, report = read_ljspeech(tmp_path)
    assert [e["text"] for e in entries] == ["printing in fourteen fifty five", "only raw"]
    assert {e["speaker"] for e in entries} == {"LJ"}
    assert report.skipped == {"missing or unreadable audio": 1, "line is not ID|TEXT or ID|RAW|NORMALIZED": 1}
    assert report.examples["missing or unreadable audio"] == ["metadata.csv:3 (LJ001-0009)"]


# === Kaldi ===
def _kaldi_dir(root, wav, segments=True, wav_scp=None):
    root.mkdir()
    (root / "wav.scp").write_text(wav_scp or f"rec1 {wav}\n")
    lines = ["rec1-a HELLO", "rec1-b WORLD", "rec1-c PAST THE END"] if segments else ["rec1 HELLO WORLD"]
    (root / "text").write_text("\n".join(lines) + "\n")
    (root / "utt2spk").write_text("".join(f"{line.split()[0]} spk1\n" for line in lines))
    if segments:
        (root / "segments").write_text("rec1-a rec1 0.50 2.00\nrec1-b rec1 2.00 -1\nrec1-c rec1 3.00 400.0\n")
    return root


def test_kaldi_segments_travel_through_features_and_cache(tmp_path, speech_files):
    wav = speech_files[0][0]
    entries, report = read_kaldi(_kaldi_dir(tmp_path / "data", wav))
    assert [e["id"] for e in entries] == ["rec1-a", "rec1-b"] and entries[0]["speaker"] == "spk1"
    assert report.skipped == {"segment outside its recording": 1}
    seconds = sf.info(wav).duration
    assert entries[0]["offset"] == 0.5 and entries[0]["duration"] == 1.5
    assert entries[1]["offset"] == 2.0 and entries[1]["duration"] == pytest.approx(seconds - 2.0, abs=1e-3)
    config = FeatureConfig("log_mel")
    data = prepare(entries, config, Vocabulary(), cache_dir=tmp_path / "cache")
    expected = extract_file(wav, config, offset=0.5, duration=1.5)
    assert np.allclose(data.features[0], expected) and data.features[0].shape[0] == 151  # 1.5 s at 100 frames/s
    assert len(list((tmp_path / "cache").rglob("*.npy"))) == 2  # one cache file per segment, not per recording
    path = tmp_path / "m.jsonl"
    write_manifest(entries, path)  # the offsets round-trip through a manifest
    assert [(e["offset"], e["duration"]) for e in read_manifest(path)[0]] == [(0.5, 1.5), (2.0, entries[1]["duration"])]


def test_kaldi_without_segments(tmp_path, speech_files):
    entries, report = read_kaldi(_kaldi_dir(tmp_path / "data", speech_files[0][0], segments=False))
    assert len(entries) == 1 and "offset" not in entries[0] and entries[0]["text"] == "hello world"


def test_kaldi_command_entries_are_refused_and_never_run(tmp_path, speech_files):
    marker = tmp_path / "ran"
    data = _kaldi_dir(tmp_path / "data", None, segments=False,
                      wav_scp=f"rec0 {speech_files[0][0]}\nrec1 touch {marker} |\n")
    with pytest.raises(ValueError, match=r"data/wav.scp:2: recording 'rec1' is a command .*never run"):
        read_kaldi(data)
    assert not marker.exists()


# === NeMo manifests ===
def test_nemo_manifest_with_offsets_relative_paths_and_bad_durations(tmp_path, speech_files):
    wav = speech_files[0][0]
    shutil.copy(wav, tmp_path / "a.wav")
    seconds = sf.info(wav).duration
    (tmp_path / "folder.wav").mkdir()
    lines = [{"audio_filepath": "a.wav", "text": "Hello", "duration": 1.25, "offset": 0.5},
             {"audio_filepath": "a.wav", "text": "whole file", "duration": round(seconds, 2)},
             {"audio_filepath": "a.wav", "text": "again", "duration": 1.25, "offset": 0.5},
             {"audio_filepath": "a.wav", "text": "bad", "duration": "Infinity"},
             {"audio_filepath": "a.wav", "text": "no duration", "offset": 1.0},
             {"audio_filepath": "a.wav", "text": "ten hours", "duration": 36000.0},
             {"audio_filepath": "a.wav", "text": "past the end", "duration": seconds, "offset": 1.0},
             {"audio_filepath": "folder.wav", "text": "a folder", "duration": 1.0},
             {"audio_filepath": "a.wav", "text": "zero", "duration": 0},
             {"audio_filepath": "a.wav", "text": "missing"}]
    path = tmp_path / "nemo.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in lines).replace('"Infinity"', "Infinity"))
    entries, report = read_manifest(path)
    assert report.layout == "nemo"
    assert [e["text"] for e in entries] == ["hello", "whole file", "again", "zero", "missing"]
    assert entries[0]["path"] == str(tmp_path / "a.wav") and entries[0]["offset"] == 0.5
    assert entries[-1]["duration"] == entries[-2]["duration"] == pytest.approx(seconds, abs=1e-3)  # from the audio
    assert report.skipped == {"duration is not a finite number >= 0": 1, "offset without a duration > 0": 1,
                              "duration disagrees with the audio": 1, "segment outside its recording": 1,
                              "missing or unreadable audio": 1}
    assert report.examples["duration disagrees with the audio"] == [f"line 6 (duration 36000 s, audio {seconds:g} s)"]
    data = prepare(entries[:1], FeatureConfig("log_mel"), Vocabulary(), cache_dir=False)
    assert data.features[0].shape[0] == 126  # 1.25 s, not the whole file


# === Hugging Face audiofolder ===
@pytest.mark.parametrize("kind", ["csv", "jsonl"])
def test_audiofolder_metadata(tmp_path, speech_files, kind):
    (tmp_path / "data").mkdir()
    for i, (wav, _) in enumerate(speech_files):
        shutil.copy(wav, tmp_path / "data" / f"{i}.wav")
    rows = [{"file_name": f"data/{i}.wav", "transcription": text, "speaker_id": f"s{i}"}
            for i, (_, text) in enumerate(speech_files)]
    rows.append({"file_name": "../escape.wav", "transcription": "out", "speaker_id": "x"})
    if kind == "csv":
        (tmp_path / "metadata.csv").write_text("file_name,transcription,speaker_id\n" + "".join(
            f'{r["file_name"]},"{r["transcription"]}",{r["speaker_id"]}\n' for r in rows))
    else:
        (tmp_path / "metadata.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    entries, report = read_audiofolder(tmp_path)
    assert [e["speaker"] for e in entries] == ["s0", "s1"] and entries[0]["id"] == "data/0"
    assert entries[0]["text"] == normalize_transcript(speech_files[0][1]) != ""
    assert report.skipped == {"no audio path, or one outside the corpus folder": 1}
    assert np.allclose(load_audio(entries[1]["path"]), load_audio(speech_files[1][0]))


def test_audiofolder_without_a_text_column_is_an_error(tmp_path):
    (tmp_path / "metadata.csv").write_text("file_name,label\na.wav,1\n")
    with pytest.raises(ValueError, match=r"metadata.csv: expected the columns 'file_name' and one of "
                                         r"\['transcription', 'text', 'sentence'\], found \['file_name', 'label'\]"):
        read_audiofolder(tmp_path)
