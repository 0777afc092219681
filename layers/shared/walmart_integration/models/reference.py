"""Reference data an instance points to: Walmart integration types, stores, nominal codes."""

from __future__ import annotations

from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field, field_validator

from walmart_integration.models.common import StrictModel


class Integration(BaseModel):
    id: int
    name: str
    channel: str
    region: str
    description: str


# The Walmart integration types this platform offers (the catalogue is part of the product, not tenant data).
WALMART_INTEGRATIONS: tuple[Integration, ...] = (
    Integration(
        id=1,
        name="Walmart Marketplace (US)",
        channel="walmart-marketplace",
        region="US",
        description="Walmart Marketplace seller API: locations, products and orders.",
    ),
)


def walmart_integration_ids() -> frozenset[int]:
    return frozenset(integration.id for integration in WALMART_INTEGRATIONS)


class _Named(StrictModel):
    @field_validator("name", check_fields=False)
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The name must not be blank.")
        return value.strip()


class StoreCreate(_Named):
    name: str = Field(min_length=1, max_length=255)
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 currency code")


class Store(BaseModel):
    id: int
    name: str
    currency: str
    created_at: str | None = None


class NominalCodeCreate(_Named):
    code: str = Field(min_length=1, max_length=32, description="Account code in the chart of accounts, e.g. 4000")
    name: str = Field(min_length=1, max_length=255)


class NominalCode(BaseModel):
    id: int
    code: str
    name: str
    created_at: str | None = None


# -- records as stored (``store/reference``): integer ids per tenant and kind --------------------------------------
class StoreRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: ClassVar[str] = "store"  # the item's ``type`` and its id counter

    id: int
    name: str
    currency: str
    created_at: str | None = None


class NominalCodeRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")
    kind: ClassVar[str] = "nominalcode"

    id: int
    code: str
    name: str
    created_at: str | None = None
