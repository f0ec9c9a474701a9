"""Download with checksum verification and safe tar extraction (Mini LibriSpeech, OpenSLR 31)."""

import hashlib
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request

from asr.errors import AsrError, ConfigError

MINI_LIBRISPEECH = {  # subset -> (url, md5), from openslr.org/31 md5sum.txt
    "train-clean-5": ("https://www.openslr.org/resources/31/train-clean-5.tar.gz",
                      "5df7d4e78065366204ca6845bb08f490"),
    "dev-clean-2": ("https://www.openslr.org/resources/31/dev-clean-2.tar.gz",
                    "6d7ab67ac6a1d2c993d050e16d61080d"),
}
CHUNK_BYTES = 1 << 20  # 1 MiB read/hash chunks
TIMEOUT_SECONDS = 30


class DownloadError(AsrError, RuntimeError):
    """A download that failed, or an archive that did not verify; the message says what to do."""


def md5sum(path):
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def download(url, path, md5=None, progress=True):
    """Download ``url`` to ``path`` (via a temporary file) and verify its md5 if given."""
    path = pathlib.Path(path)
    if path.is_file() and (md5 is None or md5sum(path) == md5):
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response, open(tmp, "wb") as out:
            total = int(response.headers.get("Content-Length") or 0)
            bar = _progress(total, path.name) if progress else None
            for chunk in iter(lambda: response.read(CHUNK_BYTES), b""):
                out.write(chunk)
                if bar:
                    bar.update(len(chunk))
            if bar:
                bar.close()
    except (urllib.error.URLError, OSError) as error:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"could not download {url}: {error}") from None
    if md5 is not None and md5sum(tmp) != md5:
        tmp.unlink(missing_ok=True)
        raise DownloadError(f"checksum mismatch for {url}: expected md5 {md5}; the partial file was removed")
    os.replace(tmp, path)
    return path


def _progress(total, name):
    from tqdm.auto import tqdm

    return tqdm(total=total or None, unit="B", unit_scale=True, desc=f"download {name}")


def _checked_target(member, destination, archive):
    """Where ``member`` may be written inside ``destination``; raises for anything else."""
    if not (member.isfile() or member.isdir()):
        kind = ("symbolic link" if member.issym() else "hard link" if member.islnk() else
                "device" if member.isdev() else "FIFO" if member.isfifo() else "special member")
        raise DownloadError(f"{archive}: member {member.name!r} is a {kind}; only regular files and folders are "
                            "extracted")
    name = pathlib.PurePosixPath(member.name)
    target = (destination / name).resolve()
    if name.is_absolute() or ".." in name.parts or not target.is_relative_to(destination):
        raise DownloadError(f"{archive}: member {member.name!r} would be written outside the target folder")
    return target


def safe_extract(archive, destination):
    """Extract a tar archive into ``destination`` (which must not exist yet) by the toolkit's
    own rules, on every Python version: regular files and folders only (every symbolic or hard
    link, device and FIFO is refused), each resolved path inside the target. Members are
    written into a temporary folder beside ``destination`` that is renamed into place only
    when the whole archive has been extracted, so an error never leaves a partial folder.
    Raises ``DownloadError`` naming the archive and the member.
    """
    destination = pathlib.Path(destination).absolute()
    if destination.exists():
        raise DownloadError(f"extraction target {str(destination)!r} already exists")
    destination.parent.mkdir(parents=True, exist_ok=True)
    staging = pathlib.Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent)).resolve()
    try:
        with tarfile.open(archive) as tar:
            for member in tar:
                target = _checked_target(member, staging, archive)
                if member.isdir():
                    target.mkdir(parents=True, exist_ok=True)
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                with tar.extractfile(member) as source, open(target, "xb") as out:  # "x": never through a link
                    shutil.copyfileobj(source, out, CHUNK_BYTES)
    except (tarfile.TarError, OSError, EOFError) as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise DownloadError(f"{archive}: cannot extract: {error}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    os.replace(staging, destination)
    return destination


def fetch_mini_librispeech(root, subsets=tuple(MINI_LIBRISPEECH), progress=True):
    """Download and extract Mini LibriSpeech into ``root``; returns ``root/LibriSpeech``.

    Subsets already extracted are not fetched again. Without network access this raises
    ``DownloadError`` explaining how to point ``--data-dir`` at local data instead.
    """
    root = pathlib.Path(root)
    for subset in subsets:
        if subset not in MINI_LIBRISPEECH:
            raise ConfigError(f"subset={subset!r} must be one of {sorted(MINI_LIBRISPEECH)}")
        if (root / "LibriSpeech" / subset).is_dir():
            continue
        url, md5 = MINI_LIBRISPEECH[subset]
        archive = root / f"{subset}.tar.gz"
        try:
            download(url, archive, md5, progress)
        except DownloadError as error:
            raise DownloadError(
                f"{error}\nMini LibriSpeech could not be downloaded. Download {url} yourself and "
                f"extract it under {root}, or pass --data-dir pointing at any folder in the LibriSpeech "
                f"layout (SPK/CHAPTER/SPK-CHAPTER-NNNN.flac + SPK-CHAPTER.trans.txt)."
            ) from None
        tmp = root / f".{subset}.extracted"
        shutil.rmtree(tmp, ignore_errors=True)
        safe_extract(archive, tmp)
        (root / "LibriSpeech").mkdir(parents=True, exist_ok=True)
        try:
            os.replace(tmp / "LibriSpeech" / subset, root / "LibriSpeech" / subset)
        except FileNotFoundError:
            raise DownloadError(f"{archive} holds no LibriSpeech/{subset} folder") from None
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return root / "LibriSpeech"


def resolve_mini_librispeech(data_dir=None, download_dir=None, progress=True):
    """``(train_source, dev_source)`` for the Mini LibriSpeech recipe.

    With ``data_dir``: its ``train-clean-5`` and ``dev-clean-2`` folders when both exist
    (anywhere below it); otherwise the whole folder as training data and ``dev_source=None``
    (the caller holds out speakers). Without ``data_dir``: download into ``download_dir``.
    """
    if data_dir is None:
        root = fetch_mini_librispeech(download_dir, progress=progress)
        return root / "train-clean-5", root / "dev-clean-2"
    data_dir = pathlib.Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"--data-dir {str(data_dir)!r} is not a folder")
    found = {name: next(iter(sorted(data_dir.rglob(name))), None) for name in MINI_LIBRISPEECH}
    if all(path is not None and path.is_dir() for path in found.values()):
        return found["train-clean-5"], found["dev-clean-2"]
    if not any(data_dir.rglob("*.trans.txt")):
        raise FileNotFoundError(f"--data-dir {str(data_dir)!r} holds no LibriSpeech transcripts (*.trans.txt)")
    return data_dir, None
