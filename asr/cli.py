"""Command line: ``asr data``, ``asr train``, ``asr evaluate``, ``asr transcribe``, ``asr export``,
``asr lm build``, ``asr serve`` (also ``python -m asr``).

``asr train`` has one flag per ``TrainConfig`` field (``--batch-size`` -> ``batch_size``).
Without ``KERAS_BACKEND`` set, the fastest installed backend is used (JAX, then TensorFlow,
then PyTorch). Errors in arguments or data are reported in one line, without a traceback.
"""

import argparse
import dataclasses
import json
import logging
import math
import os
import pathlib
import sys
import typing

# NumPy's OpenBLAS threads spin after each of the features' small matmuls and took a core from
# ONNX Runtime: one thread made `asr transcribe` 1.1-1.2x faster (batches of 8-16 files) and
# `asr serve` at 4 clients 1.2x (2 CPU cores). Set before NumPy loads; a user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from asr import cli_lm, outputs
from asr.corpus.sources import LAYOUTS
from asr.errors import AsrError, ConfigError
from asr.keras_backend import choose_backend, missing_dependency
from asr.pretrained import cli as pretrained_cli
from asr.pretrained.catalog import resolve_model
from asr.serving import cli as serving_cli


def _float_tuple(text):
    try:
        return tuple(float(v) for v in text.split(",") if v.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers, got {text!r}") from None


def _positive_seconds(text):
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not 0 < value < math.inf:
        raise argparse.ArgumentTypeError(f"expected a finite number of seconds > 0, got {text!r}")
    return value


def add_dataclass_arguments(parser, cls, defaults=None):
    """One ``--field-name`` flag per dataclass field; defaults are left to the dataclass, or to
    ``defaults`` (an instance of ``cls``: a recipe's own configuration), which the help then shows."""
    hints, defaults = typing.get_type_hints(cls), defaults if defaults is not None else cls()
    for field in dataclasses.fields(cls):
        flag, kind = "--" + field.name.replace("_", "-"), hints[field.name]
        default = getattr(defaults, field.name)
        if kind is dict:  # as the flag takes it
            default = json.dumps(default)
        elif kind is tuple:
            default = ",".join(f"{value:g}" for value in default) or '""'  # empty: --flag ""
        shown = str(default).replace("%", "%%")  # argparse %-formats help texts
        help_text = f"{field.metadata.get('help', '')} (default: {shown})"
        if field.metadata.get("sources"):  # repeatable; the values are joined with commas
            parser.add_argument(flag, action="append", default=None, metavar="PATH", help=help_text)
        elif kind is bool:
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, default=None, help=help_text)
        elif kind is dict:
            parser.add_argument(flag, type=json.loads, default=None, metavar="JSON", help=help_text)
        elif kind is tuple:
            parser.add_argument(flag, type=_float_tuple, default=None, metavar="A,B,...", help=help_text)
        else:
            parser.add_argument(flag, type=kind, default=None, help=help_text)


def dataclass_from_args(cls, args, base=None):
    """``cls`` built from ``base`` (or defaults) with every flag the user gave applied."""
    given = {f.name: getattr(args, f.name) for f in dataclasses.fields(cls) if getattr(args, f.name) is not None}
    joined = {f.name for f in dataclasses.fields(cls) if f.metadata.get("sources")}
    given = {name: ",".join(value) if name in joined else value for name, value in given.items()}
    return dataclasses.replace(base, **given) if base is not None else cls(**given)


