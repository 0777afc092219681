"""Walmart Connect in the sandbox emulator (local/emulator/connect*.py): signed partner calls,
discovery and report snapshots, files, campaigns and keywords, the operations budget, knobs."""

from __future__ import annotations

import base64
import csv
import gzip
import io
import json
import zipfile
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from flask.testing import FlaskClient

from local.emulator import (
    DEMO_ADVERTISERS,
    DEMO_CLIENT_ID,
    DEMO_CLIENT_SECRET,
    DEMO_SELLER_ID,
    Emulator,
    PartnerKeyPair,
    generate_partner,
    signed_headers,
)

AD_GROUP_METRICS = ["date", "campaignId", "adGroupId", "adSpend", "numAdsShown", "numAdsClicks"]
MONEY = ("adSpend", "attributedSales14days")
COUNTS = ("numAdsShown", "numAdsClicks", "attributedOrders14days")


def windows(*names: str) -> list[str]:
    return [f"{name}{days}days" for name in names for days in (3, 14, 30)]


# Walmart's lists, verbatim: docs/walmart/FACTS.md "Checked behaviours — Walmart Connect" (report metrics).
WALMART_AD_GROUP_METRICS = [
    "adGroupId",
    "campaignId",
    "date",
    "adSpend",
    "numAdsClicks",
    "numAdsShown",
    *windows(
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
    ),
]
WALMART_KEYWORD_SAMPLE_METRICS = [
    "date",
    "keywordId",
    "searchedKeyword",
    "biddedKeyword",
    "matchType",
    "campaignId",
    "adGroupId",
    *windows("ntbUnits", "ntbOrders", "ntbRevenue"),
    "bid",
    "numAdsShown",
    "numAdsClicks",
    "adSpend",
    *windows(
        "directAttributedSales", "attributedUnits", "brandAttributedSales", "relatedAttributedSales", "attributedOrders"
    ),
]
KEYWORD_SALES = ("directAttributedSales14days", "brandAttributedSales14days", "relatedAttributedSales14days")


class FakeClock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:  # 2025-10-09T08:53:20Z
        self.now = now

    def __call__(self) -> float:
        return self.now

    def today(self) -> date:
        return datetime.fromtimestamp(self.now, UTC).date()


@pytest.fixture(scope="module")
def pair() -> PartnerKeyPair:
    return generate_partner("test-partner", "2")


@pytest.fixture(scope="module")
def other_pair() -> PartnerKeyPair:
    return generate_partner("test-partner", "2")


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def em(clock: FakeClock, pair: PartnerKeyPair) -> Emulator:
    em = Emulator(seed=7, clock=clock)
    em.configure_partner(pair.consumer_id, pair.key_version, pair.public_key_pem, pair.auth_token)
    em.seed_demo_advertisers()
    return em


class Api:
    """Signed Connect calls through the WSGI test client (no sockets)."""

    def __init__(self, em: Emulator, clock: FakeClock, pair: PartnerKeyPair) -> None:
        self.client: FlaskClient = em.wsgi_app.test_client()
        self.em, self.clock, self.pair = em, clock, pair

    def headers(self, **override: str) -> dict[str, str]:
        headers = signed_headers(self.pair, int(self.clock.now * 1000))
        headers.update(override)
        return headers

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(path, headers=self.headers(), query_string=params)

    def post(self, path: str, body: Any) -> Any:
        return self.client.post(path, headers=self.headers(), json=body)

    def put(self, path: str, body: Any) -> Any:
        return self.client.put(path, headers=self.headers(), json=body)

    def insight(self, **body: Any) -> str:
        resp = self.post("/api/v1/snapshot/insight", {"insightType": "advertiserAttributes", "format": "gzip", **body})
        assert resp.status_code == 200, resp.get_data(as_text=True)
        snapshot_id: str = resp.get_json()["snapshotId"]
        return snapshot_id

    def report(self, advertiser_id: int = 600001, **body: Any) -> Any:
        latest = self.em.latest_report_date()  # the last day Walmart has published
        request = {
            "advertiserId": advertiser_id,
            "reportType": "adGroup",
            "reportMetrics": AD_GROUP_METRICS,
            "startDate": (latest - timedelta(days=6)).isoformat(),
            "endDate": latest.isoformat(),
            **body,
        }
        return self.post("/api/v2/snapshot/report", {k: v for k, v in request.items() if v is not None})

    def download(self, url: str) -> bytes:
        assert url.startswith("http://localhost/ads/files/")
        resp = self.client.get(url, headers=self.headers())
        assert resp.status_code == 200, resp.get_data(as_text=True)
        assert resp.mimetype == "application/octet-stream"
        data: bytes = resp.get_data()
        return data


@pytest.fixture
def api(em: Emulator, clock: FakeClock, pair: PartnerKeyPair) -> Api:
    return Api(em, clock, pair)


def advertisers_in(data: bytes) -> list[dict[str, Any]]:
    text = zipfile.ZipFile(io.BytesIO(data)).read("advertisers.json") if data[:2] == b"PK" else gzip.decompress(data)
    decoded = text.decode()
    if decoded.startswith("{") and "\n{" in decoded.strip():
        return [json.loads(line) for line in decoded.splitlines() if line]
    parsed = json.loads(decoded)
    return parsed["advertisers"] if isinstance(parsed, dict) else parsed  # type: ignore[no-any-return]


