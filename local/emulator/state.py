"""Emulator state: sellers, issued tokens, apps and their authorizations (oauth.py), knobs, call log, rate limiter.

Everything mutable is guarded by one re-entrant lock (the server is threaded). Time comes from
an injectable clock (epoch seconds) so tests can move it; randomness from ``random.Random``
instances derived from the seed, so a given seed and call sequence gives the same answers.
"""

from __future__ import annotations

import copy
import hashlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from .datagen import JsonDict, OrderRecord, make_access_token, make_ship_nodes, rng_for
from .oauth import OAuthState
from .ratelimit import RateLimiter
from .records import DEFAULT_ITEM_COUNT, DEFAULT_ORDER_COUNT, DEFAULT_ORDER_DAYS, SellerRecords

DEMO_CLIENT_ID = "demo-client-id"
DEMO_CLIENT_SECRET = "demo-client-secret"  # noqa: S105 (emulator demo credential)
DEMO_SELLER_ID = "101000001"

DEFAULT_TOKEN_TTL_SECONDS = 900
DEFAULT_ORDERS_MAX_RESULTS = 10_000
# Walmart does not publish an authorization code's lifetime; OAuth recommends at most 10 minutes (RFC 6749 4.1.2).
DEFAULT_AUTH_CODE_TTL_SECONDS = 600
# GET /v3/items nextCursor "is valid for 2 minutes" (docs/walmart/specs/marketplace__item-management.openapi.json)
DEFAULT_ITEM_CURSOR_TTL_SECONDS = 120
DEFAULT_ITEMS_MAX_OFFSET = 10_000  # GET /v3/items offset "must be <= 10,000" (item-management spec)
# On-request reports "take 15 to 45 minutes to generate"; "one report for each report type per hour" (page
# "On-request reports" of developer.walmart.com, docs/walmart/FACTS.md "Checked behaviours" 2)
DEFAULT_ITEM_REPORT_PROCESSING_SECONDS = 900.0
DEFAULT_REPORT_REQUESTS_PER_HOUR = 1
# The order API's own 404 (docs/walmart/specs/marketplace__order-management.openapi.json, responses.NotFound)
DEFAULT_ORDER_NOT_FOUND_CODE = "NOT_FOUND.GMP_ORDER_API"
# Share of orders served with their one-element lists as objects (FACTS.md "Checked behaviours" 4: UNCONFIRMED by
# Walmart's documents, normalised by public clients; a small share keeps every reader honest)
DEFAULT_SINGLE_OBJECT_RATE = 0.05
# In-flight calls past which the gateway answers 200 with an HTML page ("Checked behaviours" 8)
DEFAULT_GATEWAY_BUSY_CONCURRENCY = 32
# Settlements (finance.py): 14-day payment cycles; a report carries its PaymentSummary (deposit) row this many days
# after its period ended (Walmart publishes no such delay: UNCONFIRMED, docs/walmart/FACTS.md "Settlements"); a share
# of shipped order lines is returned through GET /v3/returns.
DEFAULT_SETTLEMENT_CYCLE_DAYS = 14
DEFAULT_SETTLEMENT_FINAL_AFTER_DAYS = 2
DEFAULT_SETTLEMENT_HISTORY_DAYS = 180  # the orders' history (orders.HISTORY_DAYS): every period of what was sold
DEFAULT_RETURN_RATE = 0.05
RATE_KNOBS = (
    "return_rate",
    "malformed_record_rate",
    "duplicate_item_rate",
    "wrapped_order_rate",
    "single_object_rate",
    "item_report_failure_rate",
    "non_json_rate",
)

Clock = Callable[[], float]


@dataclass
class Seller:
    seller_id: str
    client_id: str
    client_secret: str
    ship_nodes: list[JsonDict] = field(default_factory=list)
    # catalogue + orders, generated on first use (see records.py); None only for hand-built sellers
    records: SellerRecords | None = field(default=None, repr=False, compare=False)

    def summary(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "seller_id": self.seller_id,
            "client_id": self.client_id,
            "ship_nodes": len(self.ship_nodes),
        }
        if self.records is not None:
            data.update(self.records.summary())
        return data


