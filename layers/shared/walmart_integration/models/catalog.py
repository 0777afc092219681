"""A tenant's internal (SKU) products as stored (``store/catalog``); Walmart listings link to them by sku."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class InternalProductRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int  # the tenant's next integer id (COUNTER#skuproduct)
    sku: str
    name: str
    cost: Decimal | None = None  # exact unit cost; None until the tenant sets one
    created_at: str | None = None
