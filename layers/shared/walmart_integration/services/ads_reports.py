"""Advertising performance of linked profiles: the backfill on link and the daily trailing refresh.

A run asks Walmart for one report snapshot per report type covering its whole window (split only past the 62 days
one snapshot may span), polls each through SQS delays (no sleeping Lambda), then streams the gzip CSV and stores one
item per day and entity: a re-pull overwrites the same keys, so nothing is ever counted twice. Every step is
guarded by the run id and the report's state on the account item, so duplicate deliveries and replaced runs are
dropped.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from itertools import islice
from typing import TYPE_CHECKING, Any, Literal

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.advertising import AccountRecord, ReportProgressRecord, ReportRunRecord
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

COMMON_METRICS = ["date", "campaignId", "campaignName", "adGroupId", "adGroupName"]
VALUE_METRICS = ["adSpend", "numAdsShown", "numAdsClicks", "attributedSales14days", "attributedOrders14days"]
REPORT_METRICS: dict[str, list[str]] = {
    "adGroup": COMMON_METRICS + VALUE_METRICS,
    "keyword": [*COMMON_METRICS, "keywordId", "keywordText", "matchType", *VALUE_METRICS],
}
SNAPSHOT_ATTEMPTS = 3  # a snapshot Walmart reports failed/expired is requested again, this many times in all
WRITE_CHUNK = 500
CENT = Decimal("0.01")


class MalformedRow(ValueError):
    pass


def report_row(report_type: str, raw: dict[str, str], run_id: str) -> dict[str, Any]:
    """A CSV row (read by column name) as the stored item; MalformedRow when it cannot be."""
    try:
        day = date.fromisoformat((raw.get("date") or "").strip()[:10]).isoformat()
        campaign = str(int((raw.get("campaignId") or "").strip()))
        ad_group = str(int((raw.get("adGroupId") or "").strip()))
        keyword = str(int((raw.get("keywordId") or "").strip())) if report_type == "keyword" else None
        row: dict[str, Any] = {
            "date": day,
            "campaign_id": campaign,
            "campaign_name": (raw.get("campaignName") or "").strip() or None,
            "ad_group_id": ad_group,
            "ad_group_name": (raw.get("adGroupName") or "").strip() or None,
            "spend": Decimal((raw.get("adSpend") or "0").strip() or "0"),
            "impressions": int(Decimal((raw.get("numAdsShown") or "0").strip() or "0")),
            "clicks": int(Decimal((raw.get("numAdsClicks") or "0").strip() or "0")),
            "attributed_sales": Decimal((raw.get("attributedSales14days") or "0").strip() or "0"),
            "attributed_orders": int(Decimal((raw.get("attributedOrders14days") or "0").strip() or "0")),
            "run_id": run_id,
        }
    except (ValueError, InvalidOperation, TypeError) as error:
        raise MalformedRow(str(error)) from error
    row["sk"] = keys.performance_sk(day, campaign, ad_group, keyword)
    if keyword is not None:
        row.update(
            keyword_id=keyword,
            keyword_text=(raw.get("keywordText") or "").strip() or None,
            match_type=(raw.get("matchType") or "").strip() or None,
        )
    return row


def _chunks(rows: Iterable[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


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

    # -- planning -----------------------------------------------------------------------------------------
    def plan(
        self, tenant_id: str, account_id: str, advertiser_id: str, kind: Literal["backfill", "refresh"]
    ) -> tuple[ReportRunRecord, list[AdsReportJob]]:
        """A run over the backfill window (or the trailing window) and its first jobs, one per report snapshot."""
        today = self.clock().date()
        end = today - timedelta(days=1)  # Walmart serves up to yesterday
        days = self.settings.ads_backfill_days if kind == "backfill" else self.settings.ads_refresh_trailing_days
        start = end - timedelta(days=days - 1)
        windows: list[tuple[date, date]] = []
        cursor = start
        while cursor <= end:
            last = min(end, cursor + timedelta(days=self.settings.ads_report_max_days - 1))
            windows.append((cursor, last))
            cursor = last + timedelta(days=1)
        run_id = new_id()
        reports: dict[str, ReportProgressRecord] = {}
        jobs: list[AdsReportJob] = []
        for report_type in self.settings.ads_report_type_list:
            for index, (first, last) in enumerate(windows):
                key = report_type if len(windows) == 1 else f"{report_type}-{index + 1}"
                reports[key] = ReportProgressRecord(
                    report_type=report_type,
                    start=first.isoformat(),
                    end=last.isoformat(),
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
                        start=first.isoformat(),
                        end=last.isoformat(),
                    )
                )
        run = ReportRunRecord(
            run_id=run_id,
            kind=kind,
            advertiser_id=advertiser_id,
            status="queued",
            window_start=start.isoformat(),
            window_end=end.isoformat(),
            reports=reports,
            started_at=iso(self.clock()) or "",
        )
        return run, jobs

    def enqueue(self, jobs: list[AdsReportJob]) -> None:
        self.queues.send_many(self.settings.ads_report_queue_url, list(jobs))

    def schedule_refreshes(self) -> int:
        """Daily: a trailing-window refresh for every linked, active, backfilled account that is due."""
        today = self.clock().date()
        started = 0
        for tenant_id, account in self.repo.linked_accounts():
            due = str(account.next_refresh_at or "")
            backfill = account.backfill
            if not due or due > today.isoformat() or backfill is None or backfill.status != "succeeded":
                continue
            profile = self.repo.get_profile(str(account.profile_id))
            if profile is None or profile.status != "active":
                continue
            run, jobs = self.plan(tenant_id, account.id, str(account.profile_id), "refresh")
            next_at = (today + timedelta(hours=self.settings.ads_refresh_interval_hours)).isoformat()
            if self.repo.start_refresh(tenant_id, account.id, run, today.isoformat(), next_at):
                self.enqueue(jobs)
                started += 1
        if started:
            logger.info("Advertising refreshes scheduled", extra={"accounts": started})
        return started

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
        if report.status in ("succeeded", "failed") or run.status not in ("queued", "running"):
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
            self._report_failed(job, field, f"Walmart Connect refused access: {error.message}")
        except WalmartError as error:
            self._report_failed(job, field, f"Walmart Connect refused the report: {error.message}")

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
            return  # a duplicate of a request that went through: its poll chain is running
        metrics = REPORT_METRICS.get(job.report_type) or REPORT_METRICS["adGroup"]
        snapshot = self.gateway.call(
            lambda c: c.request_report_snapshot(
                job.advertiser_id, job.report_type, metrics, date.fromisoformat(job.start), date.fromisoformat(job.end)
            ),
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
            self.queues.send(self.settings.ads_report_queue_url, next_job, poll_delay(self.settings, 0))

    def _poll(self, job: AdsReportJob, field: str, report: ReportProgressRecord) -> None:
        if report.snapshot_id != job.snapshot_id or report.polls != job.polls:
            return  # a duplicate poll chain: the original one goes on
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
                self.queues.send(self.settings.ads_report_queue_url, retry, poll_delay(self.settings, 0))
            return
        if not snapshot.is_done:
            polls = job.polls + 1
            saved = self.repo.update_report(job.tenant_id, job.account_id, field, job.run_id, job.key, {"polls": polls})
            if saved is not None:
                next_job = job.model_copy(update={"polls": polls})
                self.queues.send(self.settings.ads_report_queue_url, next_job, poll_delay(self.settings, polls))
            return
        stored, skipped = self.gateway.call(lambda c: self._store(c, snapshot.details, job), what="report download")
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

    def _store(self, client: Any, url: str, job: AdsReportJob) -> tuple[int, int]:
        stored = skipped = 0

        def parsed(rows: Iterable[dict[str, str]]) -> Iterator[dict[str, Any]]:
            nonlocal skipped
            for raw in rows:
                try:
                    yield report_row(job.report_type, raw, job.run_id)
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
            through = run.window_end
            if through > str(account.data_through or ""):
                values["data_through"] = through
        if self.repo.finish_run(job.tenant_id, job.account_id, field, job.run_id, values):
            logger.info(
                "Advertising run finished", extra={"run_id": job.run_id, "kind": field, "status": values["status"]}
            )
