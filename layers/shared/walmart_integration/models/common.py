"""Building blocks shared by the models."""

from __future__ import annotations

import os
import time
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import BaseModel, ConfigDict

T = TypeVar("T")

_CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


class StrictModel(BaseModel):
    """Request bodies: JSON types are not coerced and unknown fields are rejected."""

    model_config = ConfigDict(strict=True, extra="forbid")


class DataResponse(BaseModel, Generic[T]):
    data: T


class ListResponse(BaseModel, Generic[T]):
    data: list[T]
    next_cursor: str | None = None


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(moment: datetime | None) -> str | None:
    """ISO 8601 UTC with a Z suffix, second precision."""
    if moment is None:
        return None
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def precise_iso(moment: datetime) -> str:
    """ISO 8601 UTC with microseconds: for instants that are compared with each other (order matters)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def new_id() -> str:
    """A ULID: 26 Crockford base32 characters, time-ordered, 80 random bits."""
    value = (int(time.time() * 1000) << 80) | int.from_bytes(os.urandom(10), "big")
    chars = []
    for _ in range(26):
        chars.append(_CROCKFORD[value & 31])
        value >>= 5
    return "".join(reversed(chars))


class ErrorResponse(BaseModel):
    message: str


class ValidationErrorResponse(ErrorResponse):
    errors: dict[str, list[str]]
