"""Stored state of the token buckets our workers share per Walmart seller and endpoint (``store/rate_limits``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class RateLimitBucket(BaseModel):
    """One bucket as its item holds it (``RATELIMIT#<seller>`` / ``BUCKET#<endpoint>``); a missing attribute is a
    bucket never written (or expired), which counts as full."""

    model_config = ConfigDict(extra="ignore")

    tokens: Decimal | None = None  # tokens left at ``updated_at`` (never negative)
    updated_at: Decimal | None = None  # epoch seconds the bucket refills from (in the future during a 429 penalty)
    expires_at: int | None = None  # epoch seconds: the item's TTL
