"""What a seller costs us (issue #14, item 8): AWS cost per 1,000 orders synced and per seller-month, and each
function's memory size from measurement.

The seller-month: 10,000 orders, 5,000 listings, the automatic sync every 15 minutes (96 runs a day), one linked
advertiser with its daily report refresh, and the 15-minute advertising profile discovery.

How (``run()`` returns every figure it uses; stderr tells the phases as they go):
1. MEASURED, in this interpreter, through the real handlers (functions/<name>/app.py) under an in-process moto mock
   with the template's resources, against the Walmart emulator. Two sellers of different sizes (``BENCH_COST_ITEMS``
   listings and a third of it; about 1,000 and 20 stored orders) are onboarded, an advertiser is linked, then
   automatic sync cycles run (the scheduler, then the queues drained like Lambda's event source mappings, in the
   template's batch sizes), each carrying what a production run carries: orders arrive (Created) and ship (Shipped,
   which invoices them) at 10,000 a month per seller, the Walmart token has expired (it lasts 15 minutes), the
   incremental window overlaps the previous run by one run interval, and the platform reads the changed orders. Then
   cycles without order changes, the daily advertising refresh, profile discovery runs, a daily performance read.
   For every invocation: its CPU time and waits (the handler's thread; moto's own work and the bench's hooks taken
   out), its log and metric bytes at the template's log level, and what it asks of AWS, counted with botocore event
   hooks on every client: calls per service and operation, DynamoDB request units from item sizes (AWS's rules, the
   items before and after each write, indexes included; moto's ConsumedCapacity is a constant), SQS requests in
   64 KB chunks, KMS and Secrets Manager requests, EventBridge events in 64 KB chunks.
2. EXTRAPOLATED linearly: a run's parts x 2,880 runs, the part that grows with the catalogue (listing pages) read off
   the line through the two sellers at 5,000 listings, the part that grows with the stored orders (the platform's
   read of changed orders) likewise at the month's stored orders; the refresh x 30, discoveries x 2,880. MODELLED,
   because in-process runs cannot show them: snapshot polls while Walmart prepares a file (``polls_until_ready`` from
   the service's own poll schedule and Walmart's 10-15 minutes, docs/walmart/FACTS.md "Performance data"), the event
   source mappings' SQS receive and delete per batch, Lambda's START/END/REPORT log lines, one Secrets Manager read
   per 15-minute burst (the secret is cached 5 minutes), and network round trips.
3. Lambda duration at a memory size: ``io + cpu x max(1, 1769 / memory)`` (one vCPU at 1,769 MB, bench/prices.py),
   io = the measured waits plus round trips (``BENCH_COST_AWS_RTT_MS`` per AWS call, 5 by default: DynamoDB's
   "single-digit milliseconds"; ``BENCH_COST_WALMART_RTT_MS`` per Walmart call, 100 by default: an assumption, Walmart
   publishes no latency); the month's invocations are priced at each function's MemorySize in template.yaml.
   Memory: per function, the month's mean invocation at 128...2048 MB, and the cheapest size within 10 % of the
   fastest among the sizes that hold its footprint (a fresh interpreter's peak RSS after importing the handler and
   creating its clients, plus the invocation's peak allocations, plus 25 %).

Not included (said in the output): free tiers, cold starts (init duration, shared by every seller a container
serves), CloudWatch metrics, X-Ray (off), data transfer, the event source mappings' polling of idle queues (a
platform cost that does not grow with sellers).

Settings: BENCH_COST_ITEMS (1200), BENCH_COST_CYCLES (5 with order changes; half as many without),
BENCH_COST_CYCLE_SECONDS (4), BENCH_COST_AWS_RTT_MS (5), BENCH_COST_WALMART_RTT_MS (100). About 3-5 minutes on
2 cores. Run alone: ``.venv/bin/python -m bench.cost``.
"""

from __future__ import annotations

import contextlib
import copy
import io
import json
import os
import re
import statistics
import subprocess
import sys
import time
import tracemalloc
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from bench import QUIET, ROOT, cost_model, in_process_environment, prices

