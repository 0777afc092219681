"""Walmart Connect advertising: companies, accounts, profiles, claims, reports and changes (API and records)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from walmart_integration.models.common import StrictModel

Channel = Literal["walmart-1p", "walmart-3p"]
AdvertiserType = Literal["1p", "3p"]
AccessType = Literal["read", "write"]
ProfileStatus = Literal["active", "revoked"]
RunStatus = Literal["queued", "running", "succeeded", "failed", "stopped"]
ReportStatus = Literal["queued", "requested", "downloading", "succeeded", "failed", "stopped"]
ChangeStatus = Literal["queued", "succeeded", "failed"]
GroupBy = Literal["date", "campaign", "ad_group"]

CHANNEL_OF_TYPE: dict[str, str] = {"1p": "walmart-1p", "3p": "walmart-3p"}

Name = Annotated[str, Field(min_length=1, max_length=200)]
AdvertiserId = Annotated[str, Field(pattern=r"^[0-9]{1,20}$", description="Walmart's advertiserId")]
Money = Annotated[str, Field(description="Exact decimal amount (string)", examples=["12.34"])]


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("This field must not be blank.")
    return value


# -- companies and accounts ----------------------------------------------------------------------
class CompanyCreate(StrictModel):
    name: Name

    _strip = field_validator("name")(_stripped)


class Company(BaseModel):
    id: str
    name: str
    created_at: str


class AccountCreate(StrictModel):
    name: Name
    channel: Channel = Field(description="walmart-1p (first-party supplier) or walmart-3p (marketplace seller)")
    geo: Annotated[str, Field(pattern=r"^[A-Z]{2}$", description="ISO 3166 country of the account")] = "US"

    _strip = field_validator("name")(_stripped)


class LinkRequest(StrictModel):
    profile_id: AdvertiserId


class ReportProgress(BaseModel):
    model_config = ConfigDict(extra="ignore")

    report_type: str
    start: str | None = Field(default=None, description="First day (null until Walmart's latest day is known)")
    end: str | None = Field(default=None, description="Last day (null until Walmart's latest day is known)")
    status: ReportStatus = "queued"
    snapshot_id: str | None = None
    polls: int = 0
    rows: int = 0
    error: str | None = None
    finished_at: str | None = None


class ReportRun(BaseModel):
    """A backfill (on link) or a refresh (once Walmart publishes a new day) of a linked profile's reports.

    The window ends at the last day Walmart has published; it is null until that day is known."""

    model_config = ConfigDict(extra="ignore")

    run_id: str
    kind: Literal["backfill", "refresh"]
    status: RunStatus = "queued"
    window_start: str | None = None
    window_end: str | None = None
    reports: dict[str, ReportProgress] = Field(default_factory=dict)
    started_at: str
    finished_at: str | None = None
    error: str | None = None

    @property
    def reports_done(self) -> int:
        return sum(1 for report in self.reports.values() if report.status == "succeeded")


class AdvertisingLink(BaseModel):
    profile_id: str
    advertiser_name: str
    advertiser_type: AdvertiserType
    access: AccessType
    status: ProfileStatus
    status_reason: str | None = None
    linked_at: str


class AccountView(BaseModel):
    id: str
    company_id: str
    name: str
    channel: Channel
    geo: str
    created_at: str
    advertising: AdvertisingLink | None = None
    backfill: ReportRun | None = None
    refresh: ReportRun | None = Field(
        default=None,
        description="The latest refresh: the trailing days Walmart restates and any days missed, up to its latest day",
    )
    data_through: str | None = Field(
        default=None, description="Last day with stored performance data (a day Walmart has published)"
    )


# -- profiles and claims -------------------------------------------------------------------------
class ProfileView(BaseModel):
    profile_id: str
    advertiser_name: str
    advertiser_type: AdvertiserType
    access: AccessType
    status: ProfileStatus
    status_reason: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    linked_account_id: str | None = None
    first_seen_at: str
    last_seen_at: str


class ClaimCreate(StrictModel):
    advertiser_id: AdvertiserId
    advertiser_name: Name

    _strip = field_validator("advertiser_name")(_stripped)


ClaimStatus = Literal["assigned", "waiting", "rejected"]


class ClaimView(BaseModel):
    advertiser_id: str
    advertiser_name: str
    status: ClaimStatus
    reason: str | None = None
    created_at: str
    updated_at: str


class RefreshView(BaseModel):
    refresh_id: str
    status: Literal["requested", "polling", "succeeded", "failed"]
    requested_at: str
    finished_at: str | None = None
    profiles: int | None = None
    revoked: int | None = None
    error: str | None = None


# -- performance ----------------------------------------------------------------------------------
class PerformanceRow(BaseModel):
    date: str | None = None
    campaign_id: str | None = None
    campaign_name: str | None = None
    ad_group_id: str | None = None
    ad_group_name: str | None = None
    spend: Money
    impressions: int
    clicks: int
    attributed_sales: Money
    attributed_orders: int


# -- write-back ------------------------------------------------------------------------------------
def _cents(value: Decimal | None) -> Decimal | None:
    if value is not None and value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise ValueError("At most two decimal places.")
    return value


class CampaignChange(StrictModel):
    daily_budget: Annotated[Decimal, Field(gt=0, le=1_000_000, strict=False)] | None = None
    status: Literal["enabled", "paused"] | None = None

    _money = field_validator("daily_budget")(_cents)

    @model_validator(mode="after")
    def _something(self) -> CampaignChange:
        if self.daily_budget is None and self.status is None:
            raise ValueError("Give daily_budget and/or status.")
        return self


class KeywordChange(StrictModel):
    bid: Annotated[Decimal, Field(ge=Decimal("0.3"), le=100, strict=False)] | None = None
    state: Literal["enabled", "paused", "archived"] | None = None

    _money = field_validator("bid")(_cents)

    @model_validator(mode="after")
    def _something(self) -> KeywordChange:
        if self.bid is None and self.state is None:
            raise ValueError("Give bid and/or state.")
        return self


class ChangeView(BaseModel):
    id: str
    account_id: str
    entity: Literal["campaign", "keyword"]
    entity_id: str
    changes: dict[str, Any]
    status: ChangeStatus
    error: str | None = None
    created_at: str
    finished_at: str | None = None


# -- records as stored (``store/advertising``; key design in ``store/keys``) --------------------------------------
# The API models above are what a tenant sees; these are the items as they are kept. Fields missing from an item
# are None (or their default): every record reads what earlier versions stored.
DiscoveryStatus = Literal["requested", "polling", "succeeded", "failed"]


class _Record(BaseModel):
    model_config = ConfigDict(extra="ignore")  # the item's keys (pk, sk, gsi1pk, gsi1sk) and type are the store's


class CompanyRecord(_Record):
    id: str
    name: str
    created_at: str


class ReportProgressRecord(_Record):
    """One report snapshot of a run: requested, polled, downloaded; ``attempts`` counts snapshot requests.

    ``offset``/``days``: where in its run's window the report's days lie, so that a window planned before Walmart's
    latest published day was known (``start``/``end`` None) is fixed when the run starts."""

    report_type: str
    offset: int | None = None  # days from the window's first day to the report's first day
    days: int | None = None  # days the report spans
    start: str | None = None
    end: str | None = None
    status: ReportStatus = "queued"
    snapshot_id: str | None = None
    requested_at: str | None = None
    attempts: int = 0
    polls: int = 0
    rows: int = 0
    skipped: int | None = None
    error: str | None = None
    finished_at: str | None = None
    # The follow-up message last known sent (``attempts/snapshot_id/polls``): a step writes its new state, sends the
    # message that state calls for, then notes it here; a redelivery that finds the state written but not this note
    # (its worker died between the write and the send) sends that message again.
    handed_off: str | None = None


class ReportRunRecord(_Record):
    """A backfill (on link) or a refresh (once Walmart publishes a new day) of a linked profile's reports, on its
    account's item. The window ends at the last day Walmart has published; None until that day is known."""

    run_id: str
    kind: Literal["backfill", "refresh"]
    advertiser_id: str
    status: RunStatus = "queued"
    days: int | None = None  # the window's length in days
    window_start: str | None = None
    window_end: str | None = None
    reports: dict[str, ReportProgressRecord] = Field(default_factory=dict)
    started_at: str
    finished_at: str | None = None
    error: str | None = None


