"""Every error a client can see, declared once.

Handlers raise :class:`RestError` (usually via a catalogue entry); one place in
:mod:`b24local.rest.envelope` renders it as ``{"error", "error_description"}``
with the entry's HTTP status.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ErrorSpec:
    code: str
    status: int
    description: str
    #: What the reference pages say it means; used by the docs generator.
    meaning: str = ""
    #: True for the system errors listed in the reference's catalogue table.
    system: bool = False

    def __call__(self, description: str | None = None, **extra: str) -> RestError:
        """Make a raisable error, optionally with a more specific description and the
        extra keys some real errors carry (``argument`` of an ArgumentException)."""
        return RestError(self.code, description or self.description, self.status, extra)


class RestError(Exception):
    """An error answer: raised anywhere along the call path, rendered once."""

    def __init__(
        self,
        code: str,
        description: str,
        status: int = 400,
        extra: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{code}: {description}")
        self.code = code
        self.description = description
        self.status = status
        #: Keys rendered after the two every error has.
        self.extra = extra or {}


def _system(code: str, status: int, description: str, meaning: str) -> ErrorSpec:
    return ErrorSpec(code, status, description, meaning, system=True)


# --- The system errors of the reference's table (_includes/system-errors.md). ---

INTERNAL_SERVER_ERROR = _system(
    "INTERNAL_SERVER_ERROR", 500, "Internal server error", "An unexpected failure on the server"
)
ERROR_UNEXPECTED_ANSWER = _system(
    "ERROR_UNEXPECTED_ANSWER",
    500,
    "Server returned an unexpected response",
    "A method produced a result that cannot be encoded",
)
QUERY_LIMIT_EXCEEDED = _system(
    "QUERY_LIMIT_EXCEEDED", 503, "Too many requests", "The request-rate limit was exceeded"
)
ERROR_BATCH_METHOD_NOT_ALLOWED = _system(
    "ERROR_BATCH_METHOD_NOT_ALLOWED",
    405,
    "Method is not allowed for batch usage",
    "The method may not be called inside batch",
)
ERROR_BATCH_LENGTH_EXCEEDED = _system(
    "ERROR_BATCH_LENGTH_EXCEEDED",
    400,
    "Max batch length exceeded",
    "A batch carried more commands than allowed",
)
NO_AUTH_FOUND = _system(
    "NO_AUTH_FOUND", 401, "Wrong authorization data", "Invalid access token or webhook code"
)
INVALID_REQUEST = _system(
    "INVALID_REQUEST",
    400,
    "Https required",
    "The call came over plain HTTP where HTTPS is required",
)
OVERLOAD_LIMIT = _system(
    "OVERLOAD_LIMIT",
    503,
    "REST API is blocked due to overload",
    "The portal's REST API is blocked by hand",
)
ACCESS_DENIED = _system(
    "ACCESS_DENIED",
    403,
    "REST API is available only on commercial plans",
    "The portal's plan does not include the REST API",
)
INVALID_CREDENTIALS = _system(
    "INVALID_CREDENTIALS",
    403,
    "Invalid request credentials",
    "The user behind the token or webhook may not make the call",
)
ERROR_MANIFEST_IS_NOT_AVAILABLE = _system(
    "ERROR_MANIFEST_IS_NOT_AVAILABLE",
    404,
    "Manifest is not available",
    "The manifest is not available",
)
INSUFFICIENT_SCOPE = _system(
    "insufficient_scope",
    403,
    "The request requires higher privileges than provided by the webhook token",
    "The webhook or application lacks the method's scope",
)
EXPIRED_TOKEN = _system(
    "expired_token", 401, "The access token provided has expired", "The access token has expired"
)
USER_ACCESS_ERROR = _system(
    "user_access_error",
    403,
    "The user does not have access to the application",
    "The application is restricted to other users",
)
PORTAL_DELETED = _system(
    "PORTAL_DELETED", 500, "Portal was deleted", "The portal is closed or deleted"
)

SYSTEM_ERRORS: tuple[ErrorSpec, ...] = (
    INTERNAL_SERVER_ERROR,
    ERROR_UNEXPECTED_ANSWER,
    QUERY_LIMIT_EXCEEDED,
    ERROR_BATCH_METHOD_NOT_ALLOWED,
    ERROR_BATCH_LENGTH_EXCEEDED,
    NO_AUTH_FOUND,
    INVALID_REQUEST,
    OVERLOAD_LIMIT,
    ACCESS_DENIED,
    INVALID_CREDENTIALS,
    ERROR_MANIFEST_IS_NOT_AVAILABLE,
    INSUFFICIENT_SCOPE,
    EXPIRED_TOKEN,
    USER_ACCESS_ERROR,
    PORTAL_DELETED,
)

# --- Protocol errors the real service gives that the table does not list. ---

ERROR_METHOD_NOT_FOUND = ErrorSpec(
    "ERROR_METHOD_NOT_FOUND", 404, "Method not found!", "No method of that name exists"
)
OPERATION_TIME_LIMIT = ErrorSpec(
    "OPERATION_TIME_LIMIT",
    429,
    "Method is blocked due to operation time limit.",
    "The method's accumulated run time for this client passed the limit",
)

# --- Answers to malformed requests. The real service sits behind PHP and nginx,
# which drop such input silently or answer with an HTML page; b24local answers
# with a Bitrix-style body instead (see docs/compat.md). ---

ERROR_INVALID_JSON = ErrorSpec(
    "ERROR_INVALID_JSON", 400, "The request body is not valid JSON", "Malformed JSON body"
)
ERROR_REQUEST_TOO_LARGE = ErrorSpec(
    "ERROR_REQUEST_TOO_LARGE",
    413,
    "The request body is larger than the server accepts",
    "Body over the size limit",
)
ERROR_PARAMS_TOO_DEEP = ErrorSpec(
    "ERROR_PARAMS_TOO_DEEP",
    400,
    "The request parameters are nested too deeply",
    "Parameters nested past the depth limit",
)
ERROR_PARAMS_TOO_MANY = ErrorSpec(
    "ERROR_PARAMS_TOO_MANY",
    400,
    "The request carries too many parameters",
    "More parameters than the server accepts",
)
ERROR_REQUEST_TIMEOUT = ErrorSpec(
    "ERROR_REQUEST_TIMEOUT",
    504,
    "The request took longer than the execution time limit",
    "A call ran past the time limit (60 s by default); nothing it did is kept",
)
#: Answered by the connection layer (b24local.connections), before any call runs.
REQUEST_NOT_RECEIVED = ErrorSpec(
    "ERROR_REQUEST_TIMEOUT",
    408,
    "The request did not arrive in time",
    "The headers or body arrived too slowly (--header-timeout, --body-timeout)",
)
ERROR_BAD_ENCODING = ErrorSpec(
    "ERROR_BAD_ENCODING",
    400,
    "The request body could not be decoded",
    "A body that is not valid for its content type",
)

ERROR_NUL_CHARACTER = ErrorSpec(
    "ERROR_BAD_ENCODING",
    400,
    "A parameter contains a NUL character",
    "A NUL character (%00, \\u0000) in a parameter's name or value",
)

#: The database went away under the call (rest/dispatch.py); nothing it did is kept.
DATABASE_UNAVAILABLE = ErrorSpec(
    INTERNAL_SERVER_ERROR.code,
    500,
    "Internal server error: the database is unavailable, try again later",
    "The database could not be reached or broke off the call; nothing it did is kept",
)
#: Every pooled database connection stayed busy past the pool's timeout: the
#: server is overloaded, and clients back off from this code.
DATABASE_BUSY = ErrorSpec(
    QUERY_LIMIT_EXCEEDED.code,
    503,
    "Too many requests: the server is busy, try again later",
    "No database connection came free in time (the server is overloaded)",
)

INVALID_HTTP_METHOD = ErrorSpec(
    "INVALID_REQUEST",
    405,
    "Only GET and POST requests are accepted",
    "A call made with another HTTP method (PUT, DELETE, ...)",
)

PROTOCOL_ERRORS: tuple[ErrorSpec, ...] = (
    ERROR_METHOD_NOT_FOUND,
    OPERATION_TIME_LIMIT,
    ERROR_INVALID_JSON,
    ERROR_REQUEST_TOO_LARGE,
    ERROR_PARAMS_TOO_DEEP,
    ERROR_PARAMS_TOO_MANY,
    ERROR_BAD_ENCODING,
    ERROR_NUL_CHARACTER,
    ERROR_REQUEST_TIMEOUT,
    REQUEST_NOT_RECEIVED,
    INVALID_HTTP_METHOD,
    DATABASE_UNAVAILABLE,
    DATABASE_BUSY,
)
