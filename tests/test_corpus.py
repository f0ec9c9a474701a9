import io
import json
import tarfile

import pytest

from asr.corpus import load_entries, read_librispeech, read_manifest, read_transcribed_folder, speaker_split, write_manifest
from asr.corpus.download import (DownloadError, MINI_LIBRISPEECH, download, fetch_mini_librispeech, md5sum,
                                 resolve_mini_librispeech, safe_extract)
from conftest import write_tone


def test_read_shared_librispeech(librispeech_dir):
    entries, report = read_librispeech(librispeech_dir)
    assert len(entries) == report.read == 378 and not report.skipped
    assert {e["speaker"] for e in entries} == {"4088", "4406", "5652"}
    first = entries[0]
    assert first["id"] == "4088-158077-0000" and first["path"].endswith("4088-158077-0000.flac")
    assert first["text"].startswith("the war message concluded") and 10 < first["duration"] < 30


def _fake_librispeech(root):
    chapter = root / "train" / "19" / "198"
    chapter.mkdir(parents=True)
    for i in range(3):
        write_tone(chapter / f"19-198-000{i}.flac", 1.0)
    (chapter / "19-198.trans.txt").write_text(
        "19-198-0000 HELLO WORLD\n19-198-0001 \n19-198-0002 CAFÉ Ω\n19-198-0003 MISSING AUDIO\n")
    return root


def test_bad_lines_are_skipped_and_counted(tmp_path):
    entries, report = read_librispeech(_fake_librispeech(tmp_path))
    assert [e["text"] for e in entries] == ["hello world"]
    assert report.skipped == {"empty transcript": 1, "transcript not encodable": 1,
                              "missing or unreadable audio": 1}
    assert "19-198-0003" in str(report)


def test_max_duration_filter(tmp_path):
    _, report = read_librispeech(_fake_librispeech(tmp_path), max_duration=0.5)
    assert report.skipped["longer than max_duration=0.5s"] == 1


def test_not_a_librispeech_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="no \\*.trans.txt"):
        read_librispeech(tmp_path)
    with pytest.raises(FileNotFoundError, match="not found"):
        read_librispeech(tmp_path / "missing")


def test_manifest_round_trip_and_bad_lines(tmp_path):
    entries, _ = read_librispeech(_fake_librispeech(tmp_path / "ls"))
    path = tmp_path / "m.jsonl"
    write_manifest(entries, path)
    with open(path, "a") as f:
        f.write("{not json\n" + json.dumps({"path": "x.wav"}) + "\n")
        f.write(json.dumps({"path": "rel.wav", "text": "UPPER Case!"}) + "\n")
    loaded, report = read_manifest(path)
    assert loaded[0] == entries[0]
    assert loaded[1]["text"] == "upper case" and loaded[1]["path"] == str(tmp_path / "rel.wav")
    assert report.skipped == {"invalid JSON": 1, "missing path/text": 1}


def test_manifest_stores_absolute_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "audio").mkdir()
    write_manifest([{"id": "a", "path": "audio/a.wav", "text": "a"}], tmp_path / "out" / "m.jsonl")
    assert read_manifest(tmp_path / "out" / "m.jsonl")[0][0]["path"] == str(tmp_path / "audio" / "a.wav")


def test_load_entries_dispatch(tmp_path):
    _fake_librispeech(tmp_path / "ls")
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


def test_transcribed_folder(librivox_dir):
    entries, report = read_transcribed_folder(librivox_dir)
    assert len(entries) == 5 and entries[0]["text"].startswith("and mister john dashwood")


def test_download_fails_clearly_without_network(tmp_path, monkeypatch):
    monkeypatch.setitem(MINI_LIBRISPEECH, "dev-clean-2", ("http://127.0.0.1:9/dev-clean-2.tar.gz", "0" * 32))
    with pytest.raises(DownloadError, match="--data-dir"):
        fetch_mini_librispeech(tmp_path, subsets=("dev-clean-2",), progress=False)
    assert not list(tmp_path.glob("*.part"))


def test_checksum_mismatch_removes_file(tmp_path):
    source = tmp_path / "src.bin"
    source.write_bytes(b"payload")
    with pytest.raises(DownloadError, match="checksum mismatch"):
        download(source.as_uri(), tmp_path / "out.bin", md5="0" * 32, progress=False)
    assert not (tmp_path / "out.bin").exists()
    assert download(source.as_uri(), tmp_path / "ok.bin", md5=md5sum(source), progress=False).read_bytes() == b"payload"


def _tar_with(path, name, data=b"x", link=None):
    with tarfile.open(path, "w:gz") as tar:
        info = tarfile.TarInfo(name)
        if link:
            info.type, info.linkname = tarfile.SYMTYPE, link
            tar.addfile(info)
        else:
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def test_safe_extract_refuses_traversal(tmp_path):
    with pytest.raises(DownloadError, match="unsafe path '../evil.txt'"):
        safe_extract(_tar_with(tmp_path / "a.tar.gz", "../evil.txt"), tmp_path / "out")
    with pytest.raises(DownloadError, match="unsafe link"):
        safe_extract(_tar_with(tmp_path / "b.tar.gz", "link", link="/etc/passwd"), tmp_path / "out")
    assert not (tmp_path / "evil.txt").exists()
    out = safe_extract(_tar_with(tmp_path / "c.tar.gz", "LibriSpeech/ok.txt", b"fine"), tmp_path / "out")
    assert (out / "LibriSpeech" / "ok.txt").read_bytes() == b"fine"


def test_resolve_mini_librispeech(tmp_path, librispeech_dir):
    assert resolve_mini_librispeech(librispeech_dir) == (librispeech_dir, None)
    for subset in MINI_LIBRISPEECH:
        (tmp_path / "LibriSpeech" / subset).mkdir(parents=True)
    train, dev = resolve_mini_librispeech(tmp_path)
    assert train.name == "train-clean-5" and dev.name == "dev-clean-2"
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve_mini_librispeech(tmp_path / "missing")
