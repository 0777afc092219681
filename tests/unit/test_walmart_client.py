"""The Marketplace client against scripted Walmart answers (no sockets)."""

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from walmart_integration.walmart.errors import (
    WalmartAuthError,
    WalmartCursorExpired,
    WalmartError,
    WalmartGrantRefused,
    WalmartRateLimited,
    WalmartUnavailable,
    parse_error_body,
)
from walmart_integration.walmart.marketplace import AppCredentials, MarketplaceClient, _rate_limit_wait, _replenish_wait

UNAUTHORIZED = {
    "error": [
        {
            "code": "UNAUTHORIZED.GMP_GATEWAY_API",
            "field": "UNAUTHORIZED",
            "description": "Unauthorized",
            "info": "Unauthorized token or token is expired",
            "severity": "ERROR",
            "category": "DATA",
        }
    ]
}


def client_with(responses, seen=None):
    queue = list(responses)

    def handler(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return MarketplaceClient(
        "https://sandbox.example", "Test Service", transport=httpx.MockTransport(handler), sleep=lambda _: None
    )


def test_fetch_token_sends_walmart_headers_and_form():
    seen: list[httpx.Request] = []
    client = client_with(
        [httpx.Response(200, json={"access_token": "tok", "token_type": "Bearer", "expires_in": 900})], seen
    )
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = client.fetch_token("cid", "secret", now=now)
    assert token.value == "tok"
    assert (token.expires_at - now).total_seconds() == 900
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/v3/token"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"cid:secret").decode()
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["accept"] == "application/json"
    assert request.headers["wm_svc.name"] == "Test Service"
    assert len(request.headers["wm_qos.correlation_id"]) == 36
    assert parse_qs(request.content.decode()) == {"grant_type": ["client_credentials"]}


def test_token_usable_only_until_a_minute_before_expiry():
    client = client_with([httpx.Response(200, json={"access_token": "t", "expires_in": 900})])
    now = datetime(2026, 1, 1, tzinfo=UTC)
    token = client.fetch_token("a", "b", now=now)
    assert token.usable(datetime(2026, 1, 1, 0, 13, 59, tzinfo=UTC))
    assert not token.usable(datetime(2026, 1, 1, 0, 14, 0, tzinfo=UTC))


def test_wrong_credentials_raise_auth_error_with_walmarts_message_and_no_retry():
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(401, json=UNAUTHORIZED)], seen)
    with pytest.raises(WalmartAuthError) as caught:
        client.fetch_token("a", "wrong")
    assert caught.value.code == "UNAUTHORIZED.GMP_GATEWAY_API"
    assert caught.value.message == "Unauthorized"
    assert len(seen) == 1


def test_5xx_and_timeouts_are_retried_then_succeed():
    seen: list[httpx.Request] = []
    client = client_with(
        [
            httpx.Response(503, text="busy"),
            httpx.ReadTimeout("slow"),
            httpx.Response(200, json={"access_token": "t", "expires_in": 900}),
        ],
        seen,
    )
    assert client.fetch_token("a", "b").value == "t"
    assert len(seen) == 3
    assert len({r.headers["wm_qos.correlation_id"] for r in seen}) == 3  # a fresh correlation id per call


def test_5xx_that_persists_raises_unavailable():
    client = client_with([httpx.Response(500, json={"errors": [{"code": "SYSTEM_ERROR", "description": "Down"}]})] * 3)
    with pytest.raises(WalmartUnavailable) as caught:
        client.fetch_token("a", "b")
    assert caught.value.message == "Down"
    assert caught.value.status == 500


def test_429_is_never_slept_through():
    headers = {"x-next-replenishment-time": str(int((datetime.now(UTC).timestamp() + 30) * 1000))}
    client = client_with(
        [
            httpx.Response(
                429, headers=headers, json={"errors": [{"code": "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"}]}
            )
        ]
    )
    with pytest.raises(WalmartRateLimited) as caught:
        client.ship_nodes("tok")
    assert 25 <= caught.value.retry_after_seconds <= 31


def test_ship_nodes_sends_the_access_token_header():
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(200, json=[{"shipNode": "1"}])], seen)
    assert client.ship_nodes("tok-1") == [{"shipNode": "1"}]
    assert seen[0].headers["wm_sec.access_token"] == "tok-1"
    assert "authorization" not in seen[0].headers


