"""The Walmart Connect client against scripted answers (no sockets), signatures checked with the public key."""

import base64
import gzip
import json
from datetime import date
from decimal import Decimal
from urllib.parse import parse_qs

import httpx
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

from walmart_integration.walmart.connect import ConnectClient, PartnerCredentials, Snapshot
from walmart_integration.walmart.errors import (
    WalmartAuthError,
    WalmartError,
    WalmartRateLimited,
    WalmartUnavailable,
)
from walmart_integration.walmart.signing import auth_signature

TOKEN = "secret-bearer-token-123"
SIGNED_HEADERS = (
    "Authorization",
    "WM_CONSUMER.ID",
    "WM_CONSUMER.intimestamp",
    "WM_SEC.KEY_VERSION",
    "WM_SEC.AUTH_SIGNATURE",
)
SNAPSHOT = {"code": "success", "snapshotId": "snap-1", "jobStatus": "pending", "details": ""}


@pytest.fixture(scope="module")
def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="module")
def pem(rsa_key) -> str:
    return rsa_key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


@pytest.fixture
def credentials(pem) -> PartnerCredentials:
    return PartnerCredentials.from_mapping(
        {"consumer_id": "consumer-abc", "key_version": "1", "private_key": pem, "auth_token": TOKEN}
    )


def verifies(rsa_key, signature: str, message: str) -> bool:
    try:
        rsa_key.public_key().verify(base64.b64decode(signature), message.encode(), padding.PKCS1v15(), hashes.SHA256())
    except Exception:
        return False
    return True


class Scripted:
    """A client whose transport answers from a script and records every request."""

    def __init__(self, credentials, responses, base_url="https://ads.example/api-proxy/"):
        self.queue = list(responses)
        self.seen: list[httpx.Request] = []
        self.sleeps: list[float] = []
        self.now = 1_767_225_600.0

        def clock() -> float:
            self.now += 1.5
            return self.now

        def handler(request: httpx.Request) -> httpx.Response:
            self.seen.append(request)
            item = self.queue.pop(0)
            if isinstance(item, Exception):
                raise item
            return item

        self.client = ConnectClient(
            base_url,
            lambda: credentials,
            transport=httpx.MockTransport(handler),
            clock=clock,
            sleep=self.sleeps.append,
        )


def test_signature_verifies_and_changes_with_the_timestamp(rsa_key, pem):
    first = auth_signature("consumer-abc", 1_700_000_000_000, "1", pem)
    second = auth_signature("consumer-abc", 1_700_000_000_001, "1", pem)
    assert verifies(rsa_key, first, "consumer-abc\n1700000000000\n1\n")
    assert not verifies(rsa_key, first, "consumer-abc\n1700000000001\n1\n")
    assert second != first and verifies(rsa_key, second, "consumer-abc\n1700000000001\n1\n")
    escaped = pem.replace("\n", "\\n")
    bare = "".join(line for line in pem.splitlines() if not line.startswith("-----"))
    assert auth_signature("consumer-abc", 1, "1", escaped) == auth_signature("consumer-abc", 1, "1", bare)


def test_unusable_key_is_refused_without_echoing_it():
    with pytest.raises(ValueError) as caught:
        auth_signature("c", 1, "1", "-----BEGIN PRIVATE KEY-----\nnot-a-key-xyz\n-----END PRIVATE KEY-----")
    assert "not-a-key-xyz" not in str(caught.value)


def test_every_request_carries_fresh_signed_headers(credentials, rsa_key):
    api = Scripted(credentials, [httpx.Response(200, json=SNAPSHOT), httpx.Response(200, json={"count": 7})])
    api.client.request_insight_snapshot()
    assert api.client.api_usage() == 7
    stamps = set()
    for request in api.seen:
        assert all(request.headers.get(name) for name in SIGNED_HEADERS)
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        assert request.headers["WM_CONSUMER.ID"] == "consumer-abc" and request.headers["WM_SEC.KEY_VERSION"] == "1"
        assert request.headers["Accept"] == "application/json"
        stamp = request.headers["WM_CONSUMER.intimestamp"]
        assert verifies(rsa_key, request.headers["WM_SEC.AUTH_SIGNATURE"], f"consumer-abc\n{stamp}\n1\n")
        stamps.add(stamp)
    assert len(stamps) == 2 and all(len(stamp) == 13 for stamp in stamps)
    assert api.seen[1].url.path == "/api-proxy/api/v1/api_usage_analyze"


