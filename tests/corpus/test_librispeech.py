"""LibriSpeech-layout and transcribed-folder readers: real data, bad lines skipped and counted."""

import pytest
from conftest import fake_librispeech

from asr.corpus import (
    read_librispeech,
    read_transcribed_folder,
)


def test_read_shared_librispeech(librispeech_dir):
    entries, report = read_librispeech(librispeech_dir)
    assert len(entries) == report.read == 378 and not report.skipped
    assert {e["speaker"] for e in entries} == {"4088", "4406", "5652"}
    first = entries[0]
    assert first["id"] == "4088-158077-0000" and first["path"].endswith("4088-158077-0000.flac")
    assert first["text"].startswith("the war message concluded") and 10 < first["duration"] < 30


def test_bad_lines_are_skipped_and_counted(tmp_path):
    entries, report = read_librispeech(fake_librispeech(tmp_path))
    assert [e["text"] for e in entries] == ["hello world"]
    assert report.skipped == {"empty transcript": 1, "transcript not encodable": 1,
                              "missing or unreadable audio": 1}
    assert "19-198-0003" in str(report)


def test_max_duration_filter(tmp_path):
    _, report = read_librispeech(fake_librispeech(tmp_path), max_duration=0.5)
    assert report.skipped["longer than max_duration=0.5s"] == 1


def test_not_a_librispeech_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no \\*.trans.txt"):
        read_librispeech(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_librispeech(tmp_path / "missing")


def test_transcribed_folder(librivox_dir):
    entries, report = read_transcribed_folder(librivox_dir)
    assert len(entries) == 5 and entries[0]["text"].startswith("and mister john dashwood")
