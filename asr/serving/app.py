"""The HTTP app of ``asr serve``: the OpenAI transcription API, the model list, a health probe and a
web page, on Starlette (the ASGI toolkit under FastAPI) with python-multipart.

    POST /v1/audio/transcriptions   multipart: file, model, response_format, timestamp_granularities[],
                                    language (en or absent), prompt and temperature (accepted, ignored)
    GET  /v1/models                 the one model served
    GET  /health                    {"status": "ok", ...}; never needs the key
    GET  /                          the web page: a file, or the microphone, to text with word times

Uploads go to a private temporary folder (mode 0700, made when the server starts and removed when
it stops); each is removed as soon as its request ends, whatever happens. No request names a
server-side path: the file arrives in the request body. Every refusal is an OpenAI-style JSON error.
"""

import asyncio
import contextlib
import importlib.resources
import logging
import os
import pathlib
import shutil
import tempfile

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse
from starlette.routing import Route

from asr.audio import AUDIO_EXTENSIONS, AudioError, audio_info
from asr.serving.engine import RETRY_AFTER_SECONDS, Engine, QueueFull
from asr.serving.errors import ApiError, error_body
from asr.serving.formats import GRANULARITIES, RESPONSE_FORMATS, render
from asr.serving.guards import BodyTimeout, BodyTooLarge, Guards, body_error

logger = logging.getLogger("asr.serving")

LANGUAGES = ("en", "english")  # the model transcribes English; absent means English too
MAX_FIELD_BYTES = 64 * 1024  # a form field that is not the file (prompt, model, ...): bigger is not a field
DISCONNECT_POLL_SECONDS = 0.1  # how often a waiting request checks that its client is still there
UPLOAD_SUFFIXES = AUDIO_EXTENSIONS + (".webm", ".m4a", ".mp4", ".mpga", ".mpeg")  # kept on the temporary file


class Settings:
    """What ``create_app`` needs besides the model: its name, the limits and the security settings."""

    def __init__(self, model_name, api_key=None, cors_origins=(), max_upload_mb=25.0, max_audio_seconds=600.0,
                 read_timeout=30.0, queue_size=32, max_batch=8):
        self.model_name, self.api_key, self.cors_origins = model_name, api_key or None, tuple(cors_origins)
        self.max_upload_mb, self.max_audio_seconds, self.read_timeout = max_upload_mb, max_audio_seconds, read_timeout
        self.queue_size, self.max_batch = queue_size, max_batch


def create_app(model, prepare, finish, settings):
    """The ASGI app serving ``model``: each file ``prepare(model, path)``, then batches of them
    ``finish(model, items) -> [Transcription]`` (``asr.serving.engine.Engine``)."""
    state = {}

    @contextlib.asynccontextmanager
    async def lifespan(app):
        state["uploads"] = pathlib.Path(tempfile.mkdtemp(prefix="asr-serve-"))  # 0700: ours alone
        state["engine"] = Engine(model, prepare, finish, settings.queue_size, settings.max_batch)
        app.state.engine = state["engine"]
        try:
            yield
        finally:
            await run_in_threadpool(state["engine"].close)  # the queued jobs finish first
            shutil.rmtree(state["uploads"], ignore_errors=True)

    async def health(request):
        engine = state["engine"]
        return JSONResponse({"status": "ok", "model": settings.model_name, "waiting": engine.waiting,
                             "in_flight": engine.in_flight})

    async def models(request):
        return JSONResponse({"object": "list", "data": [{"id": settings.model_name, "object": "model",
                                                          "created": 0, "owned_by": "asr"}]})

    async def page(request):
        return HTMLResponse(importlib.resources.files("asr.serving").joinpath("page.html").read_text("utf-8"))

    async def transcriptions(request):
        form = await _read_form(request)
        options = _options(form)
        upload = form.get("file")
        path = await _save(upload, state["uploads"])
        try:
            await _check_audio(path, upload.filename, settings.max_audio_seconds)
            result = await _wait(_submit(state["engine"], path), request)
            if result is None:  # the client went away: nobody to answer
                return PlainTextResponse("", status_code=499)
        finally:
            path.unlink(missing_ok=True)
        if not result.ok:
            raise ApiError(400, _client_message(result.error, path, upload.filename), "invalid_audio", "file")
        body, media_type = render(result, options["response_format"], options["granularities"])
        if isinstance(body, dict):
            return JSONResponse(body)
        return PlainTextResponse(body, media_type=media_type)

    routes = [Route("/", page), Route("/health", health), Route("/v1/models", models),
              Route("/v1/audio/transcriptions", transcriptions, methods=["POST"])]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={ApiError: _api_error, HTTPException: _http_error, BodyTooLarge: body_error,
                                        BodyTimeout: body_error})
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_methods=["GET", "POST"],
                           allow_headers=["Authorization", "Content-Type"])
    return Guards(app, settings.api_key, int(settings.max_upload_mb * 2**20), settings.read_timeout)