def test_insight_snapshot_request_and_array_wrapped_poll(credentials):
    done = {**SNAPSHOT, "jobStatus": "done", "details": "https://files.example/ads/files/f1"}
    api = Scripted(
        credentials,
        [httpx.Response(200, json=[SNAPSHOT]), httpx.Response(200, json=[done])],
        base_url="https://ads.example",
    )
    snapshot = api.client.request_insight_snapshot("advertiserAttributesV2")
    assert snapshot == Snapshot("snap-1", "pending", "") and not snapshot.is_done and not snapshot.is_failed
    polled = api.client.insight_snapshot("snap-1")
    assert polled.is_done and polled.details == done["details"]
    post, get = api.seen
    assert post.method == "POST" and post.url.path == "/api/v1/snapshot/insight"
    assert post.headers["Content-Type"] == "application/json"
    assert json.loads(post.content) == {"insightType": "advertiserAttributesV2", "format": "gzip"}
    assert get.url.path == "/api/v1/snapshot" and parse_qs(get.url.query.decode()) == {"snapshotId": ["snap-1"]}


def test_report_snapshot_request_and_poll(credentials):
    expired = {**SNAPSHOT, "jobStatus": "expired"}
    api = Scripted(credentials, [httpx.Response(200, json=SNAPSHOT), httpx.Response(200, json=expired)])
    api.client.request_report_snapshot("501", "adGroup", ["date", "adSpend"], date(2026, 1, 1), date(2026, 2, 1))
    assert api.client.report_snapshot("501", "snap-1").is_failed
    post, get = api.seen
    assert post.url.path == "/api-proxy/api/v2/snapshot/report"
    assert json.loads(post.content) == {
        "advertiserId": 501,
        "reportType": "adGroup",
        "reportMetrics": ["date", "adSpend"],
        "startDate": "2026-01-01",
        "endDate": "2026-02-01",
    }
    assert get.url.path == "/api-proxy/api/v2/snapshot"
    assert parse_qs(get.url.query.decode()) == {"advertiserId": ["501"], "snapshotId": ["snap-1"]}


def test_failure_body_on_a_snapshot_request_is_an_error(credentials):
    api = Scripted(credentials, [httpx.Response(200, json={"code": "failure", "details": "Invalid insightType"})])
    with pytest.raises(WalmartError, match="Invalid insightType"):
        api.client.request_insight_snapshot("nope")


def test_403_is_an_auth_error_that_leaks_no_secret(credentials, pem):
    body = {"code": "failure", "details": f"Invalid signature for token {TOKEN}"}
    api = Scripted(credentials, [httpx.Response(403, json=body)])
    with pytest.raises(WalmartAuthError) as caught:
        api.client.insight_snapshot("snap-1")
    error = caught.value
    assert error.status == 403 and str(error).startswith("Walmart Connect refused the partner credentials: Invalid")
    key_body = pem.splitlines()[1]
    for text in (str(error), repr(error), repr(error.args), repr(credentials), str(credentials)):
        assert TOKEN not in text and key_body not in text
    assert repr(credentials) == "PartnerCredentials(consumer_id='consumer-abc', key_version='1')"
    assert len(api.seen) == 1


def test_credentials_from_mapping_names_missing_keys_only():
    with pytest.raises(ValueError, match="private_key, auth_token") as caught:
        PartnerCredentials.from_mapping({"consumer_id": "c", "key_version": 1, "auth_token": "", "x": "hush"})
    assert "hush" not in str(caught.value)


def test_429_is_rate_limited_for_ten_minutes_without_retry(credentials):
    body = {"code": "failure", "details": "Too many requests. Retry after 10 minutes"}
    api = Scripted(credentials, [httpx.Response(429, json=body)])
    with pytest.raises(WalmartRateLimited) as caught:
        api.client.api_usage()
    assert caught.value.retry_after_seconds == 600 and "10 minutes" in str(caught.value)
    assert len(api.seen) == 1 and api.sleeps == []