@dataclass
class ReportRequestRecord:
    """An on-request report's request (POST /v3/reports/reportRequests) as the emulator keeps it."""

    request_id: str
    seller_id: str
    report_type: str
    report_version: str
    submitted_at: float  # epoch seconds
    ready_at: float  # when it is READY (or ERROR, when ``fails``)
    fails: bool = False
    status_reads: int = 0  # GET /v3/reports/reportRequests/{requestId} so far (knob item_report_ready_after_reads)


@dataclass
class IssuedToken:
    access_token: str
    seller_id: str
    client_id: str
    issued_at: float
    expires_at: float
    uses: int = 0  # authenticated calls made with it
    revoked: bool = False


@dataclass(frozen=True)
class CallRecord:
    ts: float
    method: str
    path: str
    query_string: str
    endpoint: str  # "METHOD /path/template", e.g. "GET /v3/settings/shipping/shipnodes"
    seller_id: str | None  # None when the call could not be tied to a seller
    status: int
    correlation_id: str | None
    # "ok", "missing_header", "unauthorized:<why>", "throttled", "forced_fault", ...
    outcome: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ForcedFault:
    path_prefix: str
    status: int
    remaining: int
    method: str | None = None
    seller_id: str | None = None  # only calls of this seller

    def matches(self, method: str, path: str, seller_id: str | None = None) -> bool:
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.seller_id is not None and self.seller_id != seller_id:
            return False
        return path.startswith(self.path_prefix)


