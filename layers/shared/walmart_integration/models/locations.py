"""A seller's locations (Walmart ship nodes) as stored per instance (``store/locations``)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class LocationAddress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class LocationRecord(BaseModel):
    """A ship node: what Walmart lists (id, name, type, status, time zone, address) and when our copy changed.

    A node Walmart stops listing stays, ``INACTIVE`` with ``removed_at``.
    """

    model_config = ConfigDict(extra="ignore")

    id: str
    name: str | None = None
    type: str | None = None
    status: str
    time_zone: str | None = None
    address: LocationAddress | None = None
    removed_at: str | None = None
    synced_at: str | None = None
