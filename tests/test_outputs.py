"""``asr transcribe --output-dir``: names that cannot collide, nothing overwritten or written
through a link without --overwrite, the folder checked before any work, failed writes named."""

import errno
import json
import os
import pathlib
import re
import shutil

import pytest
from conftest import ROOT
from test_cli import asr

from asr.cli import main
from asr.errors import ConfigError
from asr.outputs import check_output_dir, output_paths


def test_output_names_mirror_the_inputs_and_never_collide(tmp_path):
    names = output_paths(["t/a/x.flac", "t/b/x.flac", "t/b/y.wav", "t/b/y.mp3", "t/z.opus"], tmp_path / "out", ".txt")
    assert {k: str(v.relative_to(tmp_path / "out")) for k, v in names.items()} == {
        "t/a/x.flac": "a/x.txt", "t/b/x.flac": "b/x.txt", "t/b/y.wav": "b/y.wav.txt", "t/b/y.mp3": "b/y.mp3.txt",
        "t/z.opus": "z.txt"}
    assert [p.name for p in output_paths(["one/x.wav"], tmp_path, ".srt").values()] == ["x.srt"]
    with pytest.raises(ConfigError, match=r"input '.*x.wav' is given 2 times"):
        output_paths(["x.wav", f"{os.getcwd()}/x.wav"], tmp_path, ".txt")