class Faults:
    """Fault knobs. Plain attributes; ``update`` validates a JSON dict of them.

    token_error_rate      probability of a 500 on POST /v3/token
    error_rate            probability of a 500 on authenticated API calls
    latency_ms            added delay on every emulated API call
    token_expiry_after_calls  None, or N: an access token stops working after N calls
    token_ttl_seconds     lifetime of new tokens (expires_in), default 900
    expired_token_status  401 (UNAUTHORIZED.GMP_GATEWAY_API) or 400 (INVALID_TOKEN.GMP_GATEWAY_API)
    rate_limit_scale      multiplies every per-minute limit (0.1 = a tenth of Walmart's)
    rate_limits_enabled   False switches throttling off
    rate_limits           {"GET /v3/orders": 120, ...}: per-minute limits replacing Walmart's for those
                          endpoints (bucket ids of ratelimit.MARKETPLACE_RATE_LIMITS); rate_limit_scale
                          still applies
    error_key             "error" (default) or "errors": the key of error bodies
    malformed_record_rate 0..1: share of orders / items served broken (missing purchaseOrderId or
                          sku, orderLines as a string, a bad date, quantity or price); the same
                          records every time (decided per record, not per call)
    duplicate_item_rate   0..1: GET /v3/items pages after the first also repeat this share (of the
                          page size) of items from earlier pages; no item is left out
    wrapped_order_rate    0..1: share of orders served wrapped in an extra {"order": {...}} (the
                          quirk of Walmart's own example); per record, like malformed_record_rate
    orders_max_results    results one GET /v3/orders query can reach (10,000: docs/walmart/FACTS.md): past it
                          the nextCursor stops although totalCount says more
    item_cursor_ttl_seconds  N (default 120, the spec's two minutes): a GET /v3/items cursor is refused
                          (400 "Invalid Cursor") N seconds after it was issued; None: never
    auth_code_ttl_seconds how long an authorization code can be exchanged (600)
    refused_grant_status  400 (default) or 401: POST /v3/token's answer to a refused code or refresh token
    rotate_refresh_tokens False (Walmart's example): a refresh_token grant returns no new refresh token; True: a new
                          one, the old one revoked
    items_max_offset      the largest GET /v3/items offset served (default 10,000, the spec's; smaller for tests)
    item_report_processing_seconds  how long an ITEM report takes to be READY (default 900: Walmart's
                          15-45 minutes start at 15)
    item_report_failure_rate  0..1: share of report requests that end in ERROR (default 0)
    item_report_ready_after_reads  N (default 0): a report is READY no sooner than the Nth read of its status
                          (GET .../reportRequests/{requestId}), however much time passed: a test that wants a report
                          polled before it is ready gets that on a slow machine too
    report_requests_per_hour  report requests of one type a seller may make per hour (default 1), else 429
    order_not_found_code  the code of GET /v3/orders' 404 for zero matches (default NOT_FOUND.GMP_ORDER_API, the
                          order spec's example; CONTENT_NOT_FOUND.GMP_ORDER_API is the other one seen)
    single_object_rate    0..1 (default 0.05): share of orders served with their one-element lists (orderLine,
                          orderLineStatus, charge, refundCharge) as the element itself, and a page holding one
                          such order with elements.order as that object; per record, like malformed_record_rate
    retry_after_seconds   None (default: Retry-After is the wait for the next token, rounded up), or N: a 429 says
                          Retry-After: N and the seller's bucket answers 429 until then
    gateway_busy_concurrency  in-flight calls past which the gateway answers 200 with an HTML page (default 32)
    non_json_rate         0..1: share of calls answered 200 with that HTML page whatever the load (default 0)
    settlement_cycle_days     length of a payment period (default 14)
    settlement_final_after_days  days after a period's end before its report carries the PaymentSummary (deposit)
                          row (default 2); until then the report is pending: its lines, no deposit
    settlement_history_days  how far back availableReconFiles lists periods (default 180, as far back as orders
                          are served); tests that are not about settlements list fewer, to do less work
    return_rate           0..1 (default 0.05): share of shipped order lines returned (one unit) through /v3/returns
    fail_next(...)        force the next N responses on a path prefix to a status (of one seller's
                          calls with "seller_id")
    """

    KNOBS: tuple[str, ...] = (
        "token_error_rate",
        "error_rate",
        "latency_ms",
        "token_expiry_after_calls",
        "token_ttl_seconds",
        "expired_token_status",
        "rate_limit_scale",
        "rate_limits_enabled",
        "rate_limits",
        "error_key",
        "malformed_record_rate",
        "duplicate_item_rate",
        "wrapped_order_rate",
        "orders_max_results",
        "item_cursor_ttl_seconds",
        "auth_code_ttl_seconds",
        "refused_grant_status",
        "rotate_refresh_tokens",
        "items_max_offset",
        "item_report_processing_seconds",
        "item_report_failure_rate",
        "item_report_ready_after_reads",
        "report_requests_per_hour",
        "order_not_found_code",
        "single_object_rate",
        "retry_after_seconds",
        "gateway_busy_concurrency",
        "non_json_rate",
        "settlement_cycle_days",
        "settlement_final_after_days",
        "settlement_history_days",
        "return_rate",
    )

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.token_error_rate: float = 0.0
        self.error_rate: float = 0.0
        self.latency_ms: int = 0
        self.token_expiry_after_calls: int | None = None
        self.token_ttl_seconds: int = DEFAULT_TOKEN_TTL_SECONDS
        self.expired_token_status: int = 401
        self.rate_limit_scale: float = 1.0
        self.rate_limits_enabled: bool = True
        self.rate_limits: dict[str, float] = {}
        self.error_key: str = "error"
        self.malformed_record_rate: float = 0.0
        self.duplicate_item_rate: float = 0.0
        self.wrapped_order_rate: float = 0.0
        self.orders_max_results: int = DEFAULT_ORDERS_MAX_RESULTS
        self.item_cursor_ttl_seconds: int | None = DEFAULT_ITEM_CURSOR_TTL_SECONDS
        self.auth_code_ttl_seconds: int = DEFAULT_AUTH_CODE_TTL_SECONDS
        self.refused_grant_status: int = 400
        self.rotate_refresh_tokens: bool = False
        self.items_max_offset: int = DEFAULT_ITEMS_MAX_OFFSET
        self.item_report_processing_seconds: float = DEFAULT_ITEM_REPORT_PROCESSING_SECONDS
        self.item_report_failure_rate: float = 0.0
        self.item_report_ready_after_reads: int = 0
        self.report_requests_per_hour: int = DEFAULT_REPORT_REQUESTS_PER_HOUR
        self.order_not_found_code: str = DEFAULT_ORDER_NOT_FOUND_CODE
        self.single_object_rate: float = DEFAULT_SINGLE_OBJECT_RATE
        self.retry_after_seconds: int | None = None
        self.gateway_busy_concurrency: int = DEFAULT_GATEWAY_BUSY_CONCURRENCY
        self.non_json_rate: float = 0.0
        self.settlement_cycle_days: int = DEFAULT_SETTLEMENT_CYCLE_DAYS
        self.settlement_final_after_days: int = DEFAULT_SETTLEMENT_FINAL_AFTER_DAYS
        self.settlement_history_days: int = DEFAULT_SETTLEMENT_HISTORY_DAYS
        self.return_rate: float = DEFAULT_RETURN_RATE
        self._forced: list[ForcedFault] = []

    # -- forced faults -------------------------------------------------------------------
    @staticmethod
    def _forced_fault(
        path_prefix: str, status: int, count: int = 1, method: str | None = None, seller_id: str | None = None
    ) -> ForcedFault:
        if not isinstance(path_prefix, str) or not path_prefix.startswith("/"):
            raise ValueError("path_prefix must start with '/'")
        try:
            status, count = int(status), int(count)
        except (TypeError, ValueError):
            raise ValueError("status and count must be integers") from None
        if not 100 <= status <= 599:
            raise ValueError("status must be an HTTP status code")
        if count < 1:
            raise ValueError("count must be >= 1")
        if method is not None and not isinstance(method, str):
            raise ValueError("method must be a string")
        if seller_id is not None and not isinstance(seller_id, str):
            raise ValueError("seller_id must be a string")
        return ForcedFault(path_prefix, status, count, method, seller_id)

    def fail_next(
        self, path_prefix: str, status: int, count: int = 1, method: str | None = None, seller_id: str | None = None
    ) -> None:
        """Answer the next ``count`` calls whose path starts with ``path_prefix`` with ``status``.

        Statuses 502/503 answer a bare text body (gateway unreachable); others a Walmart error
        body (429 also carries the rate-limit headers). ``method`` restricts to one HTTP method,
        ``seller_id`` to the calls of one seller.
        """
        fault = self._forced_fault(path_prefix, status, count, method, seller_id)
        with self._lock:
            self._forced.append(fault)

    def take_forced(self, method: str, path: str, seller_id: str | None = None) -> int | None:
        """Consume one forced fault matching the call; its status, or None."""
        with self._lock:
            for fault in self._forced:
                if fault.matches(method, path, seller_id):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._forced.remove(fault)
                    return fault.status
        return None

    def clear_forced(self) -> None:
        with self._lock:
            self._forced.clear()

    @property
    def pending(self) -> list[dict[str, Any]]:
        with self._lock:
            return [asdict(f) for f in self._forced]

    # -- (de)serialisation ---------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {name: getattr(self, name) for name in self.KNOBS}
        data["fail_next"] = self.pending
        return data

    def update(self, values: Mapping[str, Any]) -> None:
        """Set knobs from a JSON-like dict (the control endpoint). Raises ValueError."""
        unknown = set(values) - set(self.KNOBS) - {"fail_next", "clear_fail_next"}
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        parsed: dict[str, Any] = {}
        for name in self.KNOBS:
            if name in values:
                parsed[name] = self._parse(name, values[name])
        forced = values.get("fail_next")
        new_faults: list[ForcedFault] = []
        if forced is not None:
            items = [forced] if isinstance(forced, Mapping) else forced
            if not isinstance(items, list):
                raise ValueError("fail_next must be an object or a list of objects")
            for item in items:
                if not isinstance(item, Mapping) or not {"path_prefix", "status"} <= set(item):
                    raise ValueError("fail_next needs path_prefix and status")
                new_faults.append(
                    self._forced_fault(
                        item["path_prefix"],
                        item["status"],
                        item.get("count", 1),
                        item.get("method"),
                        item.get("seller_id"),
                    )
                )
        # everything validated: apply
        for name, value in parsed.items():
            setattr(self, name, value)
        with self._lock:
            if values.get("clear_fail_next"):
                self._forced.clear()
            self._forced.extend(new_faults)

    @staticmethod
    def _parse(name: str, value: Any) -> Any:
        try:
            if name in ("token_error_rate", "error_rate", *RATE_KNOBS):
                rate = float(value)
                if not 0.0 <= rate <= 1.0:
                    raise ValueError
                return rate
            if name in ("latency_ms", "token_ttl_seconds"):
                number = int(value)
                if number < 0:
                    raise ValueError
                return number
            if name == "token_expiry_after_calls":
                if value is None:
                    return None
                number = int(value)
                if number < 0:
                    raise ValueError
                return number
            if name in ("settlement_cycle_days", "settlement_final_after_days", "settlement_history_days"):
                number = int(value)
                if isinstance(value, bool) or number < (1 if name == "settlement_cycle_days" else 0):
                    raise ValueError
                return number
            if name in ("orders_max_results", "items_max_offset"):
                number = int(value)
                if number < 1 or isinstance(value, bool):
                    raise ValueError
                return number
            if name in ("item_cursor_ttl_seconds", "retry_after_seconds"):
                if value is None:
                    return None
                number = int(value)
                if number < 1 or isinstance(value, bool):
                    raise ValueError
                return number
            if name == "auth_code_ttl_seconds":
                number = int(value)
                if number < 1 or isinstance(value, bool):
                    raise ValueError
                return number
            if name == "refused_grant_status":
                status = int(value)
                if status not in (400, 401) or isinstance(value, bool):
                    raise ValueError
                return status
            if name == "rotate_refresh_tokens":
                if not isinstance(value, bool):
                    raise ValueError
                return value
            if name == "item_report_processing_seconds":
                seconds = float(value)
                if seconds < 0 or isinstance(value, bool):
                    raise ValueError
                return seconds
            if name in ("report_requests_per_hour", "gateway_busy_concurrency", "item_report_ready_after_reads"):
                number = int(value)
                if number < 0 or isinstance(value, bool) or (name == "report_requests_per_hour" and number < 1):
                    raise ValueError
                return number
            if name == "order_not_found_code":
                if not isinstance(value, str) or not value.strip():
                    raise ValueError
                return value.strip()
            if name == "expired_token_status":
                status = int(value)
                if status not in (400, 401):
                    raise ValueError
                return status
            if name == "rate_limit_scale":
                scale = float(value)
                if scale <= 0:
                    raise ValueError
                return scale
            if name == "rate_limits":
                if not isinstance(value, Mapping):
                    raise ValueError
                limits = {str(k): float(v) for k, v in value.items()}
                if any(v <= 0 for v in limits.values()):
                    raise ValueError
                return limits
            if name == "rate_limits_enabled":
                if not isinstance(value, bool):
                    raise ValueError
                return value
            if name == "error_key":
                if value not in ("error", "errors"):
                    raise ValueError
                return value
        except (TypeError, ValueError):
            raise ValueError(f"invalid value for {name}: {value!r}") from None
        raise ValueError(f"unknown knob: {name}")  # pragma: no cover