def test_expired_token_on_a_resource_is_an_auth_error():
    client = client_with([httpx.Response(401, json=UNAUTHORIZED)])
    with pytest.raises(WalmartAuthError):
        client.ship_nodes("old")


def test_invalid_token_400_is_an_auth_error():
    body = {"errors": [{"code": "INVALID_TOKEN.GMP_GATEWAY_API", "description": "Invalid token"}]}
    client = client_with([httpx.Response(400, json=body)])
    with pytest.raises(WalmartAuthError):
        client.ship_nodes("old")


def test_other_4xx_is_a_plain_error():
    client = client_with([httpx.Response(400, json={"error": [{"code": "BAD", "info": "Bad request"}]})])
    with pytest.raises(WalmartError) as caught:
        client.ship_nodes("t")
    assert not isinstance(caught.value, WalmartAuthError | WalmartUnavailable)
    assert caught.value.message == "Bad request"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (json.dumps(UNAUTHORIZED), ("UNAUTHORIZED.GMP_GATEWAY_API", "Unauthorized")),
        (json.dumps({"errors": [{"code": "X", "info": "Info only"}]}), ("X", "Info only")),
        (json.dumps({"errors": {"error": [{"code": "Y", "description": "Nested"}]}}), ("Y", "Nested")),
        ("<html>oops</html>", (None, "<html>oops</html>")),
    ],
)
def test_error_bodies_parsed_from_error_or_errors(text, expected):
    assert parse_error_body(text) == expected


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-next-replenishment-time": "1000000030"}, 30.0),  # epoch seconds
        ({"x-next-replenish-time": "1000000030000"}, 30.0),  # epoch ms, other name
        ({"X-Next-Replenishment-Time": "12"}, 12.0),  # seconds
        ({"x-next-replenishment-time": "2001-09-09T01:47:10Z"}, 30.0),
        ({}, 60.0),
    ],
)
def test_replenishment_header_formats(headers, expected):
    assert _replenish_wait(httpx.Headers(headers), now=1_000_000_000) == pytest.approx(expected, abs=1)


# -- a seller's OAuth 2.0 authorization of our app --------------------------------------------------------------------
APP = AppCredentials("app-client-id", "app-client-secret")


def test_the_code_exchange_sends_our_app_the_seller_and_the_redirect_uri():
    seen: list[httpx.Request] = []
    body = {"access_token": "acc", "refresh_token": "ref", "token_type": "Bearer", "expires_in": 900}
    client = client_with([httpx.Response(200, json=body)], seen)
    now = datetime(2026, 1, 1, tzinfo=UTC)
    tokens = client.exchange_code(APP, "43423324", "65CA5DA3", "https://api.example/cb", now=now)
    assert tokens.access.value == "acc" and tokens.refresh_token == "ref"
    assert (tokens.access.expires_at - now).total_seconds() == 900
    request = seen[0]
    assert request.method == "POST" and request.url.path == "/v3/token"
    basic = base64.b64encode(b"app-client-id:app-client-secret").decode()
    assert request.headers["authorization"] == f"Basic {basic}"
    assert request.headers["wm_partner.id"] == "43423324"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert request.headers["wm_svc.name"] == "Test Service" and len(request.headers["wm_qos.correlation_id"]) == 36
    assert parse_qs(request.content.decode()) == {
        "grant_type": ["authorization_code"],
        "code": ["65CA5DA3"],
        "redirect_uri": ["https://api.example/cb"],
    }


def test_a_refresh_keeps_no_refresh_token_when_walmart_sends_none():
    """Walmart's refresh example answers an access token only (POST_v3_token__200__example.json, refreshTokenRes)."""
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(200, json={"access_token": "new", "expires_in": 900})], seen)
    tokens = client.refresh(APP, "43423324", "APXcIoTp")
    assert tokens.access.value == "new" and tokens.refresh_token is None
    assert seen[0].headers["wm_partner.id"] == "43423324"
    assert parse_qs(seen[0].content.decode()) == {"grant_type": ["refresh_token"], "refresh_token": ["APXcIoTp"]}


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_code_or_refresh_token_is_a_refused_grant_with_walmarts_reason(status: int):
    body = {"error": [{"code": "INVALID_REQUEST_PARAM.GMP_GATEWAY_API", "description": "Refresh token is revoked"}]}
    seen: list[httpx.Request] = []
    client = client_with([httpx.Response(status, json=body)], seen)
    with pytest.raises(WalmartGrantRefused) as caught:
        client.refresh(APP, "1", "old")
    assert isinstance(caught.value, WalmartAuthError)  # the workers treat it as refused credentials
    assert caught.value.message == "Refresh token is revoked" and caught.value.status == status
    assert len(seen) == 1  # never retried


