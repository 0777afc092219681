"""What runs around every route, in this order (``api/__init__.py`` registers them):

1. ``json_bodies_only``: a route that takes a body takes JSON (no declared type reads as JSON); any other is 415;
   a JSON body that is an array is 422 (Powertools 3.37 would read the array's first element as the body).
2. Powertools' request validation (path, query, headers, body) → ``RequestValidationError`` (the API's 422).
3. ``no_control_characters``: a path with a control character names no resource (404).
4. Powertools' response validation and serialisation of what the route returns.

Powertools runs its own validation before every middleware registered with ``app.use``; the API turns that off
(``enable_validation=False``) and registers Powertools' validation middlewares itself, so the JSON check comes first:
Powertools would otherwise parse a form or multipart body as the request's fields (and fail with an unhandled error
on a multipart type without a boundary).
"""

from __future__ import annotations

from functools import cache

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestUnsupportedContentType, RequestValidationError

from walmart_integration.api.errors import not_found_response

_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def json_bodies_only(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    declared = app.current_event.headers.get("content-type", "")
    media_type = declared.partition(";")[0].strip().lower()
    if media_type not in ("", "application/json") and _takes_body(app):
        raise RequestUnsupportedContentType(
            "Unsupported content type", errors=[{"loc": ("body",), "msg": declared, "type": "content_type"}]
        )
    if _is_json_array(app.current_event.body) and _takes_body(app):
        # Every request body of this API is an object; Powertools would validate an array's first element instead.
        raise RequestValidationError([{"loc": ("body",), "msg": "not an object", "type": "model_attributes_type"}])
    return next_middleware(app)


def _is_json_array(body: str | None) -> bool:
    """A body that is a JSON array (cheap: only its first character is looked at; anything else is validated as
    usual)."""
    return body is not None and body.lstrip().startswith("[")


def _takes_body(app: APIGatewayRestResolver) -> bool:
    return (app.request.route, app.request.method) in _operations_with_body(app)


@cache
def _operations_with_body(app: APIGatewayRestResolver) -> frozenset[tuple[str, str]]:
    """(path template, method) of every operation that takes a request body, from the app's OpenAPI document (built
    once per container, and only when a request declares a content type that is not JSON)."""
    document = app.get_openapi_schema()
    return frozenset(
        (path, method.upper())
        for path, item in (document.paths or {}).items()
        for method in _METHODS
        if (operation := getattr(item, method)) is not None and operation.requestBody is not None
    )


def no_control_characters(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response:
    """A path with a control character names no resource. (Powertools matches routes with ``$``, which also matches
    before a final newline: ``/api/companies/%0A`` would otherwise answer as ``/api/companies``.)"""
    if any(ord(character) < 32 or ord(character) == 127 for character in app.current_event.path):
        return not_found_response()
    return next_middleware(app)
