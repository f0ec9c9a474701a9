"""``asr transcribe``: every file's text printed or written as soon as it is done, in one of
``FORMATS``; failures reported per file, and an interrupt keeps what was written."""

import json
import sys

from asr import outputs
from asr.cli.decoder_flags import check_decoder_arguments, decoder_from_args
from asr.errors import AsrError, ConfigError

FORMATS = ("text", "jsonl", "srt", "vtt")
EXTENSIONS = {"text": ".txt", "jsonl": ".json", "srt": ".srt", "vtt": ".vtt"}


def _render(result, fmt):
    from asr.alignment import subtitle_cues, to_srt, to_vtt

    if fmt == "text":
        return result.text + "\n"
    if fmt == "jsonl":
        return json.dumps(result.to_dict()) + "\n"
    return (to_srt if fmt == "srt" else to_vtt)(subtitle_cues(result.words))


def run_transcribe(args):
    """Print (or write) every good result as soon as its file is done; report each failure as
    ``path: reason`` on stderr. Returns 1 if any file failed (to read or to write), else 0. An
    interrupt keeps what was written and says which files were not."""
    from asr.inference import check_transcribe_options, iter_transcribe
    from asr.onnx_runtime import load_model  # .onnx: ONNX Runtime, Keras never imported
    from asr.outputs import check_output_dir, output_paths

    check_decoder_arguments(args)
    check_transcribe_options(args.batch_size, args.max_segment_seconds)
    if "-" in args.audio:
        raise ConfigError("audio '-': reading audio from standard input is not supported; give file paths")
    if args.output_dir == "-":
        raise ConfigError("--output-dir '-': one file is written per input, so standard output is not a folder; "
                          "leave --output-dir out to print the text")
    if args.format in ("srt", "vtt") and len(args.audio) > 1 and not args.output_dir:
        raise ConfigError(f"--format {args.format} with {len(args.audio)} files needs --output-dir")
    targets = output_paths(args.audio, args.output_dir, EXTENSIONS[args.format]) if args.output_dir else None
    if targets:
        check_output_dir(args.output_dir, list(targets.values()), args.overwrite)
    model = load_model(args.model, compile=False)
    results = iter_transcribe(model, args.audio, decoder_from_args(args, model.vocabulary), args.batch_size,
                              progress=not args.quiet, max_segment_seconds=args.max_segment_seconds)
    written, failed = [], 0
    try:
        for result in results:
            failed += _emit(result, args, targets, written)
    except KeyboardInterrupt:
        if targets:
            missing = [str(path) for path in targets.values() if str(path) not in written]
            print(f"asr transcribe: interrupted: {len(written)} of {len(targets)} file(s) written; not written: "
                  f"{', '.join(missing[:outputs.SHOWN])}{' and more' if len(missing) > outputs.SHOWN else ''}",
                  file=sys.stderr)
        raise
    if targets and failed:
        print(f"wrote {len(written)} file(s): {', '.join(written) or 'none'}", file=sys.stderr)
    return int(failed > 0)


def escape_path(path):
    """``path`` for a ``PATH<TAB>TEXT`` line: a name with a tab or line break in it is written with
    backslash escapes (``\t``, ``\n``, ``\r``, ``\\``, as ``ls -b`` does), so that one file is
    always one line; other names as they are."""
    if not any(ch in path for ch in "\t\n\r"):
        return path
    return path.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


def _emit(result, args, targets, written):
    """Print ``result`` or write it to its target at once (its path added to ``written``);
    returns 1 when its file failed to read or to write."""
    from asr.outputs import publish

    for warning in result.warnings:
        print(f"{result.path}: warning: {warning}", file=sys.stderr)
    if not result.ok:
        print(f"{result.path}: {result.error}", file=sys.stderr)
        if args.format == "jsonl" and not args.output_dir:
            print(json.dumps(result.to_dict()), flush=True)
        return 1
    if targets is None:
        prefix = f"{escape_path(result.path)}\t" if args.format == "text" and len(args.audio) > 1 else ""
        sys.stdout.write(prefix + _render(result, args.format))
        sys.stdout.flush()
        return 0
    try:
        written.append(str(publish(targets[result.path], _render(result, args.format), args.overwrite)))
    except AsrError as error:
        print(f"{result.path}: {error}", file=sys.stderr)
        return 1
    return 0
