"""Walmart Connect (advertising) state: partner, advertisers and their entities, snapshots, files,
the hourly operations budget, the Connect call log and the Connect knobs.

Guarded by the emulator's lock (shared with :class:`~.state.EmulatorState`); time from its clock.
Entities and report figures are derived from the seed, so a seed gives the same advertisers,
ids, names and numbers every run. Report figures of a day change only when it is restated.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import math
import threading
import time
import uuid
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeGuard
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cryptography.hazmat.primitives.asymmetric import rsa

from .connect_keys import load_public_key
from .datagen import JsonDict, rng_for
from .state import DEMO_SELLER_ID

ACCESS_TYPES = ("read", "write")
ADVERTISER_TYPES = ("1p", "3p")
INSIGHT_TYPES = ("advertiserAttributes", "advertiserAttributesV2")
FILE_FORMATS = ("gzip", "zip")
LAYOUTS = ("array", "object", "ndjson")
INSIGHT_FAULTS = ("failed", "empty", "unreadable", "malformed")
REPORT_TYPES = ("adGroup", "keyword")  # the only types the emulator generates


def _windows(*names: str) -> tuple[str, ...]:
    return tuple(f"{name}{days}days" for name in names for days in (3, 14, 30))


# The reportMetrics Walmart accepts per report type; anything else fails the request (400, code "failure").
# adGroup: Walmart's table "Eligible Metrics and Dimensions by Report Type" (advertising-partners-search docs,
# element-definitions-for-snapshot-reports-v2). It has no campaign or ad group *names*.
# keyword: the columns of Walmart's own "Sample Request 1 for report type Keyword" (sample-requests-for-create-
# report-snapshot): the keyword report has its own columns (biddedKeyword, searchedKeyword, bid, and sales split
# into direct/brand/related), and no keywordText. See docs/walmart/FACTS.md "Checked behaviours — Walmart Connect".
REPORT_DIMENSIONS: dict[str, frozenset[str]] = {
    "adGroup": frozenset({"adGroupId", "campaignId", "date"}),
    "keyword": frozenset(
        {"date", "keywordId", "searchedKeyword", "biddedKeyword", "matchType", "campaignId", "adGroupId"}
    ),
}
REPORT_METRICS: dict[str, frozenset[str]] = {
    "adGroup": REPORT_DIMENSIONS["adGroup"]
    | {"adSpend", "numAdsClicks", "numAdsShown"}
    | set(
        _windows(
            "advertisedAddToCart",
            "advertisedProductDetailPageViews",
            "advertisedSkuSales",
            "advertisedSkuUnits",
            "attributedOrders",
            "attributedUnits",
            "attributedSales",
            "inStoreAdvertisedSales",
            "inStoreOrders",
            "inStoreOtherSales",
            "inStoreUnitsSold",
            "ntbOrders",
            "ntbUnits",
            "ntbRevenue",
            "otherAddToCart",
            "otherProductDetailPageViews",
            "otherSkuSales",
            "otherSkuUnits",
        )
    ),
    "keyword": REPORT_DIMENSIONS["keyword"]
    | {"bid", "numAdsShown", "numAdsClicks", "adSpend"}
    | set(
        _windows(
            "ntbUnits",
            "ntbOrders",
            "ntbRevenue",
            "directAttributedSales",
            "attributedUnits",
            "brandAttributedSales",
            "relatedAttributedSales",
            "attributedOrders",
        )
    ),
}
# Columns the emulator's model can also render for tests (labels Walmart's report files do not carry).
MODEL_LABELS = ("campaignName", "adGroupName", "keywordText")
KEYWORD_METRICS = ("keywordId", "keywordText", "matchType")
METRICS = (  # the columns tests have long read from the model (names included: labels, not report metrics)
    "date",
    "campaignId",
    "campaignName",
    "adGroupId",
    "adGroupName",
    *KEYWORD_METRICS,
    "adSpend",
    "numAdsShown",
    "numAdsClicks",
    "attributedSales14days",
    "attributedOrders14days",
)
MAX_SPAN_DAYS = 62
MAX_AGE_DAYS = 90
# Which day Walmart's reports have reached: GET /api/v2/latestReportDate (docs/walmart/specs/
# ads__sponsored-products.openapi.json, operation getLatestReportDateV2). The zone of Walmart's report days and
# the hour a day is published are not documented (FACTS.md): Pacific time, as Walmart's campaign days begin at
# midnight PST, and 8 hours after the day ends, both knobs.
DEFAULT_REPORT_TIME_ZONE = "America/Los_Angeles"
DEFAULT_PUBLISH_DELAY_HOURS = 8.0
SNAPSHOT_TTL_SECONDS = 24 * 3600
OPS_WINDOW_SECONDS = 3600
OPS_RETENTION_SECONDS = 24 * 3600  # how far back ``operations`` can look
DEFAULT_HOURLY_OPERATIONS = 10_000
THROTTLED_DETAILS = "Too many requests. Retry after 10 minutes"
READ_ONLY_DETAILS = "Partner has read-only access"

DEMO_ADVERTISERS: tuple[JsonDict, ...] = (
    {"advertiser_id": 600001, "name": "Demo Brands Inc", "advertiser_type": "1p", "access": "write"},
    {
        "advertiser_id": 600002,
        "name": "Demo Marketplace Seller",
        "advertiser_type": "3p",
        "access": "write",
        "seller_id": DEMO_SELLER_ID,
        "seller_name": "Demo Seller",
    },
    {"advertiser_id": 600003, "name": "Demo Read Only Co", "advertiser_type": "3p", "access": "read"},
)

_THEMES = ("Always On", "Brand Defense", "Category Conquest", "Seasonal Push", "New Arrivals", "Top Sellers")
_ADJECTIVES = ("organic", "wireless", "kids", "premium", "eco", "portable", "family size", "stainless")
_NOUNS = ("coffee", "headphones", "snacks", "shampoo", "blender", "backpack", "water bottle", "vitamins")
_MATCH_TYPES = ("exact", "phrase", "broad")
_CENT = Decimal("0.01")

Clock = Callable[[], float]
Perf = tuple[int, int, Decimal, int, Decimal]  # shown, clicks, spend, orders, sales


class ConnectError(Exception):
    """A refused Connect call: HTTP ``status`` with body {"code": "failure", "details": ...}."""

    def __init__(self, status: int, details: str) -> None:
        super().__init__(details)
        self.status = status
        self.details = details


def not_granted(advertiser_id: object) -> ConnectError:
    return ConnectError(403, f"Advertiser {advertiser_id} has not granted access to this partner")


def iso_z(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_bid(value: object) -> bool:
    """0.3 .. 100 with at most 2 decimals."""
    if not _is_number(value) or not 0.3 <= value <= 100:
        return False
    exponent = Decimal(str(value)).as_tuple().exponent
    return isinstance(exponent, int) and exponent >= -2


def _add(parts: list[Perf]) -> Perf:
    return (
        sum(p[0] for p in parts),
        sum(p[1] for p in parts),
        sum((p[2] for p in parts), Decimal(0)),
        sum(p[3] for p in parts),
        sum((p[4] for p in parts), Decimal(0)),
    )


class ConnectFaults:
    """Connect knobs (``Emulator.connect_faults``); ``update`` validates a JSON dict of them.

    insight_processing_seconds  time (emulator clock) an insight snapshot takes to be done (0)
    report_processing_seconds   the same for report snapshots (0; Walmart: 10-60 minutes)
    hourly_operations     operations per partner in a rolling hour (10000); None = unlimited
    snapshot_as_array     answer snapshot calls as a one-element JSON array (False)
    insight_file_layout   "array" (default) | "object" ({"advertisers": [...]}) | "ndjson"
    report_failure_rate   0..1: share of report snapshots that end "failed" (decided per snapshot)
    error_rate            0..1: probability of a 500 on an admitted Connect call
    report_time_zone      the time zone of Walmart's report days ("America/Los_Angeles"; UNCONFIRMED, FACTS.md)
    report_publish_delay_hours  hours after a day ends (in that zone) until Walmart publishes it (8; UNCONFIRMED):
                          GET /api/v2/latestReportDate answers the last published day; a report past it is refused
    now_offset_seconds    moves "now" for report days only (tests: a day passes); signatures keep the real clock
    insight_faults        what the next insight (advertiser) snapshots turn out as, one per snapshot asked
                          for, in order: "failed" (jobStatus failed), "empty" (a file listing no advertiser),
                          "unreadable" (a corrupt archive), "malformed" (the first record has no usable
                          advertiserId); [] (default): every snapshot is whole
    """

    KNOBS: tuple[str, ...] = (
        "insight_processing_seconds",
        "report_processing_seconds",
        "hourly_operations",
        "snapshot_as_array",
        "insight_file_layout",
        "report_failure_rate",
        "error_rate",
        "insight_faults",
        "report_time_zone",
        "report_publish_delay_hours",
        "now_offset_seconds",
    )

    def __init__(self) -> None:
        self.insight_processing_seconds: float = 0.0
        self.report_processing_seconds: float = 0.0
        self.hourly_operations: int | None = DEFAULT_HOURLY_OPERATIONS
        self.snapshot_as_array: bool = False
        self.insight_file_layout: str = "array"
        self.report_failure_rate: float = 0.0
        self.error_rate: float = 0.0
        self.insight_faults: list[str] = []
        self.report_time_zone: str = DEFAULT_REPORT_TIME_ZONE
        self.report_publish_delay_hours: float = DEFAULT_PUBLISH_DELAY_HOURS
        self.now_offset_seconds: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {name: list(value) if isinstance(value := getattr(self, name), list) else value for name in self.KNOBS}

    def update(self, values: Mapping[str, Any]) -> None:
        """Set knobs from a JSON-like dict; all or nothing. Raises ValueError."""
        unknown = set(values) - set(self.KNOBS)
        if unknown:
            raise ValueError(f"unknown knob(s): {', '.join(sorted(unknown))}")
        parsed = {name: self._parse(name, value) for name, value in values.items()}
        for name, value in parsed.items():
            setattr(self, name, value)

    @staticmethod
    def _parse(name: str, value: Any) -> Any:
        ok = False
        if name == "now_offset_seconds":
            ok = _is_number(value)
            value = float(value) if ok else value
        elif name == "report_time_zone":
            ok = isinstance(value, str) and _zone(value) is not None
        elif name.endswith(("_seconds", "_hours")):
            ok = _is_number(value) and value >= 0
            value = float(value) if ok else value
        elif name == "hourly_operations":
            ok = value is None or (_is_int(value) and value >= 0)
        elif name == "snapshot_as_array":
            ok = isinstance(value, bool)
        elif name == "insight_file_layout":
            ok = value in LAYOUTS
        elif name.endswith("_rate"):
            ok = _is_number(value) and 0.0 <= value <= 1.0
            value = float(value) if ok else value
        elif name == "insight_faults":
            ok = isinstance(value, list) and all(fault in INSIGHT_FAULTS for fault in value)
            value = list(value) if ok else value
        if not ok:
            raise ValueError(f"invalid value for {name}: {value!r}")
        return value


@dataclass
class Partner:
    consumer_id: str
    key_version: str
    auth_token: str = field(repr=False)
    public_key: rsa.RSAPublicKey = field(repr=False)


@dataclass
class Campaign:
    campaign_id: int
    advertiser_id: int
    name: str
    daily_budget: float
    start_date: str
    status: str = "enabled"

    def render(self) -> JsonDict:
        return {
            "campaignId": self.campaign_id,
            "name": self.name,
            "campaignType": "sponsoredProducts",
            "targetingType": "manual",
            "status": self.status,
            "budgetType": "daily",
            "dailyBudget": self.daily_budget,
            "totalBudget": None,
            "startDate": self.start_date,
            "endDate": None,
        }


@dataclass
class AdGroup:
    ad_group_id: int
    campaign_id: int
    name: str
    status: str = "enabled"

    def render(self) -> JsonDict:
        """As GET /api/v1/adGroups lists it (spec schema AdGroup)."""
        return {"adGroupId": self.ad_group_id, "name": self.name, "status": self.status, "campaignId": self.campaign_id}


@dataclass
class Keyword:
    keyword_id: int
    ad_group_id: int
    campaign_id: int
    advertiser_id: int
    text: str
    match_type: str
    bid: float
    state: str = "enabled"

    def render(self) -> JsonDict:
        return {
            "campaignId": self.campaign_id,
            "adGroupId": self.ad_group_id,
            "keywordId": self.keyword_id,
            "keywordText": self.text,
            "matchType": self.match_type,
            "bid": self.bid,
            "state": self.state,
            "status": "approved",
        }


@dataclass
class Advertiser:
    advertiser_id: int
    name: str
    advertiser_type: str
    access: str
    seller_id: str | None
    seller_name: str | None
    granted_at: float
    revoked: bool = False
    campaigns: list[Campaign] = field(default_factory=list, repr=False)
    ad_groups: list[AdGroup] = field(default_factory=list, repr=False)
    keywords: list[Keyword] = field(default_factory=list, repr=False)

    def record(self, v2: bool = False) -> JsonDict:
        """The advertiser as the discovery (insight) file lists it."""
        granted = iso_z(self.granted_at)
        data: JsonDict = {
            "advertiserId": self.advertiser_id,
            "advertiserName": self.name,
            "advertiserType": self.advertiser_type,
            "apiAccessType": self.access,
            "accessGrantTimeStamp": granted,
            "sellerId": self.seller_id,
            "sellerName": self.seller_name,
            "accountSpendLimitReached": False,
        }
        if v2:
            data["organizationId"] = f"org-{self.advertiser_id}"
            data["organizationName"] = self.name
            data["advertiserAccess"] = [
                {"resourceGroupName": "Sponsored Search", "permissionType": self.access, "grantTimeStamp": granted}
            ]
        return data


@dataclass
class Snapshot:
    snapshot_id: str
    kind: str  # "insight" | "report"
    created_at: float
    ready_at: float
    advertiser_id: int | None
    file_id: str
    filename: str
    payload: bytes = field(repr=False)
    failed: bool = False


@dataclass(frozen=True)
class ConnectCall:
    ts: float
    endpoint: str  # "METHOD /path", e.g. "POST /api/v2/snapshot/report", "GET /ads/files"
    advertiser_id: int | None
    status: int


def _pack(data: bytes, fmt: str, name: str) -> bytes:
    if fmt == "zip":
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as archive:
            archive.writestr(zipfile.ZipInfo(name, (1980, 1, 1, 0, 0, 0)), data, zipfile.ZIP_DEFLATED)
        return buf.getvalue()
    return gzip.compress(data, mtime=0)


def _parse_date(name: str, value: object) -> date:
    if isinstance(value, str) and len(value) == 10:
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ConnectError(400, f"{name} must be a date yyyy-MM-dd, got {value!r}")


def parse_report_request(body: object, today: date, latest: date) -> tuple[int, str, list[str], date, date]:
    """Validate a POST /api/v2/snapshot/report body (ConnectError 400): advertiser, type, metrics, dates.

    ``latest``: the last day Walmart has published; a later end date fails, naming the day data is available
    until (Walmart's Create Report Snapshot docs: "If report data is not available for the requested end date,
    the request will fail, and the response will contain endDate until which the performance report is
    available")."""
    if not isinstance(body, dict):
        raise ConnectError(400, "Request body must be a JSON object")
    advertiser_id, report_type, metrics = body.get("advertiserId"), body.get("reportType"), body.get("reportMetrics")
    if not _is_int(advertiser_id):
        raise ConnectError(400, "advertiserId (integer) is required")
    if report_type not in REPORT_TYPES:
        raise ConnectError(400, f"Invalid reportType {report_type!r} (emulated: {', '.join(REPORT_TYPES)})")
    if not isinstance(metrics, list) or not metrics or not all(isinstance(m, str) for m in metrics):
        raise ConnectError(400, "reportMetrics must be a non-empty list of metric names")
    invalid = [m for m in metrics if m not in REPORT_METRICS[report_type]]
    if invalid:
        raise ConnectError(400, f"Invalid reportMetrics for reportType {report_type}: {', '.join(invalid)}")
    if not REPORT_DIMENSIONS[report_type] & set(metrics):
        # Walmart: "Each report requires at least one dimension ... or else the report request will fail."
        raise ConnectError(400, f"reportMetrics for reportType {report_type} must include a dimension")
    report_date, start_raw, end_raw = body.get("reportDate"), body.get("startDate"), body.get("endDate")
    if report_date is not None:
        if start_raw is not None or end_raw is not None:
            raise ConnectError(400, "Use either reportDate or startDate and endDate, not both")
        start = end = _parse_date("reportDate", report_date)
    elif start_raw is None or end_raw is None:
        raise ConnectError(400, "reportDate, or startDate and endDate, are required")
    else:
        start, end = _parse_date("startDate", start_raw), _parse_date("endDate", end_raw)
    if start > end:
        raise ConnectError(400, "startDate must not be after endDate")
    if (end - start).days + 1 > MAX_SPAN_DAYS:
        raise ConnectError(400, f"The date range must not exceed {MAX_SPAN_DAYS} days")
    if end >= today:
        raise ConnectError(400, "endDate must be before today")
    if end > latest:
        raise ConnectError(
            400, f"Report data is available until {latest.isoformat()}: {end.isoformat()} is not available yet"
        )
    if start < today - timedelta(days=MAX_AGE_DAYS):
        raise ConnectError(400, f"Data is only available for the last {MAX_AGE_DAYS} days")
    return advertiser_id, report_type, list(dict.fromkeys(metrics)), start, end


class ConnectState:
    """All Connect state of one emulator; ``reset`` makes it new (no partner, no advertisers)."""

    def __init__(self, seed: int = 0, clock: Clock | None = None, lock: threading.RLock | None = None) -> None:
        self.clock: Clock = clock or time.time
        self.lock = lock or threading.RLock()
        self._init(seed)

    def _init(self, seed: int) -> None:
        self.seed = seed
        self.rng = rng_for(seed, "connect")
        self.faults = ConnectFaults()
        self.partner: Partner | None = None
        self.advertisers: dict[int, Advertiser] = {}
        self.campaigns: dict[int, Campaign] = {}
        self.ad_groups: dict[int, AdGroup] = {}
        self.keywords: dict[int, Keyword] = {}
        self.snapshots: dict[str, Snapshot] = {}
        self.files: dict[str, str] = {}  # file id -> snapshot id
        self.versions: Counter[tuple[int, date]] = Counter()  # restatements per (advertiser, day)
        self.ops: dict[str, list[tuple[float, int]]] = {}  # consumer id -> [(ts, operations)]
        self.call_log: list[ConnectCall] = []

    def reset(self, seed: int | None = None) -> None:
        with self.lock:
            self._init(self.seed if seed is None else seed)

    def report_now(self) -> datetime:
        """Now for Walmart's report days: in their time zone, moved by the ``now_offset_seconds`` knob."""
        zone = _zone(self.faults.report_time_zone) or UTC
        return datetime.fromtimestamp(self.clock() + self.faults.now_offset_seconds, zone)

    def today(self) -> date:
        """Walmart's current date (its report days' time zone)."""
        return self.report_now().date()

    def latest_report_date(self, report_type: str | None = None) -> date:
        """The last day Walmart has published reports for (every emulated report type alike)."""
        published = self.report_now() - timedelta(hours=self.faults.report_publish_delay_hours)
        return published.date() - timedelta(days=1)

    def latest_report_dates(self) -> list[JsonDict]:
        """GET /api/v2/latestReportDate: one {reportType, latestReportDate} per report type."""
        return [{"reportType": t, "latestReportDate": self.latest_report_date(t).isoformat()} for t in REPORT_TYPES]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def roll(self, probability: float) -> bool:
        with self.lock:
            return probability > 0 and self.rng.random() < probability

    # -- partner and operations budget --------------------------------------------------------
    def configure_partner(self, consumer_id: str, key_version: str, public_key_pem: str, auth_token: str) -> None:
        if not consumer_id or not str(key_version) or not auth_token:
            raise ValueError("consumer_id, key_version and auth_token are required")
        key = load_public_key(public_key_pem)
        with self.lock:
            self.partner = Partner(consumer_id, str(key_version), auth_token, key)

    def admit(self, consumer_id: str, operations: int) -> bool:
        """Count ``operations`` against the partner's rolling hour; False (nothing counted) if over."""
        with self.lock:
            now = self.clock()
            log = self.ops.setdefault(consumer_id, [])
            log[:] = [(ts, n) for ts, n in log if ts > now - OPS_RETENTION_SECONDS]
            limit = self.faults.hourly_operations
            if limit is not None and self.operations(OPS_WINDOW_SECONDS, consumer_id) + operations > limit:
                return False
            log.append((now, operations))
            return True

    def operations(self, window_seconds: float = OPS_WINDOW_SECONDS, consumer_id: str | None = None) -> int:
        with self.lock:
            since = self.clock() - window_seconds
            return sum(
                n
                for cid, log in self.ops.items()
                if consumer_id is None or cid == consumer_id
                for ts, n in log
                if ts > since
            )

    def record_call(self, endpoint: str, advertiser_id: int | None, status: int) -> None:
        with self.lock:
            self.call_log.append(ConnectCall(self.clock(), endpoint, advertiser_id, status))

    def count_calls(
        self, endpoint: str | None = None, advertiser_id: int | None = None, status: int | None = None
    ) -> int:
        with self.lock:
            return sum(
                1
                for c in self.call_log
                if (endpoint is None or c.endpoint == endpoint or c.endpoint.split(" ", 1)[-1] == endpoint)
                and (advertiser_id is None or c.advertiser_id == advertiser_id)
                and (status is None or c.status == status)
            )

    # -- advertisers ------------------------------------------------------------------------------
    def add_advertiser(
        self,
        advertiser_id: int,
        name: str,
        advertiser_type: str = "3p",
        access: str = "write",
        *,
        seller_id: str | None = None,
        seller_name: str | None = None,
        campaigns: int = 2,
        ad_groups_per_campaign: int = 2,
        keywords_per_ad_group: int = 2,
        granted_at: float | datetime | None = None,
    ) -> JsonDict:
        """Grant access (again): replaces an advertiser of that id and regenerates its entities."""
        if not _is_int(advertiser_id) or advertiser_id <= 0 or not name:
            raise ValueError("advertiser_id (a positive integer) and name are required")
        if advertiser_type not in ADVERTISER_TYPES or access not in ACCESS_TYPES:
            raise ValueError(f"advertiser_type must be one of {ADVERTISER_TYPES}, access one of {ACCESS_TYPES}")
        counts = (campaigns, ad_groups_per_campaign, keywords_per_ad_group)
        if not all(_is_int(n) and 0 <= n <= 99 for n in counts):
            raise ValueError("campaigns, ad_groups_per_campaign and keywords_per_ad_group must be 0..99")
        with self.lock:
            granted = granted_at.timestamp() if isinstance(granted_at, datetime) else granted_at
            adv = Advertiser(
                advertiser_id,
                name,
                advertiser_type,
                access,
                None if seller_id is None else str(seller_id),
                seller_name,
                self.clock() if granted is None else float(granted),
            )
            self._drop_entities(advertiser_id)
            self.advertisers[advertiser_id] = adv
            self._generate(adv, *counts)
            return adv.record()

    def _drop_entities(self, advertiser_id: int) -> None:
        old = self.advertisers.pop(advertiser_id, None)
        if old is not None:
            for c in old.campaigns:
                self.campaigns.pop(c.campaign_id, None)
            for g in old.ad_groups:
                self.ad_groups.pop(g.ad_group_id, None)
            for k in old.keywords:
                self.keywords.pop(k.keyword_id, None)

    def _generate(self, adv: Advertiser, campaigns: int, groups: int, keywords: int) -> None:
        """Ids: campaign = advertiser*100+n, ad group = campaign*100+n, keyword = ad group*100+n."""
        rng = rng_for(self.seed, "connect-entities", adv.advertiser_id)
        today = self.today()
        for c in range(1, campaigns + 1):
            campaign = Campaign(
                adv.advertiser_id * 100 + c,
                adv.advertiser_id,
                f"{adv.name} - {rng.choice(_THEMES)} {c}",
                float(rng.choice((25, 50, 75, 100))),
                (today - timedelta(days=rng.randint(100, 400))).isoformat(),
            )
            adv.campaigns.append(campaign)
            self.campaigns[campaign.campaign_id] = campaign
            for a in range(1, groups + 1):
                group = AdGroup(campaign.campaign_id * 100 + a, campaign.campaign_id, f"Ad Group {c}-{a}")
                adv.ad_groups.append(group)
                self.ad_groups[group.ad_group_id] = group
                for k in range(1, keywords + 1):
                    keyword = Keyword(
                        group.ad_group_id * 100 + k,
                        group.ad_group_id,
                        campaign.campaign_id,
                        adv.advertiser_id,
                        f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)}",
                        _MATCH_TYPES[(k - 1) % len(_MATCH_TYPES)],
                        round(rng.uniform(0.5, 2.0), 2),
                    )
                    adv.keywords.append(keyword)
                    self.keywords[keyword.keyword_id] = keyword

    def advertiser(self, advertiser_id: int) -> Advertiser:
        with self.lock:
            adv = self.advertisers.get(advertiser_id)
            if adv is None:
                raise KeyError(f"unknown advertiser {advertiser_id}")
            return adv

    def revoke(self, advertiser_id: int) -> None:
        with self.lock:
            self.advertiser(advertiser_id).revoked = True

    def set_access(self, advertiser_id: int, access: str) -> None:
        if access not in ACCESS_TYPES:
            raise ValueError(f"access must be one of {ACCESS_TYPES}")
        with self.lock:
            self.advertiser(advertiser_id).access = access

    def advertiser_list(self) -> list[JsonDict]:
        with self.lock:
            return [{**a.record(), "revoked": a.revoked} for a in self.advertisers.values()]

    def granted(self, advertiser_id: object) -> Advertiser:
        """The advertiser if it granted this partner access, else ConnectError 403."""
        with self.lock:
            adv = self.advertisers.get(advertiser_id) if _is_int(advertiser_id) else None
            if adv is None or adv.revoked:
                raise not_granted(advertiser_id)
            return adv

    # -- snapshots and files ----------------------------------------------------------------------
    def _new_snapshot(
        self, kind: str, delay: float, advertiser_id: int | None, filename: str, payload: bytes
    ) -> JsonDict:
        now = self.clock()
        snap = Snapshot(self._uuid(), kind, now, now + delay, advertiser_id, self._uuid(), filename, payload)
        if kind == "report":
            snap.failed = self.rng.random() < self.faults.report_failure_rate
        self.snapshots[snap.snapshot_id] = snap
        self.files[snap.file_id] = snap.snapshot_id
        return {"code": "success", "snapshotId": snap.snapshot_id, "jobStatus": "pending", "details": ""}

    def request_insight(self, body: object) -> JsonDict:
        if not isinstance(body, dict):
            raise ConnectError(400, "Request body must be a JSON object")
        insight_type, fmt = body.get("insightType"), body.get("format")
        if insight_type not in INSIGHT_TYPES:
            raise ConnectError(400, f"Invalid insightType {insight_type!r}")
        if fmt not in FILE_FORMATS:
            raise ConnectError(400, f"Invalid format {fmt!r}: gzip or zip")
        with self.lock:
            now, layout = self.clock(), self.faults.insight_file_layout
            fault = self.faults.insight_faults.pop(0) if self.faults.insight_faults else None
            v2 = insight_type == "advertiserAttributesV2"
            records = [a.record(v2) for a in self.advertisers.values() if not a.revoked and a.granted_at <= now]
            if fault == "empty":
                records = []
            elif fault == "malformed" and records:
                records[0] = {**records[0], "advertiserId": "n/a"}
            if layout == "ndjson":
                text = "".join(json.dumps(r) + "\n" for r in records)
            else:
                text = json.dumps({"advertisers": records} if layout == "object" else records)
            payload = _pack(text.encode(), str(fmt), "advertisers.json")
            if fault == "unreadable":  # the archive breaks off: its head is right, the rest is not there
                payload = payload[:2] + bytes(len(payload) - 2)
            name = f"{insight_type}.json.{'zip' if fmt == 'zip' else 'gz'}"
            snapshot = self._new_snapshot("insight", self.faults.insight_processing_seconds, None, name, payload)
            self.snapshots[snapshot["snapshotId"]].failed = fault == "failed"
            return snapshot

    def request_report(self, body: object) -> JsonDict:
        report_type = body.get("reportType") if isinstance(body, dict) else None
        latest = self.latest_report_date(report_type if isinstance(report_type, str) else None)
        advertiser_id, report_type, metrics, start, end = parse_report_request(body, self.today(), latest)
        with self.lock:
            self.granted(advertiser_id)
            rows = self.report_rows(advertiser_id, report_type, start, end, metrics)
            buf = io.StringIO()
            writer = csv.writer(buf, lineterminator="\n")
            writer.writerow(self.columns(advertiser_id, report_type, metrics))
            writer.writerows(list(row.values()) for row in rows)
            payload = gzip.compress(buf.getvalue().encode(), mtime=0)
            name = f"{report_type}_{advertiser_id}_{start}_{end}.csv.gz"
            return self._new_snapshot("report", self.faults.report_processing_seconds, advertiser_id, name, payload)

    def snapshot_status(self, snapshot_id: str, kind: str, advertiser_id: int | None, base_url: str) -> JsonDict:
        with self.lock:
            snap = self.snapshots.get(snapshot_id)
            if snap is None or snap.kind != kind or snap.advertiser_id != advertiser_id:
                raise ConnectError(404, f"Snapshot {snapshot_id} not found")
            now, details = self.clock(), ""
            if now >= snap.created_at + SNAPSHOT_TTL_SECONDS:
                status = "expired"
            elif now < snap.ready_at:
                status = "processing"
            elif snap.failed:
                what = "Report" if kind == "report" else "Snapshot"
                status, details = "failed", f"{what} generation failed due to an internal error; request a new snapshot"
            else:
                status, details = "done", f"{base_url.rstrip('/')}/ads/files/{snap.file_id}"
            return {"code": "success", "snapshotId": snap.snapshot_id, "jobStatus": status, "details": details}

    def file(self, file_id: str) -> tuple[bytes, str, int | None]:
        """(payload, filename, advertiser id) of a done, unexpired snapshot's file; ConnectError 404."""
        with self.lock:
            snap = self.snapshots.get(self.files.get(file_id, ""))
            now = self.clock()
            if snap is None or snap.failed or not snap.ready_at <= now < snap.created_at + SNAPSHOT_TTL_SECONDS:
                raise ConnectError(404, "File not found or expired")
            return snap.payload, snap.filename, snap.advertiser_id

    # -- report figures ---------------------------------------------------------------------------
    def columns(self, advertiser_id: int, report_type: str, metrics: list[str]) -> list[str]:
        """The requested metrics in the file's column order (shuffled, deterministic)."""
        columns = list(dict.fromkeys(metrics))
        rng_for(self.seed, "connect-columns", advertiser_id, report_type, ",".join(columns)).shuffle(columns)
        return columns

    def _perf(self, advertiser_id: int, kind: str, entity_id: int, day: date) -> Perf:
        version = self.versions[(advertiser_id, day)]
        rng = rng_for(self.seed, "connect-perf", advertiser_id, kind, entity_id, day.isoformat(), version)
        shown = rng.randint(0, 4000)
        clicks = int(shown * rng.uniform(0.0, 0.04))
        orders = int(clicks * rng.uniform(0.0, 0.2))
        spend = Decimal(clicks * rng.uniform(0.3, 1.8)).quantize(_CENT)
        return shown, clicks, spend, orders, Decimal(orders * rng.uniform(8.0, 60.0)).quantize(_CENT)

    def report_rows(
        self, advertiser_id: int, report_type: str, start: date, end: date, metrics: list[str]
    ) -> list[dict[str, str]]:
        """Exactly the rows (column order included) of the report file such a request yields.

        An ad group's figures are the sums of its keywords' (its own when it has none)."""
        if report_type not in REPORT_TYPES or any(
            m not in REPORT_METRICS[report_type] and m not in MODEL_LABELS for m in metrics
        ):
            raise ValueError(f"unsupported report type or metric: {report_type}, {metrics}")
        if report_type == "adGroup" and "keywordText" in metrics:
            raise ValueError("keyword metrics need reportType keyword")
        with self.lock:
            adv = self.advertiser(advertiser_id)
            columns = self.columns(advertiser_id, report_type, metrics)
            rows: list[dict[str, str]] = []
            for offset in range((end - start).days + 1):
                day = start + timedelta(days=offset)
                if report_type == "keyword":
                    for kw in adv.keywords:
                        perf = self._perf(advertiser_id, "keyword", kw.keyword_id, day)
                        rows.append(self._row(columns, day, self.ad_groups[kw.ad_group_id], perf, kw))
                    continue
                for group in adv.ad_groups:
                    kws = [k for k in adv.keywords if k.ad_group_id == group.ad_group_id]
                    parts = [self._perf(advertiser_id, "keyword", k.keyword_id, day) for k in kws]
                    perf = _add(parts) if parts else self._perf(advertiser_id, "adGroup", group.ad_group_id, day)
                    rows.append(self._row(columns, day, group, perf))
            return rows

    def _row(
        self, columns: list[str], day: date, group: AdGroup, perf: Perf, kw: Keyword | None = None
    ) -> dict[str, str]:
        campaign = self.campaigns[group.campaign_id]
        shown, clicks, spend, orders, sales = perf
        values = {
            "date": day.isoformat(),
            "campaignId": str(campaign.campaign_id),
            "campaignName": campaign.name,
            "adGroupId": str(group.ad_group_id),
            "adGroupName": group.name,
            "adSpend": f"{spend:.2f}",
            "numAdsShown": str(shown),
            "numAdsClicks": str(clicks),
            "attributedSales14days": f"{sales:.2f}",
            "attributedOrders14days": str(orders),
        }
        if kw is not None:
            # A keyword's 14-day sales in Walmart's three parts; they add up to its attributed sales.
            direct = (sales * Decimal("0.7")).quantize(_CENT)
            brand = (sales * Decimal("0.2")).quantize(_CENT)
            values.update(
                keywordId=str(kw.keyword_id),
                keywordText=kw.text,
                biddedKeyword=kw.text,
                searchedKeyword=kw.text,
                matchType=kw.match_type,
                bid=f"{kw.bid:.2f}",
                directAttributedSales14days=f"{direct:.2f}",
                brandAttributedSales14days=f"{brand:.2f}",
                relatedAttributedSales14days=f"{sales - direct - brand:.2f}",
            )
        return {c: values.get(c, "0") for c in columns}  # metrics the model does not simulate read 0

    def restate(self, advertiser_id: int, days: int = 14) -> list[date]:
        """Walmart reprocessed the last ``days`` published days (the latest back): their figures change."""
        if not _is_int(days) or days < 0:
            raise ValueError("days must be an integer >= 0")
        with self.lock:
            self.advertiser(advertiser_id)
            latest = self.latest_report_date()
            restated = [latest - timedelta(days=n) for n in range(days)]
            for day in restated:
                self.versions[(advertiser_id, day)] += 1
            return restated

    # -- campaigns and keywords -------------------------------------------------------------------
    def list_keywords(self, campaign_id: int) -> tuple[list[JsonDict], int]:
        with self.lock:
            campaign = self.campaigns.get(campaign_id)
            if campaign is None:
                raise ConnectError(404, f"Campaign {campaign_id} not found")
            adv = self.granted(campaign.advertiser_id)
            return [k.render() for k in adv.keywords if k.campaign_id == campaign_id], adv.advertiser_id

    def _writable(self, advertiser_id: int) -> str:
        adv = self.advertisers.get(advertiser_id)
        if adv is None or adv.revoked:
            return not_granted(advertiser_id).details
        return "" if adv.access == "write" else READ_ONLY_DETAILS

    def update(self, kind: str, items: list[Any]) -> tuple[list[JsonDict], int | None]:
        """PUT /api/v1/campaigns (kind "campaign") or /api/v1/keywords ("keyword"): per-item results
        and the advertiser of the first known item. An item is applied whole or not at all."""
        key = f"{kind}Id"
        results: list[JsonDict] = []
        first: int | None = None
        table: Mapping[int, Campaign | Keyword] = self.campaigns if kind == "campaign" else self.keywords
        with self.lock:
            for item in items:
                entity_id = item.get(key) if isinstance(item, dict) else None
                entity = table.get(entity_id) if _is_int(entity_id) else None
                if entity is not None and first is None:
                    first = entity.advertiser_id
                if not _is_int(entity_id):
                    details = f"{key} (integer) is required"
                elif entity is None:
                    details = f"{kind.capitalize()} {entity_id} not found"
                else:
                    details = self._writable(entity.advertiser_id) or self._apply(kind, entity, item)
                results.append({"code": "failure" if details else "success", "details": details, key: entity_id})
        return results, first

    @staticmethod
    def _apply(kind: str, entity: Campaign | Keyword, item: JsonDict) -> str:
        """Validate and apply one item's changes: "" or why it failed."""
        changes = {k: v for k, v in item.items() if k != f"{kind}Id"}
        if isinstance(entity, Campaign):
            checks: dict[str, tuple[Callable[[Any], bool], str]] = {
                "dailyBudget": (lambda v: _is_number(v) and v > 0, "dailyBudget must be a number greater than 0"),
                "status": (lambda v: v in ("enabled", "paused"), "status must be enabled or paused"),
            }
            attrs = {"dailyBudget": "daily_budget", "status": "status"}
        else:
            checks = {
                "bid": (_is_bid, "bid must be between 0.3 and 100 with at most 2 decimals"),
                "state": (
                    lambda v: v in ("enabled", "paused", "archived"),
                    "state must be enabled, paused or archived",
                ),
            }
            attrs = {"bid": "bid", "state": "state"}
            if entity.state == "archived":
                return "Archived keywords cannot be updated"
        for name, value in changes.items():
            if name not in checks:
                return f"Attribute {name} cannot be updated (emulated: {', '.join(checks)})"
            valid, why = checks[name]
            if not valid(value):
                return why
        for name, value in changes.items():
            setattr(entity, attrs[name], float(value) if name in ("dailyBudget", "bid") else value)
        return ""

    def summary(self) -> dict[str, Any]:
        with self.lock:
            return {
                "partner": self.partner.consumer_id if self.partner else None,
                "advertisers": self.advertiser_list(),
                "snapshots": len(self.snapshots),
                "operations_last_hour": self.operations(),
                "calls": dict(Counter(c.endpoint for c in self.call_log)),
                "faults": self.faults.to_dict(),
            }