class EmulatorState:
    """All state of one emulator instance."""

    def __init__(self, seed: int = 0, clock: Clock | None = None) -> None:
        self.clock: Clock = clock or time.time
        self.lock = threading.RLock()
        self.rate_limiter = RateLimiter(self.clock)
        self._init(seed)

    def _init(self, seed: int) -> None:
        self.seed = seed
        # signs GET /v3/orders cursors and GET /v3/items cursors (tampering -> 400)
        self.cursor_key = hashlib.sha256(f"walmart-emulator-cursor:{seed}".encode()).digest()
        self.token_rng = rng_for(seed, "tokens")
        self.fault_rng = rng_for(seed, "faults")
        self.faults = Faults()
        self.sellers: dict[str, Seller] = {}
        self.sellers_by_client: dict[str, Seller] = {}
        self.tokens: dict[str, IssuedToken] = {}
        self.oauth = OAuthState(rng_for(seed, "oauth"))
        self.call_log: list[CallRecord] = []
        self.call_counts: Counter[tuple[str | None, str]] = Counter()
        self.reports: dict[str, ReportRequestRecord] = {}  # on-request reports by requestId (reports.py)
        self.throttled_until: dict[tuple[str, str], float] = {}  # (seller, bucket) -> end of a Retry-After window
        self.in_flight = 0  # Marketplace calls being answered right now (a busy gateway answers HTML)
        self.rate_limiter.reset()
        self.add_seller(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID)

    def reset(self, seed: int | None = None) -> None:
        """Back to a new emulator: demo seller only, default knobs, no tokens, empty log."""
        with self.lock:
            self._init(self.seed if seed is None else seed)

    # -- sellers -------------------------------------------------------------------------
    def add_seller(
        self,
        client_id: str,
        client_secret: str,
        seller_id: str | None = None,
        ship_nodes: Iterable[JsonDict] | int | None = None,
        *,
        item_count: int | None = None,
        order_count: int | None = None,
        order_days: float | None = None,
    ) -> Seller:
        """Register (or replace) a seller. ``ship_nodes``: list of nodes, a count, or None (3).

        ``item_count`` (default 60) items and ``order_count`` (default 300) orders created over
        the last ``order_days`` (default 90) days before now are generated on first use.
        Replacing a seller regenerates its data.
        """
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        sizes = {"item_count": item_count, "order_count": order_count, "order_days": order_days}
        for name, size in sizes.items():
            if size is not None and (isinstance(size, bool) or not isinstance(size, (int, float))):
                raise ValueError(f"{name} must be a number")
        with self.lock:
            existing = self.sellers_by_client.get(client_id)
            if seller_id is None:
                seller_id = existing.seller_id if existing else self._next_seller_id()
            seller_id = str(seller_id)
            if ship_nodes is None or isinstance(ship_nodes, int):
                count = 3 if ship_nodes is None else ship_nodes
                nodes = make_ship_nodes(self.seed, seller_id, count)
            else:
                nodes = copy.deepcopy(list(ship_nodes))
            if existing is not None and existing.seller_id != seller_id:
                self.sellers.pop(existing.seller_id, None)
            old = self.sellers.get(seller_id)
            if old is not None:
                self.sellers_by_client.pop(old.client_id, None)
            records = SellerRecords(
                self.seed,
                seller_id,
                anchor_ms=self.now_ms(),
                ship_nodes=nodes,
                item_count=int(DEFAULT_ITEM_COUNT if item_count is None else item_count),
                order_count=int(DEFAULT_ORDER_COUNT if order_count is None else order_count),
                order_days=float(DEFAULT_ORDER_DAYS if order_days is None else order_days),
            )
            seller = Seller(seller_id, client_id, client_secret, nodes, records)
            self.sellers[seller_id] = seller
            self.sellers_by_client[client_id] = seller
            return seller

    def _next_seller_id(self) -> str:
        candidate = int(DEMO_SELLER_ID) + len(self.sellers)
        while str(candidate) in self.sellers:
            candidate += 1
        return str(candidate)

    def seller(self, seller_id: str) -> Seller | None:
        with self.lock:
            return self.sellers.get(seller_id)

    def records(self, seller_id: str) -> SellerRecords:
        """The seller's catalogue and orders (KeyError for an unknown seller)."""
        with self.lock:
            seller = self.sellers.get(seller_id)
            if seller is None:
                raise KeyError(f"unknown seller {seller_id}")
            if seller.records is None:
                seller.records = SellerRecords(
                    self.seed, seller.seller_id, anchor_ms=self.now_ms(), ship_nodes=seller.ship_nodes
                )
            return seller.records

    def now_ms(self) -> int:
        return int(self.clock() * 1000)

    def update_order(
        self,
        seller_id: str,
        purchase_order_id: str,
        status: str,
        line: str | int | Iterable[str | int] | None = None,
        quantity: int | None = None,
    ) -> OrderRecord:
        with self.lock:
            return self.records(seller_id).update_order(purchase_order_id, status, self.now_ms(), line, quantity)

    def add_orders(self, seller_id: str, count: int, status: str = "Created") -> list[OrderRecord]:
        with self.lock:
            return self.records(seller_id).add_orders(count, self.now_ms(), status)

    def check_credentials(self, client_id: str, client_secret: str) -> Seller | None:
        with self.lock:
            seller = self.sellers_by_client.get(client_id)
            if seller is None or seller.client_secret != client_secret:
                return None
            return seller

    # -- tokens --------------------------------------------------------------------------
    def issue_token(self, seller: Seller, client_id: str | None = None) -> IssuedToken:
        """An access token for the seller: through its own keys, or (``client_id``) an app it authorized."""
        with self.lock:
            now = self.clock()
            token = IssuedToken(
                access_token=make_access_token(self.token_rng),
                seller_id=seller.seller_id,
                client_id=client_id or seller.client_id,
                issued_at=now,
                expires_at=now + self.faults.token_ttl_seconds,
            )
            self.tokens[token.access_token] = token
            return token

    def peek_token(self, access_token: str) -> IssuedToken | None:
        """The token record without counting a use (for attributing calls)."""
        with self.lock:
            return self.tokens.get(access_token)

    def use_token(self, access_token: str) -> tuple[IssuedToken | None, str]:
        """Authenticate one call: (token, "ok") or (token|None, "unknown"|"expired"|"exhausted")."""
        with self.lock:
            token = self.tokens.get(access_token)
            if token is None or token.seller_id not in self.sellers:
                return None, "unknown"
            if token.revoked or self.clock() >= token.expires_at:
                return token, "expired"
            limit = self.faults.token_expiry_after_calls
            if limit is not None and token.uses >= limit:
                token.revoked = True
                return token, "exhausted"
            token.uses += 1
            return token, "ok"

    def expire_tokens(self, seller_id: str | None = None) -> int:
        """Revoke every live token (of one seller, or all). Returns how many."""
        with self.lock:
            count = 0
            for token in self.tokens.values():
                if (seller_id is None or token.seller_id == seller_id) and not token.revoked:
                    token.revoked = True
                    count += 1
            return count

    def disconnect_app(self, seller_id: str, client_id: str | None = None) -> int:
        """The seller disconnects an app (every app without ``client_id``): its refresh tokens, and the access tokens
        issued through it, stop working. Returns how many refresh tokens were revoked."""
        with self.lock:
            before = sum(1 for t in self.oauth.refresh_tokens.values() if t.revoked)
            apps = self.oauth.disconnect(seller_id, client_id)
            for token in self.tokens.values():
                if token.seller_id == seller_id and token.client_id in apps:
                    token.revoked = True
            return sum(1 for t in self.oauth.refresh_tokens.values() if t.revoked) - before

    def active_tokens(self, seller_id: str | None = None) -> list[IssuedToken]:
        with self.lock:
            now = self.clock()
            return [
                t
                for t in self.tokens.values()
                if not t.revoked and now < t.expires_at and (seller_id is None or t.seller_id == seller_id)
            ]

    # -- faults --------------------------------------------------------------------------
    def roll(self, probability: float) -> bool:
        """A deterministic draw: True with the given probability."""
        if probability <= 0:
            return False
        with self.lock:
            return self.fault_rng.random() < probability

    # -- call log ------------------------------------------------------------------------
    def record_call(self, record: CallRecord) -> None:
        with self.lock:
            self.call_log.append(record)
            self.call_counts[(record.seller_id, record.endpoint)] += 1

    def calls(
        self,
        seller_id: str | None,
        endpoint: str | None = None,
        status: int | None = None,
    ) -> int:
        """Calls of a seller to an endpoint. ``endpoint``: "METHOD /path" or just "/path"."""
        with self.lock:
            if status is None and endpoint is not None and " " in endpoint:
                return self.call_counts[(seller_id, endpoint)]
            return sum(
                1
                for r in self.call_log
                if r.seller_id == seller_id
                and (endpoint is None or _endpoint_matches(r.endpoint, endpoint))
                and (status is None or r.status == status)
            )

    def summary(self) -> dict[str, Any]:
        with self.lock:
            by_seller: dict[str, dict[str, int]] = {}
            for (seller_id, endpoint), n in sorted(self.call_counts.items(), key=lambda kv: (str(kv[0][0]), kv[0][1])):
                by_seller.setdefault(str(seller_id), {})[endpoint] = n
            return {
                "seed": self.seed,
                "now": self.clock(),
                "sellers": [s.summary() for s in self.sellers.values()],
                "tokens": {
                    "issued": len(self.tokens),
                    "active": len(self.active_tokens()),
                    "refresh_tokens": len(self.oauth.refresh_tokens),
                },
                "apps": [app.client_id for app in self.oauth.apps.values()],
                "faults": self.faults.to_dict(),
                "calls": {"total": len(self.call_log), "by_seller": by_seller},
            }


def _endpoint_matches(recorded: str, wanted: str) -> bool:
    if " " in wanted:
        return recorded == wanted
    return recorded.split(" ", 1)[-1] == wanted
