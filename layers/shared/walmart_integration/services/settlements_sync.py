"""Settlements (Walmart's reconciliation reports) and returns: two more streams of the sync queue.

They run exactly like products and orders (``MarketplaceSync``: a run planned into units, one page per message,
pages processed once per key, our rate budget and Walmart's 429/5xx deferring the message, the run's progress on the
instance's ``jobs``); this class adds how their units are planned and what one page does.

Settlements (docs/walmart/FACTS.md, "Settlements"):
- the ``dates`` unit asks Walmart which reports exist (``availableReconFiles``) and registers a ``report|<id>`` unit
  for each one we do not hold final, from the instance's ``start_date`` on (a pending one at most every two hours:
  ``recon_refetch_minutes``);
- a report unit pages through ``reconFileJson`` (``noOfRecords`` rows from Walmart's ``nextOffset``) and stores every
  row at its position; after the last page it drops rows a shorter re-fetch no longer has, and writes the period:
  ``final`` by our rule (``models.settlements.is_final``), else ``pending`` and fetched again by the next run;
- the first time a period is stored final, an ``AccountingJob`` names it (sent before the period is marked, so a
  failure in between sends it again rather than never: accounting posts a settlement once).
Returns: one incremental unit over ``GET /v3/returns`` by last-modified date, like orders, with its own watermark.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from walmart_integration.config import Settings
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.instance import InstanceRecord
from walmart_integration.models.marketplace import MalformedRecord
from walmart_integration.models.messages import AccountingJob, PagedJob, SyncJob
from walmart_integration.models.returns import ReturnOrder, return_from_walmart
from walmart_integration.models.settlements import (
    SettlementPeriod,
    is_final,
    report_day,
    settlement_id_of,
    settlement_line_from_row,
    summary_of,
)
from walmart_integration.observability import logger
from walmart_integration.services.marketplace_sync import MarketplaceSync, RunOnce, _day, _parse
from walmart_integration.services.ports import (
    Catalog,
    Instances,
    MessageQueues,
    Returns,
    Runs,
    Settlements,
    SyncedData,
    WalmartCalls,
)

SETTLEMENT_STREAMS = ("settlements", "returns")
DATES_UNIT = "dates"
REPORT_UNIT_PREFIX = "report|"
RETURNS_UNIT = "returns"


class SettlementsSync(MarketplaceSync):
    """Every stream of the sync queue: products and orders (``MarketplaceSync``), settlements and returns (here)."""

    def __init__(
        self,
        settings: Settings,
        instances: Instances,
        runs: Runs,
        synced: SyncedData,
        catalog: Catalog,
        connection: WalmartCalls,
        queues: MessageQueues,
        run_once: RunOnce,
        settlements: Settlements,
        returns: Returns,
        clock: Callable[[], datetime] = utcnow,
        orders_stored: Callable[[str, str, dict[str, Any], list[dict[str, Any]]], None] | None = None,
        returns_stored: Callable[[str, str, list[ReturnOrder]], None] | None = None,
    ) -> None:
        super().__init__(settings, instances, runs, synced, catalog, connection, queues, run_once, clock, orders_stored)
        self.settlements = settlements
        self.returns = returns
        self.returns_stored = returns_stored  # accounting: returns may owe credit notes

    # -- planning ----------------------------------------------------------------------------------------------
    def _first_jobs(
        self,
        record: InstanceRecord,
        job: PagedJob,
        stream: str,
        base: dict[str, Any],
        now: datetime,
        extra: dict[str, object],
    ) -> tuple[list[PagedJob], str]:
        if stream == "settlements":
            return [SyncJob.model_validate({**base, "stream": "settlements", "unit": DATES_UNIT})], (
                self.settings.sync_queue_url
            )
        if stream == "returns":
            watermark = self.runs.watermark(job.tenant_id, job.instance_id, "returns")
            overlap = timedelta(minutes=self.settings.incremental_overlap_minutes)
            history = max(self._history_start(now), self._start_date(record))
            since = (_parse(watermark) - overlap) if watermark else history
            first = SyncJob.model_validate(
                {
                    **base,
                    "stream": "returns",
                    "unit": RETURNS_UNIT,
                    "window_start": _day(since),
                    "window_end": _day(now),
                    "created_from": _day(history),
                }
            )
            return [first], self.settings.sync_queue_url
        return super()._first_jobs(record, job, stream, base, now, extra)

    # -- one page ----------------------------------------------------------------------------------------------
    def _page(self, record: InstanceRecord, job: PagedJob, stream: str) -> None:
        if stream == "settlements":
            if job.unit == DATES_UNIT:
                self._report_dates(record, job)
            else:
                self._report_page(record, job)
        elif stream == "returns":
            self._returns_page(record, job)
        else:
            super()._page(record, job, stream)

    def _report_dates(self, record: InstanceRecord, job: PagedJob) -> None:
        """Register a unit per report to fetch (not yet held final, not before the instance's start date)."""
        dates = self._call(record, "recon", lambda client, token: client.recon_report_dates(token))
        start = self._start_date(record).date()
        wanted: dict[str, str] = {}
        for walmart_date in dates:
            day = report_day(walmart_date)
            if day is not None and day < start:
                continue
            settlement_id = settlement_id_of(walmart_date)
            held = self.settlements.period(job.tenant_id, job.instance_id, settlement_id)
            if held is None or (held.status == "pending" and not self._fetched_recently(held)):
                wanted[settlement_id] = walmart_date
        units = [f"{REPORT_UNIT_PREFIX}{settlement_id}" for settlement_id in sorted(wanted)]
        if units:  # registered before the dates unit is done: never a moment in which the run looks complete
            self.runs.plan(job.tenant_id, job.instance_id, "settlements", job.run_id, units)
            reports = [
                job.model_copy(
                    update={"unit": unit, "page": 0, "report_date": wanted[unit.removeprefix(REPORT_UNIT_PREFIX)]}
                )
                for unit in units
            ]
            self.queues.send_many(self.settings.sync_queue_url, list(reports))
        logger.info("Settlement reports found", extra={"available": len(dates), "to_fetch": len(units)})
        self._finish_page(record, job, "settlements", None, 0, [], 0)

    def _fetched_recently(self, period: SettlementPeriod) -> bool:
        """Fetched within ``recon_refetch_minutes``: Walmart recommends not retrieving a report "more frequently than
        once every two hours" (docs/walmart/specs/marketplace__reports.openapi.yml, getReconReportV1)."""
        if not period.fetched_at:
            return False
        age = self.clock() - _parse(period.fetched_at)
        return age < timedelta(minutes=self.settings.recon_refetch_minutes)

    def _report_page(self, record: InstanceRecord, job: PagedJob) -> None:
        """Store one page of a report's rows at their positions; after the last one, write the period."""
        settlement_id = str(job.unit).removeprefix(REPORT_UNIT_PREFIX)
        report_date = str(job.report_date)
        rows_per_page = self.settings.recon_rows_per_page
        offset = int(job.cursor or 0)
        page = self._call(
            record, "recon", lambda client, token: client.recon_report_page(token, report_date, offset, rows_per_page)
        )
        lines = [settlement_line_from_row(settlement_id, job.offset + i, row) for i, row in enumerate(page.rows)]
        written = self.settlements.put_lines(job.tenant_id, job.instance_id, lines)
        summary = job.period_summary
        total = job.lines_total or Decimal("0")
        for line in lines:
            if line.is_payment_summary:
                summary = summary_of(line)
            elif line.amount is not None:
                total += line.amount
        count = job.offset + len(lines)
        if page.next_offset is not None:
            following = {
                "cursor": str(page.next_offset),
                "offset": count,
                "lines_total": total,
                "period_summary": summary,
            }
            self._finish_page(record, job, "settlements", None, len(lines), [], written, continuation=following)
            return
        self.settlements.trim_lines(job.tenant_id, job.instance_id, settlement_id, count)
        today = self.clock().date()
        final = is_final(summary, today)
        period = SettlementPeriod(
            settlement_id=settlement_id,
            report_date=report_date,
            status="final" if final else "pending",
            period_start=summary.period_start if summary else None,
            period_end=summary.period_end if summary else None,
            deposit=summary.deposit if summary else None,
            currency=summary.currency if summary else None,
            line_count=count,
            lines_total=total,
            fetched_at=iso(self.clock()),
        )
        self.settlements.save_period(job.tenant_id, job.instance_id, period)
        if final:
            self._tell_accounting(job, settlement_id)
        logger.info(
            "Settlement report stored",
            extra={"settlement_id": settlement_id, "lines": count, "status": period.status},
        )
        self._finish_page(record, job, "settlements", None, len(lines), [], written)

    def _tell_accounting(self, job: PagedJob, settlement_id: str) -> None:
        """An AccountingJob naming a period stored final, the first time only (see the module's docstring)."""
        held = self.settlements.period(job.tenant_id, job.instance_id, settlement_id)
        if held is not None and held.finalised_at is not None:
            return
        message = AccountingJob(tenant_id=job.tenant_id, instance_id=job.instance_id, settlement_ids=[settlement_id])
        self.queues.send(self.settings.accounting_queue_url, message)
        self.settlements.mark_finalised(job.tenant_id, job.instance_id, settlement_id, iso(self.clock()) or "")

    def _returns_page(self, record: InstanceRecord, job: PagedJob) -> None:
        """One page of ``GET /v3/returns`` modified since the watermark (minus an overlap), created since the history
        start (Walmart's default creation window is not documented: we always say it, as for orders)."""
        params: dict[str, Any] | None = None
        if not job.cursor:
            params = {
                "limit": self.settings.returns_page_size,
                "returnCreationStartDate": job.created_from,
                "returnLastModifiedStartDate": job.window_start,
                "returnLastModifiedEndDate": job.window_end,
            }
        page = self._call(
            record, "returns", lambda client, token: client.returns_page(token, params=params, cursor=job.cursor)
        )
        parsed: list[ReturnOrder] = []
        malformed: list[MalformedRecord] = []
        for raw in page.returns:
            try:
                parsed.append(return_from_walmart(raw))
            except MalformedRecord as error:
                malformed.append(error)
        written = self.returns.upsert_changed(job.tenant_id, job.instance_id, parsed, iso(self.clock()) or "")
        if self.returns_stored is not None and parsed:
            self.returns_stored(job.tenant_id, job.instance_id, parsed)
        next_cursor = page.next_cursor if page.returns else None  # an empty page with a cursor would loop
        self._finish_page(record, job, "returns", next_cursor, len(parsed), malformed, written)
