"""Choosing readers from what a path holds, several sources at once, and ``asr data``."""

import json
import os
import subprocess
import sys

import pytest
from conftest import DATA_DIR, ROOT, fake_librispeech, require, write_tone

from asr.corpus import find_sources, load_entries, load_sources, read_manifest
from asr.errors import ConfigError, DataError

COMMON_VOICE = DATA_DIR / "commonvoice-en"


def layouts(path, **kwargs):
    return [(s.layout, s.path.relative_to(path) if s.path != path else ".") for s in find_sources(path, **kwargs)]


def test_a_common_voice_folder_is_its_three_parts():
    found = layouts(require(COMMON_VOICE))
    assert [(layout, str(path)) for layout, path in found] == [
        ("commonvoice-csv", "cv-valid-dev.csv"), ("commonvoice", "cv-corpus-1-sample/validated.tsv"),
        ("commonvoice", "cv-corpus-6.1-sample/validated.tsv")]


def test_every_shared_speech_folder_is_found():
    found = {(layout, str(path)) for layout, path in layouts(require(DATA_DIR))}
    assert {("librispeech", "librispeech-sample"), ("librispeech", "librispeech-voices"),
            ("folder", "pocketsphinx-librivox")} <= found
    assert len(found) == 6  # nothing from the noise, digits, text and time-series folders


def test_files_and_explicit_layouts(tmp_path):
    fake_librispeech(tmp_path / "ls")
    assert layouts(tmp_path / "ls") == [("librispeech", ".")]
    (tmp_path / "m.jsonl").write_text("")
    assert find_sources(tmp_path / "m.jsonl")[0].layout == "manifest"
    assert find_sources(f"nemo:{tmp_path / 'm.jsonl'}")[0].layout == "manifest"
    assert find_sources(f"folder:{tmp_path / 'ls'}")[0].layout == "folder"
    with pytest.raises(ConfigError, match="layout='wav' must be 'auto' or one of"):
        find_sources(tmp_path / "ls", layout="wav")
    (tmp_path / "list.csv").write_text("a,b\n")
    with pytest.raises(DataError, match=r"list.csv: a CSV file that is neither .*first line: 'a,b'"):
        find_sources(tmp_path / "list.csv")


def test_no_corpus_names_the_path_and_the_layouts_looked_for(tmp_path):
    (tmp_path / "song.wav").write_bytes(b"")
    with pytest.raises(DataError, match=r"no corpus found in .*: looked for LibriSpeech .*Kaldi \(wav.scp \+ text\)"):
        find_sources(tmp_path)
    with pytest.raises(FileNotFoundError, match="data source not found: .*nothing"):
        find_sources(tmp_path / "nothing")


def test_several_sources_one_corpus_with_a_report_each(tmp_path, librivox_dir):
    fake_librispeech(tmp_path / "ls")
    entries, reports = load_sources(f"{tmp_path / 'ls'},{librivox_dir}")
    assert [r.layout for r in reports] == ["librispeech", "folder"]
    assert len(entries) == 1 + 5 and {e["source"] for e in entries} == {r.name for r in reports}
    assert reports[1].summary["utterances"] == 5 and reports[0].summary["speakers"] == 1
    assert reports[0].to_dict()["skipped"] == {"empty transcript": 1, "transcript not encodable": 1,
                                               "missing or unreadable audio": 1}
    again, reports = load_sources([str(librivox_dir), f"folder:{librivox_dir}"])  # the same audio twice
    assert len(again) == 5 and reports[1].skipped == {"same audio as in an earlier source": 5}
    assert reports[1].read == 0 and reports[1].summary["utterances"] == 0
    write_tone(tmp_path / "a.wav")
    (tmp_path / "twice.jsonl").write_text(2 * (json.dumps({"path": str(tmp_path / "a.wav"), "text": "a"}) + "\n"))
    assert len(load_sources(str(tmp_path / "twice.jsonl"))[0]) == 2  # a manifest may repeat an utterance (weight)
    merged, report = load_entries([str(tmp_path / "ls"), str(librivox_dir)])
    assert len(merged) == 6 and report.read == 6 and sum(report.skipped.values()) == 3


def asr(*args):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    return subprocess.run([sys.executable, "-m", "asr", *map(str, args)], capture_output=True, text=True,
                          timeout=300, cwd=ROOT, env=env)


def test_asr_data_reports_common_voice(tmp_path):
    result = asr("data", require(COMMON_VOICE), "-q")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert "  4076 utterances, 5.02 h, no speaker ids" in lines
    assert "  96 utterances, 0.10 h, 6 speakers" in lines and "  100 utterances, 0.13 h, 95 speakers" in lines
    assert lines[-1] == "total: 3 sources, 4272 utterances, 5.25 h, skipped 0"
    as_json = json.loads(asr("data", COMMON_VOICE / "cv-corpus-6.1-sample", "--json", "-q").stdout)
    assert as_json[0]["utterances"] == 100 and as_json[0]["duration_seconds"]["p50"] > 1


def test_asr_data_manifest_round_trip_and_no_overwrite(tmp_path, librivox_dir):
    fake_librispeech(tmp_path / "ls")
    out = tmp_path / "all.jsonl"
    result = asr("data", tmp_path / "ls", librivox_dir, "--manifest", out, "-q")
    assert result.returncode == 0, result.stderr
    assert "    1 empty transcript (e.g. 19-198-0001)" in result.stdout
    entries, report = read_manifest(out)
    assert len(entries) == 6 and not report.skipped
    again = asr("data", librivox_dir, "--manifest", out, "-q")
    assert again.returncode == 2 and "--manifest" in again.stderr and "exists: pass --overwrite" in again.stderr
    assert len(read_manifest(out)[0]) == 6  # untouched
    assert asr("data", librivox_dir, "--manifest", out, "--overwrite", "-q").returncode == 0
    assert len(read_manifest(out)[0]) == 5
    assert asr("data", out, "-q").stdout.splitlines()[1] == "  5 utterances, 0.01 h, no speaker ids"


def test_a_release_folder_without_validated_tsv_gives_its_splits(tmp_path):
    (tmp_path / "clips").mkdir()
    for name in ("train.tsv", "dev.tsv", "other.tsv"):
        (tmp_path / name).write_text("client_id\tpath\tsentence\n")
    assert [s.path.name for s in find_sources(tmp_path)] == ["train.tsv", "dev.tsv"]
    (tmp_path / "validated.tsv").write_text("client_id\tpath\tsentence\n")
    assert [s.path.name for s in find_sources(tmp_path)] == ["validated.tsv"]
    assert [s.path.name for s in find_sources(tmp_path / "other.tsv")] == ["other.tsv"]  # named: read