def _decoder_arguments(parser):
    from asr.posteriors import MAX_BEAM_WIDTH, MAX_LM_WEIGHT, MAX_WORD_BONUS

    parser.add_argument("--decoder", choices=("greedy", "beam"),
                        help="default: beam with --lm or --lexicon, else greedy")
    parser.add_argument("--beam-width", type=int, default=32,
                        help=f"hypotheses kept per frame, 1-{MAX_BEAM_WIDTH} (default: 32)")
    parser.add_argument("--lm", help="word n-gram LM in ARPA format (beam decoder)")
    parser.add_argument("--lm-weight", type=float, default=0.5,
                        help=f"LM log-probability weight, 0-{MAX_LM_WEIGHT:g} (default: 0.5)")
    parser.add_argument("--word-bonus", type=float, default=1.0,
                        help=f"score added per word, natural-log units, within +-{MAX_WORD_BONUS:g} (default: 1.0)")
    parser.add_argument("--lexicon", help="text file, one allowed word per line (beam decoder)")
    parser.add_argument("--beam-engine", choices=("auto", "numpy", "flashlight"), default="auto",
                        help="beam search implementation: flashlight-text (compiled, KenLM) when installed, "
                             "else NumPy (default: auto)")
    parser.add_argument("--batch-size", type=int, default=16,
                        help="utterances (segments) per forward pass, 1-1024 (default: 16)")


DESCRIPTION = ("Character CTC speech recognition: inspect corpora, train, evaluate, transcribe and export models "
               "(Keras 3 on JAX, TensorFlow or PyTorch; ONNX Runtime for .onnx models).")


