"""Seller authorizations in progress (``store/authorizations``): what an OAuth ``state`` we handed out stands for."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class PendingAuthorization(BaseModel):
    """Which tenant's instance, at which credentials version, an authorization URL was made for, and until when."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    tenant_id: str
    instance_id: str
    credentials_version: int  # the instance's when the URL was made: a newer connection makes the state stale
    redirect_uri: str  # what the authorize URL named: the code exchange must send the same
    expires_at: float  # epoch seconds (also the item's TTL)