def csv_rows(data: bytes) -> tuple[list[str], list[dict[str, str]]]:
    reader = csv.DictReader(io.StringIO(gzip.decompress(data).decode()))
    return list(reader.fieldnames or []), list(reader)


def finished_report(api: Api, advertiser_id: int = 600001, **body: Any) -> tuple[list[str], list[dict[str, str]]]:
    resp = api.report(advertiser_id, **body)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    poll = api.get("/api/v2/snapshot", advertiserId=advertiser_id, snapshotId=resp.get_json()["snapshotId"])
    assert poll.get_json()["jobStatus"] == "done"
    return csv_rows(api.download(poll.get_json()["details"]))


# --- partner authentication ------------------------------------------------------------------------


def test_partner_key_pair_repr_hides_secrets(pair: PartnerKeyPair) -> None:
    text = repr(pair)
    assert "test-partner" in text and pair.auth_token not in text and "PRIVATE" not in text
    assert pair.private_key_pem.startswith("-----BEGIN PRIVATE KEY-----")
    assert pair.public_key_pem.startswith("-----BEGIN PUBLIC KEY-----")


def test_signed_call_is_accepted(api: Api) -> None:
    resp = api.get("/api/v1/api_usage_analyze")
    assert resp.status_code == 200 and resp.get_json() == {"count": 1}


def test_signature_by_another_key_is_403(api: Api, other_pair: PartnerKeyPair) -> None:
    forged = PartnerKeyPair(
        api.pair.consumer_id, api.pair.key_version, other_pair.private_key_pem, "", api.pair.auth_token
    )
    resp = api.client.get("/api/v1/api_usage_analyze", headers=signed_headers(forged, int(api.clock.now * 1000)))
    assert resp.status_code == 403
    assert resp.get_json() == {"code": "failure", "details": "Invalid signature"}


@pytest.mark.parametrize(
    ("override", "why"),
    [
        ({"Authorization": "Bearer nope"}, "Invalid auth token"),
        ({"Authorization": "Basic abc"}, "Invalid auth token"),
        ({"WM_CONSUMER.ID": "someone-else"}, "Invalid consumer id"),
        ({"WM_SEC.KEY_VERSION": "1"}, "Invalid key version"),
        ({"WM_SEC.AUTH_SIGNATURE": "bm90IGEgc2lnbmF0dXJl"}, "Invalid signature"),
        ({"WM_SEC.AUTH_SIGNATURE": "!!not base64!!"}, "Invalid signature"),
        ({"WM_CONSUMER.intimestamp": "yesterday"}, "Invalid timestamp"),
    ],
)
def test_wrong_credentials_are_403(api: Api, override: dict[str, str], why: str) -> None:
    resp = api.client.get("/api/v1/api_usage_analyze", headers=api.headers(**override))
    assert resp.status_code == 403
    assert resp.get_json() == {"code": "failure", "details": why}


@pytest.mark.parametrize("offset", [-301, 301])
def test_timestamp_more_than_5_minutes_away_is_403(api: Api, pair: PartnerKeyPair, offset: int) -> None:
    headers = signed_headers(pair, int((api.clock.now + offset) * 1000))
    resp = api.client.get("/api/v1/api_usage_analyze", headers=headers)
    assert resp.status_code == 403 and "5 minutes" in resp.get_json()["details"]
    ok = signed_headers(pair, int((api.clock.now + (299 if offset > 0 else -299)) * 1000))
    assert api.client.get("/api/v1/api_usage_analyze", headers=ok).status_code == 200


@pytest.mark.parametrize(
    "missing",
    ["Authorization", "WM_CONSUMER.ID", "WM_CONSUMER.intimestamp", "WM_SEC.KEY_VERSION", "WM_SEC.AUTH_SIGNATURE"],
)
def test_missing_header_is_403(api: Api, em: Emulator, missing: str) -> None:
    headers = api.headers()
    del headers[missing]
    resp = api.client.post("/api/v1/snapshot/insight", headers=headers, json={"insightType": "x"})
    assert resp.status_code == 403
    assert resp.get_json() == {"code": "failure", "details": f"Missing header {missing}"}
    assert em.ads_operations() == 0  # refused calls use no budget
    assert em.ads_calls("POST /api/v1/snapshot/insight", status=403) == 1


def test_every_call_is_403_before_a_partner_is_configured(clock: FakeClock, pair: PartnerKeyPair) -> None:
    em = Emulator(clock=clock)
    api = Api(em, clock, pair)
    assert api.get("/api/v1/api_usage_analyze").status_code == 403
    em.configure_partner(pair.consumer_id, pair.key_version, pair.public_key_pem, pair.auth_token)
    assert api.get("/api/v1/api_usage_analyze").status_code == 200


def test_file_download_needs_a_signature(api: Api) -> None:
    done = api.get("/api/v1/snapshot", snapshotId=api.insight()).get_json()
    assert api.client.get(done["details"]).status_code == 403
    assert api.client.get(done["details"], headers=api.headers(Authorization="Bearer x")).status_code == 403
    assert advertisers_in(api.download(done["details"]))


# --- discovery (insight snapshots) ---------------------------------------------------------------