def test_grant_5xx_is_retried_then_unavailable_and_429_rate_limited():
    client = client_with([httpx.Response(503, text="busy")] * 3)
    with pytest.raises(WalmartUnavailable):
        client.exchange_code(APP, "1", "c", "https://x/cb")
    client = client_with([httpx.Response(429, json={"errors": [{"code": "REQUEST_THRESHOLD_VIOLATED"}]})])
    with pytest.raises(WalmartRateLimited):
        client.refresh(APP, "1", "r")


def test_no_secret_in_the_repr_of_credentials_or_tokens():
    client = client_with([httpx.Response(200, json={"access_token": "acc-secret", "refresh_token": "ref-secret"})])
    tokens = client.exchange_code(APP, "1", "c", "https://x/cb")
    shown = repr(APP) + repr(tokens) + repr(tokens.access)
    assert "app-client-secret" not in shown and "acc-secret" not in shown and "ref-secret" not in shown


# -- Walmart's documented behaviours (issue #12; docs/walmart/FACTS.md "Checked behaviours") ---------------------
def test_429_waits_for_retry_after_when_it_is_later_than_the_replenishment():
    """Orders spec, components.responses.TooManyRequests: a ``Retry-After`` (seconds) beside the bucket headers."""
    soon = str(int((datetime.now(UTC).timestamp() + 2) * 1000))
    headers = {"x-next-replenishment-time": soon, "Retry-After": "30"}
    client = client_with([httpx.Response(429, headers=headers, json={"errors": [{"code": "RATE_LIMIT_EXCEEDED"}]})])
    with pytest.raises(WalmartRateLimited) as caught:
        client.orders_page("tok", params={"limit": 1})
    assert 30 <= caught.value.retry_after_seconds <= 31


def test_429_waits_for_the_replenishment_when_it_is_later_than_retry_after():
    later = str(int((datetime.now(UTC).timestamp() + 40) * 1000))
    headers = {"x-next-replenishment-time": later, "Retry-After": "5"}
    client = client_with([httpx.Response(429, headers=headers, json={})])
    with pytest.raises(WalmartRateLimited) as caught:
        client.orders_page("tok", params={"limit": 1})
    assert 35 <= caught.value.retry_after_seconds <= 41


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"Retry-After": "7"}, 7.0),  # only Retry-After: no guessed default on top
        ({"Retry-After": "Sun, 09 Sep 2001 01:46:52 GMT"}, 12.0),  # the HTTP-date form (RFC 9110)
        ({"Retry-After": "12", "x-next-replenish-time": "1000000003000"}, 12.0),
        ({"Retry-After": "soon"}, 60.0),  # unreadable: Walmart's headers said nothing usable
    ],
)
def test_retry_after_formats(headers, expected):
    assert _rate_limit_wait(httpx.Headers(headers), now=1_000_000_000) == pytest.approx(expected, abs=1)


def test_orders_404_with_the_order_apis_own_code_is_no_orders():
    """Orders spec, components.responses.NotFound: its example carries NOT_FOUND.GMP_ORDER_API."""
    body = {"errors": [{"code": "NOT_FOUND.GMP_ORDER_API", "description": "Resource not found.", "severity": "ERROR"}]}
    client = client_with([httpx.Response(404, json=body)])
    page = client.orders_page("tok", params={"limit": 100})
    assert page.orders == [] and page.total_count == 0 and page.next_cursor is None


@pytest.mark.parametrize(
    "body",
    [
        {"errors": [{"code": "CONTENT_NOT_FOUND.GMP_ORDER_API"}]},
        {"type": "about:blank", "title": "Not Found", "status": 404},  # application/problem+json
        "",
    ],
)
def test_orders_404_of_any_shape_is_no_orders(body):
    response = httpx.Response(404, json=body) if body else httpx.Response(404)
    assert client_with([response]).orders_page("tok", params={"limit": 1}).orders == []


