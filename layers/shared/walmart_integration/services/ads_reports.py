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
from typing import TYPE_CHECKING, Any

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, new_id, utcnow
from walmart_integration.models.messages import AdsReportJob
from walmart_integration.observability import logger
from walmart_integration.services.connect_gateway import ConnectGateway, poll_delay
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
# Sources: docs/walmart/FACTS.md "Checked behaviours - Walmart Connect"; the spec's ReportSnapshotRequestV2.
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
    sk = f"{day}#{campaign}#{ad_group}"
    if keyword is not None:
        sk += f"#{keyword}"
        row.update(
            keyword_id=keyword,
            keyword_text=(raw.get("biddedKeyword") or "").strip() or None,
            match_type=(raw.get("matchType") or "").strip() or None,
        )
    row["sk"] = sk
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
        self, tenant_id: str, account_id: str, advertiser_id: str, kind: str
    ) -> tuple[dict[str, Any], list[AdsReportJob]]:
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
        reports: dict[str, Any] = {}
        jobs: list[AdsReportJob] = []
        for report_type in self.settings.ads_report_type_list:
            for index, (first, last) in enumerate(windows):
                key = report_type if len(windows) == 1 else f"{report_type}-{index + 1}"
                reports[key] = {
                    "report_type": report_type,
                    "start": first.isoformat(),
                    "end": last.isoformat(),
                    "status": "queued",
                    "polls": 0,
                    "rows": 0,
                    "attempts": 0,
                }
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
        run = {
            "run_id": run_id,
            "kind": kind,
            "advertiser_id": advertiser_id,
            "status": "queued",
            "window_start": start.isoformat(),
            "window_end": end.isoformat(),
            "reports": reports,
            "started_at": iso(self.clock()),
        }
        return run, jobs

    def enqueue(self, jobs: list[AdsReportJob]) -> None:
        self.queues.send_many(self.settings.ads_report_queue_url, list(jobs))

    def schedule_refreshes(self) -> int:
        """Daily: a trailing-window refresh for every linked, active, backfilled account that is due."""
        today = self.clock().date()
        started = 0
        for account in self.repo.linked_accounts():
            due = str(account.get("next_refresh_at") or "")
            backfill = account.get("backfill") or {}
            if not due or due > today.isoformat() or backfill.get("status") != "succeeded":
                continue
            profile = self.repo.get_profile(str(account["profile_id"])) or {}
            if profile.get("status") != "active":
                continue
            tenant_id = str(account["pk"]).removeprefix("TENANT#")
            run, jobs = self.plan(tenant_id, account["id"], str(account["profile_id"]), "refresh")
            next_at = (today + timedelta(hours=self.settings.ads_refresh_interval_hours)).isoformat()
            if self.repo.start_refresh(tenant_id, account["id"], run, today.isoformat(), next_at):
                self.enqueue(jobs)
                started += 1
        if started:
            logger.info("Advertising refreshes scheduled", extra={"accounts": started})
        return started

    # -- one step of one report ------------------------------------------------------------------------------
    def step(self, job: AdsReportJob, delivery: Delivery) -> None:
        account = self.repo.get_account(job.tenant_id, job.account_id)
        field = self._field(account, job)
        if account is None or field is None:
            logger.info("Stale report message dropped", extra={"run_id": job.run_id, "key": job.key})
            return
        run = account[field]
        report = run["reports"].get(job.key) or {}
        if report.get("status") in ("succeeded", "failed") or run.get("status") not in ("queued", "running"):
            return
        profile = self.repo.get_profile(job.advertiser_id) or {}
        if profile.get("status") != "active":
            reason = profile.get("status_reason") or "The advertising profile is no longer available."
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

    def _field(self, account: dict[str, Any] | None, job: AdsReportJob) -> str | None:
        if account is None or str(account.get("profile_id")) != job.advertiser_id:
            return None
        for field in ("backfill", "refresh"):
            if (account.get(field) or {}).get("run_id") == job.run_id:
                return field
        return None

    def _request(self, job: AdsReportJob, field: str, report: dict[str, Any]) -> None:
        if report.get("snapshot_id"):
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
                "attempts": int(report.get("attempts") or 0) + 1,
                "polls": 0,
            },
        )
        if saved is not None:
            next_job = job.model_copy(update={"snapshot_id": snapshot.snapshot_id, "polls": 0})
            self.queues.send(self.settings.ads_report_queue_url, next_job, poll_delay(self.settings, 0))

    def _poll(self, job: AdsReportJob, field: str, report: dict[str, Any]) -> None:
        if report.get("snapshot_id") != job.snapshot_id or int(report.get("polls") or 0) != job.polls:
            return  # a duplicate poll chain: the original one goes on
        snapshot_id = job.snapshot_id or ""
        snapshot = self.gateway.call(lambda c: c.report_snapshot(job.advertiser_id, snapshot_id), what="report poll")
        if snapshot.is_failed:
            if int(report.get("attempts") or 0) >= SNAPSHOT_ATTEMPTS:
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

    def _finish_if_complete(self, job: AdsReportJob, field: str, account: dict[str, Any]) -> None:
        run = account[field]
        statuses = [report.get("status") for report in run["reports"].values()]
        if any(status not in ("succeeded", "failed") for status in statuses):
            return
        failed = [key for key, report in run["reports"].items() if report.get("status") == "failed"]
        values: dict[str, Any] = {"finished_at": iso(self.clock())}
        if failed:
            values.update(status="failed", error=f"Reports failed: {', '.join(sorted(failed))}")
        else:
            values["status"] = "succeeded"
            through = str(run["window_end"])
            if through > str(account.get("data_through") or ""):
                values["data_through"] = through
        if self.repo.finish_run(job.tenant_id, job.account_id, field, job.run_id, values):
            logger.info(
                "Advertising run finished", extra={"run_id": job.run_id, "kind": field, "status": values["status"]}
            )