def test_insight_flow_waits_for_processing_time(api: Api, em: Emulator, clock: FakeClock) -> None:
    em.connect_faults.update({"insight_processing_seconds": 120})
    resp = api.post("/api/v1/snapshot/insight", {"insightType": "advertiserAttributes", "format": "gzip"})
    body = resp.get_json()
    assert resp.status_code == 200 and list(body) == ["code", "snapshotId", "jobStatus", "details"]
    assert body["code"] == "success" and body["jobStatus"] == "pending" and body["details"] == ""
    poll = api.get("/api/v1/snapshot", snapshotId=body["snapshotId"]).get_json()
    assert poll["jobStatus"] == "processing" and poll["details"] == ""
    clock.now += 120
    poll = api.get("/api/v1/snapshot", snapshotId=body["snapshotId"]).get_json()
    assert poll["jobStatus"] == "done"
    records = advertisers_in(api.download(poll["details"]))
    assert [r["advertiserId"] for r in records] == [600001, 600002, 600003]
    assert records[1] == {
        "advertiserId": 600002,
        "advertiserName": "Demo Marketplace Seller",
        "advertiserType": "3p",
        "apiAccessType": "write",
        "accessGrantTimeStamp": "2025-10-09T08:53:20Z",
        "sellerId": DEMO_SELLER_ID,
        "sellerName": "Demo Seller",
        "accountSpendLimitReached": False,
    }
    assert records[0]["advertiserType"] == "1p" and records[0]["sellerId"] is None
    assert records[2]["apiAccessType"] == "read"
    assert em.ads_calls("GET /api/v1/snapshot") == 2 and em.ads_calls("/ads/files") == 1


def test_insight_v2_adds_organization_and_access(api: Api) -> None:
    snapshot_id = api.insight(insightType="advertiserAttributesV2")
    records = advertisers_in(api.download(api.get("/api/v1/snapshot", snapshotId=snapshot_id).get_json()["details"]))
    assert records[2]["organizationName"] == "Demo Read Only Co" and records[2]["organizationId"]
    assert records[2]["advertiserAccess"] == [
        {"resourceGroupName": "Sponsored Search", "permissionType": "read", "grantTimeStamp": "2025-10-09T08:53:20Z"}
    ]


@pytest.mark.parametrize("layout", ["array", "object", "ndjson"])
@pytest.mark.parametrize("fmt", ["gzip", "zip"])
def test_every_insight_file_layout_decodes(api: Api, em: Emulator, layout: str, fmt: str) -> None:
    em.connect_faults.update({"insight_file_layout": layout})
    snapshot_id = api.insight(format=fmt)
    data = api.download(api.get("/api/v1/snapshot", snapshotId=snapshot_id).get_json()["details"])
    assert data[:2] == (b"PK" if fmt == "zip" else b"\x1f\x8b")
    text = zipfile.ZipFile(io.BytesIO(data)).read("advertisers.json") if fmt == "zip" else gzip.decompress(data)
    if layout == "ndjson":
        assert len(text.decode().splitlines()) == 3
    elif layout == "object":
        assert list(json.loads(text)) == ["advertisers"]
    else:
        assert isinstance(json.loads(text), list)
    assert {r["advertiserId"] for r in advertisers_in(data)} == {600001, 600002, 600003}


def test_revoked_advertiser_leaves_the_next_snapshot(api: Api, em: Emulator) -> None:
    before = api.insight()
    em.revoke_advertiser(600001)
    after = api.insight()
    as_of_before = advertisers_in(api.download(api.get("/api/v1/snapshot", snapshotId=before).get_json()["details"]))
    as_of_after = advertisers_in(api.download(api.get("/api/v1/snapshot", snapshotId=after).get_json()["details"]))
    assert [r["advertiserId"] for r in as_of_before] == [600001, 600002, 600003]
    assert [r["advertiserId"] for r in as_of_after] == [600002, 600003]
    assert [a["revoked"] for a in em.advertisers] == [True, False, False]
    denied = {"code": "failure", "details": "Advertiser 600001 has not granted access to this partner"}
    assert api.report(600001).get_json() == denied and api.report(600001).status_code == 403
    assert api.get("/api/v1/campaigns", advertiserId=600001).get_json() == denied
    results = api.put("/api/v1/campaigns", {"campaignId": 60000101, "status": "paused"}).get_json()
    assert results == [{"code": "failure", "details": denied["details"], "campaignId": 60000101}]


def test_failed_empty_and_unreadable_advertiser_snapshots_on_demand(api: Api, em: Emulator) -> None:
    em.connect_faults.update({"insight_faults": ["empty", "unreadable", "failed"]})
    assert em.connect_faults.insight_faults == ["empty", "unreadable", "failed"]
    empty, unreadable, failed, normal = (api.insight() for _ in range(4))
    assert em.connect_faults.insight_faults == []  # one fault per snapshot asked for, in order
    done = api.get("/api/v1/snapshot", snapshotId=empty).get_json()
    assert done["jobStatus"] == "done" and advertisers_in(api.download(done["details"])) == []
    data = api.download(api.get("/api/v1/snapshot", snapshotId=unreadable).get_json()["details"])
    assert data[:2] == b"\x1f\x8b"
    with pytest.raises((OSError, EOFError)):
        gzip.decompress(data)
    poll = api.get("/api/v1/snapshot", snapshotId=failed).get_json()
    assert poll["jobStatus"] == "failed" and poll["details"]
    done = api.get("/api/v1/snapshot", snapshotId=normal).get_json()
    assert len(advertisers_in(api.download(done["details"]))) == 3
    em.connect_faults.update({"insight_faults": ["malformed"]})
    broken = advertisers_in(api.download(api.get("/api/v1/snapshot", snapshotId=api.insight()).get_json()["details"]))
    assert [r["advertiserId"] for r in broken] == ["n/a", 600002, 600003]
    em.connect_faults.update({"insight_faults": ["empty"], "insight_file_layout": "object"})
    data = api.download(api.get("/api/v1/snapshot", snapshotId=api.insight()).get_json()["details"])
    assert json.loads(gzip.decompress(data)) == {"advertisers": []}


