"""REST 3.0's errors and their one rendering: ``{"error": {"code", "message",
"validation"?}}``. The codes come from the REST 3.0 overview and the method pages;
every other catalogue error keeps its code and status and only changes shape."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response

from b24local.rest import errors as rest2
from b24local.rest.envelope import encode_json
from b24local.rest.errors import ErrorSpec, RestError

PREFIX = "BITRIX_REST_V3_EXCEPTION_"


class V3Error(RestError):
    """A REST 3.0 error; ``validation`` lists ``{"field", "message"}`` details."""

    def __init__(
        self, code: str, message: str, status: int, validation: list[dict[str, str]] | None
    ) -> None:
        super().__init__(code, message, status)
        self.validation = validation


class V3ErrorSpec(ErrorSpec):
    def __call__(self, description: str | None = None) -> RestError:
        return V3Error(self.code, description or self.description, self.status, None)

    def invalid(self, field: str, message: str) -> V3Error:
        """The error with one validation detail naming the parameter at fault (the
        pages show ``validation`` on request validation errors; the other errors
        carry their text in ``message``)."""
        return V3Error(
            self.code, self.description, self.status, [{"field": field, "message": message}]
        )


def _spec(name: str, status: int, message: str, meaning: str) -> V3ErrorSpec:
    return V3ErrorSpec(PREFIX + name, status, message, meaning)


VALIDATION = _spec(
    "VALIDATION_REQUESTVALIDATIONEXCEPTION",
    400,
    "Error during request object validation",
    "REST 3.0: a required field is missing or a value has the wrong type",
)
INVALID_JSON = _spec(
    "INVALIDJSONEXCEPTION",
    400,
    "The request body is not valid JSON",
    "REST 3.0: the body is not a JSON object (form data included)",
)
UNKNOWN_PROPERTY = _spec(
    "UNKNOWNDTOPROPERTYEXCEPTION",
    400,
    "Unknown field",
    "REST 3.0: filter or select names a field the object does not have",
)
UNKNOWN_OPERATOR = _spec(
    "UNKNOWNFILTEROPERATOREXCEPTION",
    400,
    "Unknown filter operator",
    "REST 3.0: a filter condition uses an operator that does not exist",
)
INVALID_FILTER = _spec(
    "INVALIDFILTEREXCEPTION",
    400,
    "Invalid filter",
    "REST 3.0: a filter the method cannot apply (field not filterable, operator not allowed)",
)
INVALID_SELECT = _spec(
    "INVALIDSELECTEXCEPTION",
    400,
    "Unable to recognize select expression",
    "REST 3.0: select is not an array of strings",
)
INVALID_ORDER = _spec(
    "INVALIDORDEREXCEPTION",
    400,
    "Unable to recognize order expression",
    "REST 3.0: order is not an object of sortable fields and ASC/DESC",
)
INVALID_PAGINATION = _spec(
    "INVALIDPAGINATIONEXCEPTION",
    400,
    "Unable to recognize pagination parameter",
    "REST 3.0: page, limit or offset is not a usable number",
)
ACCESS_DENIED = _spec(
    "ACCESSDENIEDEXCEPTION", 403, "Access denied", "REST 3.0: the user may not see the object"
)
INSUFFICIENT_SCOPE = _spec(
    "INSUFFICIENTSCOPEEXCEPTION",
    403,
    "The request requires higher privileges than provided by the webhook token",
    "REST 3.0: the webhook or application lacks the method's scope",
)
IDEMPOTENCY_KEY_REUSED = _spec(
    "IDEMPOTENCYKEYREUSEDEXCEPTION",
    422,
    "The idempotency key was already used with a different request body",
    "REST 3.0: an Idempotency-Key repeated with another body",
)
INVALID_IDEMPOTENCY_KEY = _spec(
    "INVALIDIDEMPOTENCYKEYEXCEPTION",
    400,
    "The idempotency key must be 1 to 255 printable ASCII characters",
    "REST 3.0: an Idempotency-Key that is empty, too long or not printable ASCII",
)
FIELD_NOT_FOUND = V3ErrorSpec(
    "BITRIX_REST_V3_REALISATION_EXCEPTION_FIELDNOTFOUNDEXCEPTION",
    400,
    "Field not found",
    "REST 3.0 *.field.get: no field of that name",
)

V3_ERRORS: tuple[ErrorSpec, ...] = (
    VALIDATION,
    INVALID_JSON,
    UNKNOWN_PROPERTY,
    UNKNOWN_OPERATOR,
    INVALID_FILTER,
    INVALID_SELECT,
    INVALID_ORDER,
    INVALID_PAGINATION,
    ACCESS_DENIED,
    INSUFFICIENT_SCOPE,
    IDEMPOTENCY_KEY_REUSED,
    INVALID_IDEMPOTENCY_KEY,
    FIELD_NOT_FOUND,
)

#: Catalogue errors REST 3.0 names otherwise; the rest keep their codes.
_RENAMED: dict[str, ErrorSpec] = {
    rest2.INSUFFICIENT_SCOPE.code: INSUFFICIENT_SCOPE,
    rest2.ERROR_INVALID_JSON.code: INVALID_JSON,
    rest2.ERROR_BAD_ENCODING.code: INVALID_JSON,
}


def error_body(error: RestError) -> dict[str, Any]:
    renamed = _RENAMED.get(error.code)
    if renamed is not None:
        error = renamed()
    detail: dict[str, Any] = {"code": error.code, "message": error.description}
    validation = getattr(error, "validation", None)
    if validation:
        detail["validation"] = validation
    return {"error": detail}


def code_of(error: RestError) -> str:
    """The code REST 3.0 answers ``error`` with."""
    renamed = _RENAMED.get(error.code)
    return renamed.code if renamed is not None else error.code


def status_of(error: RestError) -> int:
    renamed = _RENAMED.get(error.code)
    return renamed.status if renamed is not None else error.status


def render_error(error: RestError) -> Response:
    return Response(
        encode_json(error_body(error)), status_code=status_of(error), media_type="application/json"
    )
