"""Advertising performance of linked profiles: the backfill on link, then a refresh each time Walmart publishes a day.

Report days exist only once Walmart publishes them: a report whose end date is not published yet fails. So every
window ends at the last day Walmart says it has published (GET /api/v2/latestReportDate, per report type; the
earliest over the types we pull), never at "our yesterday": Walmart's days are not UTC days and are published
hours after they end (docs/walmart/FACTS.md, "Checked behaviours — Walmart Connect"). Those dates are cached in the
app table (``ReportAvailability``); a backfill planned before they are known fixes its window when it starts.

The scheduler (every 15 minutes) starts a refresh once Walmart has published a day past the last one we asked for
(the discovery run, every 15 minutes too, asks Walmart which day that is):
the trailing days Walmart restates and every day the account missed (after a revocation, say), up to Walmart's 90
days. A run stopped because the advertiser withdrew access resumes by itself once access is granted again.

A run asks Walmart for one report snapshot per report type covering its whole window (split only past the 62 days
one snapshot may span), polls each through SQS delays (no sleeping Lambda), then streams the gzip CSV and stores one
item per day and entity: a re-pull overwrites the same keys, so nothing is ever counted twice. Every step is
guarded by the run id and the report's state on the account item, so duplicate deliveries and replaced runs are
dropped.

A step writes the report's new state, then sends the message that state calls for (the next poll, the request
again), then notes that message as handed off (``handed_off``). A worker may die between any two of these (the
local chaos kills right after DynamoDB writes; a Lambda may time out): its message comes again, finds the state it
would write already written, and sends the follow-up again unless it is noted as sent. Likewise a report found
finished ends its run if the worker that finished it died before doing so. So no run is left waiting for a message
nobody sent.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.advertising import (
    AccountRecord,
    ReportDatesRecord,
    ReportProgressRecord,
    ReportRunRecord,
)
from walmart_integration.models.common import iso, new_id, utcnow
from walmart_integration.models.messages import AdsReportJob
from walmart_integration.observability import logger
from walmart_integration.services.connect_gateway import ConnectGateway, poll_delay
from walmart_integration.store import keys
from walmart_integration.store.advertising import AdvertisingRepository, PerformanceRepository
from walmart_integration.store.queues import Queues
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartUnavailable

if TYPE_CHECKING:
    from walmart_integration.worker import Delivery

# The reportMetrics we ask for: only names Walmart lists for each report type (an unlisted one fails the snapshot).
# adGroup: Walmart's "Eligible Metrics and Dimensions by Report Type" (adGroupId, campaignId, date; adSpend,
# numAdsShown, numAdsClicks, attributedSales14days, attributedOrders14days ...): no names, which come from the
# campaign and ad group lists instead. keyword: the keyword report has its own columns, as in Walmart's "Sample
# Request 1 for report type Keyword": biddedKeyword (there is no keywordText) and its sales in three parts.
# Sources: docs/walmart/FACTS.md "Checked behaviours — Walmart Connect"; the spec's ReportSnapshotRequestV2.
KEYWORD_SALES = ("directAttributedSales14days", "brandAttributedSales14days", "relatedAttributedSales14days")
REPORT_METRICS: dict[str, list[str]] = {
    "adGroup": [
        "date",
        "campaignId",
        "adGroupId",
        "adSpend",
        "numAdsShown",
        "numAdsClicks",
        "attributedSales14days",
        "attributedOrders14days",
    ],
    "keyword": [
        "date",
        "campaignId",
        "adGroupId",
        "keywordId",
        "biddedKeyword",
        "matchType",
        "adSpend",
        "numAdsShown",
        "numAdsClicks",
        *KEYWORD_SALES,
        "attributedOrders14days",
    ],
}
# Walmart serves report days of the last 90 days (spec ReportSnapshotRequestV2.reportDate: "for the last 90 days").
REPORT_DAYS_SERVED = 90
ACTIVE_RUN = ("queued", "running")
DEAD_RUN_HOURS = 12  # a run still "in progress" after this long lost its messages (a dead-letter queue): replaced
SNAPSHOT_ATTEMPTS = 3  # a snapshot Walmart reports failed/expired is requested again, this many times in all
WRITE_CHUNK = 500
CENT = Decimal("0.01")


class MalformedRow(ValueError):
    pass


def _decimal(raw: dict[str, str], name: str) -> Decimal:
    return Decimal((raw.get(name) or "0").strip() or "0")


def _count(raw: dict[str, str], name: str) -> int:
    return int(_decimal(raw, name))


def report_row(
    report_type: str, raw: dict[str, str], run_id: str, names: dict[str, str] | None = None
) -> dict[str, Any]:
    """A CSV row (read by column name) as the stored item; MalformedRow when it cannot be.

    ``names``: campaign and ad group names by id (Walmart's report rows carry ids only)."""
    names = names or {}
    try:
        day = date.fromisoformat((raw.get("date") or "").strip()[:10]).isoformat()
        campaign = str(int((raw.get("campaignId") or "").strip()))
        ad_group = str(int((raw.get("adGroupId") or "").strip()))
        keyword = str(int((raw.get("keywordId") or "").strip())) if report_type == "keyword" else None
        row: dict[str, Any] = {
            "date": day,
            "campaign_id": campaign,
            "campaign_name": names.get(f"campaign:{campaign}"),
            "ad_group_id": ad_group,
            "ad_group_name": names.get(f"adGroup:{ad_group}"),
            "spend": _decimal(raw, "adSpend"),
            "impressions": _count(raw, "numAdsShown"),
            "clicks": _count(raw, "numAdsClicks"),
            "attributed_orders": _count(raw, "attributedOrders14days"),
            "run_id": run_id,
        }
        if keyword is None:
            row["attributed_sales"] = _decimal(raw, "attributedSales14days")
        else:
            direct, brand, related = (_decimal(raw, name) for name in KEYWORD_SALES)
            row.update(direct_attributed_sales=direct, brand_attributed_sales=brand, related_attributed_sales=related)
    except (ValueError, InvalidOperation, TypeError) as error:
        raise MalformedRow(str(error)) from error
    row["sk"] = keys.performance_sk(day, campaign, ad_group, keyword)
    if keyword is not None:
        row.update(
            keyword_id=keyword,
            keyword_text=(raw.get("biddedKeyword") or "").strip() or None,
            match_type=(raw.get("matchType") or "").strip() or None,
        )
    return row


def _span(start: date | None, offset: int, days: int) -> tuple[str, str] | None:
    """(first, last) day of a report covering ``days`` days from ``offset`` days after ``start``."""
    if start is None:
        return None
    first = start + timedelta(days=offset)
    return first.isoformat(), (first + timedelta(days=days - 1)).isoformat()


def _published(record: ReportDatesRecord | None) -> dict[str, date]:
    return {kind: date.fromisoformat(day) for kind, day in record.dates.items()} if record is not None else {}


def _handoff_id(attempts: int, job: AdsReportJob) -> str:
    """Which follow-up message a report's state calls for: the snapshot attempt, the snapshot and the poll."""
    return f"{attempts}/{job.snapshot_id or '-'}/{job.polls}"


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class ReportAvailability:
    """The last day Walmart has published, per report type: asked of Walmart (GET /api/v2/latestReportDate, one
    operation) by every discovery run (every 15 minutes) and by a run starting with stale knowledge, kept in the
    app table for the scheduler and the API."""

    def __init__(
        self,
        settings: Settings,
        repo: AdvertisingRepository,
        gateway: ConnectGateway,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.gateway = gateway
        self.clock = clock

    def known(self) -> dict[str, date]:
        """What we last heard from Walmart (no call; empty when never asked): a safe bound, it only grows."""
        return _published(self.repo.report_dates())

    def latest(self, max_age_seconds: float | None = None) -> dict[str, date]:
        """Walmart's latest published day per report type, asked again when what we hold is older than
        ``max_age_seconds`` (default ``ads_report_dates_max_age_seconds``; 0: ask now)."""
        max_age = self.settings.ads_report_dates_max_age_seconds if max_age_seconds is None else max_age_seconds
        held = self.repo.report_dates()
        fresh_since = iso(self.clock() - timedelta(seconds=max_age)) or ""
        if max_age > 0 and held is not None and held.dates and held.checked_at >= fresh_since:
            return _published(held)
        dates = self.gateway.call(lambda c: c.latest_report_dates(), what="latest report dates")
        self.repo.save_report_dates(
            ReportDatesRecord(
                dates={kind: day.isoformat() for kind, day in dates.items()}, checked_at=iso(self.clock()) or ""
            )
        )
        return dates

    def through(self, dates: dict[str, date]) -> date | None:
        """The last day published for every report type we pull (a type Walmart does not name: its earliest)."""
        if not dates:
            return None
        earliest = min(dates.values())
        return min(dates.get(kind, earliest) for kind in self.settings.ads_report_type_list)


class AdsReports:
    def __init__(
        self,
        settings: Settings,
        repo: AdvertisingRepository,
        performance: PerformanceRepository,
        gateway: ConnectGateway,
        queues: Queues,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.settings = settings
        self.repo = repo
        self.performance = performance
        self.gateway = gateway
        self.queues = queues
        self.clock = clock
        self.availability = ReportAvailability(settings, repo, gateway, clock)

    # -- planning -----------------------------------------------------------------------------------------
    def plan(
        self,
        tenant_id: str,
        account_id: str,
        advertiser_id: str,
        kind: Literal["backfill", "refresh"],
        through: date | None,
        days: int | None = None,
    ) -> tuple[ReportRunRecord, list[AdsReportJob]]:
        """A run of ``days`` days (default: the backfill or the trailing window) ending at ``through``, Walmart's
        latest published day, and its first jobs, one per report snapshot. ``through`` None: not known yet, the
        window is fixed when the run starts (``_resolve``)."""
        if days is None:
            days = self.settings.ads_backfill_days if kind == "backfill" else self.settings.ads_refresh_trailing_days
        parts: list[tuple[int, int]] = []  # (first day's offset in the window, days) per snapshot
        offset = 0
        while offset < days:
            length = min(days - offset, self.settings.ads_report_max_days)
            parts.append((offset, length))
            offset += length
        start = through - timedelta(days=days - 1) if through else None
        run_id = new_id()
        reports: dict[str, ReportProgressRecord] = {}
        jobs: list[AdsReportJob] = []
        for report_type in self.settings.ads_report_type_list:
            for index, (first, length) in enumerate(parts):
                key = report_type if len(parts) == 1 else f"{report_type}-{index + 1}"
                span = _span(start, first, length)
                reports[key] = ReportProgressRecord(
                    report_type=report_type,
                    offset=first,
                    days=length,
                    start=span[0] if span else None,
                    end=span[1] if span else None,
                    status="queued",
                    polls=0,
                    rows=0,
                    attempts=0,
                )
                jobs.append(
                    AdsReportJob(
                        tenant_id=tenant_id,
                        account_id=account_id,
                        advertiser_id=advertiser_id,
                        run_id=run_id,
                        key=key,
                        report_type=report_type,
                        start=span[0] if span else None,
                        end=span[1] if span else None,
                    )
                )
        run = ReportRunRecord(
            run_id=run_id,
            kind=kind,
            advertiser_id=advertiser_id,
            status="queued",
            days=days,
            window_start=start.isoformat() if start else None,
            window_end=through.isoformat() if through else None,
            reports=reports,
            started_at=iso(self.clock()) or "",
        )
        return run, jobs

    def enqueue(self, jobs: list[AdsReportJob]) -> None:
        self.queues.send_many(self.settings.ads_report_queue_url, list(jobs))

    def schedule_refreshes(self) -> int:
        """Every 15 minutes: start a run for every linked, active account that is behind the last day Walmart has
        published (as the discovery run, every 15 minutes too, last heard it), or whose run stopped while access
        was withdrawn. The number started. (No Walmart call here: the scheduler holds no partner credentials.)"""
        through = self.availability.through(self.availability.known())
        if through is None:
            return 0  # Walmart has not told us of any published day yet
        started = 0
        for tenant_id, account in self.repo.linked_accounts():
            planned = self._catch_up(account, through)
            if planned is None:
                continue
            field, days, dead = planned
            profile_id = str(account.profile_id)
            run, jobs = self.plan(tenant_id, account.id, profile_id, field, through, days)
            seen = account.refreshed_for
            if self.repo.start_run(tenant_id, account.id, field, run, through.isoformat(), seen, replaces=dead):
                self.enqueue(jobs)
                started += 1
        if started:
            logger.info("Advertising runs scheduled", extra={"accounts": started, "through": str(through)})
        return started

    def _catch_up(
        self, account: AccountRecord, through: date
    ) -> tuple[Literal["backfill", "refresh"], int, str | None] | None:
        """(field, days, id of a dead run it replaces) of the run an account needs now that Walmart has published
        ``through``, or None."""
        backfill, refresh = account.backfill, account.refresh
        dead_before = iso(self.clock() - timedelta(hours=DEAD_RUN_HOURS)) or ""
        active = [run for run in (backfill, refresh) if run is not None and run.status in ACTIVE_RUN]
        if any(run.started_at >= dead_before for run in active):
            return None  # one run at a time
        profile = self.repo.get_profile(str(account.profile_id))
        if profile is None or profile.status != "active":
            return None
        field: Literal["backfill", "refresh"] = (
            "refresh" if backfill is not None and backfill.status == "succeeded" else "backfill"
        )
        current = account.report_run(field)
        dead = current.run_id if current is not None and current.status in ACTIVE_RUN else None
        stopped = current is not None and current.status == "stopped"  # access was withdrawn meanwhile
        if not stopped and not dead and (account.refreshed_for or "") >= through.isoformat():
            return None  # nothing published since the last run started
        if field == "backfill":
            return field, self.settings.ads_backfill_days, dead
        held = account.data_through
        first = through - timedelta(days=self.settings.ads_refresh_trailing_days - 1)  # the days Walmart restates
        if held:
            first = min(first, date.fromisoformat(held) + timedelta(days=1))  # and every day missed
        first = max(first, through - timedelta(days=REPORT_DAYS_SERVED - 1))
        return field, (through - first).days + 1, dead

    # -- one step of one report ------------------------------------------------------------------------------
    def step(self, job: AdsReportJob, delivery: Delivery) -> None:
        account = self.repo.get_account(job.tenant_id, job.account_id)
        field = self._field(account, job)
        run = account.report_run(field) if account is not None and field is not None else None
        if run is None or field is None:
            logger.info("Stale report message dropped", extra={"run_id": job.run_id, "key": job.key})
            return
        # A report the run does not list is treated as queued, as it would be when just planned.
        report = run.reports.get(job.key) or ReportProgressRecord(
            report_type=job.report_type, start=job.start, end=job.end
        )
        if run.status not in ACTIVE_RUN:
            return
        if report.status in ("succeeded", "failed"):
            # A duplicate, or the redelivery of the step that finished the report and died before ending the run.
            assert account is not None
            self._finish_if_complete(job, field, account)
            return
        profile = self.repo.get_profile(job.advertiser_id)
        if profile is None or profile.status != "active":
            reason = (profile.status_reason if profile else None) or "The advertising profile is no longer available."
            self.repo.finish_run(
                job.tenant_id,
                job.account_id,
                field,
                job.run_id,
                {"status": "stopped", "finished_at": iso(self.clock()), "error": reason},
            )
            return
        try:
            if not report.end:
                resolved = self._resolve(job, field, run)
                if resolved is None:
                    logger.info("Stale report message dropped", extra={"run_id": job.run_id, "key": job.key})
                    return
                report = resolved
            if job.snapshot_id is None:
                self._request(job, field, report)
            else:
                self._poll(job, field, report)
        except WalmartUnavailable as error:
            if delivery.is_last_attempt:
                self._report_failed(job, field, f"Walmart Connect unavailable: {error.message}")
                return
            raise RetryLater(error.message) from error
        except WalmartAuthError as error:
            # Walmart refuses the advertiser (403: access withdrawn, or our credentials): the run stops, and the
            # scheduler resumes it once the profile is active again.
            self._stop(job, field, f"Walmart Connect refused access: {error.message}")
        except WalmartError as error:
            self._report_failed(job, field, f"Walmart Connect refused the report: {error.message}")

    def _resolve(self, job: AdsReportJob, field: str, run: ReportRunRecord) -> ReportProgressRecord | None:
        """Fix a run's window now that it starts: it ends at Walmart's latest published day. The report, or None
        when the run was replaced meanwhile."""
        through = self.availability.through(self.availability.latest())
        if through is None:
            # A wait, not a failure: it does not count towards the dead-letter queue.
            raise RetryLater(
                "Walmart has published no report day yet", self.settings.ads_throttle_seconds, throttled=True
            )
        days = run.days or self.settings.ads_backfill_days
        start = through - timedelta(days=days - 1)
        spans: dict[str, tuple[str, str]] = {}
        for key, planned in run.reports.items():
            first = start + timedelta(days=planned.offset or 0)
            spans[key] = first.isoformat(), (first + timedelta(days=(planned.days or days) - 1)).isoformat()
        window = (start.isoformat(), through.isoformat())
        self.repo.resolve_window(job.tenant_id, job.account_id, field, job.run_id, window, spans)
        account = self.repo.get_account(job.tenant_id, job.account_id)
        current = account.report_run(field) if account is not None else None
        if current is None or current.run_id != job.run_id:
            return None
        return current.reports.get(job.key)

    def _stop(self, job: AdsReportJob, field: str, reason: str) -> None:
        logger.warning("Advertising run stopped", extra={"run_id": job.run_id, "report": job.key, "reason": reason})
        self.repo.finish_run(
            job.tenant_id,
            job.account_id,
            field,
            job.run_id,
            {"status": "stopped", "finished_at": iso(self.clock()), "error": reason},
        )

    def _field(self, account: AccountRecord | None, job: AdsReportJob) -> str | None:
        if account is None or str(account.profile_id) != job.advertiser_id:
            return None
        for field in ("backfill", "refresh"):
            run = account.report_run(field)
            if run is not None and run.run_id == job.run_id:
                return field
        return None

    def _request(self, job: AdsReportJob, field: str, report: ReportProgressRecord) -> None:
        if report.snapshot_id:
            # A request that went through: its poll chain runs, unless the worker died before sending its first poll.
            if report.status == "requested" and report.polls == 0:
                first_poll = job.model_copy(update={"snapshot_id": report.snapshot_id, "polls": 0})
                self._resend(job, field, report, first_poll, poll_delay(self.settings, 0))
            return
        metrics = REPORT_METRICS.get(job.report_type) or REPORT_METRICS["adGroup"]
        start, end = date.fromisoformat(str(report.start)), date.fromisoformat(str(report.end))
        snapshot = self.gateway.call(
            lambda c: c.request_report_snapshot(job.advertiser_id, job.report_type, metrics, start, end),
            what="report snapshot",
        )
        saved = self.repo.update_report(
            job.tenant_id,
            job.account_id,
            field,
            job.run_id,
            job.key,
            {
                "status": "requested",
                "snapshot_id": snapshot.snapshot_id,
                "requested_at": iso(self.clock()),
                "attempts": report.attempts + 1,
                "polls": 0,
            },
        )
        if saved is not None:
            next_job = job.model_copy(update={"snapshot_id": snapshot.snapshot_id, "polls": 0})
            self._hand_off(job, field, report.attempts + 1, next_job, poll_delay(self.settings, 0))

    def _poll(self, job: AdsReportJob, field: str, report: ReportProgressRecord) -> None:
        if report.snapshot_id != job.snapshot_id or report.polls != job.polls:
            self._poll_written(job, field, report)
            return
        snapshot_id = job.snapshot_id or ""
        snapshot = self.gateway.call(lambda c: c.report_snapshot(job.advertiser_id, snapshot_id), what="report poll")
        if snapshot.is_failed:
            if report.attempts >= SNAPSHOT_ATTEMPTS:
                self._report_failed(job, field, f"Walmart's report snapshot ended {snapshot.job_status}")
                return
            saved = self.repo.update_report(
                job.tenant_id, job.account_id, field, job.run_id, job.key, {"snapshot_id": None, "status": "queued"}
            )
            if saved is not None:
                retry = job.model_copy(update={"snapshot_id": None, "polls": 0})
                self._hand_off(job, field, report.attempts, retry, poll_delay(self.settings, 0))
            return
        if not snapshot.is_done:
            polls = job.polls + 1
            saved = self.repo.update_report(job.tenant_id, job.account_id, field, job.run_id, job.key, {"polls": polls})
            if saved is not None:
                next_job = job.model_copy(update={"polls": polls})
                self._hand_off(job, field, report.attempts, next_job, poll_delay(self.settings, polls))
            return
        names = self._names(job) if job.report_type == "adGroup" else {}
        stored, skipped = self.gateway.call(
            lambda c: self._store(c, snapshot.details, job, names), what="report download"
        )
        account = self.repo.update_report(
            job.tenant_id,
            job.account_id,
            field,
            job.run_id,
            job.key,
            {"status": "succeeded", "rows": stored, "skipped": skipped, "finished_at": iso(self.clock())},
        )
        logger.info(
            "Report stored",
            extra={"advertiser_id": job.advertiser_id, "report": job.key, "rows": stored, "skipped": skipped},
        )
        if account is not None:
            self._finish_if_complete(job, field, account)

    def _poll_written(self, job: AdsReportJob, field: str, report: ReportProgressRecord) -> None:
        """A poll whose report has moved on: a duplicate of a poll chain that goes on (dropped), or this poll
        delivered again after its write went through and its worker died before sending what follows (sent now)."""
        if job.snapshot_id is None:
            return
        if report.snapshot_id == job.snapshot_id and report.status == "requested" and report.polls == job.polls + 1:
            next_job = job.model_copy(update={"polls": report.polls})
            self._resend(job, field, report, next_job, poll_delay(self.settings, report.polls))
        elif report.snapshot_id is None and report.status == "queued" and report.attempts > 0:
            retry = job.model_copy(update={"snapshot_id": None, "polls": 0})  # the failed snapshot asked for again
            self._resend(job, field, report, retry, poll_delay(self.settings, 0))

    def _hand_off(self, job: AdsReportJob, field: str, attempts: int, next_job: AdsReportJob, delay: float) -> None:
        """Send the message the report's new state (just written) calls for, then note it as sent."""
        self.queues.send(self.settings.ads_report_queue_url, next_job, delay)
        handed_off = {"handed_off": _handoff_id(attempts, next_job)}
        self.repo.update_report(job.tenant_id, job.account_id, field, job.run_id, job.key, handed_off)

    def _resend(
        self, job: AdsReportJob, field: str, report: ReportProgressRecord, next_job: AdsReportJob, delay: float
    ) -> None:
        """The report's state calls for ``next_job``: send it unless it is noted as sent (a duplicate delivery)."""
        if report.handed_off == _handoff_id(report.attempts, next_job):
            return
        logger.info("Report step's follow-up sent again", extra={"report": job.key, "polls": next_job.polls})
        self._hand_off(job, field, report.attempts, next_job, delay)

    def _names(self, job: AdsReportJob) -> dict[str, str]:
        """Campaign and ad group names of the advertiser (two list calls): the report rows carry ids only."""
        advertiser_id = job.advertiser_id
        campaigns = self.gateway.call(lambda c: c.campaign_names(advertiser_id), what="campaign names")
        ad_groups = self.gateway.call(lambda c: c.ad_group_names(advertiser_id), what="ad group names")
        return {
            **{f"campaign:{key}": name for key, name in campaigns.items()},
            **{f"adGroup:{key}": name for key, name in ad_groups.items()},
        }

    def _store(self, client: Any, url: str, job: AdsReportJob, names: dict[str, str]) -> tuple[int, int]:
        stored = skipped = 0

        def parsed(rows: Iterable[dict[str, str]]) -> Iterator[dict[str, Any]]:
            nonlocal skipped
            for raw in rows:
                try:
                    yield report_row(job.report_type, raw, job.run_id, names)
                except MalformedRow:
                    skipped += 1

        with client.report_rows(url) as rows:
            for chunk in _chunks(parsed(rows), WRITE_CHUNK):
                stored += self.performance.put_rows(job.advertiser_id, job.report_type, chunk)
        return stored, skipped

    def _report_failed(self, job: AdsReportJob, field: str, message: str) -> None:
        logger.warning("Report failed", extra={"report": job.key, "reason": message})
        values = {"status": "failed", "error": message, "finished_at": iso(self.clock())}
        account = self.repo.update_report(job.tenant_id, job.account_id, field, job.run_id, job.key, values)
        if account is not None:
            self._finish_if_complete(job, field, account)

    def _finish_if_complete(self, job: AdsReportJob, field: str, account: AccountRecord) -> None:
        run = account.report_run(field)
        if run is None:
            return
        statuses = [report.status for report in run.reports.values()]
        if any(status not in ("succeeded", "failed") for status in statuses):
            return
        failed = [key for key, report in run.reports.items() if report.status == "failed"]
        values: dict[str, Any] = {"finished_at": iso(self.clock())}
        if failed:
            values.update(status="failed", error=f"Reports failed: {', '.join(sorted(failed))}")
        else:
            values["status"] = "succeeded"
            through = str(run.window_end)  # fixed before the first report was requested
            if through > str(account.data_through or ""):
                values["data_through"] = through
        if self.repo.finish_run(job.tenant_id, job.account_id, field, job.run_id, values):
            logger.info(
                "Advertising run finished", extra={"run_id": job.run_id, "kind": field, "status": values["status"]}
            )