def test_snapshot_as_array_and_unknown_snapshot(api: Api, em: Emulator) -> None:
    em.connect_faults.update({"snapshot_as_array": True})
    resp = api.post("/api/v1/snapshot/insight", {"insightType": "advertiserAttributes", "format": "zip"})
    (body,) = resp.get_json()
    (poll,) = api.get("/api/v1/snapshot", snapshotId=body["snapshotId"]).get_json()
    assert poll["jobStatus"] == "done"
    missing = api.get("/api/v1/snapshot", snapshotId="nope")
    assert missing.status_code == 404 and missing.get_json()["code"] == "failure"


@pytest.mark.parametrize(
    "body", [{"insightType": "advancedInsights", "format": "gzip"}, {"insightType": "advertiserAttributes"}, []]
)
def test_bad_insight_request_is_400(api: Api, body: Any) -> None:
    resp = api.post("/api/v1/snapshot/insight", body)
    assert resp.status_code == 400 and resp.get_json()["code"] == "failure"


def test_snapshot_and_file_expire_after_24_hours(api: Api, clock: FakeClock) -> None:
    snapshot_id = api.insight()
    url = api.get("/api/v1/snapshot", snapshotId=snapshot_id).get_json()["details"]
    clock.now += 24 * 3600
    assert api.get("/api/v1/snapshot", snapshotId=snapshot_id).get_json()["jobStatus"] == "expired"
    resp = api.client.get(url, headers=api.headers())
    assert resp.status_code == 404 and resp.get_json()["code"] == "failure"


# --- reports -------------------------------------------------------------------------------------


def _days_ago(clock: FakeClock, n: int) -> str:
    return (clock.today() - timedelta(days=n)).isoformat()


@pytest.mark.parametrize(
    ("change", "status"),
    [
        ({"reportType": "campaign"}, 400),
        ({"reportMetrics": ["date", "clicks"]}, 400),
        ({"reportMetrics": ["date", "keywordId"]}, 400),  # keyword metric in an adGroup report
        ({"reportMetrics": ["date", "campaignId", "campaignName"]}, 400),  # not in Walmart's adGroup list
        ({"reportMetrics": ["adGroupId", "adGroupName"]}, 400),  # not in Walmart's adGroup list
        ({"reportMetrics": ["adSpend", "numAdsShown"]}, 400),  # no dimension
        ({"reportType": "keyword", "reportMetrics": ["date", "keywordId", "keywordText"]}, 400),  # not Walmart's
        ({"reportMetrics": []}, 400),
        ({"startDate": -62, "endDate": -1}, 400),  # 62 days back to yesterday = 62 days: ok below
        ({"endDate": 0}, 400),  # today
        ({"startDate": -91, "endDate": -60}, 400),
        ({"reportDate": -3}, 400),  # with startDate/endDate
        ({"startDate": None, "endDate": None}, 400),
        ({"startDate": "2025-13-01"}, 400),
        ({"startDate": -2, "endDate": -5}, 400),
        ({"advertiserId": "600001"}, 400),
        ({"advertiserId": 999999}, 403),
    ],
)
def test_report_request_validation(api: Api, clock: FakeClock, change: dict[str, Any], status: int) -> None:
    body: dict[str, Any] = {
        k: _days_ago(clock, -v) if isinstance(v, int) and k != "advertiserId" else v for k, v in change.items()
    }
    if change.get("startDate") == -62:
        body["startDate"] = _days_ago(clock, 63)
    resp = api.report(**body)
    assert resp.status_code == status, resp.get_json()
    assert resp.get_json()["code"] == "failure" and resp.get_json()["details"]


def test_report_accepts_62_days_and_a_single_report_date(api: Api, em: Emulator, clock: FakeClock) -> None:
    latest = em.latest_report_date()
    start = (latest - timedelta(days=61)).isoformat()
    assert api.report(startDate=start, endDate=latest.isoformat()).status_code == 200
    assert api.report(startDate=None, endDate=None, reportDate=_days_ago(clock, 90)).status_code == 200


def test_latest_report_date_per_report_type_in_walmarts_time_zone(api: Api, em: Emulator, clock: FakeClock) -> None:
    # 2025-10-09T08:53:20Z is 01:53 on the 9th in Los Angeles: the 8th ends there at 07:00Z, and is published 8
    # hours after it ends (the emulator's defaults, knobs report_time_zone and report_publish_delay_hours).
    assert em.connect_faults.report_time_zone == "America/Los_Angeles"
    answer = api.get("/api/v2/latestReportDate")
    assert answer.status_code == 200
    assert answer.get_json() == [
        {"reportType": "adGroup", "latestReportDate": "2025-10-07"},
        {"reportType": "keyword", "latestReportDate": "2025-10-07"},
    ]
    assert api.get("/api/v1/latestReportDate").get_json() == {"latestReportDate": "2025-10-07"}
    clock.now = datetime(2025, 10, 9, 14, 59, tzinfo=UTC).timestamp()  # 07:59 PDT on the 9th: not yet
    assert em.latest_report_date() == date(2025, 10, 7)
    clock.now = datetime(2025, 10, 9, 15, 0, tzinfo=UTC).timestamp()  # the 8th ended 8 hours ago
    assert em.latest_report_date() == date(2025, 10, 8)
    em.connect_faults.update({"report_time_zone": "UTC", "report_publish_delay_hours": 0})
    assert em.latest_report_date() == date(2025, 10, 8)
    em.connect_faults.update({"now_offset_seconds": 9 * 3600 + 1})  # a test moves "now": past midnight UTC
    assert em.latest_report_date() == date(2025, 10, 9)
    assert api.get("/api/v2/latestReportDate").get_json()[0]["latestReportDate"] == "2025-10-09"
    assert em.ads_calls("GET /api/v2/latestReportDate") == 2 and em.ads_operations(24 * 3600) == 3  # operations


