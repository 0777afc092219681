"""The integration instance: request bodies (the seed's contract), stored record and API view."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, Field, field_validator

from walmart_integration.models.common import StrictModel, iso

Environment = Literal["sandbox", "production"]
BatchPeriod = Literal["immediate", "daily", "weekly", "monthly"]
InstanceStatus = Literal["pending", "connecting", "connected", "credentials_missing", "credentials_invalid", "error"]
AuthMethod = Literal["client_credentials", "oauth"]
JobStatus = Literal["pending", "queued", "running", "succeeded", "failed", "skipped"]
JOB_NAMES = ("token", "locations", "products", "orders", "backfill", "settlements", "returns")
SYNC_JOB_NAMES = ("locations", "products", "orders", "backfill", "settlements", "returns")
SECRET_MASK = "********"  # noqa: S105 (the mask, not a secret)


def _four_decimal_places(value: float) -> float:
    """A percentage has at most four decimal places (so it is stored as given: 5e-324 is no percentage)."""
    if Decimal(str(value)).as_tuple().exponent < -4:  # type: ignore[operator]
        raise ValueError("At most four decimal places.")
    return value


Percentage = Annotated[
    float,
    Field(ge=0, le=100, description="0 to 100, at most four decimal places"),
    AfterValidator(_four_decimal_places),
]
NominalCodeId = Annotated[int, Field(ge=1)]
StartDate = Annotated[str, Field(json_schema_extra={"format": "date"})]  # checked by check_start_date
ReturnedGoods = Literal["restock", "write_off"]
# Every account a posting line may carry, each with its setting ``<account>_nominal_code_id`` (the tenant's own nominal
# codes, checked on create and update): the seed's five, then the control accounts (receivable or clearing, bank,
# marketplace and payment fees, the tax Walmart collects as marketplace facilitator, inventory, accrued costs, WFS fees,
# adjustments, reserves).
ACCOUNTS = (
    "sales",
    "cogs",
    "shipping_revenue",
    "shipping_refund",
    "sales_returns_allowances",
    "accounts_receivable",
    "bank",
    "marketplace_fees",
    "payment_fees",
    "facilitator_tax",
    "inventory",
    "accrued_costs",
    "wfs_fees",
    "adjustments",
    "reserves",
)
NOMINAL_CODE_FIELDS = tuple(f"{account}_nominal_code_id" for account in ACCOUNTS)


def latest_start_date() -> date:
    """The latest acceptable start date: today somewhere on Earth (UTC+14), so no user's "today" is refused."""
    return (datetime.now(UTC) + timedelta(hours=14)).date()


def check_start_date(value: str, today: date) -> str:
    """``start_date`` is a real calendar date, YYYY-MM-DD, not in the future."""
    if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):  # (fromisoformat also reads 2026-W01-1)
        raise ValueError("The start date must be a date in the format YYYY-MM-DD.")
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError("The start date must be a date in the format YYYY-MM-DD.") from None
    if parsed > today:
        raise ValueError("The start date must not be in the future.")
    return value


class ConnectionSettings(StrictModel):
    clientId: str | None = Field(default=None, min_length=1, max_length=255, description="Walmart API client ID")
    clientSecret: str | None = Field(
        default=None, min_length=1, max_length=1024, description="Walmart API client secret (write-only)"
    )


