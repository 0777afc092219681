"""Domain errors. The API maps them to HTTP statuses in one place (``api/errors.py``)."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base class of errors a use case raises on purpose."""


class NotFound(DomainError):
    """The resource does not exist for this tenant (another tenant's resource is also 'not found')."""


class ValidationFailed(DomainError):
    """Field errors keyed by dotted path, answered as 422."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        self.errors = errors
        first = next(iter(errors.values()))[0] if errors else "The given data was invalid."
        super().__init__(first)


class Conflict(DomainError):
    """A conflict that is not a field error (409)."""


class Forbidden(DomainError):
    """The tenant may see the resource but not do this to it (403), e.g. a write with read-only access."""


class RetryLater(Exception):
    """Transient failure of a queued job: redeliver the message after ``delay_seconds``.

    ``throttled`` marks a wait for a rate budget (ours, or Walmart's 429), which is not a failure:
    the message is sent again with that delay instead of being failed, so waiting never counts
    towards the receives that send a message to its dead-letter queue.
    """

    def __init__(self, message: str, delay_seconds: float | None = None, *, throttled: bool = False) -> None:
        super().__init__(message)
        self.delay_seconds = delay_seconds
        self.throttled = throttled


_FRIENDLY = {
    "missing": "This field is required.",
    "extra_forbidden": "This field is not allowed (unknown field).",
    "json_invalid": "The request body is not valid JSON.",
    "model_attributes_type": "The request body must be a JSON object.",
    "model_type": "This field must be a JSON object.",
}


def field_errors(errors: list[Any], drop_prefix: tuple[str, ...] = ("body",)) -> dict[str, list[str]]:
    """Pydantic error dicts as ``{"dotted.path": [messages]}``, the API's 422 shape."""
    result: dict[str, list[str]] = {}
    for error in errors:
        loc = [str(part) for part in error.get("loc", ())]
        if loc[: len(drop_prefix)] == list(drop_prefix):
            loc = loc[len(drop_prefix) :]
        if error.get("type") in ("json_invalid", "model_attributes_type"):
            loc = []
        path = ".".join(part for part in loc if part) or "body"
        message = _FRIENDLY.get(str(error.get("type")), str(error.get("msg", "Invalid value.")))
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        result.setdefault(path, [])
        if message not in result[path]:
            result[path].append(message)
    return result
