"""Manifests: round trip, absolute paths, dispatch, speaker-disjoint splits."""

import json

import pytest
from conftest import fake_librispeech, write_tone

from asr.corpus import (
    load_entries,
    read_librispeech,
    read_manifest,
    speaker_split,
    write_manifest,
)


def test_manifest_round_trip_and_bad_lines(tmp_path):
    entries, _ = read_librispeech(fake_librispeech(tmp_path / "ls"))
    path = tmp_path / "m.jsonl"
    write_manifest(entries, path)
    write_tone(tmp_path / "rel.wav")  # the lines' audio is read (and checked) too
    with open(path, "a") as f:
        f.write("{not json\n" + json.dumps({"path": "x.wav"}) + "\n")
        f.write(json.dumps({"path": "rel.wav", "text": "UPPER Case!"}) + "\n")
    loaded, report = read_manifest(path)
    assert loaded[0] == entries[0]
    assert loaded[1]["text"] == "upper case" and loaded[1]["path"] == str(tmp_path / "rel.wav")
    assert report.skipped == {"invalid JSON": 1, "missing text": 1}


def test_manifest_stores_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audio").mkdir()
    write_tone(tmp_path / "audio" / "a.wav")
    write_manifest([{"id": "a", "path": "audio/a.wav", "text": "a"}], tmp_path / "out" / "m.jsonl")
    assert read_manifest(tmp_path / "out" / "m.jsonl")[0][0]["path"] == str(tmp_path / "audio" / "a.wav")


def test_load_entries_dispatch(tmp_path):
    fake_librispeech(tmp_path / "ls")
    assert len(load_entries(tmp_path / "ls")[0]) == 1
    with pytest.raises(FileNotFoundError, match="data source not found"):
        load_entries(tmp_path / "nothing.jsonl")


def test_speaker_split_is_disjoint():
    entries = [{"speaker": s, "id": f"{s}-{i}"} for s in "abcd" for i in range(3)]
    train, dev = speaker_split(entries, 1, seed=3)
    assert len(dev) == 3 and not {e["speaker"] for e in train} & {e["speaker"] for e in dev}
    train, dev = speaker_split(entries, ["a", "b"])
    assert {e["speaker"] for e in dev} == {"a", "b"}
    with pytest.raises(ValueError, match="dev_speakers=4"):
        speaker_split(entries, 4)
    with pytest.raises(ValueError, match=r"\['z'\] are not in the corpus"):
        speaker_split(entries, ["z"])


def test_utterances_without_a_speaker_id_stay_in_train():
    entries = [{"speaker": s, "id": f"{s}-{i}"} for s in ("a", "b", "unknown") for i in range(3)]
    for seed in range(10):
        train, dev = speaker_split(entries, 1, seed=seed)
        assert {e["speaker"] for e in dev} in ({"a"}, {"b"}) and len(train) == 6
    train, dev = speaker_split(entries, 2)
    assert {e["speaker"] for e in train} == {"unknown"}
    with pytest.raises(ValueError, match=r"dev_speakers=3 must be between 1 and 2 .*without a speaker id"):
        speaker_split(entries, 3)