class IntegrationSettings(StrictModel):
    start_date: StartDate = Field(description="Date to start syncing orders/products from (YYYY-MM-DD)")
    store_id: int = Field(ge=1, description="Internal store ID to associate with")
    auto_link_products: bool = Field(description="Automatically link Walmart products to SKU products")
    auto_create_products: bool = Field(description="Automatically create SKU products from Walmart products")
    sales_nominal_code_id: NominalCodeId | None = None
    cogs_nominal_code_id: NominalCodeId | None = None
    shipping_revenue_nominal_code_id: NominalCodeId | None = None
    shipping_refund_nominal_code_id: NominalCodeId | None = None
    sales_returns_allowances_nominal_code_id: NominalCodeId | None = None
    accounts_receivable_nominal_code_id: NominalCodeId | None = None
    bank_nominal_code_id: NominalCodeId | None = None
    marketplace_fees_nominal_code_id: NominalCodeId | None = None
    payment_fees_nominal_code_id: NominalCodeId | None = None
    facilitator_tax_nominal_code_id: NominalCodeId | None = None
    inventory_nominal_code_id: NominalCodeId | None = None
    accrued_costs_nominal_code_id: NominalCodeId | None = None
    wfs_fees_nominal_code_id: NominalCodeId | None = None
    adjustments_nominal_code_id: NominalCodeId | None = None
    reserves_nominal_code_id: NominalCodeId | None = None
    sync_sales_order_invoices_to_accounting: bool = True
    sync_sales_credit_to_accounting: bool = True
    proforma_marketplace_cost_percentage: Percentage | None = None
    proforma_payment_cost_percentage: Percentage | None = None
    batch_period_sales_order_fulfillments: BatchPeriod | None = None
    batch_period_customer_returns: BatchPeriod | None = None
    returned_goods: ReturnedGoods = Field(
        default="restock",
        description="Goods a customer returned: restock (their cost of goods sold is reversed) or write_off",
    )

    @field_validator("start_date")
    @classmethod
    def _start_date(cls, value: str) -> str:
        return check_start_date(value, latest_start_date())


class InstanceCreate(StrictModel):
    """``POST /api/walmart``: the seed's fields, types, required/optional/nullable and defaults."""

    name: str = Field(min_length=1, max_length=255, description="Human-readable name, unique in the tenant")
    integration_id: int = Field(description="ID of the Walmart integration type (GET /api/integrations)")
    environment: Environment | None = Field(
        default=None,
        description="sandbox or production; forced to production on production servers; immutable",
    )
    connection_settings: ConnectionSettings | None = None
    integration_settings: IntegrationSettings
    is_automatic_sync_enabled: bool = False

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("The name must not be blank.")
        return value.strip()


class IntegrationSettingsPatch(StrictModel):
    """Partial integration settings: only the fields sent are changed (null clears a nullable one)."""

    start_date: StartDate | None = None
    store_id: int | None = Field(default=None, ge=1)
    auto_link_products: bool | None = None
    auto_create_products: bool | None = None
    sales_nominal_code_id: NominalCodeId | None = None
    cogs_nominal_code_id: NominalCodeId | None = None
    shipping_revenue_nominal_code_id: NominalCodeId | None = None
    shipping_refund_nominal_code_id: NominalCodeId | None = None
    sales_returns_allowances_nominal_code_id: NominalCodeId | None = None
    accounts_receivable_nominal_code_id: NominalCodeId | None = None
    bank_nominal_code_id: NominalCodeId | None = None
    marketplace_fees_nominal_code_id: NominalCodeId | None = None
    payment_fees_nominal_code_id: NominalCodeId | None = None
    facilitator_tax_nominal_code_id: NominalCodeId | None = None
    inventory_nominal_code_id: NominalCodeId | None = None
    accrued_costs_nominal_code_id: NominalCodeId | None = None
    wfs_fees_nominal_code_id: NominalCodeId | None = None
    adjustments_nominal_code_id: NominalCodeId | None = None
    reserves_nominal_code_id: NominalCodeId | None = None
    sync_sales_order_invoices_to_accounting: bool | None = None
    sync_sales_credit_to_accounting: bool | None = None
    proforma_marketplace_cost_percentage: Percentage | None = None
    proforma_payment_cost_percentage: Percentage | None = None
    batch_period_sales_order_fulfillments: BatchPeriod | None = None
    batch_period_customer_returns: BatchPeriod | None = None
    returned_goods: ReturnedGoods | None = None


