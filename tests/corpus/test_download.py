"""Downloads and archive extraction: checksums, offline failure, traversal refused."""

import io
import pathlib
import tarfile

import pytest

from asr.corpus.download import (
    MINI_LIBRISPEECH,
    DownloadError,
    download,
    fetch_mini_librispeech,
    md5sum,
    resolve_mini_librispeech,
    safe_extract,
)


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


def _tar(path, *members):
    """A .tar.gz of ``members``: ``(name, kind, payload)`` with kind file/dir/symlink/hardlink/char/fifo."""
    types = {"symlink": tarfile.SYMTYPE, "hardlink": tarfile.LNKTYPE, "char": tarfile.CHRTYPE,
             "fifo": tarfile.FIFOTYPE, "dir": tarfile.DIRTYPE}
    with tarfile.open(path, "w:gz") as tar:
        for name, kind, payload in members:
            info = tarfile.TarInfo(name)
            if kind == "file":
                info.size = len(payload)
                tar.addfile(info, io.BytesIO(payload))
                continue
            info.type = types[kind]
            info.linkname = payload or ""
            tar.addfile(info)
    return path


LONG = "d" * 240  # the CVE-2025-4517 pattern: a long path component plus links through it
HOSTILE = {
    "parent path": [("../evil.txt", "file", b"x")],
    "absolute path": [("/tmp/evil.txt", "file", b"x")],
    "symlink out": [("link", "symlink", "/etc/passwd")],
    "symlink chain": [("a", "symlink", "."), ("a/b", "symlink", ".."), ("a/b/evil.txt", "file", b"x")],
    "hard link": [("x/y/h", "hardlink", "../victim")],
    "long path and symlink": [(f"{LONG}/{LONG}", "dir", None), (f"{LONG}/{LONG}/l", "symlink", "../" * 8),
                              (f"{LONG}/{LONG}/l/evil.txt", "file", b"x")],
    "device": [("dev", "char", None)],
    "fifo": [("pipe", "fifo", None)],
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_safe_extract_refuses_every_hostile_member(tmp_path, case):
    (tmp_path / "victim").write_bytes(b"safe")
    archive = _tar(tmp_path / "a.tar.gz", ("LibriSpeech/ok.txt", "file", b"fine"), *HOSTILE[case])
    target = tmp_path / "work" / "out"
    with pytest.raises(DownloadError, match=r"a\.tar\.gz: member '"):
        safe_extract(archive, target)
    assert (tmp_path / "victim").read_bytes() == b"safe" and not (tmp_path / "evil.txt").exists()
    assert not pathlib.Path("/tmp/evil.txt").exists()
    assert list((tmp_path / "work").iterdir()) == []  # no partial folder, no staging folder left


def test_safe_extract_writes_regular_files_and_folders(tmp_path):
    archive = _tar(tmp_path / "c.tar.gz", ("LibriSpeech", "dir", None), ("LibriSpeech/ok.txt", "file", b"fine"))
    out = safe_extract(archive, tmp_path / "out")
    assert (out / "LibriSpeech" / "ok.txt").read_bytes() == b"fine"
    with pytest.raises(DownloadError, match="already exists"):
        safe_extract(archive, tmp_path / "out")
    (tmp_path / "broken.tar.gz").write_bytes(b"\x1f\x8b not really gzip")
    with pytest.raises(DownloadError, match="cannot extract"):
        safe_extract(tmp_path / "broken.tar.gz", tmp_path / "out2")
    assert not (tmp_path / "out2").exists()


def test_resolve_mini_librispeech(tmp_path, librispeech_dir):
    assert resolve_mini_librispeech(librispeech_dir) == (librispeech_dir, None)
    for subset in MINI_LIBRISPEECH:
        (tmp_path / "LibriSpeech" / subset).mkdir(parents=True)
    train, dev = resolve_mini_librispeech(tmp_path)
    assert train.name == "train-clean-5" and dev.name == "dev-clean-2"
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve_mini_librispeech(tmp_path / "missing")
