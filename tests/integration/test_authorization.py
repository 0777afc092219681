"""Seller authorization (OAuth 2.0): the real api and worker handlers, moto for AWS, the emulator playing Walmart.

The seller's browser is played by httpx against the emulator's authorize page (its form posted as the page would);
the callback is the api handler's answer to Walmart's redirect. The browser itself: tests/e2e/test_oauth.py.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import httpx
import pytest

from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, Emulator
from local.harness import REGION
from local.marketplace_app import MarketplaceApp, install_app
from tests.integration.conftest import Stack
from tests.support import response_json

REDIRECT_URI = "https://api.example.test/api/walmart/oauth/callback"
CALLBACK = "/api/walmart/oauth/callback"
STREAMS = ("token", "locations", "products", "orders", "backfill", "settlements", "returns")


def body(name: str = "OAuth store", **connection: str) -> dict[str, Any]:
    return {
        "name": name,
        "integration_id": 1,
        **({"connection_settings": connection} if connection else {}),
        "integration_settings": {
            "start_date": "2026-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
        },
    }


class OAuth:
    """The stack with our app registered at the emulator, and a seller's browser."""

    def __init__(self, stack: Stack, emulator: Emulator, app: MarketplaceApp) -> None:
        self.stack = stack
        self.emulator = emulator
        self.app = app

    def api(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return self.stack.call(*args, **kwargs)

    def create(self, name: str = "OAuth store", tenant: str = "demo") -> str:
        response = self.api("POST", "/api/walmart", body(name), tenant=tenant)
        assert response["statusCode"] == 201, response["body"]
        return str(response_json(response)["data"]["id"])

    def view(self, instance_id: str, tenant: str = "demo") -> dict[str, Any]:
        response = self.api("GET", f"/api/walmart/{instance_id}", tenant=tenant)
        assert response["statusCode"] == 200, response["body"]
        return dict(response_json(response)["data"])

    def authorization_url(self, instance_id: str, tenant: str = "demo") -> str:
        response = self.api("POST", f"/api/walmart/{instance_id}/authorization", tenant=tenant)
        assert response["statusCode"] == 201, response["body"]
        return str(response_json(response)["data"]["authorization_url"])

    def consent(self, url: str, decision: str = "authorize", seller_id: str = DEMO_SELLER_ID) -> dict[str, str]:
        """What the seller's browser does on Walmart's page; the query Walmart's redirect carries."""
        with httpx.Client(timeout=10) as browser:
            page = browser.get(url)
            assert page.status_code == 200, page.text
            request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
            assert request_id, page.text
            answer = browser.post(
                urlsplit(url)._replace(query="").geturl(),
                data={"request_id": request_id.group(1), "seller_id": seller_id, "decision": decision},
            )
        assert answer.status_code == 302, answer.text
        location = answer.headers["location"]
        assert location.startswith(REDIRECT_URI + "?"), location
        return dict(parse_qsl(urlsplit(location).query))

    def callback(self, query: dict[str, str]) -> dict[str, Any]:
        """The api function's answer to Walmart's redirect (no bearer token: a public route)."""
        return self.api("GET", CALLBACK, tenant=None, query=query, headers={"Accept": "text/html"})

    def connect(self, instance_id: str, seller_id: str = DEMO_SELLER_ID, tenant: str = "demo") -> dict[str, Any]:
        response = self.callback(self.consent(self.authorization_url(instance_id, tenant), seller_id=seller_id))
        assert response["statusCode"] == 200, response["body"]
        return response

    def token_calls(self, seller_id: str = DEMO_SELLER_ID) -> int:
        return self.emulator.calls(seller_id, "POST /v3/token")


@pytest.fixture
def oauth(stack_factory: Callable[..., Stack], emulator: Emulator) -> OAuth:
    """The demo seller with a fifth of its default history (60 orders, 20 items): these tests are about the
    connection, and each connect still syncs and posts every stream of it."""
    emulator.add_seller(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, item_count=20, order_count=60)
    stack = stack_factory(WALMART_REDIRECT_URI=REDIRECT_URI, WALMART_AUTHORIZE_URL=f"{emulator.url}/authorize")
    secrets = boto3.client("secretsmanager", region_name=REGION)
    app = install_app(secrets, stack.env["WALMART_APP_SECRET_NAME"], emulator, redirect_uris=[REDIRECT_URI])
    assert app is not None
    return OAuth(stack, emulator, app)


def settled(view: dict[str, Any]) -> bool:
    return all(view["jobs"][name]["status"] in ("succeeded", "failed") for name in STREAMS)


# -- the flow ------------------------------------------------------------------------------------------------------
def test_an_authorized_seller_connects_and_syncs_like_client_credentials(oauth: OAuth):
    instance_id = oauth.create()
    assert oauth.view(instance_id)["status"] == "credentials_missing"

    url = oauth.authorization_url(instance_id)
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == f"{oauth.emulator.url}/authorize"
    assert list(query) == ["responseType", "clientId", "redirectUri", "nonce", "state", "clientType"]
    assert query["responseType"] == "code" and query["clientType"] == "seller"
    assert query["clientId"] == oauth.app.client_id and query["redirectUri"] == REDIRECT_URI
    assert len(query["state"]) >= 32 and query["nonce"] and query["nonce"] != query["state"]

    redirect = oauth.consent(url)
    assert set(redirect) == {"code", "type", "clientId", "sellerId", "state"} and redirect["type"] == "auth"
    response = oauth.callback(redirect)
    assert response["statusCode"] == 200
    headers = {k.lower(): values[-1] for k, values in response["multiValueHeaders"].items()}
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert "default-src 'none'" in headers["content-security-policy"]
    assert "<script" not in response["body"] and "connected" in response["body"]
    assert DEMO_SELLER_ID in response["body"]

    view = oauth.view(instance_id)
    assert view["status"] == "connecting" and view["jobs"]["token"]["status"] == "queued"
    assert view["connection_settings"] == {
        "clientId": None,
        "clientSecret": None,
        "authMethod": "oauth",
        "sellerId": DEMO_SELLER_ID,
    }
    oauth.stack.pump(timeout=120)
    view = oauth.view(instance_id)
    assert view["status"] == "connected" and settled(view), view["jobs"]
    assert {view["jobs"][name]["status"] for name in STREAMS} == {"succeeded"}, view["jobs"]
    orders = response_json(oauth.api("GET", f"/api/walmart/{instance_id}/orders"))["data"]
    assert orders and len(orders) == min(50, len(oauth.emulator.orders(DEMO_SELLER_ID)))
    # The token job used the callback's access token: one token call (the code exchange) for the whole sync.
    assert oauth.token_calls() == 1
    # Stored encrypted, never shown: neither the refresh token nor any access token.
    item = json.dumps(oauth.stack.raw_instance("demo", instance_id), default=repr)
    secrets = [*oauth.emulator.refresh_tokens(DEMO_SELLER_ID), *(t.access_token for t in oauth.emulator.tokens())]
    assert secrets and not [s for s in secrets if s in item or s in response["body"]]


def test_client_credentials_replace_the_authorization_and_a_new_one_replaces_them(oauth: OAuth):
    instance_id = oauth.create()
    oauth.connect(instance_id)
    oauth.stack.pump(timeout=120)
    first_refresh = oauth.emulator.refresh_tokens(DEMO_SELLER_ID)[0]

    patch = {"connection_settings": {"clientId": "demo-client-id", "clientSecret": "demo-client-secret"}}
    changed = response_json(oauth.api("PATCH", f"/api/walmart/{instance_id}", patch))["data"]
    assert changed["connection_settings"] == {
        "clientId": "demo-client-id",
        "clientSecret": "********",
        "authMethod": "client_credentials",
        "sellerId": None,
    }
    item = oauth.stack.raw_instance("demo", instance_id) or {}
    assert "refresh_token" not in item and "seller_id" not in item and "credentials" in item  # the older secret went
    oauth.stack.pump(timeout=120)
    assert oauth.view(instance_id)["status"] == "connected"

    oauth.connect(instance_id)
    item = oauth.stack.raw_instance("demo", instance_id) or {}
    assert "credentials" not in item and "client_id" not in item and "refresh_token" in item
    assert first_refresh.encode() not in json.dumps(item, default=repr).encode()
    oauth.stack.pump(timeout=120)
    view = oauth.view(instance_id)
    assert view["status"] == "connected" and view["connection_settings"]["authMethod"] == "oauth"


def test_a_second_url_for_the_same_instance_goes_stale_once_the_first_connects(oauth: OAuth):
    instance_id = oauth.create()
    first, second = oauth.authorization_url(instance_id), oauth.authorization_url(instance_id)
    assert dict(parse_qsl(urlsplit(first).query))["state"] != dict(parse_qsl(urlsplit(second).query))["state"]
    late = oauth.consent(second)
    assert oauth.callback(oauth.consent(first))["statusCode"] == 200
    before = oauth.view(instance_id)
    refused = oauth.callback(late)
    assert refused["statusCode"] == 400 and "cannot be used" in refused["body"]
    assert oauth.view(instance_id) == before


# -- what must not happen ----------------------------------------------------------------------------------------------
def test_bad_callbacks_change_nothing_and_look_alike(oauth: OAuth):
    """Replayed, forged, expired, foreign and incomplete callbacks: 400, the same page, nothing changed."""
    instance_id = oauth.create()
    assert oauth.api("POST", "/api/stores", {"name": "B's shop"}, tenant="other")["statusCode"] == 201
    other_tenant = oauth.create("B's store", tenant="other")
    before = oauth.view(instance_id)
    refusals: dict[str, dict[str, Any]] = {}

    good = oauth.consent(oauth.authorization_url(instance_id))
    refusals["forged state"] = oauth.callback({**good, "state": "A0YFFJJQMD"})
    refusals["missing code"] = oauth.callback({k: v for k, v in good.items() if k != "code"})
    refusals["missing state"] = oauth.callback({k: v for k, v in good.items() if k != "state"})
    refusals["another app's clientId"] = oauth.callback({**good, "clientId": "someone-else"})
    # (that one spent the state: a valid callback after it is a replay)
    refusals["replayed"] = oauth.callback(good)

    expiring = oauth.consent(oauth.authorization_url(instance_id))
    _expire_states(oauth.stack)
    refusals["expired state"] = oauth.callback(expiring)

    deleted = oauth.create("Deleted store")
    gone = oauth.consent(oauth.authorization_url(deleted))
    assert oauth.api("DELETE", f"/api/walmart/{deleted}")["statusCode"] == 204
    refusals["deleted instance"] = oauth.callback(gone)

    # Another tenant cannot get a state for this instance at all (404, as for an instance nobody has).
    for tenant_b_asks in (instance_id, "01JNOBODY0000000000000000000"):
        refused = oauth.api("POST", f"/api/walmart/{tenant_b_asks}/authorization", tenant="other")
        assert (refused["statusCode"], response_json(refused)) == (
            404,
            {"message": f"Instance {tenant_b_asks} not found."},
        )

    assert {name: r["statusCode"] for name, r in refusals.items()} == dict.fromkeys(refusals, 400)
    pages = {r["body"] for r in refusals.values()}
    assert len(pages) == 1 and "Nothing was connected" in pages.pop()
    assert oauth.view(instance_id) == before
    assert oauth.stack.messages("TokenQueue") == []
    assert oauth.token_calls() == 0  # not one code was exchanged

    # The other tenant's own authorization connects its own instance, and nothing of this tenant's.
    assert oauth.connect(other_tenant, tenant="other")["statusCode"] == 200
    assert oauth.view(other_tenant, tenant="other")["connection_settings"]["authMethod"] == "oauth"
    assert oauth.view(instance_id) == before


def test_a_declined_authorization_spends_the_state_and_connects_nothing(oauth: OAuth):
    instance_id = oauth.create()
    before = oauth.view(instance_id)
    url = oauth.authorization_url(instance_id)
    declined = oauth.consent(url, decision="decline")
    assert declined["error"] == "access_denied" and "code" not in declined
    response = oauth.callback(declined)
    assert response["statusCode"] == 400 and "declined" in response["body"].lower()
    # The same state with a code (forged after the decline) is refused: the decline spent it.
    assert oauth.callback({**declined, "code": "ABC", "sellerId": DEMO_SELLER_ID})["statusCode"] == 400
    assert oauth.view(instance_id) == before
    assert oauth.stack.messages("TokenQueue") == [] and oauth.token_calls() == 0


def test_a_code_walmart_refuses_connects_nothing(oauth: OAuth):
    instance_id = oauth.create()
    before = oauth.view(instance_id)
    redirect = oauth.consent(oauth.authorization_url(instance_id))
    response = oauth.callback({**redirect, "code": "0" * 32})
    assert response["statusCode"] == 400 and "Walmart refused" in response["body"]
    assert oauth.view(instance_id) == before and oauth.stack.messages("TokenQueue") == []
    assert oauth.emulator.calls(DEMO_SELLER_ID, "POST /v3/token", status=400) == 1


@pytest.mark.parametrize("status", [400, 401])
def test_a_refused_refresh_stops_the_instance_until_it_is_authorized_again(oauth: OAuth, status: int):
    """The seller disconnected our app: its refresh token is refused (400 or 401: Walmart documents neither)."""
    instance_id = oauth.create()
    oauth.connect(instance_id)
    oauth.stack.pump(timeout=120)
    assert oauth.view(instance_id)["status"] == "connected"
    oauth.emulator.faults.update({"refused_grant_status": status})
    assert oauth.emulator.disconnect_app(DEMO_SELLER_ID) == 1  # also stops the access tokens issued through the app

    calls_before = oauth.token_calls()
    started = oauth.api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders", "products", "locations"]})
    assert started["statusCode"] == 202, started["body"]
    oauth.stack.pump(timeout=120)
    view = oauth.view(instance_id)
    assert view["status"] == "credentials_invalid"
    assert view["jobs"]["token"]["status"] == "failed"
    assert view["jobs"]["token"]["error"] == "Refresh token is invalid, expired or revoked"  # Walmart's reason
    # Three streams, one refused refresh: no retry storm, the other workers found the instance refused.
    assert oauth.token_calls() - calls_before == 1
    assert oauth.api("POST", f"/api/walmart/{instance_id}/sync", {"streams": ["orders"]})["statusCode"] == 409

    oauth.connect(instance_id)  # a new authorization brings it back
    oauth.stack.pump(timeout=120)
    view = oauth.view(instance_id)
    assert view["status"] == "connected" and view["jobs"]["token"]["status"] == "succeeded"


# -- the shared access token ------------------------------------------------------------------------------------------
def _expire_states(stack: Stack) -> None:
    """Every authorization in progress expired a second ago (their TTL is minutes)."""
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    table = stack.env["APP_TABLE_NAME"]
    past = str(int(datetime.now(UTC).timestamp()) - 1)
    for item in dynamodb.scan(TableName=table)["Items"]:
        if item["pk"]["S"].startswith("OAUTHSTATE#"):
            dynamodb.update_item(
                TableName=table,
                Key={"pk": item["pk"], "sk": item["sk"]},
                UpdateExpression="SET expires_at = :past",
                ExpressionAttributeValues={":past": {"N": past}},
            )


def _connection(clock: Callable[[], datetime]) -> Any:
    """A ConnectionService of its own (a worker container of its own), with ``clock`` as its time."""
    from walmart_integration import composition
    from walmart_integration.services.connection import ConnectionService

    wiring = composition.Composition(composition.current().settings)
    return ConnectionService(
        wiring.settings,
        wiring.instances,
        wiring.vault,
        wiring.queues,
        wiring.marketplace,
        wiring.limiter,
        clock=clock,
        app_credentials=wiring.app_credentials,
    )


def _connected(oauth: OAuth) -> Any:
    instance_id = oauth.create()
    oauth.connect(instance_id)
    oauth.stack.pump(timeout=120)
    from walmart_integration.store.instances import InstanceRepository

    return InstanceRepository(oauth.stack.env["APP_TABLE_NAME"], REGION).get("demo", instance_id)


def test_the_token_is_refreshed_a_minute_before_it_expires_and_then_reused(oauth: OAuth):
    record = _connected(oauth)
    expires = record.access_token_expires_at
    calls = oauth.token_calls()
    now = {"t": expires - timedelta(seconds=61)}
    worker = _connection(lambda: now["t"])
    stored = worker.access_token(record)
    assert oauth.token_calls() == calls  # still 61 s to go: the stored token

    now["t"] = expires - timedelta(seconds=59)
    renewed = worker.access_token(record)
    assert renewed != stored and oauth.token_calls() == calls + 1
    # Refreshed before it expired: Walmart still accepts the old token (the emulator's clock is the real one).
    assert oauth.emulator.state.use_token(stored)[1] == "ok"
    assert worker.access_token(record) == renewed and oauth.token_calls() == calls + 1
    # Another worker (a container of its own, the record it read long ago) uses the renewed token.
    other = _connection(lambda: now["t"])
    assert other.access_token(record) == renewed and oauth.token_calls() == calls + 1


def test_workers_renewing_one_token_at_once_make_one_call(oauth: OAuth):
    from walmart_integration.errors import RetryLater

    record = _connected(oauth)
    calls = oauth.token_calls()
    late = record.access_token_expires_at - timedelta(seconds=10)
    oauth.emulator.faults.update({"latency_ms": 400})  # the refresh is in flight while the others look
    results: list[str] = []
    waits: list[RetryLater] = []
    barrier = threading.Barrier(4)

    def worker() -> None:
        connection = _connection(lambda: late)
        barrier.wait()
        try:
            results.append(connection.access_token(record))
        except RetryLater as wait:
            waits.append(wait)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    oauth.emulator.faults.update({"latency_ms": 0})
    assert oauth.token_calls() == calls + 1, "one refresh for every worker"
    assert len(results) + len(waits) == 4 and len(results) >= 1
    assert len(set(results)) == 1
    assert all(w.throttled and w.delay_seconds is not None and w.delay_seconds <= 2 for w in waits)
    # A waiter coming back later uses the shared token.
    assert _connection(lambda: late).access_token(record) == results[0]
    assert oauth.token_calls() == calls + 1


def test_a_rotated_refresh_token_replaces_the_stored_one(oauth: OAuth):
    record = _connected(oauth)
    oauth.emulator.faults.update({"rotate_refresh_tokens": True})
    late = record.access_token_expires_at - timedelta(seconds=10)
    _connection(lambda: late).access_token(record)
    first, second = oauth.emulator.refresh_tokens(DEMO_SELLER_ID)
    later = late + timedelta(minutes=15)
    _connection(lambda: later).access_token(record)  # with the rotated one: the first is revoked now
    assert len(oauth.emulator.refresh_tokens(DEMO_SELLER_ID)) == 3
    assert first != second
    view = oauth.view(record.id)
    assert view["status"] == "connected"


def test_a_parameter_sent_twice_gets_the_refusal_page(oauth: OAuth):
    """Found by fuzzing (tests/reliability/test_fuzz.py): Powertools' validation answered the API's 422 JSON."""
    from local.harness import LambdaContext, api_event

    event = api_event("GET", CALLBACK, tenant=None, query={"state": "A", "code": "B"})
    event["multiValueQueryStringParameters"] = {"state": ["A", "B"], "code": ["C"]}
    response = oauth.stack.handler("api").handler(event, LambdaContext())
    assert response["statusCode"] == 400 and "cannot be used" in response["body"]
    assert response["multiValueHeaders"]["Content-Type"] == ["text/html; charset=utf-8"]
    # Elsewhere the API's 422 stays what it was.
    invalid = oauth.api("GET", "/api/walmart", query={"limit": "0"})
    assert invalid["statusCode"] == 422 and response_json(invalid)["errors"] == {
        "limit": ["Input should be greater than or equal to 1"]
    }


def test_failures_on_our_side_are_pages_too_and_leave_the_instance_reconnectable(
    oauth: OAuth, monkeypatch: pytest.MonkeyPatch
):
    from walmart_integration import composition

    instance_id = oauth.create()
    redirect = oauth.consent(oauth.authorization_url(instance_id))
    service = composition.current().authorization

    def queue_down(*_: Any) -> None:
        from botocore.exceptions import ClientError

        raise ClientError({"Error": {"Code": "ServiceUnavailable", "Message": "SQS is down"}}, "SendMessage")

    with monkeypatch.context() as patched:
        patched.setattr(service.queues, "send", queue_down)
        response = oauth.callback(redirect)
    assert response["statusCode"] == 500 and "Something went wrong" in response["body"]
    view = oauth.view(instance_id)
    assert view["status"] == "error" and view["jobs"]["token"]["error"].endswith("authorize the app again.")

    def broken(_: Any) -> None:
        raise RuntimeError("a bug")

    redirect = oauth.consent(oauth.authorization_url(instance_id))
    with monkeypatch.context() as patched:
        patched.setattr(service, "complete", broken)
        failed = oauth.callback(redirect)
    assert failed["statusCode"] == 500 and "Something went wrong" in failed["body"] and "a bug" not in failed["body"]
    assert failed["multiValueHeaders"]["Content-Type"] == ["text/html; charset=utf-8"]

    oauth.connect(instance_id)  # authorizing again connects it
    oauth.stack.pump(timeout=120)
    assert oauth.view(instance_id)["status"] == "connected"