def _submit(engine, path):
    """Queue ``path`` on ``engine``; a full queue is a 503 that says when to retry."""
    try:
        return engine.submit(str(path))
    except QueueFull as error:
        raise ApiError(503, f"the server is busy ({error}): retry shortly", "server_busy",
                       headers={"Retry-After": str(RETRY_AFTER_SECONDS)}) from None


async def _api_error(request, error):
    return JSONResponse(error_body(error.message, error.code, error.param, error.status), error.status,
                        headers=error.headers)


async def _http_error(request, error):
    return JSONResponse(error_body(str(error.detail), f"http_{error.status_code}", status=error.status_code),
                        error.status_code)


async def _read_form(request):
    content_type = request.headers.get("content-type", "")
    if not content_type.startswith("multipart/form-data"):
        raise ApiError(415, f"expected a multipart/form-data upload with a 'file' field, got content type "
                            f"{content_type or 'none'!r}", "unsupported_media_type")
    try:
        return await request.form(max_files=1, max_fields=32, max_part_size=MAX_FIELD_BYTES)
    except HTTPException as error:  # python-multipart's refusals: a truncated or malformed body
        raise ApiError(400, f"unreadable multipart body: {error.detail}", "invalid_multipart") from None


def _options(form):
    """The form's fields, checked: ``{"response_format", "granularities"}``."""
    if not hasattr(form.get("file"), "filename"):
        raise ApiError(400, "missing the 'file' field: the audio file to transcribe (or the upload was cut short "
                            "before the file was complete)", "missing_file", "file")
    if not form.get("model"):
        raise ApiError(400, "missing the 'model' field (any name: this server has one model, see /v1/models)",
                       "missing_model", "model")
    response_format = form.get("response_format") or "json"
    if response_format not in RESPONSE_FORMATS:
        raise ApiError(400, f"response_format {response_format!r} must be one of {', '.join(RESPONSE_FORMATS)}",
                       "invalid_response_format", "response_format")
    granularities = tuple(form.getlist("timestamp_granularities[]") or form.getlist("timestamp_granularities"))
    bad = [g for g in granularities if g not in GRANULARITIES]
    if bad:
        raise ApiError(400, f"timestamp_granularities {bad[0]!r} must be word or segment",
                       "invalid_timestamp_granularities", "timestamp_granularities[]")
    if granularities and response_format != "verbose_json":
        raise ApiError(400, "timestamp_granularities needs response_format verbose_json",
                       "invalid_timestamp_granularities", "timestamp_granularities[]")
    language = (form.get("language") or "en").lower()
    if language not in LANGUAGES:
        raise ApiError(400, f"language {language!r} is not served: this model transcribes English (en)",
                       "unsupported_language", "language")
    try:
        float(form.get("temperature") or 0)
    except ValueError:
        raise ApiError(400, f"temperature {form.get('temperature')!r} must be a number", "invalid_temperature",
                       "temperature") from None
    return {"response_format": response_format, "granularities": granularities}


async def _save(upload, folder):
    """The upload copied into the private folder (its extension kept when it names audio)."""
    suffix = pathlib.Path(upload.filename or "").suffix.lower()
    handle, name = tempfile.mkstemp(dir=folder, suffix=suffix if suffix in UPLOAD_SUFFIXES else "")
    path = pathlib.Path(name)
    try:
        with os.fdopen(handle, "wb") as out:
            await run_in_threadpool(shutil.copyfileobj, upload.file, out)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    finally:
        await upload.close()
    if path.stat().st_size == 0:
        path.unlink(missing_ok=True)
        raise ApiError(400, f"the file {upload.filename!r} is empty (0 bytes)", "empty_file", "file")
    return path


async def _check_audio(path, filename, max_seconds):
    """The checks ``asr transcribe`` makes (header, rate, claimed length against the file's size),
    then the duration limit; a 400 or 413 naming the file."""
    try:
        seconds, _ = await run_in_threadpool(audio_info, path)
    except AudioError as error:
        raise ApiError(400, _client_message(str(error), path, filename), "invalid_audio", "file") from None
    if seconds > max_seconds:
        raise ApiError(413, f"the audio of {filename!r} lasts {seconds:,.1f} s, over the limit of {max_seconds:g} s "
                            "(--max-audio-seconds)", "audio_too_long", "file")


async def _wait(job, request):
    """The job's result, or None when the client disconnects first (the job is then dropped)."""
    while True:
        try:
            return await asyncio.wait_for(asyncio.shield(job.future), DISCONNECT_POLL_SECONDS)
        except asyncio.TimeoutError:
            if await request.is_disconnected():
                job.cancelled.set()
                return None


def _client_message(message, path, filename):
    """An error message with the server's temporary path replaced by the client's file name."""
    return message.replace(repr(str(path)), repr(filename)).replace(str(path), str(filename))
