"""The README and docs cannot rot: every command they show is checked.

- Every ``asr`` command line in a ``bash`` block parses with the real parser (flags and values),
  every ``python recipes/...``/``python bench/...`` line with that script's parser, and every
  ``pip install`` names extras the project defines.
- Every ``python`` block compiles and the ``asr`` names it imports exist.
- Blocks marked ``<!-- runnable -->`` run for real, in a temporary folder, with
  ``../shared/data`` read from ``$ASR_DATA_DIR``.
"""

import ast
import importlib
import os
import re
import shlex
import subprocess
import sys

import pytest
from conftest import DATA_DIR, ROOT, load_script

from asr.cli import _route_data_download, make_parser

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

DOCUMENTS = [ROOT / "README.md", ROOT / "data" / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"(?P<mark><!-- runnable -->\n)?```(?P<lang>\w*)\n(?P<body>.*?)```", re.S)
SHELL_TOOLS = {"python3 -m ruff check .", "python3 -m pytest"}


def blocks(lang):
    for document in DOCUMENTS:
        for match in FENCE.finditer(document.read_text(encoding="utf-8")):
            if match["lang"] == lang:
                yield document.relative_to(ROOT), match["body"], bool(match["mark"])


def commands(body):
    """Each command of a bash block: continuations joined, comments, prompts and redirections
    dropped, ``&&`` chains split; ``...`` stands for flags shown elsewhere."""
    for line in body.replace("\\\n", " ").splitlines():
        words = shlex.split(re.sub(r"^\S+\$ ", "", line), comments=True)
        while words:
            end = words.index("&&") if "&&" in words else len(words)
            command, words = words[:end], words[end + 1:]
            command = [w for w in command if w != "..."]
            if ">" in command:
                command = command[:command.index(">")]
            while command and re.fullmatch(r"[A-Z_]+=\S*", command[0]):  # VAR=value before the command
                command = command[1:]
            if command:
                yield command


def check_command(command):
    """Parse one documented command; raises with the command on any error."""
    text = shlex.join(command)
    if command[0] == "asr":
        try:
            make_parser().parse_args(_route_data_download(command[1:]))
        except SystemExit as error:
            if error.code:  # --help/--version exit 0
                raise AssertionError(f"documented command does not parse: {text}") from None
    elif command[:1] in (["python"], ["python3"]) and command[1].startswith(("recipes/", "bench/")):
        try:
            load_script(ROOT / command[1]).parse_args(command[2:])
        except SystemExit as error:
            raise AssertionError(f"documented command does not parse: {text}") from error
    elif "pip" in command and "install" in command:
        extras = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"])
        for requirement in command[command.index("install") + 1:]:
            if match := re.fullmatch(r"(?:keras-asr|\.|WHEEL)\[([\w,-]+)\]", requirement):
                unknown = set(match[1].split(",")) - extras
                assert not unknown, f"{text}: no extra {sorted(unknown)} in pyproject.toml"
    elif command[0] == "curl":  # a request to asr serve: a route it has, fields its form takes
        check_curl(command, text)
    else:
        assert text in SHELL_TOOLS, f"documented command the docs test does not know: {text}"


SERVER_ROUTES = ("/", "/health", "/v1/models", "/v1/audio/transcriptions")
FORM_FIELDS = ("file", "model", "response_format", "timestamp_granularities[]", "language", "prompt", "temperature")


def check_curl(command, text):
    urls = [w for w in command if w.startswith("http")]
    assert len(urls) == 1 and re.sub(r"^https?://[^/]+", "", urls[0]) in SERVER_ROUTES, \
        f"{text}: not a route of asr serve {SERVER_ROUTES}"
    fields = [command[i + 1].split("=", 1)[0] for i, w in enumerate(command) if w == "-F"]
    assert set(fields) <= set(FORM_FIELDS), f"{text}: form fields {fields} not all in {FORM_FIELDS}"


def test_every_documented_command_parses():
    checked = 0
    for document, body, _ in blocks("bash"):
        for command in commands(body):
            try:
                check_command(command)
            except AssertionError as error:
                raise AssertionError(f"{document}: {error}") from None
            checked += 1
    assert checked >= 30  # the extraction found the commands


def test_python_examples_compile_and_name_real_things():
    for document, body, _ in blocks("python"):
        tree = ast.parse(body, filename=str(document))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "asr":
                module = importlib.import_module(node.module)
                missing = [a.name for a in node.names if not hasattr(module, a.name)]
                assert not missing, f"{document}: {node.module} has no {missing}"
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.name.split(".")[0] == "asr":
                        importlib.import_module(alias.name)


def test_the_parser_rejects_what_it_should():
    with pytest.raises(AssertionError, match="does not parse"):
        check_command(["asr", "train", "--no-such-flag"])
    with pytest.raises(AssertionError, match="no extra"):
        check_command(["pip", "install", "keras-asr[nope]"])


RUNNABLE = [(document, body) for document, body, runnable in blocks("bash") if runnable]


@pytest.mark.slow
@pytest.mark.parametrize("document, body", RUNNABLE, ids=[f"{d}-{i}" for i, (d, _) in enumerate(RUNNABLE)])
def test_runnable_blocks_run(document, body, tmp_path):
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "asr").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m asr "$@"\n')
    (bin_dir / "asr").chmod(0o755)
    script = "set -euo pipefail\n" + body.replace("../shared/data", str(DATA_DIR))
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONPATH": str(ROOT),
           "ASR_DOWNLOAD_DIR": str(tmp_path / "downloads")}
    result = subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, f"{document}:\n{body}\nOUT:\n{result.stdout[-3000:]}\nERR:\n{result.stderr[-3000:]}"
