"""Command line: ``asr data``, ``asr train``, ``asr evaluate``, ``asr transcribe``, ``asr export``,
``asr lm build``, ``asr serve``, ``asr models`` (also ``python -m asr``).

``asr train`` has one flag per ``TrainConfig`` field (``--batch-size`` -> ``batch_size``).
Without ``KERAS_BACKEND`` set, the fastest installed backend is used (JAX, then TensorFlow,
then PyTorch). Errors in arguments or data are reported in one line, without a traceback.
"""

import logging
import os
import sys

# NumPy's OpenBLAS threads spin after each of the features' small matmuls and took a core from
# ONNX Runtime: one thread made `asr transcribe` 1.1-1.2x faster (batches of 8-16 files) and
# `asr serve` at 4 clients 1.2x (2 CPU cores). Set before NumPy loads; a user's setting wins.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

from asr.cli import lm
from asr.cli.arguments import _route_data_download, add_dataclass_arguments, dataclass_from_args, make_parser
from asr.cli.commands import run_data, run_data_download, run_evaluate, run_export, run_train
from asr.cli.transcribe import run_transcribe
from asr.errors import AsrError
from asr.keras_backend import choose_backend, missing_dependency
from asr.pretrained import cli as pretrained_cli
from asr.pretrained.catalog import resolve_model
from asr.serving import cli as serving_cli

__all__ = ["add_dataclass_arguments", "dataclass_from_args", "main", "make_parser", "run_script"]


# Errors that describe bad input or a failed run: shown as one line, not a traceback. The
# toolkit's own errors (``asr.errors.AsrError``: bad arguments, audio, transcripts, corpora,
# downloads, diverged training) and missing/unreadable files; anything else is a bug and
# keeps its traceback.
USER_ERRORS = (AsrError, FileNotFoundError, IsADirectoryError, PermissionError)
# The commands that load MODEL for inference: a shipped model's name becomes its file here, so that
# the file's kind decides whether Keras is needed (asr export resolves a name itself)
MODEL_COMMANDS = ("evaluate", "transcribe", "serve")


def _needs_keras(args):
    """Whether the command loads Keras: training, and evaluating, transcribing or serving a .keras model."""
    return args.command == "train" or (args.command in MODEL_COMMANDS
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
               "transcribe": run_transcribe, "export": run_export, "lm": lm.run_build,
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