ITEMS = int(os.environ.get("BENCH_COST_ITEMS", "1200"))  # the larger bench seller's listings
SMALL_ITEMS = max(1, ITEMS // 3)  # the smaller one's: the listing pages' line goes through both
BUSY_CYCLES = int(os.environ.get("BENCH_COST_CYCLES", "5"))
IDLE_CYCLES = max(2, BUSY_CYCLES // 2)
CYCLE_SECONDS = float(os.environ.get("BENCH_COST_CYCLE_SECONDS", "4"))
AWS_RTT_SECONDS = float(os.environ.get("BENCH_COST_AWS_RTT_MS", "5")) / 1000
WALMART_RTT_SECONDS = float(os.environ.get("BENCH_COST_WALMART_RTT_MS", "100")) / 1000
HISTORY_ORDERS = 60  # orders of the larger seller's last 30 days before it connects (the onboarding backfill)
HISTORY_ORDERS_SMALL = 10  # the smaller one's
STORED_ORDERS = 1000  # the larger seller's stored orders, made up with copies (clone_orders)
ADVERTISER = 730001
SNAPSHOT_SECONDS = 1.5  # the emulator's snapshot time (polls get measured); the month uses Walmart's
LAMBDA_PLATFORM_LOG_BYTES = 310  # START, END and REPORT lines of one invocation (about 75 + 55 + 180 bytes)
ESM_REQUESTS_PER_INVOCATION = 2  # the event source mapping's ReceiveMessage and DeleteMessageBatch per batch
FOOTPRINT_HEADROOM = 1.25

INSIGHT_REQUEST, REPORT_REQUEST = "POST /api/v1/snapshot/insight", "POST /api/v2/snapshot/report"
DOWNLOAD = "GET /ads/files"


@dataclass(frozen=True)
class SellerMonth:
    """The month of issue #14 item 8."""

    orders: int = 10_000
    listings: int = 5_000
    days: int = 30
    syncs_per_day: int = 96  # automatic sync every 15 minutes
    discoveries_per_day: int = 96  # profile discovery every 15 minutes (template.yaml ProfileRefreshFunction)
    refreshes_per_day: int = 1  # the linked advertiser's trailing-window refresh (ADS_REFRESH_INTERVAL_HOURS 24)
    order_changes: int = 2  # an order arrives (Created), then ships (Shipped: it is invoiced)
    walmart_file_minutes: float = 12.5  # docs/walmart/FACTS.md: a report takes about 10-15 minutes to generate
    platform_reads_per_sync: int = 1  # GET .../orders?updated_since= after each run (fewer than 100 changes)
    platform_performance_reads_per_day: int = 1  # GET /api/accounts/{id}/performance

    @property
    def runs(self) -> int:
        return self.days * self.syncs_per_day

    @property
    def discoveries(self) -> int:
        return self.days * self.discoveries_per_day

    @property
    def refreshes(self) -> int:
        return self.days * self.refreshes_per_day


MONTH = SellerMonth()


# ----------------------------------------------------------------------------------------------------- measurement
Quantities = defaultdict[str, Decimal]


def added(*tallies: Mapping[str, Decimal]) -> Quantities:
    total: Quantities = defaultdict(Decimal)
    for tally in tallies:
        for name, amount in tally.items():
            total[name] += amount
    return total


@dataclass
class Invocation:
    """One handler invocation, as measured."""

    function: str  # template logical id
    kind: str
    phase: str
    cycle: int | None = None  # the sync cycle it ran in
    seller: str | None = None  # the instance it worked for
    stream: str | None = None  # products | orders (sync messages)
    wall: float = 0.0
    cpu: float = 0.0  # the handler's own CPU seconds (moto's work and the bench's hooks taken out)
    wait: float = 0.0  # seconds the handler waited: Walmart (the emulator), sleeps
    aws_calls: int = 0
    walmart_endpoints: list[str] = field(default_factory=list)
    quantities: Quantities = field(default_factory=lambda: defaultdict(Decimal))  # prices.UNIT_PRICES names
    operations: Counter[str] = field(default_factory=Counter)  # "dynamodb:Query"
    log_bytes: int = 0
    peak_bytes: int = 0
    excluded_cpu: float = 0.0
    excluded_wall: float = 0.0

    @property
    def io(self) -> float:
        """Waits in production: the measured ones plus the network round trips in-process calls skip."""
        return self.wait + self.aws_calls * AWS_RTT_SECONDS + len(self.walmart_endpoints) * WALMART_RTT_SECONDS


class Excluded:
    """Thread CPU and wall time of a section that is not the handler's (moto serving a call, the bench's hooks)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def __enter__(self) -> None:
        self.cpu, self.wall = time.thread_time(), time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        current = self.meter.current
        if current is not None:
            current.excluded_cpu += time.thread_time() - self.cpu
            current.excluded_wall += time.perf_counter() - self.wall


CONTEXT_KEY = "bench_cost_call"


class Meter:
    """botocore event hooks on every client created while installed: what each invocation asks of AWS.

    DynamoDB request units come from item sizes, so the meter knows every item an invocation reads or writes: it
    keeps the items as stored (written through on every measured write, fetched once when unknown) and asks moto
    again, with its own unhooked client, only for what an answer leaves out (a filter's or a projection's items).
    ``light``: calls and timing only (no request units), for phases whose units are not used.
    """

    def __init__(self) -> None:
        import boto3
        import botocore.session

        self.current: Invocation | None = None
        self.light = False
        self._original = botocore.session.Session.create_client
        # Looks items up for the unit arithmetic; made before the hooks, so it is not measured.
        self.raw = boto3.session.Session().client("dynamodb", region_name="us-east-1")
        self._schemas: dict[str, tuple[tuple[str, ...], list[cost_model.IndexKeys]]] = {}
        self._items: dict[tuple[str, str], dict[str, Any] | None] = {}  # (table, key id) -> item as stored
        self._send: tuple[float, float] | None = None

    def set_light(self, light: bool) -> None:
        self.light = light
        self._items.clear()  # unmeasured writes may follow: forget what was stored

    # -- installation -------------------------------------------------------------------------------------------
    def install(self) -> None:
        import botocore.session

        meter, original = self, self._original

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            events = client.meta.events
            events.register("before-parameter-build", meter._before, unique_id="bench-cost-before")
            events.register_first("before-send", meter._send_start, unique_id="bench-cost-send")
            events.register("before-parse", meter._send_end, unique_id="bench-cost-parse")
            events.register("after-call", meter._after, unique_id="bench-cost-after")
            return client

        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]

    def uninstall(self) -> None:
        import botocore.session

        botocore.session.Session.create_client = self._original  # type: ignore[method-assign]

    # -- hooks --------------------------------------------------------------------------------------------------
    # The call's parameters travel from before-parameter-build to after-call in botocore's request context.
    def _before(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        if self.current is None:
            return
        with Excluded(self):
            service, operation = model.service_model.service_name, model.name
            call = {"service": service, "operation": operation, "params": copy.deepcopy(params)}
            if service == "dynamodb" and not self.light:
                call["before"] = self._items_written(operation, params)
            context[CONTEXT_KEY] = call

    def _send_start(self, **_: Any) -> None:
        """moto answers in this thread between before-send and before-parse: AWS's time, not the handler's."""
        if self.current is not None:
            self._send = (time.thread_time(), time.perf_counter())

    def _send_end(self, **_: Any) -> None:
        current, started = self.current, self._send
        self._send = None
        if current is not None and started is not None:
            current.excluded_cpu += time.thread_time() - started[0]
            current.excluded_wall += time.perf_counter() - started[1]

    def _after(self, http_response: Any, parsed: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        current, call = self.current, context.pop(CONTEXT_KEY, None)
        if current is None or call is None:
            return
        with Excluded(self):
            service, operation, params = call["service"], call["operation"], call["params"]
            current.aws_calls += 1
            current.operations[f"{service}:{operation}"] += 1
            if self.light:
                return
            ok = http_response.status_code < 300
            quantities = current.quantities
            if service == "dynamodb":
                self._dynamodb(operation, params, parsed, call.get("before") or {}, ok, quantities)
            elif service == "sqs":
                quantities["sqs.requests"] += Decimal(cost_model.sqs_requests(_sqs_payload(params)))
            elif service == "kms":
                quantities["kms.requests"] += Decimal(1)
            elif service == "secretsmanager":
                quantities["secretsmanager.requests"] += Decimal(1)
            elif service == "events" and operation == "PutEvents":
                events = sum(cost_model.eventbridge_events(entry) for entry in params.get("Entries") or [])
                quantities["events.custom_events"] += Decimal(events)

    # -- the items as stored ----------------------------------------------------------------------------------------
    def schema(self, table: str) -> tuple[tuple[str, ...], list[cost_model.IndexKeys]]:
        """A table's key attributes and its global secondary indexes."""
        if table not in self._schemas:
            description = self.raw.describe_table(TableName=table)["Table"]
            keys = tuple(k["AttributeName"] for k in description["KeySchema"])
            indexes = [
                cost_model.IndexKeys(i["IndexName"], tuple(k["AttributeName"] for k in i["KeySchema"]))
                for i in description.get("GlobalSecondaryIndexes") or []
            ]
            self._schemas[table] = (keys, indexes)
        return self._schemas[table]

    def _key(self, table: str, item: Mapping[str, Any]) -> dict[str, Any]:
        names, _ = self.schema(table)
        return {name: item[name] for name in names}

    def stored(self, table: str, keys: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        """The items of ``keys`` as stored now (None: absent), by key id."""
        ids = {_key_id(k): dict(k) for k in keys}
        missing = [key for key_id, key in ids.items() if (table, key_id) not in self._items]
        names, _ = self.schema(table)
        for start in range(0, len(missing), 100):
            request: dict[str, Any] = {table: {"Keys": missing[start : start + 100], "ConsistentRead": True}}
            for key in missing[start : start + 100]:
                self._items[(table, _key_id(key))] = None
            while request:
                response = self.raw.batch_get_item(RequestItems=request)
                for item in response.get("Responses", {}).get(table, []):
                    self._items[(table, _key_id({name: item[name] for name in names}))] = dict(item)
                request = response.get("UnprocessedKeys") or {}
        return {key_id: self._items[(table, key_id)] for key_id in ids}

    def _remember(self, table: str, items: Sequence[Mapping[str, Any]]) -> None:
        for item in items:
            self._items[(table, _key_id(self._key(table, item)))] = dict(item)

    def _refetch(self, table: str, keys: Sequence[Mapping[str, Any]]) -> dict[str, dict[str, Any] | None]:
        for key in keys:
            self._items.pop((table, _key_id(key)), None)
        return self.stored(table, keys)

    def _targets(self, operation: str, params: Mapping[str, Any]) -> list[tuple[str, str, dict[str, Any], Any]]:
        """What a write does: (table, action, key, the item it puts or None), per item."""
        targets: list[tuple[str, str, dict[str, Any], Any]] = []
        if operation == "PutItem":
            table = params["TableName"]
            targets.append((table, "Put", self._key(table, params["Item"]), params["Item"]))
        elif operation in ("UpdateItem", "DeleteItem"):
            targets.append((params["TableName"], operation.removesuffix("Item"), dict(params["Key"]), None))
        elif operation == "BatchWriteItem":
            for table, requests in (params.get("RequestItems") or {}).items():
                for request in requests:
                    if "PutRequest" in request:
                        item = request["PutRequest"]["Item"]
                        targets.append((table, "Put", self._key(table, item), item))
                    else:
                        targets.append((table, "Delete", dict(request["DeleteRequest"]["Key"]), None))
        elif operation == "TransactWriteItems":
            for action in params.get("TransactItems") or []:
                ((kind, body),) = action.items()
                table = body["TableName"]
                key = self._key(table, body["Item"]) if kind == "Put" else dict(body["Key"])
                targets.append((table, kind, key, body.get("Item")))
        return targets

    def _items_written(self, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Before a write: what it targets and those items as they are."""
        targets = self._targets(operation, params)
        by_table: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for table, _, key, _ in targets:
            by_table[table].append(key)
        before = {table: self.stored(table, keys) for table, keys in by_table.items()}
        return {"targets": targets, "before": before}

    def _written(self, before: dict[str, Any], ok: bool) -> list[tuple[str, str, Any, Any]]:
        """After a write: (table, action, item before, item after) per target; the stored items updated."""
        result = []
        updated: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for table, action, key, _ in before["targets"]:
            if ok and action == "Update":
                updated[table].append(key)
        after_updates = {table: self._refetch(table, keys) for table, keys in updated.items()}
        for table, action, key, item in before["targets"]:
            key_id = _key_id(key)
            old = before["before"][table][key_id]
            if not ok or action == "ConditionCheck":
                new = old
            elif action == "Put":
                new = dict(item)
            elif action == "Delete":
                new = None
            else:
                new = after_updates[table][key_id]
            self._items[(table, key_id)] = new
            result.append((table, action, old, new))
        return result

    # -- DynamoDB request units ------------------------------------------------------------------------------------
    def _dynamodb(
        self,
        operation: str,
        params: dict[str, Any],
        parsed: dict[str, Any],
        before: dict[str, Any],
        ok: bool,
        quantities: Quantities,
    ) -> None:
        reads, writes = Decimal(0), Decimal(0)
        if operation in ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems"):
            transactional = operation == "TransactWriteItems"
            for table, action, old, new in self._written(before, ok):
                if action == "ConditionCheck":  # a transactional read of the item
                    reads += cost_model.read_units(cost_model.item_size(old), transactional=True)
                    continue
                indexes = self.schema(table)[1]
                writes += cost_model.item_write_units(old, new, indexes, transactional=transactional, failed=not ok)
        elif operation == "GetItem":  # a projection reads the whole item all the same
            table = params["TableName"]
            item = self.stored(table, [params["Key"]])[_key_id(params["Key"])]
            reads += cost_model.read_units(cost_model.item_size(item), consistent=bool(params.get("ConsistentRead")))
        elif operation == "BatchGetItem":  # each item rounded up on its own
            for table, request in (params.get("RequestItems") or {}).items():
                keys = request.get("Keys") or []
                stored = self.stored(table, keys)
                for key in keys:
                    size = cost_model.item_size(stored[_key_id(key)])
                    reads += cost_model.read_units(size, consistent=bool(request.get("ConsistentRead")))
        elif operation == "TransactGetItems":
            for action in params.get("TransactItems") or []:
                body = action["Get"]
                item = self.stored(body["TableName"], [body["Key"]])[_key_id(body["Key"])]
                reads += cost_model.read_units(cost_model.item_size(item), transactional=True)
        elif operation in ("Query", "Scan"):
            evaluated = self._evaluated(operation, params, parsed)
            reads += cost_model.query_read_units(evaluated, consistent=bool(params.get("ConsistentRead")))
        if reads:
            quantities["dynamodb.read_request_units"] += reads
        if writes:
            quantities["dynamodb.write_request_units"] += writes

    def _evaluated(self, operation: str, params: dict[str, Any], parsed: dict[str, Any]) -> list[dict[str, Any]]:
        """The items a Query or Scan page read (a filter, a projection or COUNT hide them from its answer)."""
        table = params["TableName"]
        if not any(name in params for name in ("FilterExpression", "ProjectionExpression", "Select")):
            items = list(parsed.get("Items") or [])
            if "IndexName" not in params:
                self._remember(table, items)
            return items
        # The same page again, without the filter, keys only: then the items as stored.
        names, _ = self.schema(table)
        again = {k: v for k, v in params.items() if k not in ("FilterExpression", "ProjectionExpression", "Select")}
        used = set(re.findall(r"[#:][A-Za-z0-9_]+", str(params.get("KeyConditionExpression") or "")))
        attribute_names = {k: v for k, v in (again.get("ExpressionAttributeNames") or {}).items() if k in used}
        for name in names:
            attribute_names[f"#bench_{name}"] = name
        again["ExpressionAttributeNames"] = attribute_names
        again["ProjectionExpression"] = ", ".join(f"#bench_{name}" for name in names)
        values = {k: v for k, v in (again.get("ExpressionAttributeValues") or {}).items() if k in used}
        if values:
            again["ExpressionAttributeValues"] = values
        else:
            again.pop("ExpressionAttributeValues", None)
        keys = list(getattr(self.raw, operation.lower())(**again).get("Items") or [])
        stored = self.stored(table, keys)
        return [item for item in stored.values() if item is not None]


def _key_id(key: Mapping[str, Any]) -> str:
    return json.dumps(dict(key), sort_keys=True, default=str)


def _sqs_payload(params: Mapping[str, Any]) -> int:
    """Bytes of an SQS request's payload: message bodies and attributes."""
    entries = params.get("Entries") if "Entries" in params else [params]
    size = 0
    for entry in entries or []:
        size += len(str(entry.get("MessageBody") or "").encode())
        if entry.get("MessageAttributes"):
            size += len(json.dumps(entry["MessageAttributes"], default=str).encode())
    return size


class LogSink(io.TextIOBase):
    """The functions' log stream: counts the bytes each invocation writes (nothing is kept or shown)."""

    def __init__(self, meter: Meter) -> None:
        self.meter = meter

    def write(self, text: str) -> int:
        if self.meter.current is not None:
            self.meter.current.log_bytes += len(text.encode())
        return len(text)


# --------------------------------------------------------------------------------------------------------- runner
@dataclass(frozen=True)
class Source:
    """A function's SQS event source (template.yaml): its queue and batch size."""

    function: str
    directory: str
    queue_url: str
    batch_size: int


class Runner:
    """Invokes the handlers like Lambda would (API Gateway events, SQS batches of the template's size, schedules),
    measuring every invocation."""

    def __init__(self, stack: Any, emulator: Any, meter: Meter, token: str) -> None:
        import boto3

        from local.template import references

        self.stack, self.emulator, self.meter, self.token = stack, emulator, meter, token
        self.functions = {spec.code_dir.name: name for name, spec in stack.template.functions().items()}
        self.handlers: dict[str, Any] = {}
        self.invocations: list[Invocation] = []
        self.phase = "setup"
        self.cycle: int | None = None
        self.probe = False
        self.probed: Counter[str] = Counter()
        self.sources = []
        for source in stack.template.sqs_sources():
            ((queue, _),) = {ref for ref in references(source.queue) if ref[1] == "Arn"}
            directory = stack.template.functions()[source.function].code_dir.name
            self.sources.append(Source(source.function, directory, stack.ref(queue), source.batch_size))
        self.sqs: Any = boto3.client("sqs", region_name="us-east-1")

    def handler(self, directory: str) -> Any:
        from local.harness import load_handler

        if directory not in self.handlers:
            self.handlers[directory] = load_handler(directory)
        return self.handlers[directory]

    def invoke(
        self,
        directory: str,
        event: Any,
        kind: str | Callable[[list[str]], str],
        *,
        seller: str | None = None,
        stream: str | None = None,
        batch: bool = False,
    ) -> Any:
        """One invocation, measured (not during the setup); ``batch``: delivered by an SQS event source mapping."""
        from local.harness import LambdaContext

        module = self.handler(directory)
        record = Invocation(
            self.functions[directory],
            kind if isinstance(kind, str) else "",
            self.phase,
            cycle=self.cycle,
            seller=seller,
            stream=stream,
        )
        marketplace, connect = self.emulator.call_log, self.emulator.connect_state.call_log
        first_call, first_connect = len(marketplace), len(connect)
        traced = self.probe and self.probed[record.function] < PROBES_PER_FUNCTION
        if traced:  # allocations traced during this invocation only (tracing slows everything down)
            self.probed[record.function] += 1
            tracemalloc.start()
        self.meter.current = record if self.phase != "setup" else None
        wall, cpu = time.perf_counter(), time.thread_time()
        try:
            # What the handler prints (Powertools Metrics' EMF blobs) goes to CloudWatch Logs too: counted, not shown.
            with contextlib.redirect_stdout(LogSink(self.meter)):
                result = module.handler(event, LambdaContext(timeout_ms=30_000))
        finally:
            cpu = time.thread_time() - cpu
            wall = time.perf_counter() - wall
            self.meter.current = None
        if traced:
            record.peak_bytes = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
        record.walmart_endpoints = [c.endpoint for c in self.emulator.call_log[first_call:]] + [
            c.endpoint for c in connect[first_connect:]
        ]
        record.wall = wall
        record.cpu = max(0.0, cpu - record.excluded_cpu)
        record.wait = max(0.0, wall - record.excluded_wall - record.cpu)
        if not isinstance(kind, str):
            record.kind = kind(record.walmart_endpoints)
        if batch:
            record.quantities["sqs.requests"] += ESM_REQUESTS_PER_INVOCATION
        if directory == "api":
            record.quantities["apigateway.requests"] += 1
        if self.phase != "setup":
            self.invocations.append(record)
        return result

    # -- triggers -------------------------------------------------------------------------------------------------
    def api(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        kind: str,
        query: dict[str, str] | None = None,
        seller: str | None = None,
    ) -> Any:
        from local.harness import api_event, response_json

        response = self.invoke("api", api_event(method, path, body, query=query), kind, seller=seller)
        if response["statusCode"] >= 300:
            raise RuntimeError(f"{method} {path}: {response['statusCode']} {response.get('body')}")
        return (response_json(response) or {}).get("data")

    def authorize(self, seller: str | None = None) -> None:
        """API Gateway asks the authorizer about the platform's token (its cache lasts less than a run interval)."""
        event = {
            "type": "REQUEST",
            "methodArn": "arn:aws:execute-api:us-east-1:123456789012:api/dev/GET/api/walmart",
            "headers": {"Authorization": f"Bearer {self.token}"},
        }
        self.invoke("authorizer", event, "authorize", seller=seller)

    def scheduled(self, directory: str) -> Any:
        return self.invoke(directory, {"source": "aws.events", "detail-type": "Scheduled Event"}, "schedule")

    def pump(self, timeout: float = 900.0) -> None:
        """Drain every queue like event source mappings do: batches of the template's size, partial failures."""
        from local.harness import PENDING_ATTRIBUTES, received_event

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            busy = False
            for source in self.sources:
                received = self.sqs.receive_message(
                    QueueUrl=source.queue_url,
                    MaxNumberOfMessages=source.batch_size,
                    VisibilityTimeout=30,
                    AttributeNames=["All"],
                ).get("Messages", [])
                if not received:
                    continue
                busy = True
                event = received_event(received)
                body = _json(received[0]["Body"])

                def classify(calls: list[str], source: Source = source, body: dict[str, Any] = body) -> str:
                    return message_kind(source, body, calls)

                result = self.invoke(
                    source.directory,
                    event,
                    classify,
                    seller=body.get("instance_id"),
                    stream=body.get("stream"),
                    batch=True,
                )
                failed = {item["itemIdentifier"] for item in (result or {}).get("batchItemFailures", [])}
                for message in received:
                    if message["MessageId"] not in failed:
                        self.sqs.delete_message(QueueUrl=source.queue_url, ReceiptHandle=message["ReceiptHandle"])
            if busy:
                continue
            waiting = 0
            for source in self.sources:
                attributes = self.sqs.get_queue_attributes(QueueUrl=source.queue_url, AttributeNames=["All"])
                waiting += sum(int(attributes["Attributes"].get(name, 0)) for name in PENDING_ATTRIBUTES)
            if waiting == 0:
                return
            time.sleep(0.1)
        raise RuntimeError(f"the queues did not drain within {timeout:.0f} s")


def _json(body: str) -> dict[str, Any]:
    with contextlib.suppress(ValueError):
        value = json.loads(body)
        if isinstance(value, dict):
            return value
    return {}


def message_kind(source: Source, body: Mapping[str, Any], walmart_endpoints: list[str]) -> str:
    """What an SQS-triggered invocation did, from its message and the Walmart calls it made."""
    if source.directory in ("sync", "backfill"):
        stream = body.get("stream") or source.directory
        return f"{stream} {'plan' if body.get('unit') is None else 'page'}"
    if source.directory in ("ads_reports", "profile_refresh"):
        if DOWNLOAD in walmart_endpoints:
            return "download"
        if INSIGHT_REQUEST in walmart_endpoints or REPORT_REQUEST in walmart_endpoints:
            return "request"
        return "poll" if walmart_endpoints else "step"
    return "job"


# ----------------------------------------------------------------------------------------------------- the scenario
@dataclass
class Seller:
    client_id: str
    seller_id: str
    listings: int
    history: int  # orders of its last 30 days before it connects
    instance_id: str = ""
    copies: int = 0  # stored orders copied in by clone_orders
    stored_orders: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))  # per phase, per cycle


def _environment(stack: Any) -> dict[str, str]:
    env = stack.function_env("ApiFunction")
    env.pop("POWERTOOLS_SERVICE_NAME", None)
    return {
        **env,
        # Each run re-reads the previous run's window, as production's 15-minute overlap does every 15 minutes.
        "INCREMENTAL_OVERLAP_MINUTES": str(CYCLE_SECONDS / 60),
        # Snapshot polls right away (the month counts production's polls from Walmart's processing time).
        "ADS_POLL_INITIAL_SECONDS": "0",
        "ADS_POLL_MAX_SECONDS": "0",
        "ADS_DISCOVERY_MIN_INTERVAL_SECONDS": "0",
    }


@contextlib.contextmanager
def counted_logs(meter: Meter, level: str) -> Iterator[None]:
    """The functions' logger at the template's level, writing into a byte counter."""
    from walmart_integration.observability import logger

    handler = logger.registered_handler
    stream, old_level = getattr(handler, "stream", None), logger.log_level
    handler.setStream(LogSink(meter))  # type: ignore[attr-defined]
    logger.setLevel(level)
    try:
        yield
    finally:
        handler.setStream(stream)  # type: ignore[attr-defined]
        logger.setLevel(old_level)


class Phases:
    """How long each step took (reported, and told on stderr as it goes, with where the time went)."""

    def __init__(self, runner: Runner | None = None) -> None:
        self.seconds: dict[str, float] = {}
        self.last = time.monotonic()
        self.runner = runner
        self.seen = 0

    def done(self, name: str) -> None:
        now = time.monotonic()
        self.seconds[name] = round(now - self.last, 1)
        self.last = now
        busiest = ""
        if self.runner is not None:
            spent: Counter[str] = Counter()
            for invocation in self.runner.invocations[self.seen :]:
                spent[invocation.function.removesuffix("Function")] += round(invocation.wall * 1000)
            self.seen = len(self.runner.invocations)
            busiest = ", ".join(f"{f} {ms / 1000:.1f} s" for f, ms in spent.most_common(4))
        print(f"cost: {name} {self.seconds[name]} s ({busiest})", file=sys.stderr, flush=True)


def scenario(runner: Runner, sellers: list[Seller], phases: Phases) -> dict[str, Any]:
    """Onboarding, the advertising link, then the measured cycles, refresh, discovery and reads."""
    emulator = runner.emulator
    # The tenant's internal products, with a cost (shipped orders are then invoiced, not held).
    skus = sorted({item["sku"] for seller in sellers for item in emulator.items(seller.seller_id)})
    for sku in skus:
        runner.api("POST", "/api/products", {"sku": sku, "name": f"Product {sku}", "cost": "4.20"}, kind="setup")
    phases.done("setup")

    runner.phase = "onboarding"
    runner.meter.set_light(True)  # the month does not use onboarding's request units: calls and timing only
    codes = dict(zip(ACCOUNTING_CODE_SETTINGS, range(1, 16), strict=True))
    for seller in sellers:
        body = {
            "name": f"Cost bench {seller.client_id}",
            "integration_id": 1,
            "is_automatic_sync_enabled": True,
            "connection_settings": {"clientId": seller.client_id, "clientSecret": f"{seller.client_id}-secret"},
            "integration_settings": {
                "start_date": (date.today() - timedelta(days=30)).isoformat(),
                "store_id": 1,
                "auto_link_products": True,
                "auto_create_products": False,
                **codes,
            },
        }
        seller.instance_id = runner.api("POST", "/api/walmart", body, kind="POST walmart")["id"]
    runner.pump()
    claim = {"advertiser_id": str(ADVERTISER), "advertiser_name": "Bench Brand"}
    runner.api("POST", "/api/advertising/claims", claim, kind="POST claim")
    runner.scheduled("profile_refresh")
    runner.pump()
    company = runner.api("POST", "/api/companies", {"name": "Bench Co"}, kind="POST company")
    account = runner.api(
        "POST",
        f"/api/companies/{company['id']}/accounts",
        {"name": "Walmart 3p", "channel": "walmart-3p", "geo": "US"},
        kind="POST account",
    )
    link = {"profile_id": str(ADVERTISER)}
    runner.api("PUT", f"/api/accounts/{account['id']}/advertising-profile", link, kind="PUT link")
    runner.pump()
    campaign = emulator.campaigns(ADVERTISER)[0]["campaignId"]
    change = {"daily_budget": 42.5}
    runner.api("PATCH", f"/api/accounts/{account['id']}/campaigns/{campaign}", change, kind="PATCH campaign")
    runner.pump()
    runner.meter.set_light(False)
    phases.done("onboarding")

    # The larger seller's stored orders, grown so that the platform's read is measured over many (see clone_orders).
    copies = clone_orders(runner.meter, runner.stack.function_env("SyncFunction")["DATA_TABLE_NAME"], sellers[-1])
    phases.done("stored_orders")

    # The daily refresh: the first schedule after the backfill finds it due.
    runner.phase = "refresh"
    runner.scheduled("scheduler")
    runner.pump()
    phases.done("refresh")

    # Automatic sync cycles: changes at the month's rate per run, the token expired, one run interval apart.
    changes_per_run = MONTH.orders / MONTH.runs
    created: dict[str, list[str]] = {seller.seller_id: [] for seller in sellers}
    owed: dict[str, float] = defaultdict(float)
    numbers = iter(range(1_000_000))

    def cycle(phase: str, with_changes: bool, readers: list[Seller] = sellers) -> None:
        runner.phase, runner.cycle = phase, next(numbers)
        began = time.monotonic()
        for seller in sellers:
            emulator.expire_tokens(seller.seller_id)
            if not with_changes:
                continue
            owed[seller.seller_id] += changes_per_run
            due = int(owed[seller.seller_id])
            owed[seller.seller_id] -= due
            waiting = created[seller.seller_id]
            shipped, waiting[:] = waiting[:due], waiting[due:]
            for purchase_order in shipped:
                emulator.update_order(seller.seller_id, purchase_order, status="Shipped")
            waiting.extend(emulator.add_orders(seller.seller_id, due))
        runner.scheduled("scheduler")
        runner.pump()
        for seller in sellers:
            seller.stored_orders[phase].append(len(emulator.orders(seller.seller_id)) + seller.copies)
        since = (datetime.now(UTC) - timedelta(seconds=CYCLE_SECONDS)).strftime("%Y-%m-%dT%H:%M:%SZ")
        for seller in readers:  # the platform reads what changed
            runner.authorize(seller=seller.instance_id)
            query = {"updated_since": since, "limit": "100"}
            path = f"/api/walmart/{seller.instance_id}/orders"
            runner.api("GET", path, kind=READ_KIND, query=query, seller=seller.instance_id)
        runner.cycle = None
        time.sleep(max(0.0, CYCLE_SECONDS - (time.monotonic() - began)))

    cycle("warmup", True)
    phases.done("warmup")
    orders_before = sum(len(emulator.orders(s.seller_id)) for s in sellers)
    for _ in range(BUSY_CYCLES):
        cycle("busy", True)
    new_orders = sum(len(emulator.orders(s.seller_id)) for s in sellers) - orders_before
    phases.done("busy_cycles")
    for _ in range(IDLE_CYCLES):
        cycle("idle", False)
    phases.done("idle_cycles")

    runner.phase = "discovery"
    for _ in range(DISCOVERY_RUNS):
        runner.scheduled("profile_refresh")
        runner.pump()
    runner.phase = "reads"
    for _ in range(PERFORMANCE_READS):
        runner.authorize()
        runner.api("GET", f"/api/accounts/{account['id']}/performance", kind="GET performance")
    phases.done("discovery_and_reads")

    # Allocations: each function once more (traced, so no timing is taken from these).
    runner.probe = True
    try:
        cycle("probe", True, readers=sellers[-1:])
        runner.phase = "probe"
        runner.scheduled("profile_refresh")
        runner.pump()
        runner.authorize()
        runner.api("GET", f"/api/accounts/{account['id']}/performance", kind="GET performance")
    finally:
        runner.probe = False
    phases.done("allocations")
    return {"new_orders_in_busy_cycles": new_orders, "stored_order_copies": copies}


def clone_orders(meter: Meter, table: str, seller: Seller) -> int:
    """Copies of the seller's stored orders, written straight to the data table (new sort keys, the same old
    ``updated_at``), up to STORED_ORDERS: the platform's read of changed orders reads every stored order, so it is
    measured over many of them rather than extrapolated from a few. The items are found by the schema: those in an
    index partition named after the instance (the orders-by-date index)."""
    names, indexes = meter.schema(table)
    originals: list[dict[str, Any]] = []
    params: dict[str, Any] = {"TableName": table}
    while True:
        page = meter.raw.scan(**params)
        for item in page.get("Items", []):
            for index in indexes:
                if all(a in item for a in index.attributes) and seller.instance_id in str(item[index.attributes[0]]):
                    originals.append(item)
                    break
        if "LastEvaluatedKey" not in page:
            break
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    if not originals:
        return 0
    sort_keys = [names[-1], *(index.attributes[-1] for index in indexes)]
    copies = []
    for n in range(max(0, STORED_ORDERS - len(originals))):
        item = copy.deepcopy(originals[n % len(originals)])
        for name in sort_keys:
            if name in item and "S" in item[name]:
                item[name] = {"S": f"{item[name]['S']}~copy{n}"}
        copies.append({"PutRequest": {"Item": item}})
    for start in range(0, len(copies), 25):
        pending: dict[str, Any] = {table: copies[start : start + 25]}
        while pending:
            pending = meter.raw.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    seller.copies = len(copies)
    return len(copies)


# every account's code setting, in the order of the demo tenant's codes 1-15 (local/seed.py, models.instance.ACCOUNTS)
ACCOUNTING_CODE_SETTINGS = tuple(
    f"{account}_nominal_code_id"
    for account in (
        "sales", "cogs", "shipping_revenue", "shipping_refund", "sales_returns_allowances", "accounts_receivable",
        "bank", "marketplace_fees", "payment_fees", "facilitator_tax", "inventory", "accrued_costs", "wfs_fees",
        "adjustments", "reserves",
    )
)  # fmt: skip
DISCOVERY_RUNS = 2
PROBES_PER_FUNCTION = 3
READ_KIND = "GET orders"
PERFORMANCE_READS = 3


# ---------------------------------------------------------------------------------------------------------- the month
# Totals of a set of invocations, per function: priced quantities (bench/prices.py UNIT_PRICES names) and the stats
# below (not priced).
INVOCATIONS, CPU, IO = "_invocations", "_cpu_seconds", "_io_seconds"
Totals = dict[str, Quantities]


def invocation_quantities(invocation: Invocation, memory_mb: int) -> Quantities:
    """Everything one invocation costs, its Lambda request and duration at ``memory_mb`` included."""
    q = added(invocation.quantities)
    seconds = cost_model.duration_seconds(invocation.cpu, invocation.io, memory_mb)
    q["lambda.requests"] += 1
    q["lambda.gb_seconds"] += cost_model.gb_seconds(memory_mb, cost_model.billed_milliseconds(seconds))
    q["logs.ingested_gb"] += Decimal(invocation.log_bytes + LAMBDA_PLATFORM_LOG_BYTES) / prices.GB
    q[INVOCATIONS] += 1
    q[CPU] += Decimal(str(invocation.cpu))
    q[IO] += Decimal(str(invocation.io))
    return q


def totals(invocations: list[Invocation], memory: Mapping[str, int], occurrences: float = 1) -> Totals:
    """Per function, the invocations' quantities summed, divided by ``occurrences`` (a mean per occurrence)."""
    result: Totals = defaultdict(lambda: defaultdict(Decimal))
    share = Decimal(1) / Decimal(str(occurrences)) if occurrences else Decimal(0)
    for invocation in invocations:
        for name, amount in invocation_quantities(invocation, memory[invocation.function]).items():
            result[invocation.function][name] += amount * share
    return result


def combine(*parts: tuple[Mapping[str, Mapping[str, Decimal]], float | Decimal]) -> Totals:
    """Sum of totals, each times its factor."""
    result: Totals = defaultdict(lambda: defaultdict(Decimal))
    for part, factor in parts:
        weight = Decimal(str(factor))
        for function, quantities in part.items():
            for name, amount in quantities.items():
                result[function][name] += amount * weight
    return result


def extrapolate(low: Totals, high: Totals, x_low: float, x_high: float, x: float) -> Totals:
    """The straight line through (x_low, low) and (x_high, high) at ``x``, quantity by quantity (never below 0)."""
    slope = Decimal(str((x - x_low) / (x_high - x_low)))
    result: Totals = defaultdict(lambda: defaultdict(Decimal))
    empty: Quantities = defaultdict(Decimal)
    for function in set(low) | set(high):
        below, above = low.get(function, empty), high.get(function, empty)
        for name in set(below) | set(above):
            a, b = below.get(name, Decimal(0)), above.get(name, Decimal(0))
            result[function][name] = max(Decimal(0), a + (b - a) * slope)
    return result


def flat(part: Mapping[str, Mapping[str, Decimal]]) -> Quantities:
    """The priced quantities of totals, all functions together (stats left out)."""
    return added(*({k: v for k, v in q.items() if not k.startswith("_")} for q in part.values()))


@dataclass
class Activity:
    """One occurrence of something the month repeats: what it costs and how often the month has it."""

    name: str
    per_occurrence: Totals
    per_month: float
    how: str


def activities(
    runner: Runner,
    sellers: list[Seller],
    phase: str,
    memory: Mapping[str, int],
    ready_polls: int,
    stored_orders: float,
) -> list[Activity]:
    """The month's activities, from the ``phase`` cycles ("busy": with the month's order changes; "idle": none).

    A run's parts grow with different things: its listing pages with the catalogue; the platform's read of the
    changed orders with the orders stored (it filters the index of order dates, so it reads every stored order); its
    orders pages and accounting with the changes. The two bench sellers differ in catalogue and in orders stored: the
    straight line through them gives each growing part at the month's size."""
    name_of = runner.functions
    invocations = [i for i in runner.invocations if i.phase == phase]
    cycles = len({i.cycle for i in invocations})
    low, high = sorted(sellers, key=lambda s: s.listings)[0], sorted(sellers, key=lambda s: s.listings)[-1]
    api = name_of["api"]

    def part(seller: Seller, which: str) -> Totals:
        def belongs(i: Invocation) -> bool:
            if i.stream == "products":
                return which == "listings"
            if i.function == api and i.kind == READ_KIND:
                return which == "reads"
            return which == "rest"

        return totals([i for i in invocations if i.seller == seller.instance_id and belongs(i)], memory, cycles)

    def orders_of(seller: Seller) -> float:
        return statistics.fmean(seller.stored_orders[phase])

    small, large = sorted(sellers, key=orders_of)[0], sorted(sellers, key=orders_of)[-1]

    def polled(function: str, phase: str, occurrences: int, polls_each: float) -> Totals:
        """The ``phase``'s invocations of ``function`` per occurrence, with Walmart's polls instead of the bench's."""
        chosen = [i for i in runner.invocations if i.phase == phase and i.function == function]
        polls = [i for i in chosen if i.kind == "poll"]
        if not polls:
            raise RuntimeError(f"no {function} poll was measured")
        steps = totals([i for i in chosen if i.kind != "poll"], memory, occurrences)
        return combine((steps, 1), (totals(polls, memory, len(polls)), polls_each))

    reports = name_of["ads_reports"]
    files = sum(
        1 for i in runner.invocations if i.phase == "refresh" and i.function == reports and i.kind == "download"
    )
    discovery = name_of["profile_refresh"]
    discoveries = sum(1 for i in runner.invocations if i.phase == "discovery" and i.kind == "schedule")
    performance = [i for i in runner.invocations if i.phase == "reads"]
    each_run = f"x {MONTH.runs} runs (mean of {cycles} {phase} cycles)"
    return [
        Activity(
            "listing pages",
            extrapolate(part(low, "listings"), part(high, "listings"), low.listings, high.listings, MONTH.listings),
            MONTH.runs,
            f"a run's products plan and pages, on the line through the bench sellers' {low.listings} and "
            f"{high.listings} listings, at {MONTH.listings}; {each_run}",
        ),
        Activity(
            "orders and accounting",
            combine(*((part(seller, "rest"), 1 / len(sellers)) for seller in sellers)),
            MONTH.runs,
            f"a run's orders plan and pages, the accounting of the changed orders, the authorizer before the "
            f"platform's read (~{MONTH.orders * MONTH.order_changes / MONTH.runs:.1f} order changes a run); {each_run}",
        ),
        Activity(
            "platform reads of changed orders",
            extrapolate(part(small, "reads"), part(large, "reads"), orders_of(small), orders_of(large), stored_orders),
            MONTH.runs,
            f"GET /api/walmart/{{id}}/orders?updated_since= after each run, on the line through "
            f"{orders_of(small):.0f} and {orders_of(large):.0f} stored orders, at {stored_orders:.0f} (the 180 days "
            f"the backfill loads plus half the month's); {each_run}",
        ),
        Activity(
            "scheduler",
            totals([i for i in invocations if i.seller is None], memory, cycles),
            MONTH.runs,
            f"the 15-minute schedule (it serves every seller: all of it counted here); {each_run}",
        ),
        Activity(
            "advertising refresh",
            polled(reports, "refresh", 1, files * (ready_polls - 1)),
            MONTH.refreshes,
            f"the measured refresh ({files} reports) with {ready_polls - 1} polls per report while Walmart prepares "
            f"the file (~{MONTH.walmart_file_minutes} min, the service's poll schedule); x {MONTH.refreshes}",
        ),
        Activity(
            "profile discovery",
            polled(discovery, "discovery", max(1, discoveries), ready_polls - 1),
            MONTH.discoveries,
            f"the mean of {discoveries} measured discoveries with {ready_polls - 1} polls (Walmart publishes no "
            f"insight time: the report's is assumed); x {MONTH.discoveries} (it serves every seller at once)",
        ),
        Activity(
            "performance read",
            totals(performance, memory, PERFORMANCE_READS),
            MONTH.days * MONTH.platform_performance_reads_per_day,
            "the platform reads the advertising performance once a day (mean of the measured reads)",
        ),
    ]


def month_totals(parts: list[Activity]) -> Totals:
    return combine(*((a.per_occurrence, a.per_month) for a in parts))


def stored_orders_month() -> float:
    """Orders stored during the month: the 180 days the onboarding backfill loads (at this rate), plus half the
    month's own (ORDER_HISTORY_DAYS, as deployed)."""
    from walmart_integration.config import Settings

    return MONTH.orders * Settings().order_history_days / MONTH.days + MONTH.orders / 2


def secret_reads() -> Decimal:
    """GetSecretValue a month: the partner secret is cached 5 minutes per container, and the functions that call
    Walmart Connect run in bursts 15 minutes apart or more: one read per burst (discovery; the daily refresh)."""
    return Decimal(MONTH.discoveries + MONTH.refreshes)


# ----------------------------------------------------------------------------------------------------------- storage
def storage(meter: Meter, tables: list[str], listings: int, orders: int, orders_month: float) -> dict[str, Any]:
    """Bytes the records take (items + 100 bytes each, index entries too), per family, scaled to the month: listings
    to 5,000, orders (with their accounting records) to the orders stored in the month; records that expire (TTL)
    left out; the rest (instance, advertising rows, settings) as the bench stored them."""
    families: Counter[str] = Counter()
    counts: Counter[str] = Counter()
    for table in tables:
        _, indexes = meter.schema(table)
        params: dict[str, Any] = {"TableName": table}
        while True:
            page = meter.raw.scan(**params)
            for item in page.get("Items", []):
                family = _family(item)
                size = cost_model.item_size(item) + cost_model.STORAGE_OVERHEAD_BYTES
                copies = 1 + sum(1 for index in indexes if all(a in item for a in index.attributes))
                families[family] += size * copies
                counts[family] += 1
            if "LastEvaluatedKey" not in page:
                break
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    scale = {"listings": MONTH.listings / max(1, listings), "orders": orders_month / max(1, orders)}
    month_bytes = sum(
        (Decimal(b) * Decimal(str(scale.get(f, 1.0))) for f, b in families.items() if f != "expiring"), Decimal(0)
    )
    return {"bytes_by_family": dict(families), "items_by_family": dict(counts), "month_gb": month_bytes / prices.GB}


def _family(item: Mapping[str, Any]) -> str:
    if "expires_at" in item or "expiration" in item:
        return "expiring"
    keys = " ".join(str(value.get("S", "")) for name, value in item.items() if name in ("pk", "sk", "id"))
    if "PRODUCT#" in keys or "SKU#" in keys:
        return "listings"
    if any(prefix in keys for prefix in ("ORDER#", "ACCTPOST#", "ACCTDOC#", "ACCTBATCH#", "ACCTHELD#")):
        return "orders"
    if "ADPERF#" in keys:
        return "advertising"
    return "other"


# --------------------------------------------------------------------------------------------------- memory sizing
# Peak resident memory of this process in kB (VmHWM: ru_maxrss would count the parent's memory before exec).
_FOOTPRINT = """
import sys
import app
import boto3
for service in sys.argv[1:]:
    boto3.session.Session().client(service, region_name="us-east-1")
with open("/proc/self/status") as status:
    print(next(line.split()[1] for line in status if line.startswith("VmHWM:")))
"""


def footprint_mb(directory: str, services: list[str]) -> float:
    """RSS of a fresh interpreter that imported the handler and created its clients (MB)."""
    from bench.cold_start import ENV, LAYER

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH"))}
    env.update(ENV)
    env["PYTHONPATH"] = os.pathsep.join([str(LAYER), str(ROOT / "functions" / directory)])
    env["POWERTOOLS_SERVICE_NAME"] = directory
    output = subprocess.run(
        [sys.executable, "-c", _FOOTPRINT, *services],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    return int(output.stdout.strip().splitlines()[-1]) / 1024


def memory_table(runner: Runner, month: Totals, template_memory: Mapping[str, int]) -> dict[str, dict[str, Any]]:
    """Per function: its mean invocation at each size, the size the rule chooses and the one in template.yaml."""
    directories = {name: d for d, name in runner.functions.items()}
    table: dict[str, dict[str, Any]] = {}
    for function in sorted(template_memory):
        samples = [i for i in runner.invocations if i.function == function and i.phase != "probe"]
        count = month[function][INVOCATIONS] if function in month else Decimal(0)
        if count:
            cpu = float(month[function][CPU] / count)
            io_wait = float(month[function][IO] / count)
            basis = "the month's mean invocation"
        elif samples:
            cpu, io_wait = statistics.fmean(i.cpu for i in samples), statistics.fmean(i.io for i in samples)
            basis = f"the mean of its {len(samples)} invocations at onboarding (none in the month)"
        else:
            table[function] = {"measured": False, "template_memory_mb": template_memory[function]}
            continue
        services = sorted({op.split(":")[0] for i in samples for op in i.operations})
        peak = max([i.peak_bytes for i in runner.invocations if i.function == function] or [0]) / 2**20
        rss = footprint_mb(directories[function], services)
        needed = (rss + peak) * FOOTPRINT_HEADROOM
        options = cost_model.memory_options(cpu, io_wait, needed_mb=needed)
        try:
            chosen = cost_model.choose_memory(options)
        except ValueError:  # it fits in none of the sizes: the largest, flagged below
            chosen = options[-1]
        table[function] = {
            "measured": True,
            "basis": basis,
            "cpu_ms": round(cpu * 1000, 1),
            "io_ms": round(io_wait * 1000, 1),
            "footprint_mb": {"after_import_and_clients": round(rss, 1), "invocation_peak": round(peak, 1)},
            "needs_mb": round(needed),
            "options": [
                {
                    "memory_mb": o.memory_mb,
                    "duration_ms": o.duration_ms,
                    "usd_per_million": str(o.cost_per_million_usd),
                    "fits": o.fits,
                }
                for o in options
            ],
            "chosen_memory_mb": chosen.memory_mb,
            "template_memory_mb": template_memory[function],
            "template_matches": chosen.memory_mb == template_memory[function],
            # Run to run the figures move a little: a size at the 10 % edge can flip between two runs.
            "template_within_10_percent_of_fastest": any(
                o.memory_mb == template_memory[function]
                and Decimal(str(o.duration_ms)) <= Decimal(str(min(x.duration_ms for x in options))) * Decimal("1.1")
                for o in options
            ),
        }
    return table


# -------------------------------------------------------------------------------------------------------------- run
def _usd(value: Decimal, places: str = "0.0001") -> str:
    return str(value.quantize(Decimal(places)))


def _priced(part: Mapping[str, Mapping[str, Decimal]]) -> dict[str, Any]:
    return cost_model.priced(flat(part))


def measured_means(runner: Runner) -> dict[str, Any]:
    """Per (function, kind) of the busy cycles and the advertising phases: the mean measured invocation."""
    grouped: dict[str, list[Invocation]] = defaultdict(list)
    for i in runner.invocations:
        if i.phase in ("busy", "refresh", "discovery", "reads", "onboarding"):
            grouped[f"{i.function} {i.kind} ({'onboarding' if i.phase == 'onboarding' else 'month'})"].append(i)
    result = {}
    for key, samples in sorted(grouped.items()):
        mean_q = {name: sum((s.quantities[name] for s in samples), Decimal(0)) / len(samples) for name in QUANTITIES}
        result[key] = {
            "samples": len(samples),
            "cpu_ms": round(statistics.fmean(s.cpu for s in samples) * 1000, 2),
            "measured_wait_ms": round(statistics.fmean(s.wait for s in samples) * 1000, 2),
            "aws_calls": round(statistics.fmean(s.aws_calls for s in samples), 2),
            "walmart_calls": round(statistics.fmean(len(s.walmart_endpoints) for s in samples), 2),
            "io_ms_with_round_trips": round(statistics.fmean(s.io for s in samples) * 1000, 1),
            **{name: str(round(value, 2)) for name, value in mean_q.items()},
            "log_bytes": round(statistics.fmean(s.log_bytes for s in samples)),
            "aws_operations": dict(sum((s.operations for s in samples), Counter())),
        }
    return result


QUANTITIES = (
    "dynamodb.read_request_units",
    "dynamodb.write_request_units",
    "sqs.requests",
    "kms.requests",
    "secretsmanager.requests",
    "events.custom_events",
)


def run() -> dict[str, Any]:
    saved = dict(os.environ)
    try:
        return plain(_run())
    finally:  # the next benchmark in this interpreter starts from the environment this one found
        os.environ.clear()
        os.environ.update(saved)


def sanity(runner: Runner, sellers: list[Seller], parts: list[Activity]) -> list[str]:
    """Checks that the bench recognised what it extrapolates (message fields, sellers, Walmart calls)."""
    busy = [i for i in runner.invocations if i.phase == "busy"]
    problems = []
    if not any(i.stream == "products" for i in busy):
        problems.append("no listing page recognised: sync messages carry no 'stream' = 'products'")
    for seller in sellers:
        if not any(i.seller == seller.instance_id for i in busy):
            problems.append(f"no invocation attributed to {seller.client_id}: messages carry no 'instance_id'")
        if not seller.stored_orders["busy"]:
            problems.append(f"{seller.client_id}: stored orders unknown")
    if len({s.listings for s in sellers}) < 2:
        problems.append("the two sellers have the same catalogue: no line through them")
    if not any(i.walmart_endpoints for i in busy):
        problems.append("no Walmart call seen in the runs")
    for activity in parts:
        if not activity.per_occurrence:
            problems.append(f"{activity.name}: nothing measured")
    if not any(i.quantities.get("dynamodb.read_request_units") for i in busy):
        problems.append("no DynamoDB read units counted")
    return problems


def plain(value: Any) -> Any:
    """JSON-ready: money and other Decimals as exact strings."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def _run() -> dict[str, Any]:
    in_process_environment()
    started = time.monotonic()
    phases = Phases()
    from moto import mock_aws

    from local.emulator import Emulator
    from local.harness import new_container
    from local.inprocess import provision
    from local.partner import install_partner
    from local.seed import seed_demo
    from walmart_integration.config import Settings
    from walmart_integration.services.connect_gateway import poll_delay

    emulator = Emulator(seed=14)
    url = emulator.start()
    emulator.faults.update({"rate_limits_enabled": False})
    processing = {"report_processing_seconds": SNAPSHOT_SECONDS, "insight_processing_seconds": SNAPSHOT_SECONDS}
    emulator.connect_faults.update(processing)
    sellers = [
        Seller("cost-small", "777000015", SMALL_ITEMS, HISTORY_ORDERS_SMALL),
        Seller("cost-large", "777000014", ITEMS, HISTORY_ORDERS),
    ]
    for seller in sellers:
        emulator.add_seller(
            seller.client_id,
            f"{seller.client_id}-secret",
            seller_id=seller.seller_id,
            item_count=seller.listings,
            order_count=seller.history,
            order_days=30,
        )
        emulator.generate(seller.seller_id)
    emulator.add_advertiser(ADVERTISER, "Bench Brand", "3p", "write")
    meter = Meter()
    try:
        with mock_aws():
            meter.install()
            stack = provision(
                {
                    "WalmartSandboxUrl": url,
                    "WalmartProductionUrl": url,
                    "WalmartAdsUrl": url,
                    "WalmartRateLimitScale": "100",  # a month's runs, minutes apart: Walmart's budgets out of the way
                }
            )
            env = _environment(stack)
            # As deployed: metrics on (EMF blobs are log lines) and the template's log level; counted, never shown.
            os.environ.update({**env, **QUIET, "POWERTOOLS_METRICS_DISABLED": "false"})
            new_container()
            import boto3

            secrets = boto3.client("secretsmanager", region_name="us-east-1")
            install_partner(secrets, env["WALMART_ADS_SECRET_NAME"], emulator)
            token = seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
            runner = Runner(stack, emulator, meter, token)
            phases.runner = runner
            log_level = stack.function_env("SyncFunction").get("POWERTOOLS_LOG_LEVEL", "INFO")
            with counted_logs(meter, log_level):
                facts = scenario(runner, sellers, phases)
            tables = [
                stack.ref(name)
                for name, resource in stack.template.resources.items()
                if resource.get("Type") == "AWS::DynamoDB::Table"
            ]
            orders_stored = sum(len(emulator.orders(s.seller_id)) + s.copies for s in sellers)
            stored = storage(meter, tables, sum(s.listings for s in sellers), orders_stored, stored_orders_month())
    finally:
        meter.uninstall()
        emulator.stop()
        os.environ.update(QUIET)
        new_container()

    deployed = Settings()  # the deployed poll schedule (the bench polled right away)
    ready_polls = cost_model.polls_until_ready(
        MONTH.walmart_file_minutes * 60, lambda n: float(int(poll_delay(deployed, n)))
    )
    template_memory = {name: spec.memory_size for name, spec in stack.template.functions().items()}
    month: dict[str, Totals] = {}
    parts: dict[str, list[Activity]] = {}
    stored_orders = stored_orders_month()
    for phase in ("busy", "idle"):
        parts[phase] = activities(runner, sellers, phase, template_memory, ready_polls, stored_orders)
        month[phase] = month_totals(parts[phase])
    extra = {
        "dynamodb.storage_gb_months": stored["month_gb"],
        "dynamodb.pitr_gb_months": stored["month_gb"],
        "secretsmanager.requests": secret_reads(),
    }
    shared = {"kms.key_months": Decimal(1), "secretsmanager.secret_months": Decimal(1)}
    seller_month = cost_model.priced(added(flat(month["busy"]), extra))
    with_shared = cost_model.priced(added(flat(month["busy"]), extra, shared))
    # What the orders add: the runs' orders pages and accounting against the same runs without order changes (the
    # listing pages, the scheduler, advertising do the same work either way; the platform's read costs what the
    # stored orders cost, a change more or less is lost in its run-to-run noise).
    changing = ("orders and accounting",)

    def activity_usd(phase: str) -> Decimal:
        return sum(
            (_priced(a.per_occurrence)["total_usd"] * Decimal(a.per_month) for a in parts[phase] if a.name in changing),
            Decimal(0),
        )

    order_driven = activity_usd("busy") - activity_usd("idle")
    per_thousand = Decimal(1000) / MONTH.orders
    by_function = {function: _priced({function: q})["total_usd"] for function, q in sorted(month["busy"].items())}
    memory = memory_table(runner, month["busy"], template_memory)
    problems = sanity(runner, sellers, parts["busy"])
    return {
        "month": {
            "orders": MONTH.orders,
            "order_changes_per_order": MONTH.order_changes,
            "listings": MONTH.listings,
            "automatic_syncs": MONTH.runs,
            "advertising_refreshes": MONTH.refreshes,
            "discovery_runs": MONTH.discoveries,
        },
        "per_seller_month_usd": {
            "total": _usd(seller_month["total_usd"]),
            "by_service": seller_month["by_service_usd"],
            "by_quantity": seller_month["by_quantity_usd"],
            "by_function": by_function,
            "by_activity": {a.name: _usd(_priced(a.per_occurrence)["total_usd"] * a.per_month) for a in parts["busy"]},
            "by_activity_without_order_changes": {
                a.name: _usd(_priced(a.per_occurrence)["total_usd"] * a.per_month) for a in parts["idle"]
            },
            "discovery_note": "profile discovery serves every seller at once: with n sellers each carries 1/n of it",
            "with_shared_platform_costs": _usd(with_shared["total_usd"]),
        },
        "per_1000_orders_synced_usd": {
            "all_in": _usd(seller_month["total_usd"] * per_thousand),
            "order_driven": _usd(order_driven * per_thousand),
            "order_driven_means": "the runs' orders pages and accounting, minus the same runs without order changes, "
            "per 1,000 orders",
        },
        "shared_platform_month_usd": {
            "note": "one KMS key and one Secrets Manager secret, whatever the number of sellers",
            **cost_model.priced(shared)["by_quantity_usd"],
        },
        "quantities_per_month": {k: str(round(v, 4)) for k, v in sorted(added(flat(month["busy"]), extra).items())},
        "invocations_per_month": {
            function: round(q.get(INVOCATIONS, Decimal(0))) for function, q in sorted(month["busy"].items())
        },
        "activities": {
            a.name: {
                "per_month": a.per_month,
                "how": a.how,
                "usd_per_occurrence": _usd(_priced(a.per_occurrence)["total_usd"], "0.000001"),
                "invocations_per_occurrence": {
                    f: round(float(q.get(INVOCATIONS, 0)), 2) for f, q in sorted(a.per_occurrence.items())
                },
            }
            for a in parts["busy"]
        },
        "memory": {
            "rule": "duration = io + cpu x max(1, 1769 / MB); the cheapest size within 10 % of the fastest, among the "
            f"sizes holding the footprint x {FOOTPRINT_HEADROOM}",
            "functions": memory,
            "all_match_template": all(m.get("template_matches", True) for m in memory.values()),
            "all_template_sizes_within_10_percent_of_fastest": all(
                m.get("template_within_10_percent_of_fastest", True) for m in memory.values()
            ),
        },
        "per_invocation_measured": measured_means(runner),
        "storage": {
            "month_gb": str(round(stored["month_gb"], 6)),
            "bench_bytes_by_family": stored["bytes_by_family"],
            "bench_items_by_family": stored["items_by_family"],
        },
        "measured_vs_extrapolated": {
            "measured": "per invocation: CPU time, waits, AWS calls and request units, Walmart calls, log bytes, "
            "allocations; per run: the invocations of each function",
            "extrapolated": "runs, refreshes and discoveries to the month (linear); listing pages to 5,000 listings "
            "and the platform's read of changed orders to the orders stored (each on the line through the two bench "
            "sellers); storage to those listings and orders",
            "modelled": f"snapshot polls from Walmart's 10-15 minutes ({ready_polls - 1} per file); network round "
            f"trips ({AWS_RTT_SECONDS * 1000:.0f} ms per AWS call, {WALMART_RTT_SECONDS * 1000:.0f} ms per Walmart "
            f"call); the event source mapping's {ESM_REQUESTS_PER_INVOCATION} SQS requests per batch; "
            f"{LAMBDA_PLATFORM_LOG_BYTES} bytes of Lambda log lines per invocation; one partner-secret read per "
            "15-minute burst",
            "not_included": "free tiers, cold starts (init duration), CloudWatch metrics, data transfer, the event "
            "source mappings' polling of idle queues",
        },
        # What would make these figures wrong without failing (the product changed under the bench): empty when sound.
        "problems": problems,
        "bench": {
            "listings": [s.listings for s in sellers],
            "busy_cycles": BUSY_CYCLES,
            "idle_cycles": IDLE_CYCLES,
            "cycle_seconds": CYCLE_SECONDS,
            "new_orders_in_busy_cycles": facts["new_orders_in_busy_cycles"],
            "invocations": len(runner.invocations),
            "invocations_by_phase": dict(Counter(i.phase for i in runner.invocations)),
            "phases_seconds": phases.seconds,
            "seconds": round(time.monotonic() - started, 1),
        },
    }


if __name__ == "__main__":
    with contextlib.redirect_stdout(sys.stderr):
        figures = run()
    print(json.dumps(figures, indent=2))
