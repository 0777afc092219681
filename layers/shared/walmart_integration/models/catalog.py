"""A tenant's internal (SKU) products as stored (``store/catalog``); Walmart listings link to them by sku."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator, model_validator

from walmart_integration.models.common import StrictModel


def _without_exponent(value: Decimal | None) -> Decimal | None:
    """1E+2 is stored and shown as 100 (the documented decimal strings have no exponent)."""
    if value is not None and value.as_tuple().exponent > 0:  # type: ignore[operator]
        return value.quantize(Decimal(1))
    return value


# A product's unit cost as a client sends it (create and update).
UnitCost = Annotated[
    Decimal | None,
    Field(
        ge=0,
        max_digits=18,
        decimal_places=6,
        strict=False,
        description="Unit cost, exact decimal (string or number): at most 12 digits before the point and 6 after",
    ),
    AfterValidator(_without_exponent),
]


class InternalProductRecord(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: int  # the tenant's next integer id (COUNTER#skuproduct)
    sku: str
    name: str
    cost: Decimal | None = None  # exact unit cost; None until the tenant sets one
    created_at: str | None = None


class InternalProductUpdate(StrictModel):
    """``PATCH /api/products/{id}``: the fields sent are changed (the sku is the product's key: it never changes).

    A new cost applies to what is posted from now on: lines whose cost of goods sold was held for want of it post."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    cost: UnitCost = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        if value is not None and not value.strip():
            raise ValueError("The name must not be blank.")
        return value.strip() if value is not None else None

    @model_validator(mode="after")
    def _something(self) -> InternalProductUpdate:
        if not self.model_fields_set:
            raise ValueError("Send name or cost.")
        if "name" in self.model_fields_set and self.name is None:
            raise ValueError("The name cannot be removed.")
        return self