def test_output_folder_checks(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(ConfigError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "file", [])
    out = tmp_path / "out"
    (out / "sub").mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (out / "link").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside --output-dir through a link"):
        check_output_dir(out, [out / "link" / "x.txt"])
    (out / "sub" / "x.txt").write_text("hand-corrected")
    with pytest.raises(ConfigError, match=r"1 output file\(s\) exist: .*sub/x.txt; pass --overwrite"):
        check_output_dir(out, [out / "sub" / "x.txt", out / "sub" / "y.txt"])
    check_output_dir(out, [out / "sub" / "x.txt"], overwrite=True)


@pytest.fixture
def two_same_stems(tmp_path, librivox_dir):
    wav = sorted(librivox_dir.glob("*.wav"))[0]
    for folder in ("a", "b"):
        (tmp_path / "in" / folder).mkdir(parents=True)
        shutil.copy(wav, tmp_path / "in" / folder / "x.wav")
    return [tmp_path / "in" / "a" / "x.wav", tmp_path / "in" / "b" / "x.wav"]


def test_same_stems_existing_files_and_links(small_model_path, two_same_stems, tmp_path):
    out = tmp_path / "out"
    first = asr("transcribe", small_model_path, *two_same_stems, "--output-dir", out, "-q")
    assert first.returncode == 0, first.stderr
    assert sorted(str(p.relative_to(out)) for p in out.rglob("*.txt")) == ["a/x.txt", "b/x.txt"]
    (out / "a" / "x.txt").write_text("hand-corrected\n")
    victim = tmp_path / "victim.txt"
    victim.write_text("not yours")
    (out / "b" / "x.txt").unlink()
    (out / "b" / "x.txt").symlink_to(victim)
    again = asr("transcribe", small_model_path, *two_same_stems, "--output-dir", out, "-q")
    assert again.returncode == 2 and "2 output file(s) exist" in again.stderr and "Traceback" not in again.stderr
    assert (out / "a" / "x.txt").read_text() == "hand-corrected\n" and victim.read_text() == "not yours"
    forced = asr("transcribe", small_model_path, *two_same_stems, "--output-dir", out, "--overwrite", "-q")
    assert forced.returncode == 0, forced.stderr
    assert victim.read_text() == "not yours" and not (out / "b" / "x.txt").is_symlink()  # the link was replaced
    assert (out / "a" / "x.txt").read_text() == (out / "b" / "x.txt").read_text() != "hand-corrected\n"


def test_bad_output_dir_and_stdin_are_refused_before_any_work(small_model_path, two_same_stems, tmp_path):
    (tmp_path / "afile").write_text("x")
    result = asr("transcribe", small_model_path, *two_same_stems, "--output-dir", tmp_path / "afile")
    assert result.returncode == 2 and result.stderr.strip().splitlines() == [
        f"asr transcribe: error: --output-dir {str(tmp_path / 'afile')!r} is a file, not a folder"]
    stdin = asr("transcribe", small_model_path, "-")
    assert stdin.returncode == 2 and "standard input is not supported" in stdin.stderr


def test_a_failed_write_names_the_file_and_lists_what_was_written(small_model_path, two_same_stems, tmp_path,
                                                                  monkeypatch, capsys):
    import asr.outputs

    real_link = os.link

    def link(source, target):
        if pathlib.Path(target).parent.name == "b":
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_link(source, target)

    monkeypatch.setattr(asr.outputs.os, "link", link)
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    status = main(["transcribe", str(small_model_path), *map(str, two_same_stems), "--output-dir", str(out), "-q"])
    err = capsys.readouterr().err
    assert status == 1
    assert f"cannot write {str(out / 'b' / 'x.txt')!r}: No space left on device" in err
    assert f"wrote 1 file(s): {out / 'a' / 'x.txt'}" in err
    assert sorted(p.name for p in out.rglob("*")) == ["a", "b", "x.txt"]  # no temporary file left


def test_no_command_writes_over_its_inputs_or_its_own_other_output(small_model_path, librivox_dir, tmp_path,
                                                                    capsys):
    """export, lm build, data --manifest and evaluate refuse an output that is an input (even with
    --overwrite) or another output of the same command, before any work; nothing is touched."""
    text = tmp_path / "words.txt"
    text.write_text("hello world\n")
    manifest = tmp_path / "m.jsonl"
    assert main(["data", str(librivox_dir), "--manifest", str(manifest), "-q"]) == 0
    capsys.readouterr()
    before = {p: p.read_bytes() for p in (text, manifest, small_model_path)}
    cases = [
        (["lm", "build", str(text), "-o", str(tmp_path / "x.arpa"), "--lexicon", str(tmp_path / "x.arpa")],
         "--output and --lexicon are the same file"),
        (["lm", "build", str(text), "-o", str(tmp_path / "lm.arpa"), "--lexicon", str(text), "--overwrite"],
         "--lexicon '.*words.txt' is the input TEXT"),
        (["data", str(manifest), "--manifest", str(manifest), "--overwrite", "-q"], "--manifest '.*m.jsonl' is the "
                                                                                   "input PATH"),
        (["data", f"manifest:{tmp_path}", "--manifest", str(tmp_path / "new.jsonl"), "-q"], "is inside the input"),
        (["evaluate", str(small_model_path), str(manifest), "--output", str(manifest), "--overwrite"],
         "--output '.*m.jsonl' is the input DATA"),
        (["transcribe", str(small_model_path), str(sorted(librivox_dir.glob("*.wav"))[0]), "--output-dir", "-"],
         "--output-dir '-': one file is written per input"),
    ]
    for argv, message in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert len(err.strip().splitlines()) == 1 and re.search(message, err), err
    assert {p: p.read_bytes() for p in before} == before


def test_export_refuses_an_existing_output_without_overwrite(small_model_path, tmp_path, capsys):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"my other model")
    assert main(["export", str(small_model_path), str(target)]) == 2
    assert "exists: pass --overwrite to replace it" in capsys.readouterr().err
    assert main(["export", str(small_model_path), str(small_model_path)]) == 2  # not .onnx, and its own input
    assert target.read_bytes() == b"my other model"


def test_manifest_dash_is_standard_output(librivox_dir, capsys):
    assert main(["data", str(librivox_dir), "--manifest", "-", "-q"]) == 0
    captured = capsys.readouterr()
    rows = [json.loads(line) for line in captured.out.splitlines()]
    assert len(rows) == 5 and all(row["path"].endswith(".wav") for row in rows)  # nothing but the manifest
    assert "5 utterances" in captured.err  # the report goes to stderr
    assert not pathlib.Path("-").exists()


def test_export_help_describes_the_command_and_its_outputs(capsys):
    with pytest.raises(SystemExit):
        main(["export", "--help"])
    out = capsys.readouterr().out
    assert "self-contained .onnx" in out and "refused unless --overwrite" in out and "--overwrite" in out
