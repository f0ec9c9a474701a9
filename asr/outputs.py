"""Output files of ``asr transcribe --output-dir``: names that cannot collide, checked before
any work, written atomically, never over a file (or through a link) without ``overwrite``.

Names mirror the inputs' paths below their common folder, the audio extension replaced:
``talks/a/x.flac talks/b/x.flac`` -> ``OUT/a/x.txt OUT/b/x.txt``; two inputs that would still
share a name (``x.flac x.wav``) keep their audio extension: ``OUT/x.flac.txt OUT/x.wav.txt``.
"""

import collections
import contextlib
import errno
import os
import pathlib

from asr.errors import ConfigError, WriteError

SHOWN = 5  # existing files named in a refusal
NO_HARD_LINKS = (errno.EPERM, errno.EOPNOTSUPP, errno.ENOTSUP, errno.EMLINK)  # file systems without os.link


def output_paths(inputs, output_dir, extension):
    """``{input: output path}`` for ``inputs`` (paths as given) under ``output_dir``."""
    absolute = [os.path.abspath(os.fspath(p)) for p in inputs]
    repeated = [p for p, n in collections.Counter(absolute).items() if n > 1]
    if repeated:
        raise ConfigError(f"input {repeated[0]!r} is given {absolute.count(repeated[0])} times")
    common = os.path.commonpath([os.path.dirname(p) for p in absolute])
    relative = [os.path.relpath(p, common) for p in absolute]
    stems = [os.path.splitext(r)[0] for r in relative]
    shared = collections.Counter(stems)
    output_dir = pathlib.Path(output_dir)
    return {os.fspath(given): output_dir / ((stem if shared[stem] == 1 else rel) + extension)
            for given, stem, rel in zip(inputs, stems, relative)}


def check_output_file(path, overwrite, name):
    """Refuse (``ConfigError``) an output file that exists without ``overwrite``, or that
    cannot be written: a folder, or in a folder that is a file."""
    path = pathlib.Path(path)
    if path.is_dir():
        raise ConfigError(f"{name} {str(path)!r} is a folder, not a file")
    if path.exists() and not overwrite:
        raise ConfigError(f"{name} {str(path)!r} exists: pass --overwrite to replace it")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is None or not parent.is_dir() or not os.access(parent, os.W_OK):
        raise ConfigError(f"{name} {str(path)!r} cannot be written ({parent} is not a writable folder)")


def _same(a, b):
    a, b = os.fspath(a), os.fspath(b)
    if os.path.realpath(a) == os.path.realpath(b):
        return True
    with contextlib.suppress(OSError):
        return os.path.samefile(a, b)  # hard links
    return False


def check_outputs_apart(outputs, inputs=()):
    """Refuse (``ConfigError``) an output that is one of the command's inputs, or the same file
    as another of its outputs: ``outputs`` maps each flag to its path (None: not given), and
    ``inputs`` maps flags to the paths they read (a folder input covers what is inside it)."""
    given = [(flag, path) for flag, path in outputs.items() if path not in (None, "", "-")]
    for i, (flag, path) in enumerate(given):
        for other_flag, other in given[i + 1:]:
            if _same(path, other):
                raise ConfigError(f"{flag} and {other_flag} are the same file {os.fspath(path)!r}: give each its own")
        for input_flag, paths in inputs.items():
            for source in paths:
                inside = os.path.isdir(source) and os.path.realpath(path).startswith(os.path.realpath(source) + os.sep)
                if _same(path, source) or inside:
                    raise ConfigError(f"{flag} {os.fspath(path)!r} is {'inside ' if inside else ''}the input "
                                      f"{input_flag} {os.fspath(source)!r}: writing it would destroy what is read")


def check_output_dir(output_dir, targets, overwrite=False):
    """Refuse (``ConfigError``, before any work) an output folder that is a file or cannot be
    written, a target that already exists (a file or a link) unless ``overwrite``, and a
    target whose folder leads outside ``output_dir`` through a link."""
    output_dir = pathlib.Path(output_dir)
    if output_dir.exists() and not output_dir.is_dir():
        raise ConfigError(f"--output-dir {str(output_dir)!r} is a file, not a folder")
    existing_parent = next(p for p in (output_dir.absolute(), *output_dir.absolute().parents) if p.exists())
    if not os.access(existing_parent, os.W_OK | os.X_OK):
        raise ConfigError(f"--output-dir {str(output_dir)!r} cannot be written ({existing_parent}: permission denied)")
    root = os.path.realpath(output_dir)
    for target in targets:
        if os.path.commonpath([root, os.path.realpath(target.parent)]) != root:
            raise ConfigError(f"output {str(target)!r} would be written outside --output-dir through a link")
    existing = [str(t) for t in targets if os.path.lexists(t)]
    if existing and not overwrite:
        shown = ", ".join(existing[:SHOWN]) + (f" and {len(existing) - SHOWN} more" if len(existing) > SHOWN else "")
        raise ConfigError(f"{len(existing)} output file(s) exist: {shown}; pass --overwrite to replace them")


def publish(path, text, overwrite=False):
    """Write ``text`` to ``path`` atomically: a temporary file beside it, then renamed over it
    (``overwrite``; a link at ``path`` is replaced, never followed) or linked into place only if
    nothing is there (so two runs never overwrite each other). ``WriteError`` names the file."""
    path = pathlib.Path(path)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "x", encoding="utf-8") as f:
            f.write(text)
        if overwrite:
            os.replace(tmp, path)
        else:
            _link_into_place(tmp, path)
    except FileExistsError:
        raise WriteError(f"cannot write {str(path)!r}: it appeared while transcribing (another run?); "
                         "not overwritten") from None
    except OSError as error:
        raise WriteError(f"cannot write {str(path)!r}: {error.strerror or error}") from None
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return path


def _link_into_place(tmp, path):
    """``os.link`` (fails if ``path`` exists, atomically); on a file system without hard links,
    a check then a rename."""
    try:
        os.link(tmp, path)
    except OSError as error:
        if error.errno not in NO_HARD_LINKS:
            raise
        if os.path.lexists(path):
            raise FileExistsError(path) from None
        os.replace(tmp, path)
