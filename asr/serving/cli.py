"""``asr serve MODEL``: the command that starts the server (``asr.serving.app``) under uvicorn."""

import ipaddress
import logging
import os

from asr.errors import ConfigError

logger = logging.getLogger("asr.serving")

API_KEY_ENV = "ASR_API_KEY"
# ONNX Runtime threads per forward pass: all cores but one. The engine's preparer reads and
# featurises the next files, and the event loop answers requests, on the core left while a batch
# is in the model; a second thread in a forward pass of a few clips buys little (batch 4:
# 63 -> 54 ms). 2 Intel Xeon cores, 4 clients, bench/serve_load.py's load on one server each: 497
# audio s/s with 1 thread against 390 with 2 (bench/results/serve_load.json: 1 thread, 0.91x).
DEFAULT_THREADS = max(1, (os.cpu_count() or 2) - 1)
LOOPBACK_NAMES = ("localhost",)


def add_parser(sub):
    serve = sub.add_parser("serve", help="serve a model over HTTP: the OpenAI transcription API and a web page",
                           description="serve MODEL over HTTP: POST /v1/audio/transcriptions (the OpenAI API: "
                                       "every OpenAI client speaks it), GET /v1/models, GET /health and a web page "
                                       "at /. Binds to 127.0.0.1 unless --host says otherwise.")
    serve.add_argument("model", help=".onnx model (ONNX Runtime: no Keras needed), .keras model, or a shipped "
                                     "model's name (asr models)")
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1, this machine "
                                                          "only; 0.0.0.0 for every interface)")
    serve.add_argument("--port", type=int, default=8000, help="TCP port, 1-65535 (default: 8000)")
    serve.add_argument("--api-key", help=f"require 'Authorization: Bearer KEY' on every endpoint but /health and "
                                         f"the page (default: ${API_KEY_ENV}, else none)")
    serve.add_argument("--cors-origin", action="append", default=[], metavar="ORIGIN",
                       help="allow browsers on this origin to call the API (repeatable; default: none)")
    serve.add_argument("--max-upload-mb", type=float, default=25.0, help="largest upload, MB (default: 25, as "
                                                                         "OpenAI's)")
    serve.add_argument("--max-audio-seconds", type=float, default=600.0,
                       help="longest audio accepted, seconds (default: 600)")
    serve.add_argument("--read-timeout", type=float, default=30.0,
                       help="seconds an upload may stall before it is refused (default: 30)")
    serve.add_argument("--queue-size", type=int, default=32, help="requests that may wait; more get 503 with "
                                                                 "Retry-After (default: 32)")
    serve.add_argument("--max-batch", type=int, default=8, help="requests transcribed together in shared forward "
                                                               "passes (default: 8)")
    serve.add_argument("--batch-size", type=int, default=16, help="segments per forward pass (default: 16)")
    serve.add_argument("--threads", type=int, default=DEFAULT_THREADS,
                       help="ONNX Runtime threads per forward pass (default: the cores less one, here "
                            f"{DEFAULT_THREADS}: the core left prepares the next requests meanwhile; 0: one per core)")
    return serve


def is_loopback(host):
    if host in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_arguments(args):
    if not 1 <= args.port <= 65535:
        raise ConfigError(f"--port {args.port} must be 1-65535")
    for flag, value in (("--max-upload-mb", args.max_upload_mb), ("--max-audio-seconds", args.max_audio_seconds),
                        ("--read-timeout", args.read_timeout)):
        if not 0 < value < float("inf"):
            raise ConfigError(f"{flag} {value} must be a finite number > 0")
    if args.threads < 0:
        raise ConfigError(f"--threads {args.threads} must be >= 0 (0: one per core)")
    for flag, value in (("--queue-size", args.queue_size), ("--max-batch", args.max_batch)):
        if value < 1:
            raise ConfigError(f"{flag} {value} must be >= 1")


def run_serve(args):
    """Load the model, build the app and run it until interrupted (in-flight requests finish)."""
    import uvicorn

    from asr.inference import check_batch_size, finish_files, prepare_file
    from asr.onnx_runtime import load_model
    from asr.serving.app import Settings, create_app

    check_arguments(args)
    check_batch_size(args.batch_size)
    api_key = args.api_key or os.environ.get(API_KEY_ENV) or None
    if not is_loopback(args.host) and not api_key:
        logger.warning("serving on %s without an API key: anyone who reaches this address can use it (--api-key or "
                       "$%s)", args.host, API_KEY_ENV)
    model = load_model(args.model, compile=False, threads=args.threads)
    name = os.path.splitext(os.path.basename(args.model))[0]
    settings = Settings(name, api_key, args.cors_origin, args.max_upload_mb, args.max_audio_seconds,
                        args.read_timeout, args.queue_size, args.max_batch)
    app = create_app(model, prepare_file, lambda m, items: finish_files(m, items, batch_size=args.batch_size),
                     settings)
    logger.info("serving %s on http://%s:%d (POST /v1/audio/transcriptions, page at /)", args.model, args.host,
                args.port)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning", timeout_graceful_shutdown=60)
