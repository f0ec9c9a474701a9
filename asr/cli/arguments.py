"""The ``asr`` command's parser: one sub-command per stage, one ``--flag`` per configuration field."""

import argparse
import dataclasses
import json
import math
import typing

from asr.cli import lm
from asr.cli.decoder_flags import decoder_arguments
from asr.cli.transcribe import FORMATS
from asr.corpus.sources import LAYOUTS
from asr.pretrained import cli as pretrained_cli
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


DESCRIPTION = ("Character CTC speech recognition: inspect corpora, train, evaluate, transcribe and export models "
               "(Keras 3 on JAX, TensorFlow or PyTorch; ONNX Runtime for .onnx models).")


def make_parser():
    from asr import __version__

    parser = argparse.ArgumentParser(prog="asr", description=DESCRIPTION)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging, and tracebacks for errors")
    parser.add_argument("--version", action="version", version=f"asr {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_data, _add_data_download, _add_train, _add_evaluate, _add_transcribe, lm.add_parser,
                serving_cli.add_parser, pretrained_cli.add_parser, _add_export):
        add(sub)
    # the usage line lists the commands; data-download is typed (and documented) as "asr data download"
    sub.metavar = "{" + ",".join(name for name in sub.choices if name != "data-download") + "}"
    return parser


def _add_data(sub):
    """``asr data PATH...``: describe corpora, optionally write a manifest."""
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


def _add_data_download(sub):
    """``asr data download NAME`` (parsed as ``data-download``)."""
    download = sub.add_parser("data-download", prog="asr data download",
                              description="download, verify and extract a corpus of the catalogue (data/catalogue)")
    download.add_argument("name", nargs="?", metavar="NAME", help="corpus name (see --list)")
    download.add_argument("--list", action="store_true", help="list the catalogue: corpora, parts, sizes, licenses")
    download.add_argument("--part", action="append", metavar="PART", help="only this part (repeatable; default: "
                                                                          "every part)")
    download.add_argument("--to", metavar="DIR", help="folder to download into (default: $ASR_DOWNLOAD_DIR or "
                                                      "the checkout's data/ folder, then NAME/)")
    download.add_argument("-q", "--quiet", action="store_true", help="no progress bar")


def _add_train(sub):
    """``asr train``: one flag per ``TrainConfig`` field, and the run-folder flags."""
    from asr.config import TrainConfig

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


def _add_evaluate(sub):
    """``asr evaluate MODEL DATA...``."""
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
    decoder_arguments(evaluate)


def _add_transcribe(sub):
    """``asr transcribe MODEL AUDIO...``."""
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
    decoder_arguments(transcribe)


def _add_export(sub):
    """``asr export MODEL OUTPUT.onnx``."""
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


def _route_data_download(argv):
    """``asr data download ...`` runs the ``data-download`` parser (``asr data`` takes paths)."""
    for i, token in enumerate(argv):
        if not token.startswith("-"):
            if token == "data" and argv[i + 1:i + 2] == ["download"]:
                return [*argv[:i], "data-download", *argv[i + 2:]]
            break
    return argv
