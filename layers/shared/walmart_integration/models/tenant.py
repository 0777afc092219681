"""Tenants and their bearer tokens as stored (``store/tenants``): a token is kept only as its SHA-256 hash."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class TenantRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    created_at: str


class ApiTokenRecord(BaseModel):
    """A bearer token's hash (its key) and the tenant it authenticates, until it is revoked."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: str
    created_at: str | None = None
    revoked: bool = False
