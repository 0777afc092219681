"""Queue messages. Every message names its tenant and instance; workers re-read the instance."""

from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict

from walmart_integration.models.settlements import PeriodSummary

SyncStream = Literal["products", "orders", "settlements", "returns"]
# The streams of the sync queue, each a run of its own: started by the first sync after connecting, by every automatic
# incremental sync and by ``POST .../sync`` without ``streams``.
SYNC_STREAMS: tuple[SyncStream, ...] = ("products", "orders", "settlements", "returns")


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


class PagedJob(_ConnectionJob):
    """One step of a run. Without ``unit`` it plans the run; with one it fetches page ``page`` of it.

    Orders: ``cursor`` is Walmart's nextCursor, appended verbatim; the first page of a unit is built
    from ``window_start``/``window_end``/``created_from`` and ``ship_node_type``.
    Products: ``cursor`` is Walmart's items cursor and ``offset`` the position of the page; ``restarts`` counts
    listings started again from ``*`` after an expired cursor. The ``item-report`` unit lists a catalogue through
    Walmart's ITEM report: ``report_request_id`` once requested, ``polls`` made, ``report_ready`` once READY (then
    ``offset`` is the first row of the page), ``restarts`` the requests that ended in ERROR.
    Settlements: the ``report|<settlement id>`` unit pages through Walmart's reconciliation report of ``report_date``
    (as Walmart spells it): ``cursor`` is Walmart's ``nextOffset``, ``offset`` the position of the page's first row,
    ``lines_total`` the sum of the amounts stored so far and ``period_summary`` the PaymentSummary row once seen.
    """

    unit: str | None = None
    page: int = 0
    cursor: str | None = None
    offset: int = 0
    restarts: int = 0
    report_request_id: str | None = None
    report_ready: bool = False
    polls: int = 0
    ship_node_type: str | None = None
    window_start: str | None = None
    window_end: str | None = None
    created_from: str | None = None
    report_date: str | None = None
    lines_total: Decimal | None = None
    period_summary: PeriodSummary | None = None


class SyncJob(PagedJob):
    stream: SyncStream


class BackfillJob(PagedJob):
    stream: Literal["backfill"] = "backfill"


# -- Walmart Connect (advertising) ------------------------------------------------------------------
class _AdsMessage(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class ProfileRefreshJob(_AdsMessage):
    """One step of a discovery run: request the insight snapshot (no ``snapshot_id``), or poll it."""

    refresh_id: str
    snapshot_id: str | None = None
    polls: int = 0


class AdsReportJob(_AdsMessage):
    """One report snapshot of a linked profile's run: request it (no ``snapshot_id``), poll it, store its rows.

    ``key`` names the report in the run (``<reportType>`` or ``<reportType>#<n>`` when the window is split).
    """

    tenant_id: str
    account_id: str
    advertiser_id: str
    run_id: str
    key: str
    report_type: str
    start: str | None = None  # the report's days are read from the run (they may be fixed after planning)
    end: str | None = None
    snapshot_id: str | None = None
    polls: int = 0


class AdsChangeJob(_AdsMessage):
    """Send one queued campaign/keyword change to Walmart."""

    tenant_id: str
    account_id: str
    change_id: str


class AccountingJob(_AdsMessage):
    """Evaluate orders of an instance for accounting documents (``release``: also every order with held lines).

    ``settlement_ids``: settlement periods that became final with every line stored
    (``SettlementPeriod.settlement_id``), for accounting to post."""

    tenant_id: str
    instance_id: str
    purchase_order_ids: list[str] = []
    release: bool = False
    settlement_ids: list[str] = []
