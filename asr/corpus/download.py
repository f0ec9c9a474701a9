"""Downloads of catalogued corpora (``asr.corpus.catalogue``): checksum-verified archives,
safe tar extraction, and the Mini LibriSpeech recipe's sources."""

import hashlib
import os
import pathlib
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request

from asr.corpus.catalogue import default_download_dir, get_corpus
from asr.errors import AsrError

MINI_LIBRISPEECH = "mini-librispeech"  # the recipe's corpus in the catalogue
CHUNK_BYTES = 1 << 20  # 1 MiB read/hash chunks
TIMEOUT_SECONDS = 30


class DownloadError(AsrError, RuntimeError):
    """A download that failed, or an archive that did not verify; the message says what to do."""


def file_digest(path, kind="sha256"):
    digest = hashlib.new(kind)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(chunk)
    return digest.hexdigest()


def md5sum(path):
    return file_digest(path, "md5")


def _matches(path, checksums):
    return all(file_digest(path, kind) == value for kind, value in checksums.items())


def download(url, path, md5=None, progress=True, sha256=None):
    """Download ``url`` to ``path`` (via a temporary file) and verify its checksums if given
    (a file already at ``path`` that verifies is kept)."""
    path = pathlib.Path(path)
    checksums = {kind: value for kind, value in (("sha256", sha256), ("md5", md5)) if value}
    if path.is_file():
        found = {kind: file_digest(path, kind) for kind in checksums}
        if found == checksums:
            return path
        shown = "; ".join(f"{kind} expected {value}, found {found[kind]}" for kind, value in checksums.items())
        raise DownloadError(f"{path} is not the archive of {url}: its checksum does not match ({shown}); remove it "
                            "or put the right file there")
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
    if not _matches(tmp, checksums):
        tmp.unlink(missing_ok=True)
        expected = ", ".join(f"{kind} {value}" for kind, value in checksums.items())
        raise DownloadError(f"checksum mismatch for {url}: expected {expected}; the downloaded file was removed")
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


def fetch(name, parts=None, root=None, progress=True):
    """Download and extract the catalogued corpus ``name`` (``parts``: names, default all)
    into ``root`` (default ``default_download_dir() / name``); returns the extracted folders.

    A part already extracted is not fetched again; a verified archive already in ``root``
    is not downloaded again. Without network access this raises ``DownloadError`` naming
    the URL and where to put the archive, or its extracted folder, by hand.
    """
    corpus = get_corpus(name)
    if not corpus.parts:
        raise DownloadError(f"{name} cannot be downloaded directly: {corpus.manual}")
    root = check_download_root(pathlib.Path(root) if root is not None else default_download_dir() / name)
    folders = []
    for part in [corpus.part(p) for p in (parts or corpus.parts)]:
        target = root / part.extracts
        if not (target.is_dir() and any(target.iterdir())):  # an empty folder is not the corpus
            _fetch_part(part, root, target, progress)
        folders.append(target)
    return folders


def check_download_root(root):
    """``root`` if a download can go there: a folder, or a path whose nearest existing parent
    is a writable folder; else a ``DownloadError`` naming it (before anything is fetched)."""
    existing = root
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        where = "" if existing == root else f" (its parent {str(existing)!r} is a file)"
        raise DownloadError(f"download folder {str(root)!r} is not a folder{where}: pass --to a folder or set "
                            "ASR_DOWNLOAD_DIR to one")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise DownloadError(f"download folder {str(root)!r} cannot be written ({str(existing)!r}: permission "
                            "denied): pass --to a folder you can write")
    return root


def _fetch_part(part, root, target, progress):
    archive = root / part.url.rsplit("/", 1)[1]
    try:
        download(part.url, archive, md5=part.md5, progress=progress, sha256=part.sha256)
    except DownloadError as error:
        raise DownloadError(f"{error}; to install it by hand, put the archive at {archive} (it is checked "
                            f"against its checksum) or extract it so that {target} exists") from None
    staging = root / f".{part.name}.extracted"
    shutil.rmtree(staging, ignore_errors=True)
    safe_extract(archive, staging)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        os.replace(staging / part.extracts, target)
    except FileNotFoundError:
        raise DownloadError(f"{archive} holds no {part.extracts} folder") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def fetch_mini_librispeech(root, subsets=None, progress=True):
    """Download and extract Mini LibriSpeech into ``root``; returns ``root/LibriSpeech``."""
    fetch(MINI_LIBRISPEECH, subsets, root, progress)
    return pathlib.Path(root) / "LibriSpeech"


def resolve_mini_librispeech(data_dir=None, download_dir=None, progress=True):
    """``(train_source, dev_source)`` for the Mini LibriSpeech recipe.

    With ``data_dir``: its ``train-clean-5`` and ``dev-clean-2`` folders when both exist
    (anywhere below it); otherwise the whole folder as training data and ``dev_source=None``
    (the caller holds out speakers). Without ``data_dir``: download into ``download_dir``.
    """
    subsets = list(get_corpus(MINI_LIBRISPEECH).parts)  # train-clean-5, dev-clean-2
    if data_dir is None:
        try:
            root = fetch_mini_librispeech(download_dir or default_download_dir() / MINI_LIBRISPEECH, progress=progress)
        except DownloadError as error:
            raise DownloadError(f"{error}; or pass --data-dir: any folder in the LibriSpeech layout "
                                "(SPK/CHAPTER/SPK-CHAPTER-NNNN.flac + SPK-CHAPTER.trans.txt)") from None
        return root / subsets[0], root / subsets[1]
    data_dir = pathlib.Path(data_dir)
    if not data_dir.is_dir():
        raise FileNotFoundError(f"--data-dir {str(data_dir)!r} is not a folder")
    found = [next(iter(sorted(data_dir.rglob(name))), None) for name in subsets]
    if all(path is not None and path.is_dir() for path in found):
        return found[0], found[1]
    if not any(data_dir.rglob("*.trans.txt")):
        raise FileNotFoundError(f"--data-dir {str(data_dir)!r} holds no LibriSpeech transcripts (*.trans.txt)")
    return data_dir, None
