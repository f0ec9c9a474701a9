"""The corpora the toolkit can download, as the catalogue describes them.

One JSON file per corpus in the project's top-level ``data/catalogue/`` (installed with the
package as ``asr.catalogue``): title, homepage, license, citation, the layout its reader
expects, and its parts, each an archive with URL, checksum (SHA-256, or the MD5 its host
publishes), approximate size and hours, and the folder it extracts to. A corpus that
cannot be fetched without an account (Common Voice) has no parts and a ``manual`` note
saying how to get it. ``asr.corpus.download.fetch`` and ``asr data download NAME`` read it.
"""

import dataclasses
import importlib.resources
import json
import os
import pathlib
import re

from asr.errors import ConfigError, CorruptFileError

DOWNLOAD_DIR_ENV = "ASR_DOWNLOAD_DIR"
CHECKSUM_PATTERNS = {"sha256": re.compile(r"[0-9a-f]{64}"), "md5": re.compile(r"[0-9a-f]{32}")}


@dataclasses.dataclass(frozen=True)
class Part:
    """One archive of a corpus. ``extracts``: the folder (a relative path inside the
    archive) that holds this part once extracted."""

    name: str
    url: str
    extracts: str
    size_mb: float
    hours: float
    sha256: str | None = None
    md5: str | None = None


@dataclasses.dataclass(frozen=True)
class Corpus:
    name: str
    title: str
    homepage: str
    license: str
    citation: str
    layout: str
    parts: dict  # part name -> Part, in the catalogue's order
    manual: str | None = None  # how to get a corpus that cannot be downloaded directly
    checksum_source: str | None = None  # where the checksums come from

    def part(self, name):
        if name not in self.parts:
            raise ConfigError(f"{self.name} has no part {name!r}; parts: {', '.join(self.parts) or 'none'}")
        return self.parts[name]


def catalogue_files():
    """The catalogue's JSON files, sorted by name."""
    try:
        folder = importlib.resources.files("asr.catalogue")
    except ModuleNotFoundError:  # a checkout used without installing: the top-level data/ folder
        folder = pathlib.Path(__file__).resolve().parents[2] / "data" / "catalogue"
    return sorted((item for item in folder.iterdir() if item.name.endswith(".json")), key=lambda item: item.name)


def load_catalogue():
    """``{name: Corpus}`` for every catalogue file; a malformed one is a ``CorruptFileError``."""
    corpora = {}
    for item in catalogue_files():
        corpus = parse_corpus(item.read_text(encoding="utf-8"), item.name)
        corpora[corpus.name] = corpus
    return corpora


def get_corpus(name):
    corpora = load_catalogue()
    if name not in corpora:
        raise ConfigError(f"no corpus {name!r} in the catalogue; known: {', '.join(corpora)}")
    return corpora[name]


def parse_corpus(text, filename):
    """A ``Corpus`` from one catalogue file's text, checked field by field."""
    try:
        raw = json.loads(text)
        parts = {name: Part(name=name, **fields) for name, fields in raw.pop("parts").items()}
        corpus = Corpus(parts=parts, **raw)
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as error:
        raise CorruptFileError(f"catalogue file {filename}: {error}") from None
    if f"{corpus.name}.json" != filename:
        raise CorruptFileError(f"catalogue file {filename} describes {corpus.name!r}: the names must match")
    if not parts and not corpus.manual:
        raise CorruptFileError(f"catalogue file {filename}: no parts to download and no manual instructions")
    for part in parts.values():
        checksums = {kind: getattr(part, kind) for kind in CHECKSUM_PATTERNS if getattr(part, kind)}
        if not checksums or not all(CHECKSUM_PATTERNS[k].fullmatch(v) for k, v in checksums.items()):
            raise CorruptFileError(f"catalogue file {filename}: part {part.name!r} needs a sha256 (64 hex digits) "
                                   f"or md5 (32), found {checksums}")
        extracts = pathlib.PurePosixPath(part.extracts)
        if not part.url.startswith("https://") or extracts.is_absolute() or ".." in extracts.parts:
            raise CorruptFileError(f"catalogue file {filename}: part {part.name!r} needs an https URL and a "
                                   f"relative folder, found {part.url!r}, {part.extracts!r}")
    return corpus


def default_download_dir():
    """Where downloads land: ``$ASR_DOWNLOAD_DIR``; else, in a checkout, its top-level
    ``data/`` folder (one git-ignored subfolder per corpus); else ``~/.cache/asr/data``."""
    if os.environ.get(DOWNLOAD_DIR_ENV):
        return pathlib.Path(os.environ[DOWNLOAD_DIR_ENV])
    checkout_data = pathlib.Path(__file__).resolve().parents[2] / "data"
    if (checkout_data / "catalogue").is_dir() and os.access(checkout_data, os.W_OK):
        return checkout_data
    return pathlib.Path.home() / ".cache" / "asr" / "data"


def describe(corpus):
    """Lines for a person: what the corpus is, its license, and each part."""
    lines = [f"{corpus.name}: {corpus.title}", f"  license: {corpus.license}; {corpus.homepage}"]
    lines += [f"  {part.name}: {part.hours:g} h, ~{part.size_mb:,.0f} MB" for part in corpus.parts.values()]
    if corpus.manual:
        lines.append(f"  {corpus.manual}")
    return lines
