"""Downloads and archive extraction: the catalogue, checksums, offline failure, traversal refused."""

import io
import json
import os
import pathlib
import subprocess
import sys
import tarfile

import pytest
from conftest import ROOT

from asr.corpus import download as download_module
from asr.corpus.catalogue import Corpus, Part, default_download_dir, load_catalogue, parse_corpus
from asr.corpus.download import (
    DownloadError,
    download,
    fetch,
    file_digest,
    md5sum,
    resolve_mini_librispeech,
    safe_extract,
)
from asr.errors import ConfigError, CorruptFileError


def _corpus(url, sha256, name="toy"):
    part = Part("dev", url, extracts="Toy/dev", size_mb=0.001, hours=0.0, sha256=sha256)
    return Corpus(name, "a toy corpus", "https://example.org", "CC0", "none", "librispeech", {"dev": part})


def test_fetch_verifies_extracts_and_reuses(tmp_path, monkeypatch):
    archive = _tar(tmp_path / "dev.tar.gz", ("Toy/dev/1/2/1-2.trans.txt", "file", b"1-2-0001 HELLO\n"))
    toy = _corpus(archive.as_uri(), file_digest(archive))
    monkeypatch.setattr(download_module, "get_corpus", lambda name: toy)
    (folder,) = fetch("toy", root=tmp_path / "data", progress=False)
    assert folder == tmp_path / "data" / "Toy" / "dev" and (folder / "1/2/1-2.trans.txt").is_file()
    assert sorted(p.name for p in (tmp_path / "data").iterdir()) == ["Toy", "dev.tar.gz"]  # no staging left
    archive.unlink()  # extracted already: nothing is fetched again
    assert fetch("toy", ["dev"], root=tmp_path / "data", progress=False) == [folder]
    with pytest.raises(ConfigError, match="toy has no part 'test'; parts: dev"):
        fetch("toy", ["test"], root=tmp_path / "data", progress=False)


def test_download_fails_in_one_line_naming_url_and_where_to_put_it(tmp_path, monkeypatch):
    toy = _corpus("http://127.0.0.1:9/dev.tar.gz", "0" * 64)
    monkeypatch.setattr(download_module, "get_corpus", lambda name: toy)
    with pytest.raises(DownloadError) as error:
        fetch("toy", root=tmp_path, progress=False)
    message = str(error.value)
    assert "\n" not in message and "http://127.0.0.1:9/dev.tar.gz" in message
    assert f"put the archive at {tmp_path / 'dev.tar.gz'}" in message and str(tmp_path / "Toy" / "dev") in message
    assert not list(tmp_path.glob("*.part"))
    monkeypatch.setattr(download_module, "get_corpus", lambda name: toy)
    with pytest.raises(DownloadError, match="--data-dir"):  # the recipe adds its own way out
        resolve_mini_librispeech(download_dir=tmp_path, progress=False)


def test_the_catalogue_is_complete_and_checked():
    corpora = load_catalogue()
    assert {"mini-librispeech", "librispeech", "ljspeech", "commonvoice"} <= set(corpora)
    for corpus in corpora.values():
        assert corpus.license and corpus.citation and corpus.homepage.startswith("https://")
        assert corpus.parts or "login" in corpus.manual or "signing in" in corpus.manual
    assert set(corpora["librispeech"].parts) >= {"train-clean-100", "dev-clean", "test-clean", "test-other"}
    assert all(part.sha256 for part in corpora["librispeech"].parts.values())
    good = json.loads((ROOT / "data" / "catalogue" / "ljspeech.json").read_text())
    bad = {"no checksum": {"sha256": None}, "http": {"url": "http://x.org/a.tgz"}, "escape": {"extracts": "../up"},
           "short sha": {"sha256": "abc"}}
    for change in bad.values():
        raw = json.loads(json.dumps(good))
        raw["parts"]["LJSpeech-1.1"].update(change)
        with pytest.raises(CorruptFileError, match="ljspeech.json"):
            parse_corpus(json.dumps(raw), "ljspeech.json")
    with pytest.raises(CorruptFileError, match="names must match"):
        parse_corpus(json.dumps(good), "other.json")
    with pytest.raises(CorruptFileError, match="x.json"):
        parse_corpus("{not json", "x.json")


