"""Products and orders: incremental runs (sync queue) and the historical backfill (backfill queue).

A run is planned into units (an orders pass per ship-node type, a backfill window per type, the
items listing); each message fetches one page of one unit, stores it, records the page on the run
and enqueues the next page. Every step is idempotent:
- a page is processed once per (run, unit, page) key (Powertools idempotency), so a duplicate
  delivery, or the duplicate continuation of a worker that died after enqueueing, does nothing;
- records are upserted by key and only written when their content changed;
- page counts are set (never incremented) on the run, and the run is complete when no unit is pending;
- the incremental watermark moves only when the whole run has landed.
No Lambda sleeps: our own rate limiter's wait, a Walmart 429 and 5xx/timeouts defer the message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from walmart_integration.config import Settings
from walmart_integration.errors import RetryLater
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.instance import InstanceRecord, Job
from walmart_integration.models.marketplace import (
    MalformedRecord,
    OrderRecord,
    ProductRecord,
    order_from_walmart,
    product_from_item,
    product_from_report_row,
)
from walmart_integration.models.messages import BackfillJob, PagedJob, SyncJob
from walmart_integration.observability import MetricUnit, logger, metrics
from walmart_integration.services.ports import Catalog, Instances, MessageQueues, Runs, SyncedData, WalmartCalls
from walmart_integration.store.runs import RunState
from walmart_integration.walmart.errors import (
    WalmartAuthError,
    WalmartCursorExpired,
    WalmartError,
    WalmartNotFound,
    WalmartRateLimited,
    WalmartUnavailable,
)
from walmart_integration.walmart.item_report import read_item_report
from walmart_integration.worker import Delivery

ITEMS_UNIT = "items"
REPORT_UNIT = "item-report"  # the catalogue through Walmart's ITEM report
ITEM_REPORT = "ITEM"
REUSE_REPORT_WITHIN = timedelta(hours=1)  # Walmart takes one request per report type and hour
WATERMARKED_STREAMS = ("orders", "returns")  # incremental: the watermark moves once a whole run has landed


# run_once(key, work, lambda_context): ``work`` once per key; the context bounds an in-progress claim
# to the invocation's remaining time, so the redelivery after a worker died mid-page runs again.
RunOnce = Callable[[dict[str, Any], Callable[[], Any], Any], Any]


MILLISECOND = timedelta(milliseconds=1)


def _day(moment: datetime) -> str:
    """ISO 8601 UTC with milliseconds, as Walmart takes dates."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