def make_parser():
    from asr import __version__
    from asr.config import TrainConfig

    parser = argparse.ArgumentParser(prog="asr", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, and tracebacks for errors")
    parser.add_argument("--version", action="version", version=f"asr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    data = sub.add_parser("data", help="inspect corpora without training: layout, utterances, hours, speakers, "
                                       "durations, what is skipped and why; 'asr data download NAME' fetches a "
                                       "corpus from the catalogue",
                          epilog="asr data download [--list] [NAME [--part PART]... [--to DIR]]: download and "
                                 "extract a catalogued corpus (asr data download --help)")
    data.add_argument("sources", nargs="+", metavar="PATH", help="corpus folder or file (LAYOUT:PATH chooses the "
                                                                 f"reader; layouts: {', '.join(LAYOUTS)})")
    data.add_argument("--layout", choices=("auto", *LAYOUTS), default="auto",
                      help="reader for every PATH (default: auto, chosen from what each path holds)")
    data.add_argument("--max-duration", type=_positive_seconds,
                      help="seconds; longer utterances are skipped and counted (default: no limit)")
    data.add_argument("--manifest", metavar="OUT.jsonl", help="write every usable utterance to this manifest "
                                                              "(asr train --train-data reads it)")
    data.add_argument("--overwrite", action="store_true", help="replace an existing --manifest file")
    data.add_argument("--json", action="store_true", help="print the reports as JSON")
    data.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    download = sub.add_parser("data-download", prog="asr data download",
                              description="download, verify and extract a corpus of the catalogue (data/catalogue)")
    download.add_argument("name", nargs="?", metavar="NAME", help="corpus name (see --list)")
    download.add_argument("--list", action="store_true", help="list the catalogue: corpora, parts, sizes, licenses")
    download.add_argument("--part", action="append", metavar="PART", help="only this part (repeatable; default: "
                                                                          "every part)")
    download.add_argument("--to", metavar="DIR", help="folder to download into (default: $ASR_DOWNLOAD_DIR or "
                                                      "the checkout's data/ folder, then NAME/)")
    download.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    train = sub.add_parser("train", help="train a CTC acoustic model")
    train.add_argument("--config", help="TrainConfig JSON (e.g. a run's config.json); flags override it "
                                        "(default: none)")
    train.add_argument("--resume", action="store_true", help="continue the run in --output-dir from the checkpoint "
                                                             "its state.json names (checkpoint-eNNNN.keras)")
    train.add_argument("--overwrite", action="store_true", help="delete the run already in --output-dir (its "
                                                                "checkpoints, model, config, state, history) first")
    add_dataclass_arguments(train, TrainConfig)
    hosts = train.add_argument_group("several hosts (JAX; default: the KERAS_DISTRIBUTION_* environment)")
    hosts.add_argument("--job-addresses", help="address:port of process 0, the coordinator")
    hosts.add_argument("--num-processes", type=int, help="processes in the job, one per host")
    hosts.add_argument("--process-id", type=int, help="this process' index, 0 .. num-processes - 1")

    evaluate = sub.add_parser("evaluate", help="CER/WER of a model on corpora of any layout (see asr data)")
    evaluate.add_argument("model", help=".keras or .onnx model, or a shipped model's name (asr models)")
    evaluate.add_argument("data", nargs="+", help="corpus folders or files (as for asr data), scored together and "
                                                  "per source")
    evaluate.add_argument("--output", help="report JSON path (default or '-': print the JSON)")
    evaluate.add_argument("--alignment-plot", help="image (.png, .pdf, .svg) of the first utterance's spectrogram "
                                                   "and alignment")
    evaluate.add_argument("--hypotheses", metavar="OUT.jsonl",
                          help="also write every utterance, one JSON line each: id, source, reference, hypothesis, "
                               "CER, WER, duration ('-': standard output)")
    evaluate.add_argument("--overwrite", action="store_true", help="replace existing --output / --alignment-plot "
                                                                   "files")
    _decoder_arguments(evaluate)

    transcribe = sub.add_parser("transcribe", help="transcribe audio files (exit 1 if any file failed)")
    transcribe.add_argument("model", help=".keras or .onnx model, or a shipped model's name (asr models)")
    transcribe.add_argument("audio", nargs="+", help="audio files (WAV, FLAC, Ogg Vorbis/Opus, MP3; any rate)")
    transcribe.add_argument("--format", choices=FORMATS, default="text",
                            help="text: a line per file (PATH<TAB>TEXT with several files); jsonl: an object per "
                                 "file with segments, words, times and confidence; srt/vtt: subtitles (default: text)")
    transcribe.add_argument("--output-dir", help="write one NAME.{txt,json,srt,vtt} per input here, NAME the "
                                                 "input's path below the inputs' common folder (inputs that "
                                                 "would share a name keep their audio extension); needed for "
                                                 "srt/vtt with several inputs")
    transcribe.add_argument("--overwrite", action="store_true", help="replace existing files in --output-dir")
    transcribe.add_argument("--max-segment-seconds", type=float, default=20.0,
                            help="longer audio is cut at pauses into segments of at most this many seconds, 3-600 "
                                 "(default: 20)")
    transcribe.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    _decoder_arguments(transcribe)

    cli_lm.add_parser(sub)
    serving_cli.add_parser(sub)
    pretrained_cli.add_parser(sub)
    export = sub.add_parser("export", help="export a .keras model to a self-contained .onnx file",
                            description="export a .keras model to one self-contained .onnx file for ONNX Runtime "
                                        "(asr transcribe model.onnx needs no Keras); the graph matches the model's "
                                        "text exactly. An existing OUTPUT is refused unless --overwrite; OUTPUT is "
                                        "written whole or not at all")
    export.add_argument("model", help=".keras model, or a shipped model's name")
    export.add_argument("output", help=".onnx file to write")
    export.add_argument("--overwrite", action="store_true", help="replace an existing OUTPUT")
    export.add_argument("--weights", choices=("float32", "float16"), default="float32",
                        help="storage of the weight matrices: float16 halves the file, the arithmetic stays float32 "
                             "(check the text on your data; default: float32)")
    export.add_argument("--recurrence", choices=("gru", "loop"), default="gru",
                        help="GRU layers as ONNX's GRU operator (default: ONNX Runtime's fast kernel) or as a "
                             "per-step Loop (for a runtime without the GRU operator)")
    # the usage line lists the commands; data-download is typed (and documented) as "asr data download"
    sub.metavar = "{" + ",".join(name for name in sub.choices if name != "data-download") + "}"
    return parser


def _check_decoder_arguments(args):
    """The decoding flags' rules, checked before any model is loaded (the API applies the same)."""
    from asr.posteriors import check_beam_options

    check_beam_options(args.beam_width, args.lm_weight, args.word_bonus)


def _decoder(args, vocabulary):
    from asr.decoding import make_decoder

    if args.decoder == "greedy" and (args.lm or args.lexicon):
        raise ConfigError("--lm and --lexicon are used by the beam decoder: drop --decoder greedy")
    args.decoder = args.decoder or ("beam" if args.lm or args.lexicon else "greedy")
    return make_decoder(args.decoder, vocabulary, beam_width=args.beam_width, lm=args.lm,
                        lm_weight=args.lm_weight, word_bonus=args.word_bonus, lexicon=args.lexicon,
                        engine=args.beam_engine)


def run_data(args):
    """Read and describe every source; with ``--manifest``, write what was read."""
    from asr.corpus import load_sources, write_manifest
    from asr.corpus.summary import format_report, format_total

    to_stdout = args.manifest == "-"  # the Unix convention: the manifest on standard output, reports on stderr
    manifest = pathlib.Path(args.manifest) if args.manifest and not to_stdout else None
    if manifest is not None:
        outputs.check_outputs_apart({"--manifest": manifest}, {"PATH": [_source_path(s) for s in args.sources]})
        outputs.check_output_file(manifest, args.overwrite, "--manifest")
    entries, reports = load_sources(args.sources, layout=args.layout, max_duration=args.max_duration,
                                    progress=not args.quiet)
    if manifest is not None:  # and none of the files the readers found inside folders
        outputs.check_outputs_apart({"--manifest": manifest}, {"PATH": [report.path for report in reports]})
    shown = sys.stderr if to_stdout else sys.stdout
    if args.json:
        print(json.dumps([report.to_dict() for report in reports], indent=2), file=shown)
    else:
        print("\n".join([line for report in reports for line in format_report(report)] + [format_total(reports)]),
              file=shown)
    rows = [{k: v for k, v in e.items() if k != "source"} for e in entries]
    if to_stdout:
        sys.stdout.write("".join(json.dumps(row, ensure_ascii=False) + "\n" for row in rows))
    elif manifest is not None:
        write_manifest(rows, manifest)
        print(f"{len(entries)} utterances -> {manifest}", file=sys.stderr)


def _source_path(source):
    """The path of a ``[LAYOUT:]PATH`` source argument."""
    from asr.corpus.sources import parse_source

    try:
        return parse_source(source)[1]
    except AsrError:
        return source


def run_data_download(args):
    """List the catalogue, or fetch one corpus (its parts) and say where it landed."""
    from asr.corpus.catalogue import describe, load_catalogue
    from asr.corpus.download import fetch

    if args.list or not args.name:
        print("\n".join(line for corpus in load_catalogue().values() for line in describe(corpus)))
        return
    for folder in fetch(args.name, args.part, args.to, progress=not args.quiet):
        print(folder)


def _route_data_download(argv):
    """``asr data download ...`` runs the ``data-download`` parser (``asr data`` takes paths)."""
    for i, token in enumerate(argv):
        if not token.startswith("-"):
            if token == "data" and argv[i + 1:i + 2] == ["download"]:
                return [*argv[:i], "data-download", *argv[i + 2:]]
            break
    return argv


def run_train(args):
    from asr.distributed import ENV_JOB_ADDRESSES, ENV_NUM_PROCESSES, ENV_PROCESS_ID
    from asr.train import TrainConfig, train

    for variable, value in ((ENV_JOB_ADDRESSES, args.job_addresses), (ENV_NUM_PROCESSES, args.num_processes),
                            (ENV_PROCESS_ID, args.process_id)):
        if value is not None:
            os.environ[variable] = str(value)
    base = TrainConfig.from_json(args.config) if args.config else None
    if args.resume and base is None:  # continue the recorded run: flags change only what they name
        output_dir = pathlib.Path(args.output_dir or TrainConfig().output_dir)
        if (output_dir / "config.json").is_file():
            base = TrainConfig.from_json(output_dir / "config.json")
    config = dataclass_from_args(TrainConfig, args, base)
    if args.resume and args.overwrite:
        raise ConfigError("--resume continues the run in --output-dir and --overwrite deletes it: choose one")
    result = train(config, resume=args.resume, overwrite=args.overwrite)
    print(json.dumps({"model": result["model"], "final": result["final"], "best_val_cer": result["best_val_cer"]},
                     indent=2))


def run_evaluate(args):
    from asr.corpus import load_sources
    from asr.evaluate import evaluate
    from asr.files import write_text_atomic
    from asr.inference import check_batch_size
    from asr.onnx_runtime import load_model

    _check_decoder_arguments(args)
    check_batch_size(args.batch_size)
    if args.output == "-":  # the Unix convention: standard output
        args.output = None
    outputs.check_outputs_apart({"--output": args.output, "--alignment-plot": args.alignment_plot,
                                 "--hypotheses": args.hypotheses},
                                {"MODEL": [args.model], "DATA": [_source_path(s) for s in args.data]})
    if args.hypotheses and args.hypotheses != "-":
        outputs.check_output_file(args.hypotheses, args.overwrite, "--hypotheses")
    if args.hypotheses == "-" and not args.output:
        raise ConfigError("--hypotheses '-' and the report both go to standard output: give --output a file")
    if args.alignment_plot == "-":
        raise ConfigError("--alignment-plot '-': a picture does not go to standard output; give it a file")
    if args.output:
        outputs.check_output_file(args.output, args.overwrite, "--output")
    if args.alignment_plot:
        outputs.check_output_file(args.alignment_plot, args.overwrite, "--alignment-plot")
        if pathlib.Path(args.alignment_plot).suffix.lower() not in PLOT_FORMATS:
            raise ConfigError(f"--alignment-plot {args.alignment_plot!r} must end in one of {PLOT_FORMATS}")
    model = load_model(args.model, compile=False)
    entries, sources = load_sources(args.data, progress=True)
    report = evaluate(model, entries, _decoder(args, model.vocabulary), args.batch_size, name=",".join(args.data),
                      progress=True, alignment_plot=args.alignment_plot, sources=sources,
                      all_rows=bool(args.hypotheses))
    if args.hypotheses:
        _write_hypotheses(report.pop("rows"), entries, args.hypotheses)
    if report["skipped"]:
        print(f"asr evaluate: skipped {sum(report['skipped'].values())} utterances: "
              + ", ".join(f"{n} {reason}" for reason, n in report["skipped"].items()), file=sys.stderr)
    text = json.dumps(report, indent=2)
    if args.output:
        write_text_atomic(args.output, text)
        print(f"CER {report['cer']['rate']:.4f}  WER {report['wer']['rate']:.4f}  -> {args.output}")
    else:
        print(text)


def _write_hypotheses(rows, entries, path):
    """One JSON line per scored utterance (``--hypotheses``), atomically, or to standard output."""
    from asr.files import write_text_atomic
    from asr.metrics import word_errors

    by_id = {str(entry["id"]): entry for entry in entries}
    lines = []
    for row in rows:
        entry = by_id.get(row["id"], {})
        lines.append(json.dumps({"id": row["id"], "source": entry.get("source"), "reference": row["reference"],
                                 "hypothesis": row["hypothesis"], "cer": row["cer"],
                                 "wer": word_errors([row["reference"]], [row["hypothesis"]]).rate,
                                 "duration": entry.get("duration")}, ensure_ascii=False) + "\n")
    if path == "-":
        sys.stdout.write("".join(lines))
    else:
        write_text_atomic(path, "".join(lines))


FORMATS = ("text", "jsonl", "srt", "vtt")
PLOT_FORMATS = (".png", ".pdf", ".svg", ".jpg", ".jpeg")  # what matplotlib writes without extra packages
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

    _check_decoder_arguments(args)
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
    results = iter_transcribe(model, args.audio, _decoder(args, model.vocabulary), args.batch_size,
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


def run_export(args):
    from asr.export import export_onnx

    if not args.output.endswith(".onnx"):
        raise ConfigError(f"output {args.output!r} must end in .onnx")
    outputs.check_outputs_apart({"OUTPUT": args.output}, {"MODEL": [args.model]})
    outputs.check_output_file(args.output, args.overwrite, "OUTPUT")
    print(export_onnx(args.model, args.output, overwrite=args.overwrite, weights=args.weights,
                      recurrence=args.recurrence))


# Errors that describe bad input or a failed run: shown as one line, not a traceback. The
# toolkit's own errors (``asr.errors.AsrError``: bad arguments, audio, transcripts, corpora,
# downloads, diverged training) and missing/unreadable files; anything else is a bug and
# keeps its traceback.
USER_ERRORS = (AsrError, FileNotFoundError, IsADirectoryError, PermissionError)
# The commands that load MODEL for inference: a shipped model's name becomes its file here, so that
# the file's kind decides whether Keras is needed (asr export resolves a name itself)
MODEL_COMMANDS = ("evaluate", "transcribe", "serve")


def _needs_keras(args):
    """Whether the command loads Keras: training, and evaluating or transcribing a .keras model."""
    return args.command == "train" or (args.command in ("evaluate", "transcribe", "serve")
                                       and not str(args.model).lower().endswith(".onnx"))


def _close_progress_bars():
    """End every progress bar still drawn, so that the error line after it starts a line of its own."""
    if "tqdm" not in sys.modules:
        return
    from tqdm import tqdm

    for bar in list(getattr(tqdm, "_instances", ())):
        bar.close()


def run_script(main, name):
    """Run a recipe's ``main()``; a user error (bad data or flags) exits with one line, no traceback."""
    try:
        main()
    except USER_ERRORS as error:
        _close_progress_bars()
        raise SystemExit(f"{name}: error: {error}") from None
    except ModuleNotFoundError as error:
        if (missing := missing_dependency(error)) is None:
            raise
        raise SystemExit(f"{name}: error: {missing}") from None


def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    # Keras is imported only by the commands that need it; TensorFlow's log lines only with -v
    choose_backend(required=False, verbose=bool({"-v", "--verbose"} & set(argv)))
    args = make_parser().parse_args(_route_data_download(argv))
    if args.command in MODEL_COMMANDS:  # a shipped model's name -> its file (an existing file wins)
        args.model = resolve_model(args.model)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.INFO, format="%(levelname)s %(message)s")
    # JAX logs at INFO that it found no TPU ("Unable to initialize backend 'tpu'") on every command
    logging.getLogger("jax._src.xla_bridge").setLevel(logging.DEBUG if args.verbose else logging.WARNING)
    command = {"data": run_data, "data-download": run_data_download, "train": run_train, "evaluate": run_evaluate,
               "transcribe": run_transcribe, "export": run_export, "lm": cli_lm.run_build,
               "serve": serving_cli.run_serve, "models": pretrained_cli.run_models}[args.command]
    name = f"asr {args.command.replace('-', ' ')}"  # data-download is "asr data download"
    name += f" {args.lm_command}" if args.command == "lm" else ""
    if not args.verbose and os.environ.get("KERAS_BACKEND") == "tensorflow" and _needs_keras(args):
        from asr.keras_backend import import_tensorflow_quietly

        import_tensorflow_quietly()
    try:
        status = command(args)
    except USER_ERRORS as error:
        if args.verbose:
            raise
        _close_progress_bars()
        print(f"{name}: error: {error}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as error:  # an optional dependency: say which extra installs it
        if (missing := missing_dependency(error)) is None or args.verbose:
            raise
        print(f"{name}: error: {missing}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _close_progress_bars()
        print(f"{name}: interrupted", file=sys.stderr)
        return 130  # 128 + SIGINT
    except BrokenPipeError:  # the reader of our output went away (`asr data ... | head`): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as the shell reports it
    return status or 0
