"""Queue messages. Every message names its tenant and instance; workers re-read the instance."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

SyncStream = Literal["products", "orders"]


class _Message(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str
    instance_id: str


class TokenJob(_Message):
    """Fetch an access token for the instance's current credentials."""

    credentials_version: int


class _ConnectionJob(_Message):
    """Work of one connection: dropped when the instance's credentials have changed since."""

    run_id: str
    credentials_version: int = 1


class LocationsJob(_ConnectionJob):
    pass


class SyncJob(_ConnectionJob):
    stream: SyncStream
    cursor: str | None = None


class BackfillJob(_ConnectionJob):
    pass
