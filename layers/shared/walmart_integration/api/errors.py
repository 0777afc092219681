"""Every error the API answers: the statuses each route documents, and the one mapping of exceptions to responses.

Domain errors (``walmart_integration.errors``) become 403/404/409/422; Powertools' request validation becomes the
API's 422 shape; a body that is not JSON 415; Powertools' idempotency errors 409; an unknown route 404; anything
else 500 (logged, never shown).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from walmart_integration.api import pages
from walmart_integration.errors import Conflict, Forbidden, NotFound, ValidationFailed, field_errors
from walmart_integration.models.common import ErrorResponse, ValidationErrorResponse
from walmart_integration.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import APIGatewayRestResolver
    from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

_DOCUMENTED: dict[int, tuple[str, type]] = {
    401: ("Missing, malformed, unknown or revoked bearer token", ErrorResponse),
    403: ("Not allowed, e.g. a change to an advertiser that granted read-only access", ErrorResponse),
    404: ("Not found (another tenant's resource is not found either)", ErrorResponse),
    409: ("Conflict: changed concurrently, or an Idempotency-Key reused with another body", ErrorResponse),
    413: ("The request body is larger than API Gateway's limit (10 MB)", ErrorResponse),
    415: ("The request body is not JSON: send Content-Type: application/json", ErrorResponse),
    422: ("Validation failed: errors by dotted field path", ValidationErrorResponse),
    429: ("Too many requests: throttled by API Gateway; retry later", ErrorResponse),
}


def responses(*codes: int, body: bool = False, **success: str) -> dict[int, OpenAPIResponse]:
    """OpenAPI responses of a route: its success status (e.g. created="201") and the error shapes it answers.

    Every route documents 401, 422 (a malformed path or query parameter; Powertools would otherwise document a 422
    shape this API never sends) and 429 (API Gateway's throttling); a route with a request ``body`` also documents
    413 and 415.
    """
    documented: dict[int, OpenAPIResponse] = {
        int(status): {"description": name.capitalize()} for name, status in (success or {"ok": "200"}).items()
    }
    for code in sorted({401, 422, 429, *codes, *((413, 415) if body else ())}):
        description, model = _DOCUMENTED[code]
        documented[code] = {"description": description, "content": {"application/json": {"model": model}}}
    return documented


class Unauthorized(Exception):
    """No tenant on the request: the authorizer did not admit it (answered 401)."""


def _json(status: int, body: Any) -> Response:
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body))


def not_found_response() -> Response:
    return _json(404, {"message": "Not found"})


def _request_invalid(error: RequestValidationError) -> Response:
    errors = field_errors(list(error.errors()), drop_prefix=())
    errors = {_strip_source(path): messages for path, messages in errors.items()}
    return _json(422, {"message": next(iter(errors.values()))[0], "errors": errors})


def _strip_source(path: str) -> str:
    for source in ("body.", "query.", "path."):
        if path.startswith(source):
            return path[len(source) :]
    return path


def _unsupported_content_type(_: RequestUnsupportedContentType) -> Response:
    return _json(415, {"message": "The request body must be JSON (Content-Type: application/json)."})


def _invalid(error: ValidationFailed) -> Response:
    return _json(422, {"message": str(error), "errors": error.errors})


def _not_found(error: NotFound) -> Response:
    return _json(404, {"message": str(error)})


def _conflict(error: Conflict) -> Response:
    return _json(409, {"message": str(error)})


def _forbidden(error: Forbidden) -> Response:
    return _json(403, {"message": str(error)})


def _unauthorized(_: Unauthorized) -> Response:
    return _json(401, {"message": "Unauthorized"})


def _no_route(_: Exception) -> Response:
    return not_found_response()


def _unexpected(error: Exception) -> Response:
    # Powertools' idempotency errors, matched by class. Their module is imported here, not at the top: importing it
    # loads the whole idempotency utility (boto3 included), which the cold start of every request would pay for.
    from aws_lambda_powertools.utilities.idempotency.exceptions import (
        IdempotencyAlreadyInProgressError,
        IdempotencyValidationError,
    )

    if isinstance(error, IdempotencyValidationError):
        return _json(409, {"message": "This Idempotency-Key was already used with a different request body."})
    if isinstance(error, IdempotencyAlreadyInProgressError):
        return _json(409, {"message": "A request with this Idempotency-Key is still in progress; retry shortly."})
    logger.exception("Unhandled error")
    return _json(500, {"message": "Internal server error"})


def _is_callback(app: APIGatewayRestResolver) -> bool:
    return bool(app.current_event.path.rstrip("/") == pages.CALLBACK_PATH)


def register(app: APIGatewayRestResolver) -> None:
    """Install every exception handler on the resolver (Powertools picks the most specific class)."""

    def request_invalid(error: RequestValidationError) -> Response:
        # The public callback answers a person's browser: a redirect it cannot read (a parameter sent twice) gets
        # its refusal page, like any other redirect that is not ours.
        if _is_callback(app):
            return pages.page("invalid")
        return _request_invalid(error)

    def unexpected(error: Exception) -> Response:
        response = _unexpected(error)
        return pages.page("failed") if response.status_code == 500 and _is_callback(app) else response

    app.exception_handler(RequestValidationError)(request_invalid)
    app.exception_handler(RequestUnsupportedContentType)(_unsupported_content_type)
    app.exception_handler(ValidationFailed)(_invalid)
    app.exception_handler(NotFound)(_not_found)
    app.exception_handler(Conflict)(_conflict)
    app.exception_handler(Forbidden)(_forbidden)
    app.exception_handler(Unauthorized)(_unauthorized)
    app.exception_handler(Exception)(unexpected)
    app.not_found(_no_route)