def test_a_page_holding_one_order_as_an_object_keeps_that_order():
    body = {"list": {"meta": {"totalCount": 1, "limit": 100}, "elements": {"order": {"purchaseOrderId": "1"}}}}
    page = client_with([httpx.Response(200, json=body)]).orders_page("tok", params={"limit": 100})
    assert page.orders == [{"purchaseOrderId": "1"}] and page.total_count == 1


def test_a_200_that_is_not_json_is_retried_then_succeeds():
    seen: list[httpx.Request] = []
    busy = httpx.Response(200, text="<html><body>Service busy</body></html>", headers={"Content-Type": "text/html"})
    client = client_with([busy, httpx.Response(200, json=[{"shipNode": "1"}])], seen)
    assert client.ship_nodes("tok") == [{"shipNode": "1"}]
    assert len(seen) == 2


def test_a_200_that_stays_not_json_is_a_retryable_walmart_error():
    client = client_with([httpx.Response(200, text="<html>busy</html>")] * 3)
    with pytest.raises(WalmartUnavailable) as caught:
        client.orders_page("tok", params={"limit": 1})
    assert caught.value.status == 200 and "not JSON" in caught.value.message


def test_a_token_answer_that_is_not_json_is_retryable_too():
    client = client_with([httpx.Response(200, text="oops")] * 3)
    with pytest.raises(WalmartUnavailable):
        client.fetch_token("a", "b")


def test_an_expired_items_cursor_is_recognised():
    """Item-management spec, GET /v3/items parameter nextCursor: valid for 2 minutes, then 400 Invalid Cursor."""
    body = {
        "error": [
            {
                "code": "INVALID_REQUEST_PARAM.GMP_ITEM_QUERY_API",
                "field": "nextCursor",
                "description": "Invalid Cursor",
                "severity": "ERROR",
            }
        ]
    }
    client = client_with([httpx.Response(400, json=body)])
    with pytest.raises(WalmartCursorExpired):
        client.items_page("tok", cursor="AoE-old", offset=200, limit=200)
    other = client_with([httpx.Response(400, json={"error": [{"code": "INVALID_REQUEST_PARAM", "field": "limit"}]})])
    with pytest.raises(WalmartError) as caught:
        other.items_page("tok", cursor="AoE-old", offset=200, limit=5000)
    assert not isinstance(caught.value, WalmartCursorExpired)


def test_report_requests_follow_their_cursor_and_the_file_is_fetched_without_the_token():
    """On-request reports spec: getRequestsStatus's nextCursor is the next query (without "?"); downloadURL is a
    pre-signed address that must never see the seller's token."""
    seen: list[httpx.Request] = []
    first = {
        "requests": [{"requestId": "r-old", "requestStatus": "ERROR", "requestSubmissionDate": "2026-01-01T00:10:00Z"}],
        "nextCursor": "reportType=ITEM&page=2&limit=1",
    }
    second = {
        "requests": [{"requestId": "r-new", "requestStatus": "READY", "requestSubmissionDate": "2026-01-01T00:20:00Z"}]
    }
    client = client_with(
        [
            httpx.Response(200, json=first),
            httpx.Response(200, json=second),
            httpx.Response(200, json={"requestId": "r-new", "downloadURL": "https://files.example/r-new.zip?sig=1"}),
            httpx.Response(200, content=b"PK\x03\x04zip"),
        ],
        seen,
    )
    requests = client.report_requests("tok", "ITEM", datetime(2026, 1, 1, tzinfo=UTC))
    assert [(r.request_id, r.status) for r in requests] == [("r-new", "READY"), ("r-old", "ERROR")]
    assert seen[0].url.params["reportType"] == "ITEM"
    assert seen[0].url.params["requestSubmissionStartDate"] == "2026-01-01T00:00:00Z"
    assert seen[1].url.query == b"reportType=ITEM&page=2&limit=1"
    url = client.report_download_url("tok", "r-new")
    assert client.download(url) == b"PK\x03\x04zip"
    assert str(seen[3].url) == "https://files.example/r-new.zip?sig=1"
    assert "wm_sec.access_token" not in seen[3].headers and "authorization" not in seen[3].headers
