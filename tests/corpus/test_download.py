"""Downloads and archive extraction: checksums, offline failure, traversal refused."""

import io
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