def test_503_then_success_is_retried_with_a_new_signature(credentials, rsa_key):
    api = Scripted(credentials, [httpx.Response(503, text="busy"), httpx.Response(200, json=SNAPSHOT)])
    assert api.client.insight_snapshot("snap-1").snapshot_id == "snap-1"
    first, second = api.seen
    assert first.headers["WM_CONSUMER.intimestamp"] != second.headers["WM_CONSUMER.intimestamp"]
    assert first.headers["WM_SEC.AUTH_SIGNATURE"] != second.headers["WM_SEC.AUTH_SIGNATURE"]
    assert len(api.sleeps) == 1 and 0 < api.sleeps[0] <= 1


@pytest.mark.parametrize(
    "failure",
    [
        httpx.Response(500, json={"code": "failure", "details": "boom"}),
        httpx.ReadTimeout("slow"),
        httpx.ConnectError("refused"),
    ],
)
def test_persistent_failures_end_as_unavailable(credentials, failure):
    api = Scripted(credentials, [failure] * 3)
    with pytest.raises(WalmartUnavailable) as caught:
        api.client.api_usage()
    assert len(api.seen) == 3 and len(api.sleeps) == 2 and sum(api.sleeps) <= 1
    assert TOKEN not in str(caught.value)


def test_400_is_a_plain_error_with_walmart_details(credentials):
    body = {"code": "failure", "details": "Date range cannot exceed 62 days"}
    api = Scripted(credentials, [httpx.Response(400, json=body)])
    with pytest.raises(WalmartError) as caught:
        api.client.request_report_snapshot("501", "keyword", ["date"], date(2025, 1, 1), date(2025, 6, 1))
    assert type(caught.value) is WalmartError
    assert caught.value.status == 400 and caught.value.message == "Date range cannot exceed 62 days"


def test_an_update_is_one_object_with_exact_decimals_and_walmarts_result_is_read_back(credentials):
    # Spec: PUT /api/v1/campaigns and /api/v1/keywords take one object (CampaignUpdate, KeywordUpdate) and answer
    # an array of per-item results; Walmart's keyword sample answers [{"code": "success", "details": " ",
    # " keywordId": 600003}] (a stray space in the key), its ad item sample gives ids as strings.
    answer = [
        {"code": "failure", "details": "Partner has read-only access", "campaignId": "12"},
        {"code": "success", "details": "", "campaignId": 11},
    ]
    api = Scripted(
        credentials,
        [
            httpx.Response(200, json=answer),
            httpx.Response(200, json=[{"code": "success", "details": " ", " keywordId": 7}]),
            httpx.Response(200, json={"code": "failure", "details": "bid must be at least 0.3"}),
            httpx.Response(200, json=[]),
        ],
    )
    result = api.client.update_campaign({"campaignId": 11, "dailyBudget": Decimal("1.10")})
    assert (result.entity_id, result.ok, result.details) == ("11", True, "")  # ours, found by id
    put = api.seen[0]
    assert put.method == "PUT" and put.url.path == "/api-proxy/api/v1/campaigns"
    assert put.content == b'{"campaignId":11,"dailyBudget":1.10}'  # one object, exact decimal
    assert json.loads(put.content, parse_float=Decimal) == {"campaignId": 11, "dailyBudget": Decimal("1.10")}
    keyword = api.client.update_keyword({"keywordId": 7, "bid": Decimal("0.25")})
    assert (keyword.entity_id, keyword.ok, keyword.details) == ("7", True, "")
    assert api.seen[1].url.path == "/api-proxy/api/v1/keywords" and api.seen[1].content == b'{"keywordId":7,"bid":0.25}'
    refused = api.client.update_keyword({"keywordId": 7, "bid": Decimal("0.25")})  # a bare object answer
    assert (refused.entity_id, refused.ok, refused.details) == ("7", False, "bid must be at least 0.3")
    with pytest.raises(WalmartError, match="no result"):
        api.client.update_keyword({"keywordId": 8, "state": "paused"})


def test_a_result_for_another_entity_is_not_taken_for_ours(credentials):
    answer = [{"code": "success", "details": "", "campaignId": 99}, {"code": "success", "campaignId": 98}]
    api = Scripted(credentials, [httpx.Response(200, json=answer)])
    with pytest.raises(WalmartError, match="no result"):
        api.client.update_campaign({"campaignId": 11, "status": "paused"})


