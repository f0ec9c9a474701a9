"""Errors as the OpenAI API writes them: ``{"error": {"message", "type", "param", "code"}}``, so that
every OpenAI client maps them onto its own exceptions (400 ``BadRequestError``, 401
``AuthenticationError``, 404 ``NotFoundError``, 503 ``InternalServerError``, ...)."""

TYPES = {400: "invalid_request_error", 401: "authentication_error", 404: "not_found_error",
         405: "invalid_request_error", 408: "timeout_error", 413: "invalid_request_error",
         415: "invalid_request_error", 503: "server_overloaded", 500: "server_error"}


class ApiError(Exception):
    """A request the server refuses: HTTP ``status``, a message naming the value, the form field
    (``param``) and a short ``code``."""

    def __init__(self, status, message, code, param=None, headers=None):
        super().__init__(message)
        self.status, self.message, self.code, self.param = status, message, code, param
        self.headers = headers or {}


def error_body(message, code, param=None, status=400):
    return {"error": {"message": message, "type": TYPES.get(status, "invalid_request_error"), "param": param,
                      "code": code}}
