"""What stands in front of every request: the API key, the upload size and the upload's pace.

``Guards`` is plain ASGI middleware around the app:

- with an API key, every path but ``/health`` and the page ``/`` (static, holds no data: it asks
  for the key and sends it) needs ``Authorization: Bearer KEY``, compared in constant time; 401
  otherwise;
- a body over ``max_bytes`` is refused with 413 as soon as its ``Content-Length`` says so, or as
  soon as that many bytes have arrived when it does not;
- a body whose next chunk takes longer than ``read_timeout`` seconds (a slow or stalled sender)
  ends with 408.

Each refusal is an OpenAI-style JSON error (``errors.error_body``).
"""

import asyncio
import hmac
import json

from asr.serving.errors import error_body

OPEN_PATHS = ("/health", "/")  # what needs no key: the liveness probe and the static page


class BodyTooLarge(Exception):
    """The request body passed ``max_bytes`` (status 413)."""

    status, code = 413, "request_too_large"


class BodyTimeout(Exception):
    """The request body stalled for longer than the read timeout (status 408)."""

    status, code = 408, "request_timeout"


async def send_error(send, status, message, code, headers=()):
    body = json.dumps(error_body(message, code, status=status)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


async def body_error(request, error):
    """The app's handler of ``BodyTooLarge`` / ``BodyTimeout`` raised while it reads a body."""
    from starlette.responses import JSONResponse

    return JSONResponse(error_body(str(error), error.code, status=error.status), error.status)


class Guards:
    """ASGI middleware: the API key, then the body's size and pace (see the module docstring)."""

    def __init__(self, app, api_key=None, max_bytes=25 * 2**20, read_timeout=30.0):
        self.app, self.api_key, self.max_bytes, self.read_timeout = app, api_key, max_bytes, read_timeout

    def _authorised(self, scope):
        if not self.api_key or scope["path"] in OPEN_PATHS or scope.get("method") == "OPTIONS":
            return True
        header = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        scheme, _, given = header.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(given.strip().encode(), self.api_key.encode())

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        if not self._authorised(scope):
            return await send_error(send, 401, "missing or wrong API key: send 'Authorization: Bearer KEY'",
                                    "invalid_api_key", [(b"www-authenticate", b"Bearer")])
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            return await send_error(send, 413, self._too_large(), "request_too_large")
        received, started = 0, False

        async def guarded_receive():
            nonlocal received
            try:
                message = await asyncio.wait_for(receive(), self.read_timeout)
            except asyncio.TimeoutError:
                raise BodyTimeout(f"the upload stalled: no data for {self.read_timeout:g} s") from None
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self._too_large())
            return message

        async def tracked_send(message):
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, guarded_receive, tracked_send)
        except (BodyTooLarge, BodyTimeout) as error:  # raised outside the app's own handlers (``body_error``)
            if started:
                raise
            await send_error(send, error.status, str(error), error.code)

    def _too_large(self):
        return f"the upload is over the limit of {self.max_bytes / 2**20:g} MB (--max-upload-mb)"