def test_latest_report_dates_per_report_type(credentials):
    # Spec getLatestReportDateV2: [{reportType, latestReportDate}]. Walmart's v1 sample pads the date with a space
    # ("2023-08-13 ") and has no report type: it is filed under "*".
    answer = [
        {"reportType": "adGroup", "latestReportDate": "2026-11-30"},
        {"reportType": "keyword", "latestReportDate": "2026-11-29 "},
        {"reportType": "pageType", "latestReportDate": "soon"},
        "junk",
    ]
    api = Scripted(
        credentials,
        [
            httpx.Response(200, json=answer),
            httpx.Response(200, json={"advertiserId": "600001", "latestReportDate": "2023-08-13 "}),
            httpx.Response(200, json=[]),
        ],
    )
    assert api.client.latest_report_dates() == {"adGroup": date(2026, 11, 30), "keyword": date(2026, 11, 29)}
    assert api.seen[0].method == "GET" and api.seen[0].url.path == "/api-proxy/api/v2/latestReportDate"
    assert api.client.latest_report_dates() == {"*": date(2023, 8, 13)}
    with pytest.raises(WalmartError, match="named no date"):
        api.client.latest_report_dates()


def test_entity_names_come_from_walmarts_campaign_and_ad_group_lists(credentials):
    campaigns = [{"campaignId": 11, "name": " Brand "}, {"campaignId": 12}, "junk", {"name": "no id"}]
    ad_groups = [{"adGroupId": "111", "name": "Shoes", "status": "enabled", "campaignId": 11}]
    api = Scripted(credentials, [httpx.Response(200, json=campaigns), httpx.Response(200, json=ad_groups)])
    assert api.client.campaign_names("501") == {"11": "Brand"}
    assert api.client.ad_group_names("501") == {"111": "Shoes"}
    assert [(r.url.path, parse_qs(r.url.query.decode())) for r in api.seen] == [
        ("/api-proxy/api/v1/campaigns", {"advertiserId": ["501"]}),
        ("/api-proxy/api/v1/adGroups", {"advertiserId": ["501"]}),
    ]


def test_download_returns_the_raw_bytes(credentials, rsa_key):
    payload = gzip.compress(b'[{"advertiserId": 1}]')
    response = httpx.Response(200, stream=httpx.ByteStream(payload), headers={"Content-Encoding": "gzip"})
    api = Scripted(credentials, [response, httpx.Response(200, content=payload)])
    assert api.client.download("https://files.example/ads/files/f1") == payload
    assert api.client.download("https://files.example/ads/files/f1") == payload  # an already-read test body
    request = api.seen[0]
    assert str(request.url) == "https://files.example/ads/files/f1"
    assert all(request.headers.get(name) for name in SIGNED_HEADERS)
    assert request.headers["Accept-Encoding"] == "identity"


def test_download_errors_are_mapped(credentials):
    api = Scripted(credentials, [httpx.Response(404, json={"code": "failure", "details": "File not found"})])
    with pytest.raises(WalmartError, match="File not found"):
        api.client.download("https://files.example/ads/files/gone")


def test_report_rows_stream_a_gzip_csv_in_tiny_chunks(credentials):
    csv_text = "adSpend,date,adGroupId\n" + "".join(f"1.{n:02d},2026-03-01,{n}\n" for n in range(100))
    data = gzip.compress(csv_text.encode())
    sent: list[bytes] = []

    def chunks():
        for i in range(0, len(data), 3):
            sent.append(data[i : i + 3])
            yield data[i : i + 3]

    api = Scripted(credentials, [httpx.Response(200, content=chunks())])
    with api.client.report_rows("https://files.example/ads/files/r1") as rows:
        first = next(rows)
        assert len(sent) < len(data) // 3  # not read in full before the first row
        rest = list(rows)
    assert first == {"adSpend": "1.00", "date": "2026-03-01", "adGroupId": "0"}
    assert len(rest) == 99 and rest[-1]["adGroupId"] == "99"
    assert all(api.seen[0].headers.get(name) for name in SIGNED_HEADERS)


def test_report_rows_refused(credentials):
    api = Scripted(credentials, [httpx.Response(403, json={"code": "failure", "details": "expired timestamp"})])
    with pytest.raises(WalmartAuthError, match="expired timestamp"), api.client.report_rows("https://f.example/x"):
        pass