class InstanceUpdate(StrictModel):
    """``PATCH /api/walmart/{id}``: any subset of the create fields."""

    name: str | None = Field(default=None, min_length=1, max_length=255)
    integration_id: int | None = None
    environment: Environment | None = None
    connection_settings: ConnectionSettings | None = None
    integration_settings: IntegrationSettingsPatch | None = None
    is_automatic_sync_enabled: bool | None = None


class Job(BaseModel):
    status: JobStatus = "pending"
    records: int = 0
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    run_id: str | None = Field(default=None, description="The run this state belongs to (POST .../sync returns it)")


class InstanceView(BaseModel):
    """What the API answers for an instance. Secrets only ever appear masked."""

    id: str
    name: str
    integration_id: int
    environment: Environment
    connection_settings: dict[str, str | None] = Field(
        description=(
            "clientId, clientSecret (masked), authMethod (client_credentials: the seller's own API keys; oauth: the "
            "seller authorized our app on Walmart, POST .../authorization; null: not connected) and sellerId "
            "(Walmart's seller id, with oauth)"
        )
    )
    integration_settings: IntegrationSettings
    is_automatic_sync_enabled: bool
    status: InstanceStatus
    jobs: dict[str, Job]
    effective_start_date: str | None = Field(
        default=None, description="Where the order backfill really starts: start_date clamped to Walmart's 180 days"
    )
    created_at: str | None
    updated_at: str | None


class AuthorizationView(BaseModel):
    """``POST /api/walmart/{id}/authorization``: where to send the seller's browser to authorize our app."""

    authorization_url: str = Field(
        description=(
            "Walmart's authorize page with responseType, clientId, redirectUri, clientType, nonce and state: open it "
            "in the seller's browser; Walmart sends the browser back to our callback, which connects the instance"
        )
    )
    expires_at: str = Field(description="The URL works once, until then (ISO 8601 UTC)")


class InstanceRecord(BaseModel):
    """An instance as stored. ``credentials``, ``refresh_token`` and ``access_token`` are KMS ciphertexts.

    It connects with the seller's own API keys (``credentials``: client credentials) or with the seller's OAuth 2.0
    authorization of our app (``refresh_token`` and ``seller_id``, Walmart's ``sellerId``); never both.
    """

    tenant_id: str
    id: str
    name: str
    integration_id: int
    environment: Environment
    client_id: str | None = None
    has_client_secret: bool = False
    credentials: bytes | None = None
    credentials_version: int = 0
    seller_id: str | None = None
    refresh_token: bytes | None = None
    access_token: bytes | None = None
    access_token_expires_at: datetime | None = None
    integration_settings: dict[str, Any]
    is_automatic_sync_enabled: bool = False
    status: InstanceStatus = "pending"
    jobs: dict[str, Job] = Field(default_factory=dict)
    effective_start_date: str | None = None
    version: int = 1
    created_at: datetime
    updated_at: datetime

    @property
    def auth_method(self) -> AuthMethod | None:
        if self.refresh_token is not None:
            return "oauth"
        return "client_credentials" if self.credentials is not None else None

    @property
    def has_credentials(self) -> bool:
        return self.auth_method is not None

    def view(self) -> InstanceView:
        return InstanceView(
            id=self.id,
            name=self.name,
            integration_id=self.integration_id,
            environment=self.environment,
            connection_settings={
                "clientId": self.client_id,
                "clientSecret": SECRET_MASK if self.has_client_secret else None,
                "authMethod": self.auth_method,
                "sellerId": self.seller_id,
            },
            integration_settings=IntegrationSettings.model_construct(**self.integration_settings),
            is_automatic_sync_enabled=self.is_automatic_sync_enabled,
            status=self.status,
            jobs={name: self.jobs.get(name, Job()) for name in JOB_NAMES},
            effective_start_date=self.effective_start_date,
            created_at=iso(self.created_at),
            updated_at=iso(self.updated_at),
        )