def test_download_dir_default_and_override(tmp_path, monkeypatch):
    monkeypatch.setenv("ASR_DOWNLOAD_DIR", str(tmp_path))
    assert default_download_dir() == tmp_path
    monkeypatch.delenv("ASR_DOWNLOAD_DIR")
    assert default_download_dir() == ROOT / "data"  # a checkout: its git-ignored data/ folder


def test_data_download_command(tmp_path):
    def cli(*args):
        return subprocess.run([sys.executable, "-m", "asr", "data", "download", *args], capture_output=True,
                              text=True, cwd=ROOT, env={"ASR_DOWNLOAD_DIR": str(tmp_path), "PATH": ""})

    listing = cli("--list")
    assert listing.returncode == 0 and "mini-librispeech: Mini LibriSpeech" in listing.stdout
    assert "train-clean-100: 100.6 h" in listing.stdout and "signing in" in listing.stdout
    unknown = cli("nope")
    assert unknown.returncode == 2
    assert unknown.stderr.strip() == ("asr data download: error: no corpus 'nope' in the catalogue; known: "
                                      "commonvoice, librispeech, ljspeech, mini-librispeech")
    manual = cli("commonvoice")
    assert manual.returncode == 2 and "commonvoice.mozilla.org" in manual.stderr


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
    for subset in ("train-clean-5", "dev-clean-2"):
        (tmp_path / "LibriSpeech" / subset).mkdir(parents=True)
    train, dev = resolve_mini_librispeech(tmp_path)
    assert train.name == "train-clean-5" and dev.name == "dev-clean-2"
    with pytest.raises(FileNotFoundError, match="not a folder"):
        resolve_mini_librispeech(tmp_path / "missing")


def test_a_bad_download_place_is_one_line_before_any_download(tmp_path, monkeypatch):
    def cli(*args, env=None):
        return subprocess.run([sys.executable, "-m", "asr", "data", "download", *args], capture_output=True,
                              text=True, cwd=ROOT, env={"ASR_DOWNLOAD_DIR": str(tmp_path), "PATH": "", **(env or {})})

    (tmp_path / "a_file").write_text("mine\n")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    cases = [(("mini-librispeech", "--to", tmp_path / "a_file"), {}, "is not a folder"),
             (("mini-librispeech",), {"ASR_DOWNLOAD_DIR": str(tmp_path / "a_file")}, "its parent"),
             (("mini-librispeech", "--to", tmp_path / "a_file" / "sub"), {}, "its parent")]
    if os.geteuid() != 0:  # root writes anywhere
        cases.append((("mini-librispeech", "--to", locked / "x"), {}, "permission denied"))
    for args, env, expected in cases:
        result = cli(*map(str, args), env=env)
        assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and expected in result.stderr, result.stderr
    assert (tmp_path / "a_file").read_text() == "mine\n"


def test_an_archive_put_in_place_by_hand_is_checked_and_an_empty_folder_is_not_the_corpus(tmp_path, monkeypatch):
    archive = _tar(tmp_path / "made.tar.gz", ("Toy/dev/1/2/1-2.trans.txt", "file", b"1-2-0001 HELLO\n"))
    toy = _corpus("http://127.0.0.1:9/dev.tar.gz", file_digest(archive))
    monkeypatch.setattr(download_module, "get_corpus", lambda name: toy)
    root = tmp_path / "data"
    root.mkdir()
    (root / "dev.tar.gz").write_bytes(b"not the archive")
    with pytest.raises(DownloadError, match=r"its checksum does not match \(sha256 expected [0-9a-f]{64}, found "
                                            r"[0-9a-f]{64}\)"):
        fetch("toy", root=root, progress=False)
    (root / "dev.tar.gz").write_bytes(archive.read_bytes())  # the right file, by hand: no network needed
    (root / "Toy" / "dev").mkdir(parents=True)  # an empty folder left behind
    (folder,) = fetch("toy", root=root, progress=False)
    assert (folder / "1/2/1-2.trans.txt").read_text() == "1-2-0001 HELLO\n"