class AccountRecord(_Record):
    id: str
    company_id: str
    name: str
    channel: Channel
    geo: str
    created_at: str
    profile_id: str | None = None  # the linked profile (advertiserId)
    linked_at: str | None = None
    backfill: ReportRunRecord | None = None
    refresh: ReportRunRecord | None = None
    refreshed_for: str | None = None  # the last day Walmart had published when a run was started for the account
    data_through: str | None = None  # last day with stored performance data

    def report_run(self, field: str) -> ReportRunRecord | None:
        """The run kept under ``field`` ("backfill" or "refresh")."""
        return {"backfill": self.backfill, "refresh": self.refresh}.get(field)


class ProfileRecord(_Record):
    """An advertiser as Walmart lists it for our partner access, the tenant it is assigned to and its link."""

    advertiser_id: str
    advertiser_name: str
    advertiser_type: AdvertiserType
    access: AccessType
    status: ProfileStatus
    status_reason: str | None = None
    granted_at: str | None = None
    seller_id: str | None = None
    seller_name: str | None = None
    organization_name: str | None = None
    spend_limit_reached: bool | None = None
    first_seen_at: str
    last_seen_at: str
    revoked_at: str | None = None
    tenant_id: str | None = None  # assigned to
    assigned_by: str | None = None  # "claim" or "operator"
    assigned_at: str | None = None
    assignment_reason: str | None = None  # why an unassigned profile waits for an operator
    linked_account_id: str | None = None
    linked_tenant_id: str | None = None
    linked_at: str | None = None


class ClaimRecord(_Record):
    tenant_id: str
    advertiser_id: str
    advertiser_name: str
    status: ClaimStatus = "waiting"
    reason: str | None = None
    created_at: str
    updated_at: str


class DiscoveryRecord(_Record):
    """The latest profile discovery run (one for the whole partner)."""

    refresh_id: str
    status: DiscoveryStatus
    requested_at: str
    trigger: str | None = None
    snapshot_id: str | None = None
    snapshot_requested_at: str | None = None
    polls: int | None = None
    finished_at: str | None = None
    profiles: int | None = None
    revoked: int | None = None
    skipped: int | None = None
    error: str | None = None
    attempts: int | None = None  # advertiser snapshots asked for in this run (None: the first)
    last_problem: str | None = None  # why the last snapshot was not used
    empty_before: bool | None = None  # the last snapshot held an empty list (a second one in a row is believed)


class ReportDatesRecord(_Record):
    """The last day Walmart has published per report type, as last read from Walmart (one for the whole partner)."""

    dates: dict[str, str] = Field(default_factory=dict)  # {reportType: yyyy-mm-dd}
    checked_at: str


class ChangeRecord(_Record):
    id: str
    account_id: str
    advertiser_id: str
    entity: Literal["campaign", "keyword"]
    entity_id: str
    changes: dict[str, Any]
    status: ChangeStatus
    error: str | None = None
    created_at: str
    finished_at: str | None = None