def test_a_report_past_the_latest_published_day_is_refused(api: Api, em: Emulator) -> None:
    latest = em.latest_report_date()
    unpublished = (latest + timedelta(days=1)).isoformat()
    for body in ({"endDate": unpublished}, {"startDate": None, "endDate": None, "reportDate": unpublished}):
        resp = api.report(**body)
        assert resp.status_code == 400
        assert resp.get_json() == {
            "code": "failure",
            "details": f"Report data is available until {latest.isoformat()}: {unpublished} is not available yet",
        }
    assert api.report(endDate=latest.isoformat()).status_code == 200


def test_report_csv_columns_by_name_and_deterministic(api: Api, em: Emulator, clock: FakeClock) -> None:
    columns, rows = finished_report(api)
    assert sorted(columns) == sorted(AD_GROUP_METRICS) and columns != AD_GROUP_METRICS  # shuffled
    assert len(rows) == 7 * 4  # 7 days x (2 campaigns x 2 ad groups)
    end = em.latest_report_date()
    start = end - timedelta(days=6)
    expected = em.report_rows(600001, "adGroup", start, end, AD_GROUP_METRICS)
    assert rows == expected and list(expected[0]) == columns
    assert finished_report(api) == (columns, rows)  # the same request gives the same file
    for row in rows:
        assert int(row["numAdsClicks"]) <= int(row["numAdsShown"])
        assert row["adSpend"].count(".") == 1 and len(row["adSpend"].split(".")[1]) == 2
        assert str(int(row["campaignId"]) // 100) == "600001"
    assert {r["date"] for r in rows} == {(start + timedelta(days=n)).isoformat() for n in range(7)}
    assert em.ads_calls("POST /api/v2/snapshot/report", advertiser_id=600001) == 2
    assert em.ads_calls("GET /api/v2/snapshot", advertiser_id=600001) == 2


def test_report_metrics_are_exactly_walmarts_per_report_type(api: Api) -> None:
    assert api.report(reportMetrics=WALMART_AD_GROUP_METRICS).status_code == 200
    keyword = api.report(reportType="keyword", reportMetrics=WALMART_KEYWORD_SAMPLE_METRICS)
    assert keyword.status_code == 200, keyword.get_json()
    for report_type, metric in (
        ("adGroup", "campaignName"),
        ("adGroup", "adGroupName"),
        ("adGroup", "keywordText"),
        ("keyword", "keywordText"),
        ("keyword", "campaignName"),
    ):
        base = WALMART_AD_GROUP_METRICS if report_type == "adGroup" else WALMART_KEYWORD_SAMPLE_METRICS
        resp = api.report(reportType=report_type, reportMetrics=[*base, metric])
        assert resp.status_code == 400, (report_type, metric)
        assert resp.get_json() == {
            "code": "failure",
            "details": f"Invalid reportMetrics for reportType {report_type}: {metric}",
        }


def test_keyword_report_rows_add_up_to_ad_group_rows(api: Api, em: Emulator, clock: FakeClock) -> None:
    metrics = [
        "date",
        "adGroupId",
        "keywordId",
        "biddedKeyword",
        "matchType",
        "bid",
        "adSpend",
        *KEYWORD_SALES,
        *COUNTS,
    ]
    _, keyword_rows = finished_report(api, 600002, reportType="keyword", reportMetrics=metrics)
    assert len(keyword_rows) == 7 * 8 and {r["keywordId"] for r in keyword_rows} == {
        str(k["keywordId"]) for k in em.keywords(600002)
    }
    texts = {str(k["keywordId"]): (k["keywordText"], k["matchType"]) for k in em.keywords(600002)}
    assert all((r["biddedKeyword"], r["matchType"]) == texts[r["keywordId"]] for r in keyword_rows)
    _, group_rows = finished_report(api, 600002, reportMetrics=["date", "adGroupId", *MONEY, *COUNTS])
    for group in group_rows:
        parts = [r for r in keyword_rows if (r["date"], r["adGroupId"]) == (group["date"], group["adGroupId"])]
        assert len(parts) == 2
        for name in COUNTS:
            assert int(group[name]) == sum(int(p[name]) for p in parts)
        assert Decimal(group["adSpend"]) == sum(Decimal(p["adSpend"]) for p in parts)
        # A keyword's attributed sales are reported in three parts (direct, brand, related) that add up.
        assert Decimal(group["attributedSales14days"]) == sum(Decimal(p[name]) for p in parts for name in KEYWORD_SALES)


def test_restate_changes_only_recent_days(em: Emulator, clock: FakeClock) -> None:
    end = em.latest_report_date()  # Walmart reprocesses published days: the latest back
    start = end - timedelta(days=29)
    before = em.report_rows(600001, "adGroup", start, end, AD_GROUP_METRICS)
    restated = em.restate(600001, days=14)
    assert restated[0] == end and restated[-1] == end - timedelta(days=13)
    after = em.report_rows(600001, "adGroup", start, end, AD_GROUP_METRICS)
    cutoff = (end - timedelta(days=13)).isoformat()
    old = [(b, a) for b, a in zip(before, after, strict=True) if b["date"] < cutoff]
    recent = [(b, a) for b, a in zip(before, after, strict=True) if b["date"] >= cutoff]
    assert len(recent) == 14 * 4 and all(b == a for b, a in old)
    assert sum(b != a for b, a in recent) > len(recent) // 2
    assert em.report_rows(600002, "adGroup", start, end, ["date"]) == [
        {"date": r["date"]} for r in before
    ]  # other advertisers untouched (same entity counts)


def test_report_failure_rate(api: Api, em: Emulator) -> None:
    em.connect_faults.update({"report_failure_rate": 1.0, "report_processing_seconds": 60})
    snapshot_id = api.report().get_json()["snapshotId"]
    assert api.get("/api/v2/snapshot", advertiserId=600001, snapshotId=snapshot_id).get_json()["jobStatus"] == (
        "processing"
    )
    api.clock.now += 60
    poll = api.get("/api/v2/snapshot", advertiserId=600001, snapshotId=snapshot_id).get_json()
    assert poll["jobStatus"] == "failed" and "failed" in poll["details"]
    em.connect_faults.update({"report_failure_rate": 0.5, "report_processing_seconds": 0})
    outcomes = []
    for _ in range(20):
        sid = api.report().get_json()["snapshotId"]
        outcomes.append(api.get("/api/v2/snapshot", advertiserId=600001, snapshotId=sid).get_json()["jobStatus"])
    assert set(outcomes) == {"failed", "done"}


def test_report_poll_needs_the_snapshots_advertiser(api: Api, em: Emulator) -> None:
    snapshot_id = api.report().get_json()["snapshotId"]
    assert api.get("/api/v2/snapshot", snapshotId=snapshot_id).status_code == 400
    assert api.get("/api/v2/snapshot", advertiserId=600002, snapshotId=snapshot_id).status_code == 404
    assert api.get("/api/v1/snapshot", snapshotId=snapshot_id).status_code == 404  # a v2 snapshot
    em.revoke_advertiser(600001)
    assert api.get("/api/v2/snapshot", advertiserId=600001, snapshotId=snapshot_id).status_code == 403


# --- campaigns and keywords ------------------------------------------------------------------------


def test_entities_are_deterministic_and_unique(em: Emulator, clock: FakeClock, pair: PartnerKeyPair) -> None:
    campaigns = em.campaigns(600001)
    assert [c["campaignId"] for c in campaigns] == [60000101, 60000102]
    assert campaigns[0]["status"] == "enabled" and campaigns[0]["dailyBudget"] > 0
    keyword_ids = [k["keywordId"] for adv in (600001, 600002, 600003) for k in em.keywords(adv)]
    assert len(keyword_ids) == len(set(keyword_ids)) == 24
    assert all(0.5 <= k["bid"] <= 2.0 for k in em.keywords(600002))
    again = Emulator(seed=7, clock=clock)
    again.seed_demo_advertisers()
    assert again.campaigns(600001) == campaigns and again.keywords(600003) == em.keywords(600003)
    big = em.add_advertiser(700000, "Big Co", "1p", campaigns=3, ad_groups_per_campaign=1, keywords_per_ad_group=5)
    assert big["advertiserId"] == 700000 and len(em.keywords(700000)) == 15


def test_get_campaigns_and_keywords(api: Api, em: Emulator) -> None:
    campaigns = api.get("/api/v1/campaigns", advertiserId=600002).get_json()
    assert campaigns == em.campaigns(600002)
    assert set(campaigns[0]) >= {"campaignId", "name", "campaignType", "targetingType", "status", "dailyBudget"}
    keywords = api.get("/api/v1/keywords", campaignId=60000201).get_json()
    assert [k["keywordId"] for k in keywords] == [
        600002010101,
        600002010102,
        600002010201,
        600002010202,
    ]
    assert set(keywords[0]) == {
        "campaignId",
        "adGroupId",
        "keywordId",
        "keywordText",
        "matchType",
        "bid",
        "state",
        "status",
    }
    assert api.get("/api/v1/keywords", campaignId=1).status_code == 404
    assert api.get("/api/v1/campaigns").status_code == 400
    assert em.ads_calls("GET /api/v1/keywords", advertiser_id=600002) == 1


def test_get_ad_groups_of_an_advertiser_or_campaign(api: Api, em: Emulator) -> None:
    groups = api.get("/api/v1/adGroups", advertiserId=600002).get_json()
    assert [(g["adGroupId"], g["campaignId"]) for g in groups] == [
        (6000020101, 60000201),
        (6000020102, 60000201),
        (6000020201, 60000202),
        (6000020202, 60000202),
    ]
    assert set(groups[0]) == {"adGroupId", "name", "status", "campaignId"} and groups[0]["name"]
    one = api.get("/api/v1/adGroups", advertiserId=600002, campaignId=60000202).get_json()
    assert [g["adGroupId"] for g in one] == [6000020201, 6000020202]
    assert api.get("/api/v1/adGroups").status_code == 400
    em.revoke_advertiser(600002)
    assert api.get("/api/v1/adGroups", advertiserId=600002).status_code == 403


def test_put_campaigns_takes_one_object_and_answers_an_array_of_results(api: Api, em: Emulator) -> None:
    # Spec: PUT /api/v1/campaigns takes one CampaignUpdate object and answers an array of CampaignResponse.
    cases: list[tuple[dict[str, Any], str, str]] = [
        ({"campaignId": 60000101, "dailyBudget": 80.5, "status": "paused"}, "success", ""),
        ({"campaignId": 60000102, "dailyBudget": 0}, "failure", "dailyBudget"),
        ({"campaignId": 60000102, "status": "archived"}, "failure", "status"),
        ({"campaignId": 12345}, "failure", "Campaign 12345 not found"),
        ({"campaignId": 60000301, "status": "paused"}, "failure", "Partner has read-only access"),
        ({"status": "paused"}, "failure", "campaignId"),
    ]
    for body, code, details in cases:
        resp = api.put("/api/v1/campaigns", body)
        assert resp.status_code == 200
        [result] = resp.get_json()
        assert result["code"] == code and details in result["details"], (body, result)
        assert result["campaignId"] == body.get("campaignId")
    changed = em.campaign(60000101)
    assert changed is not None
    assert {k: changed[k] for k in ("dailyBudget", "status")} == {"dailyBudget": 80.5, "status": "paused"}
    assert em.ads_operations() == 6  # one per update
    # An array is not the shape Walmart declares: refused, nothing changed.
    listed = api.put("/api/v1/campaigns", [{"campaignId": 60000101, "status": "enabled"}])
    assert listed.status_code == 400
    assert listed.get_json() == {"code": "failure", "details": "Request body must be one JSON object (CampaignUpdate)"}
    assert em.campaign(60000101)["status"] == "paused"  # type: ignore[index]
    assert api.put("/api/v1/campaigns", "x").status_code == 400


def test_put_keywords_validation_and_read_only(api: Api, em: Emulator) -> None:
    kw = em.keywords(600001)[0]["keywordId"]
    ro = em.keywords(600003)[0]["keywordId"]
    body = [
        {"keywordId": kw, "bid": 1.25},
        {"keywordId": kw, "bid": 0.29},
        {"keywordId": kw, "bid": 100.01},
        {"keywordId": kw, "bid": 1.234},
        {"keywordId": kw, "bid": "1"},
        {"keywordId": kw, "state": "deleted"},
        {"keywordId": ro, "bid": 1.0},
        {"keywordId": kw, "state": "archived"},
        {"keywordId": kw, "bid": 1.5},
    ]
    results = [api.put("/api/v1/keywords", item).get_json() for item in body]
    assert all(len(result) == 1 for result in results)
    assert [r[0]["code"] for r in results] == ["success"] + ["failure"] * 6 + ["success", "failure"]
    assert results[6][0]["details"] == "Partner has read-only access" and results[6][0]["keywordId"] == ro
    assert em.keyword(kw) == {**em.keyword(kw), "bid": 1.25, "state": "archived"}  # type: ignore[dict-item]
    em.set_advertiser_access(600003, "write")
    assert api.put("/api/v1/keywords", {"keywordId": ro, "bid": 0.3}).get_json()[0]["code"] == "success"
    assert em.keyword(ro)["bid"] == 0.3  # type: ignore[index]
    listed = api.put("/api/v1/keywords", [{"keywordId": ro, "bid": 0.5}])
    assert listed.status_code == 400 and "KeywordUpdate" in listed.get_json()["details"]
    assert em.keyword(ro)["bid"] == 0.3  # type: ignore[index]


# --- operations budget, knobs, reset -------------------------------------------------------------


def test_hourly_operations_budget(api: Api, em: Emulator, clock: FakeClock) -> None:
    em.connect_faults.update({"hourly_operations": 5})
    for _ in range(3):
        assert api.get("/api/v1/campaigns", advertiserId=600001).status_code == 200
        clock.now += 60
    assert api.put("/api/v1/campaigns", {"campaignId": 60000101, "status": "paused"}).status_code == 200  # 1 op
    assert api.get("/api/v1/api_usage_analyze").get_json() == {"count": 5}
    too_many = api.put("/api/v1/campaigns", {"campaignId": 60000101, "status": "enabled"})  # 6 > 5
    assert too_many.status_code == 429
    assert too_many.get_json() == {"code": "failure", "details": "Too many requests. Retry after 10 minutes"}
    assert api.get("/api/v1/api_usage_analyze").status_code == 429  # polls count too
    assert em.ads_operations() == 5 and em.ads_calls(status=429) == 2
    clock.now += 3600 - 3 * 60 + 1  # the first call leaves the window
    assert api.get("/api/v1/api_usage_analyze").get_json() == {"count": 5}
    assert api.get("/api/v1/api_usage_analyze").status_code == 429
    clock.now += 3600
    assert api.get("/api/v1/api_usage_analyze").get_json() == {"count": 1}
    em.connect_faults.update({"hourly_operations": None})
    for _ in range(10):
        assert api.get("/api/v1/api_usage_analyze").status_code == 200


def test_error_rate_and_forced_faults_on_connect_paths(api: Api, em: Emulator) -> None:
    em.connect_faults.update({"error_rate": 1.0})
    assert api.get("/api/v1/api_usage_analyze").status_code == 500
    em.connect_faults.update({"error_rate": 0.0})
    em.faults.fail_next("/api/v2/snapshot", 429, count=1)
    em.faults.fail_next("/ads/files", 503, count=1)
    resp = api.report()
    assert resp.status_code == 429 and resp.get_json()["details"] == "Too many requests. Retry after 10 minutes"
    url = api.get("/api/v1/snapshot", snapshotId=api.insight()).get_json()["details"]
    assert api.client.get(url, headers=api.headers()).status_code == 503
    assert api.report().status_code == 200
    unknown = api.get("/api/v1/nothing")
    assert unknown.status_code == 404 and unknown.get_json() == {"code": "failure", "details": "Not Found"}


@pytest.mark.parametrize(
    "values",
    [
        {"hourly_operations": -1},
        {"hourly_operations": True},
        {"insight_file_layout": "csv"},
        {"report_failure_rate": 1.5},
        {"snapshot_as_array": "yes"},
        {"insight_faults": "empty"},
        {"insight_faults": ["gone"]},
        {"report_time_zone": "Mars/Olympus_Mons"},
        {"report_time_zone": 5},
        {"report_publish_delay_hours": -1},
        {"now_offset_seconds": "tomorrow"},
        {"unknown": 1},
    ],
)
def test_connect_knob_validation(em: Emulator, values: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        em.connect_faults.update({"error_rate": 0.5, **values})
    assert em.connect_faults.error_rate == 0.0  # all or nothing


def test_reset_makes_connect_new(api: Api, em: Emulator) -> None:
    em.connect_faults.update({"hourly_operations": 3})
    api.insight()
    em.reset()
    assert em.advertisers == [] and em.ads_calls() == 0 and em.ads_operations() == 0
    assert em.connect_faults.hourly_operations == 10_000
    assert api.get("/api/v1/api_usage_analyze").status_code == 403  # no partner any more


def test_marketplace_still_works_beside_connect(em: Emulator) -> None:
    client = em.wsgi_app.test_client()
    auth = "Basic " + base64.b64encode(f"{DEMO_CLIENT_ID}:{DEMO_CLIENT_SECRET}".encode()).decode()
    headers = {"WM_SVC.NAME": "x", "WM_QOS.CORRELATION_ID": "c-1", "Authorization": auth}
    resp = client.post("/v3/token", headers=headers, data={"grant_type": "client_credentials"})
    assert resp.status_code == 200
    assert client.get("/v3/nothing", headers=headers).get_json()["error"][0]["code"] == "URI_NOT_FOUND.GMP_GATEWAY_API"
    assert em.calls(DEMO_SELLER_ID, "POST /v3/token") == 1 and em.ads_calls() == 0


# --- control endpoints ---------------------------------------------------------------------------


def test_control_endpoints(clock: FakeClock, pair: PartnerKeyPair) -> None:
    em = Emulator(seed=1, clock=clock)
    client = em.wsgi_app.test_client()
    partner = {
        "consumer_id": pair.consumer_id,
        "key_version": pair.key_version,
        "public_key_pem": pair.public_key_pem,
        "auth_token": pair.auth_token,
    }
    assert client.post("/__emulator/connect/partner", json={**partner, "public_key_pem": "x"}).status_code == 400
    assert client.post("/__emulator/connect/partner", json=partner).status_code == 200
    resp = client.post("/__emulator/connect/advertisers", json={"advertiser_id": 42, "name": "A", "access": "read"})
    assert resp.status_code == 201 and resp.get_json()["apiAccessType"] == "read"
    assert client.post("/__emulator/connect/advertisers", json={"advertiser_id": 43}).status_code == 400
    assert client.post("/__emulator/connect/advertisers", json={"advertiser_id": 43, "x": 1}).status_code == 400
    assert len(client.post("/__emulator/connect/advertisers/demo").get_json()) == len(DEMO_ADVERTISERS)
    assert client.post("/__emulator/connect/advertisers/42/access", json={"access": "write"}).get_json()[
        "apiAccessType"
    ] == ("write")
    assert client.post("/__emulator/connect/advertisers/42/access", json={"access": "admin"}).status_code == 400
    restated = client.post("/__emulator/connect/advertisers/42/restate", json={"days": 2}).get_json()["restated"]
    latest = em.latest_report_date()
    assert restated == [(latest - timedelta(days=n)).isoformat() for n in (0, 1)]
    assert client.post("/__emulator/connect/advertisers/42/revoke").get_json()["revoked"] is True
    assert client.post("/__emulator/connect/advertisers/41/revoke").status_code == 404
    assert [a["advertiserId"] for a in client.get("/__emulator/connect/advertisers").get_json()] == [
        42,
        600001,
        600002,
        600003,
    ]
    assert client.post("/__emulator/connect/faults", json={"hourly_operations": "many"}).status_code == 400
    assert client.post("/__emulator/connect/faults", json={"hourly_operations": 9}).get_json()["hourly_operations"] == 9
    assert client.get("/__emulator/connect/faults").get_json()["hourly_operations"] == 9
    api = Api(em, clock, pair)
    api.get("/api/v1/campaigns", advertiserId=600001)
    usage = client.get("/__emulator/connect/usage").get_json()
    assert usage == {"operations_last_hour": 1, "calls": {"GET /api/v1/campaigns": 1}}
    summary = client.get("/__emulator/").get_json()
    assert summary["connect"]["partner"] == pair.consumer_id and len(summary["connect"]["advertisers"]) == 4
    assert em.summary()["connect"]["snapshots"] == 0
    after = client.post("/__emulator/reset", json={}).get_json()
    assert after["connect"]["partner"] is None and after["connect"]["advertisers"] == []