class MarketplaceSync:
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
        clock: Callable[[], datetime] = utcnow,
        orders_stored: Callable[[str, str, dict[str, Any], list[dict[str, Any]]], None] | None = None,
    ) -> None:
        self.settings = settings
        self.instances = instances
        self.runs = runs
        self.synced = synced
        self.catalog = catalog
        self.connection = connection
        self.queues = queues
        self.run_once = run_once
        self.clock = clock
        self.orders_stored = orders_stored  # accounting: evaluates the page's orders (idempotent, so every page)

    # -- entry points ------------------------------------------------------------------------------
    def sync(self, job: SyncJob, delivery: Delivery) -> None:
        self._step(job, job.stream, delivery)

    def backfill(self, job: BackfillJob, delivery: Delivery) -> None:
        self._step(job, "backfill", delivery)

    def _step(self, job: PagedJob, stream: str, delivery: Delivery) -> None:
        record = self.instances.find(job.tenant_id, job.instance_id)
        if record is None or record.credentials_version != job.credentials_version:
            logger.info("Sync step dropped: the instance is gone or its credentials changed")
            return
        if record.status == "credentials_invalid":
            logger.info("Sync step dropped: the instance's credentials were refused")
            return
        if job.unit is None:
            self.run_once(
                {"operation": "plan", "stream": stream, "run_id": job.run_id},
                lambda: self._plan(record, job, stream),
                delivery.lambda_context,
            )
            return
        key = {"operation": "page", "stream": stream, "run_id": job.run_id, "unit": job.unit, "page": job.page}
        try:
            self.run_once(key, lambda: self._page(record, job, stream), delivery.lambda_context)
        except WalmartAuthError as error:
            self._fail(record, stream, job.run_id, error.message, status="credentials_invalid")
        except (WalmartUnavailable, WalmartRateLimited) as error:
            if isinstance(error, WalmartRateLimited):
                raise RetryLater(error.message, error.retry_after_seconds, throttled=True) from error
            if delivery.is_last_attempt:
                self._fail(record, stream, job.run_id, error.message)
                raise RuntimeError(f"{stream} page failed after {delivery.receive_count} attempts") from error
            raise RetryLater(error.message) from error
        except WalmartError as error:
            self._fail(record, stream, job.run_id, error.message)

    # -- planning ----------------------------------------------------------------------------------
    def _plan(self, record: InstanceRecord, job: PagedJob, stream: str) -> None:
        # Planned from the run's own start, not from the clock: a plan made again after a worker died mid-plan
        # must register the same units, or the first attempt's (registered, never sent) stay pending for ever.
        moment = self.clock()
        begun = self.runs.begin(job.tenant_id, job.instance_id, stream, job.run_id, moment)
        now = _parse(begun.started_at) if begun.started_at else moment
        base = {
            "tenant_id": job.tenant_id,
            "instance_id": job.instance_id,
            "run_id": job.run_id,
            "credentials_version": job.credentials_version,
        }
        extra: dict[str, object] = {}
        first, queue = self._first_jobs(record, job, stream, base, now, extra)
        units = [str(message.unit) for message in first]
        state = self.runs.plan(job.tenant_id, job.instance_id, stream, job.run_id, units)
        running = Job(
            status="running",
            records=state.total_records,
            started_at=state.started_at and iso(_parse(state.started_at)),
            run_id=job.run_id,
        )
        if not self.instances.save_progress(
            job.tenant_id,
            job.instance_id,
            job.credentials_version,
            {stream: running},
            extra=extra or None,
            progress_of_run=job.run_id,
        ):
            return
        self.queues.send_many(queue, list(first))
        logger.info("Run planned", extra={"stream": stream, "run_id": job.run_id, "units": len(units)})

    def _first_jobs(
        self,
        record: InstanceRecord,
        job: PagedJob,
        stream: str,
        base: dict[str, Any],
        now: datetime,
        extra: dict[str, object],
    ) -> tuple[list[PagedJob], str]:
        """The first message of every unit of a new run of ``stream``, and the queue they go to (``extra``: instance
        fields to save with the run's start)."""
        first: list[PagedJob]
        if stream == "products":
            first = [SyncJob.model_validate({**base, "stream": "products", "unit": ITEMS_UNIT, "cursor": "*"})]
            queue = self.settings.sync_queue_url
        elif stream == "orders":
            watermark = self.runs.watermark(job.tenant_id, job.instance_id, "orders")
            overlap = timedelta(minutes=self.settings.incremental_overlap_minutes)
            since = (_parse(watermark) if watermark else now - timedelta(days=1)) - overlap
            created_from = self._history_start(now)
            first = [
                SyncJob.model_validate(
                    {
                        **base,
                        "stream": "orders",
                        "unit": kind,
                        "ship_node_type": kind,
                        "window_start": _day(since),
                        "window_end": _day(now),
                        "created_from": _day(created_from),
                    }
                )
                for kind in self.settings.ship_node_type_list
            ]
            queue = self.settings.sync_queue_url
        else:
            start = max(self._history_start(now), self._start_date(record))
            extra["effective_start_date"] = start.date().isoformat()
            windows = self._windows(start, now)
            first = [
                BackfillJob.model_validate(
                    {
                        **base,
                        "unit": f"{kind}|{_day(ws)}|{_day(we)}",
                        "ship_node_type": kind,
                        "window_start": _day(ws),
                        "window_end": _day(we),
                    }
                )
                for kind in self.settings.ship_node_type_list
                for ws, we in windows
            ]
            queue = self.settings.backfill_queue_url
        return first, queue

    def _history_start(self, now: datetime) -> datetime:
        """Walmart serves orders of the last 180 days (spec, getAllOrders); stay an hour inside that bound."""
        return now - timedelta(days=self.settings.order_history_days) + timedelta(hours=1)

    @staticmethod
    def _start_date(record: InstanceRecord) -> datetime:
        start = date.fromisoformat(str(record.integration_settings["start_date"]))
        return datetime(start.year, start.month, start.day, tzinfo=UTC)

    def _windows(self, start: datetime, end: datetime) -> list[tuple[datetime, datetime]]:
        """Consecutive windows that do not overlap (Walmart's date bounds are inclusive)."""
        size = timedelta(days=self.settings.backfill_window_days)
        windows = []
        cursor = start
        while cursor + size < end:
            windows.append((cursor, cursor + size - MILLISECOND))
            cursor += size
        windows.append((cursor, end))
        return windows

    # -- one page ----------------------------------------------------------------------------------
    def _page(self, record: InstanceRecord, job: PagedJob, stream: str) -> None:
        if stream == "products":
            self._products_page(record, job)
        else:
            self._orders_page(record, job, stream)

    def _orders_page(self, record: InstanceRecord, job: PagedJob, stream: str) -> None:
        params: dict[str, Any] | None = None
        if not job.cursor:
            # replacementInfo=true: "Replacement orders appear only if replacementInfo is true"
            # (docs/walmart/specs/marketplace__order-management.openapi.json, GET /v3/orders, orderType)
            params = {
                "limit": self.settings.orders_page_size,
                "shipNodeType": job.ship_node_type,
                "replacementInfo": "true",
            }
            if stream == "backfill":
                params |= {"createdStartDate": job.window_start, "createdEndDate": job.window_end}
            else:
                params |= {"createdStartDate": job.created_from, "lastModifiedStartDate": job.window_start}
        page = self._call(
            record, "orders", lambda client, token: client.orders_page(token, params=params, cursor=job.cursor)
        )
        too_many = stream == "backfill" and not job.cursor and page.total_count > self.settings.orders_max_per_query
        if too_many and self._split(record, job, page.total_count):
            return
        parsed: list[OrderRecord] = []
        malformed = []
        for raw in page.orders:
            try:
                parsed.append(order_from_walmart(raw))
            except MalformedRecord as error:
                malformed.append(error)
        now = iso(self.clock()) or ""
        written = self.synced.upsert_changed(job.tenant_id, job.instance_id, "order", parsed, now)
        if self.orders_stored is not None and parsed:
            # Accounting takes the orders as dicts of the stored shape until it moves to OrderRecord.
            orders = [order.model_dump() for order in parsed]
            self.orders_stored(job.tenant_id, job.instance_id, record.integration_settings, orders)
        self._finish_page(record, job, stream, page.next_cursor, len(parsed), malformed, written)

    def _split(self, record: InstanceRecord, job: PagedJob, total: int) -> bool:
        """A window over Walmart's per-query cap becomes two halves (each split again if needed)."""
        start, end = _parse(str(job.window_start)), _parse(str(job.window_end))
        if end - start < timedelta(minutes=2):
            logger.warning("Window cannot be split further", extra={"unit": job.unit, "total": total})
            return False
        middle = (start + (end - start) / 2).replace(microsecond=0)
        halves = []
        for ws, we in ((start, middle - MILLISECOND), (middle, end)):
            unit = f"{job.ship_node_type}|{_day(ws)}|{_day(we)}"
            halves.append(
                job.model_copy(
                    update={"unit": unit, "page": 0, "cursor": None, "window_start": _day(ws), "window_end": _day(we)}
                )
            )
        units = {str(h.unit): "pending" for h in halves} | {str(job.unit): "split"}
        self.runs.set_units(job.tenant_id, job.instance_id, "backfill", job.run_id, units)
        self.queues.send_many(self.settings.backfill_queue_url, list(halves))
        logger.info("Window split", extra={"unit": job.unit, "total": total})
        return True

    def _products_page(self, record: InstanceRecord, job: PagedJob) -> None:
        """A page of ``GET /v3/items``, or a step of the ITEM report for a catalogue paging cannot list.

        Which one (docs/walmart/FACTS.md, "Checked behaviours" 1 and 2): offsets stop at 10,000, so a first page
        whose ``totalItems`` lies beyond what offsets reach hands the whole catalogue to the ITEM report (one source
        per run: the report's fields and the listing's differ a little, and a product must not flip between them on
        every run). A cursor lives two minutes: a page delayed past that (a 429, a retry) starts the listing again
        from ``*`` (records are upserted by sku, so what was stored is not written again), a few times at most,
        then the report takes over.
        """
        if job.unit == REPORT_UNIT:
            self._item_report_step(record, job)
            return
        limit = self.settings.items_page_size
        cursor = job.cursor or "*"
        try:
            page = self._call(
                record,
                "items",
                lambda client, token: client.items_page(token, cursor=cursor, offset=job.offset, limit=limit),
            )
        except WalmartCursorExpired:
            if job.restarts >= self.settings.item_cursor_restarts:
                self._switch_to_report(record, job, "the items cursor kept expiring")
                return
            logger.info("Items cursor expired: listing again from the start", extra={"restarts": job.restarts + 1})
            restart = {"cursor": "*", "offset": 0, "restarts": job.restarts + 1}
            self._finish_page(record, job, "products", None, 0, [], 0, continuation=restart)
            return
        reachable = self.settings.items_max_offset + limit
        if job.offset == 0 and page.total_items > reachable:
            self._switch_to_report(record, job, f"{page.total_items} listings, offsets reach {reachable}")
            return
        parsed: dict[str, ProductRecord] = {}
        malformed = []
        for raw in page.items:
            try:
                product = product_from_item(raw)
            except MalformedRecord as error:
                malformed.append(error)
                continue
            parsed[product.sku] = product  # Walmart repeats items across pages: one record per sku
        products = self._link_products(record, parsed)
        now = iso(self.clock()) or ""
        written = self.synced.upsert_changed(job.tenant_id, job.instance_id, "product", products, now)
        more = bool(page.next_cursor) and bool(page.items) and job.offset + limit < max(page.total_items, 1)
        if more and job.offset + limit > self.settings.items_max_offset:
            logger.warning("The catalogue grew past what offsets reach during the listing: the ITEM report lists it")
            self._finish_page(record, job, "products", None, len(parsed), malformed, written, done=False)
            self._switch_to_report(record, job.model_copy(update={"page": job.page + 1}), "grew past the offsets")
            return
        self._finish_page(record, job, "products", page.next_cursor if more else None, len(parsed), malformed, written)

    # -- the ITEM report (docs/walmart/specs/marketplace__on-request-reports.openapi.yml) ---------------------------
    def _switch_to_report(self, record: InstanceRecord, job: PagedJob, reason: str) -> None:
        """The listing unit is done; the report unit lists the catalogue (registered first: never a moment in which
        the run looks complete)."""
        logger.info("Catalogue listed through Walmart's ITEM report", extra={"reason": reason})
        self.runs.plan(job.tenant_id, job.instance_id, "products", job.run_id, [REPORT_UNIT])
        first = job.model_copy(
            update={"unit": REPORT_UNIT, "page": 0, "cursor": None, "offset": 0, "restarts": 0, "polls": 0}
        )
        self.queues.send(self.settings.sync_queue_url, first)
        self._finish_page(record, job, "products", None, 0, [], 0)

    def _item_report_step(self, record: InstanceRecord, job: PagedJob) -> None:
        """Request (or reuse) the report, poll it through SQS delays, then store its rows a page at a time."""
        if job.report_ready:
            self._item_report_rows(record, job)
            return
        if not job.report_request_id:
            request_id = self._item_report_request(record)
            self._next_report_step(job, {"report_request_id": request_id, "polls": 0})
            return
        request_id = job.report_request_id
        try:
            request = self._call(record, "reports", lambda client, token: client.report_request(token, request_id))
        except WalmartNotFound:  # gone (Walmart keeps requests 30 days): request it again
            self._next_report_step(job, {"report_request_id": None, "polls": 0})
            return
        if request.status == "READY":
            self._item_report_rows(record, job.model_copy(update={"report_ready": True, "offset": 0}))
        elif request.status == "ERROR":
            attempts = job.restarts + 1
            if attempts >= self.settings.item_report_attempts:
                raise WalmartError(f"Walmart's ITEM report failed {attempts} times (request {request_id}).")
            logger.warning("ITEM report failed: requested again", extra={"request_id": request_id})
            self._next_report_step(job, {"report_request_id": None, "polls": 0, "restarts": attempts})
        else:  # RECEIVED, INPROGRESS: Walmart takes 15 to 45 minutes
            self._next_report_step(job, {"polls": job.polls + 1})

    def _item_report_request(self, record: InstanceRecord) -> str:
        """A report requested within the hour is reused (Walmart takes one request per report type and hour:
        page "On-request reports", FACTS.md "Checked behaviours" 2); else a new request."""
        since = self.clock() - REUSE_REPORT_WITHIN
        recent = self._call(record, "reports", lambda client, token: client.report_requests(token, ITEM_REPORT, since))
        usable = next((r for r in recent if r.status != "ERROR"), None)
        if usable is not None:
            return usable.request_id
        version = self.settings.item_report_version
        created = self._call(
            record, "reports", lambda client, token: client.request_report(token, ITEM_REPORT, version)
        )
        return str(created.request_id)

    def _next_report_step(self, job: PagedJob, update: dict[str, Any]) -> None:
        settings = self.settings
        polls = min(int(update.get("polls", job.polls)), 30)  # 1.5**30 is past any maximum already
        delay = min(settings.item_report_poll_max_seconds, settings.item_report_poll_initial_seconds * 1.5**polls)
        self.queues.send(self.settings.sync_queue_url, job.model_copy(update={**update, "page": job.page + 1}), delay)

    def _item_report_rows(self, record: InstanceRecord, job: PagedJob) -> None:
        """One page of the READY report's rows (``offset`` on): a fresh download address each time (it expires)."""
        request_id = str(job.report_request_id)
        url = self._call(record, "reports", lambda client, token: client.report_download_url(token, request_id))
        data = self.connection.marketplace(record.environment).download(url)
        try:
            rows = read_item_report(data)
        except ValueError as error:
            raise WalmartUnavailable(str(error)) from error
        size = self.settings.item_report_rows_per_page
        parsed: dict[str, ProductRecord] = {}
        malformed = []
        for row in rows[job.offset : job.offset + size]:
            try:
                product = product_from_report_row(row)
            except MalformedRecord as error:
                malformed.append(error)
                continue
            parsed[product.sku] = product
        products = self._link_products(record, parsed)
        now = iso(self.clock()) or ""
        written = self.synced.upsert_changed(job.tenant_id, job.instance_id, "product", products, now)
        more = job.offset + size < len(rows)
        following = {"offset": job.offset + size, "report_ready": True}
        self._finish_page(
            record, job, "products", None, len(parsed), malformed, written, continuation=following if more else None
        )

    def _link_products(self, record: InstanceRecord, products: dict[str, ProductRecord]) -> list[ProductRecord]:
        """The products by sku, each linked to the tenant's internal product of its sku when the settings say so."""
        settings = record.integration_settings
        if not products or not (settings.get("auto_link_products") or settings.get("auto_create_products")):
            return list(products.values())
        if settings.get("auto_create_products"):
            internal = self.catalog.create_missing(
                record.tenant_id, {sku: str(p.name or sku) for sku, p in products.items()}
            )
        else:
            internal = self.catalog.by_skus(record.tenant_id, list(products))
        return [
            product.linked_to(internal[sku].id) if sku in internal else product for sku, product in products.items()
        ]

    def _finish_page(
        self,
        record: InstanceRecord,
        job: PagedJob,
        stream: str,
        next_cursor: str | None,
        stored: int,
        malformed: list[MalformedRecord],
        written: int,
        continuation: dict[str, Any] | None = None,
        done: bool = True,
    ) -> None:
        """Record the page; enqueue the next one (Walmart's ``next_cursor``, or the ``continuation`` given), or mark
        its unit done (unless ``done`` is False: another unit takes over)."""
        if malformed:
            metrics.add_metric(name="MalformedRecordsSkipped", unit=MetricUnit.Count, value=len(malformed))
        metrics.add_metric(name="RecordsWritten", unit=MetricUnit.Count, value=written)
        first_error = f"{malformed[0].key or 'record'}: {malformed[0].reason}" if malformed else None
        page_id = f"{job.unit}#{job.page}"
        goes_on = bool(next_cursor) or continuation is not None
        state = self.runs.record_page(
            job.tenant_id,
            job.instance_id,
            stream,
            job.run_id,
            page_id,
            stored,
            len(malformed),
            first_error,
            unit_done=None if goes_on or not done else job.unit,
        )
        if goes_on:
            queue = self.settings.backfill_queue_url if stream == "backfill" else self.settings.sync_queue_url
            update = continuation or {"cursor": next_cursor, "offset": job.offset + self.settings.items_page_size}
            self.queues.send(queue, job.model_copy(update={"page": job.page + 1, **update}))
        self._report(record, job, stream, state)

    def _report(self, record: InstanceRecord, job: PagedJob, stream: str, state: RunState) -> None:
        started = iso(_parse(state.started_at)) if state.started_at else None
        if not state.complete:
            progress = Job(
                status="running",
                records=state.total_records,
                started_at=started,
                error=state.error_summary(),
                run_id=job.run_id,
            )
            self.instances.save_progress(
                job.tenant_id, job.instance_id, job.credentials_version, {stream: progress}, progress_of_run=job.run_id
            )
            return
        records = (
            self.synced.count(job.tenant_id, job.instance_id, "product")
            if stream == "products"
            else state.total_records
        )
        done = Job(
            status="succeeded",
            records=records,
            started_at=started,
            finished_at=iso(self.clock()),
            error=state.error_summary(),
            run_id=job.run_id,
        )
        self.instances.save_progress(job.tenant_id, job.instance_id, job.credentials_version, {stream: done})
        if stream in WATERMARKED_STREAMS and job.window_end:
            self.runs.advance_watermark(job.tenant_id, job.instance_id, stream, job.window_end)
        logger.info("Run complete", extra={"stream": stream, "run_id": job.run_id, "records": records})

    # -- Walmart calls ----------------------------------------------------------------------------
    def _call(self, record: InstanceRecord, endpoint: str, call: Callable[[Any, str], Any]) -> Any:
        return self.connection.call(record, endpoint, call)

    def _fail(self, record: InstanceRecord, stream: str, run_id: str, message: str, status: str | None = None) -> None:
        state = self.runs.get(record.tenant_id, record.id, stream, run_id)
        failed = Job(
            status="failed",
            records=state.total_records,
            started_at=iso(_parse(state.started_at)) if state.started_at else None,
            finished_at=iso(self.clock()),
            error=message,
            run_id=run_id,
        )
        self.instances.save_progress(
            record.tenant_id, record.id, record.credentials_version, {stream: failed}, status=status
        )
