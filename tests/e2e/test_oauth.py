"""A seller connects by authorizing our app on Walmart (OAuth 2.0), against the local stack over HTTP.

The browser is a real one: Debian's chromium, headless, driven by Playwright (``make e2e`` installs chromium when it
is missing; no browser is ever downloaded). It opens the authorization URL the API gave, the emulator's consent page
(Walmart's), clicks Authorize or Decline and lands on our callback's page. The refusals are checked over plain HTTP:
each is a 400 page and changes nothing.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import boto3
import httpx
import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

CHROMIUM = "/usr/bin/chromium"
# The machine's network is closed: without these, chromium waits on connections it will never get.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CALLBACK = "/api/walmart/oauth/callback"
DEMO_SELLER_ID = "101000001"
STREAMS = ("token", "locations", "products", "orders", "backfill", "settlements", "returns")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make e2e` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


def create(stack: RunningStack, name: str) -> str:
    body = {
        "name": name,
        "integration_id": 1,
        "integration_settings": {
            "start_date": "2025-01-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
        },
    }
    with stack.client() as client:
        response = client.post("/api/walmart", json=body)
    assert response.status_code == 201, response.text
    assert response.json()["data"]["status"] == "credentials_missing"
    return str(response.json()["data"]["id"])


def authorization_url(stack: RunningStack, instance_id: str) -> str:
    with stack.client() as client:
        response = client.post(f"/api/walmart/{instance_id}/authorization")
    assert response.status_code == 201, response.text
    return str(response.json()["data"]["authorization_url"])


def view(stack: RunningStack, instance_id: str) -> dict[str, Any]:
    with stack.client() as client:
        return dict(client.get(f"/api/walmart/{instance_id}").json()["data"])


def settled(data: dict[str, Any]) -> bool:
    return all(data["jobs"][name]["status"] in ("succeeded", "failed") for name in STREAMS)


def in_browser(stack: RunningStack, browser: Any, url: str, button: str) -> tuple[int, dict[str, str], str, str]:
    """Open the authorization URL, press a button of Walmart's page; the callback page: status, headers, h1, text."""
    page = browser.new_page()
    try:
        page.goto(url)
        assert page.title() == "Walmart Marketplace - Authorize app"
        assert page.locator("#seller_id").input_value() == DEMO_SELLER_ID  # signed in as the demo seller
        with page.expect_navigation(url=re.compile(re.escape(CALLBACK))) as navigation:
            page.click(f"#{button}")
        response = navigation.value
        assert response is not None
        text = page.inner_text("body")
        stack._record_response(page.content().encode())  # (the canary check reads what the browser was shown)
        return response.status, response.all_headers(), page.inner_text("h1"), text
    finally:
        page.close()


def test_a_seller_authorizes_in_the_browser_and_the_store_connects_and_syncs(local_stack: RunningStack, browser: Any):
    instance_id = create(local_stack, f"OAuth browser {uuid.uuid4().hex[:8]}")
    url = authorization_url(local_stack, instance_id)
    assert urlsplit(url).path == "/authorize"

    clicked = time.monotonic()
    status, headers, title, text = in_browser(local_stack, browser, url, "authorize")
    assert status == 200 and title == "Walmart store connected", text
    assert f"Walmart seller {DEMO_SELLER_ID} authorized the connection" in text
    assert headers["content-type"] == "text/html; charset=utf-8"
    assert headers["cache-control"] == "no-store" and headers["referrer-policy"] == "no-referrer"
    assert headers["content-security-policy"].startswith("default-src 'none'")

    connected = local_stack.wait_for(instance_id, lambda data: data["status"] == "connected", timeout=60)
    assert time.monotonic() - clicked < 60
    assert connected["connection_settings"]["authMethod"] == "oauth"
    assert connected["connection_settings"]["sellerId"] == DEMO_SELLER_ID
    synced = local_stack.wait_for(instance_id, settled, timeout=180)
    assert {synced["jobs"][name]["status"] for name in STREAMS} == {"succeeded"}, synced["jobs"]
    with local_stack.client() as client:
        orders = client.get(f"/api/walmart/{instance_id}/orders").json()["data"]
    assert orders and synced["jobs"]["orders"]["records"] > 0


def test_a_seller_declines_in_the_browser_and_nothing_connects(local_stack: RunningStack, browser: Any):
    instance_id = create(local_stack, f"OAuth declined {uuid.uuid4().hex[:8]}")
    before = view(local_stack, instance_id)
    status, headers, title, text = in_browser(
        local_stack, browser, authorization_url(local_stack, instance_id), "decline"
    )
    assert status == 400 and title == "Authorization declined", text
    assert "nothing was connected" in text and headers["cache-control"] == "no-store"
    time.sleep(1)
    assert view(local_stack, instance_id) == before


# -- over HTTP: what must not happen ----------------------------------------------------------------------------------
def consent(
    stack: RunningStack, url: str, decision: str = "authorize", seller_id: str = DEMO_SELLER_ID
) -> dict[str, str]:
    """Walmart's page answered as a browser's form post would; what Walmart appends to our redirect URI."""
    with httpx.Client(timeout=10) as browser:
        page = browser.get(url)
        request_id = re.search(r'name="request_id" value="([^"]+)"', page.text)
        assert page.status_code == 200 and request_id, page.text
        answer = browser.post(
            urlsplit(url)._replace(query="").geturl(),
            data={"request_id": request_id.group(1), "seller_id": seller_id, "decision": decision},
        )
    assert answer.status_code == 302, answer.text
    location = answer.headers["location"]
    assert location.startswith(f"{stack.api_url}{CALLBACK}?"), location
    return dict(parse_qsl(urlsplit(location).query))


def callback(stack: RunningStack, query: dict[str, str], token: str = "") -> httpx.Response:
    """Walmart's redirect reaching our API: no bearer token (``token``: a stray Authorization header)."""
    with stack.client(token) as public:
        return public.get(CALLBACK, params=query)


def expire_every_state(stack: RunningStack) -> None:
    """Every authorization in progress expired a second ago (directly in the stack's DynamoDB)."""
    state = stack.state
    env = state["function_env"]
    dynamodb = boto3.client(
        "dynamodb",
        region_name=state["region"],
        endpoint_url=state["aws_endpoint_url"],
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "testing",
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "testing",
    )
    table = env["APP_TABLE_NAME"]
    items = dynamodb.scan(
        TableName=table, FilterExpression="begins_with(pk, :p)", ExpressionAttributeValues={":p": {"S": "OAUTHSTATE#"}}
    )["Items"]
    for item in items:
        dynamodb.update_item(
            TableName=table,
            Key={"pk": item["pk"], "sk": item["sk"]},
            UpdateExpression="SET expires_at = :past",
            ExpressionAttributeValues={":past": {"N": str(int(time.time()) - 1)}},
        )


def test_every_bad_callback_is_a_400_page_and_changes_nothing(local_stack: RunningStack):
    stack = local_stack
    instance_id = create(stack, f"OAuth refusals {uuid.uuid4().hex[:8]}")
    before = view(stack, instance_id)
    refusals: dict[str, httpx.Response] = {}
    good = consent(stack, authorization_url(stack, instance_id))
    refusals["forged state"] = callback(stack, {**good, "state": "A0YFFJJQMD"})
    refusals["missing code"] = callback(stack, {k: v for k, v in good.items() if k != "code"})
    refusals["no parameters"] = callback(stack, {})
    refusals["with a stray bearer token"] = callback(stack, {**good, "state": "X" * 40}, token=stack.token)
    declined = consent(stack, authorization_url(stack, instance_id), decision="decline")
    refusals["Walmart's error=access_denied"] = callback(stack, declined)
    refusals["the declined state with a code"] = callback(stack, {**good, "state": declined["state"]})
    assert view(stack, instance_id) == before  # nothing changed
    assert callback(stack, good).status_code == 200  # (it connects, spending its state)
    connected = stack.wait_for(instance_id, lambda data: data["status"] == "connected", timeout=60)
    refusals["replayed"] = callback(stack, good)
    expiring = consent(stack, authorization_url(stack, instance_id))
    expire_every_state(stack)
    refusals["expired state"] = callback(stack, expiring)
    after = view(stack, instance_id)
    assert after["connection_settings"] == connected["connection_settings"]
    assert after["jobs"]["token"] == connected["jobs"]["token"]  # no new connection, no new token job

    statuses = {name: response.status_code for name, response in refusals.items()}
    assert statuses == dict.fromkeys(refusals, 400), statuses
    for name, response in refusals.items():
        assert response.headers["content-type"] == "text/html; charset=utf-8", name
        assert response.headers["cache-control"] == "no-store" and "<script" not in response.text, name
    state_pages = {r.text for n, r in refusals.items() if "access_denied" not in n}
    assert len(state_pages) == 1, "every refusal of a state looks the same"
    with stack.client() as client:  # the public route takes GET only; the rest of /api still needs a token
        assert client.post(CALLBACK).status_code == 403
    with stack.client("") as anonymous:
        assert anonymous.get(f"/api/walmart/{instance_id}").status_code == 401
        assert anonymous.post(f"/api/walmart/{instance_id}/authorization").status_code == 401


def test_a_disconnected_seller_stops_the_instance_until_it_authorizes_again(local_stack: RunningStack):
    stack = local_stack
    seller = {"client_id": f"oauth-{uuid.uuid4().hex[:8]}", "client_secret": "own-keys-unused", "order_count": 20}
    with stack.emulator() as emulator:
        added = emulator.post("/__emulator/sellers", json=seller)
        assert added.status_code == 201, added.text
    seller_id = added.json()["seller_id"]
    instance_id = create(stack, f"OAuth disconnect {uuid.uuid4().hex[:8]}")
    redirect = consent(stack, authorization_url(stack, instance_id), seller_id=seller_id)
    assert redirect["sellerId"] == seller_id and callback(stack, redirect).status_code == 200
    stack.wait_for(instance_id, settled, timeout=180)
    with stack.emulator() as emulator:
        disconnected = emulator.post(f"/__emulator/sellers/{seller_id}/disconnect", json={})
        assert disconnected.json() == {"revoked_refresh_tokens": 1}
    with stack.client() as client:
        started = client.post(f"/api/walmart/{instance_id}/sync", json={"streams": ["orders", "products"]})
    assert started.status_code == 202, started.text
    refused = stack.wait_for(instance_id, lambda data: data["status"] == "credentials_invalid", timeout=60)
    assert refused["jobs"]["token"]["status"] == "failed"
    assert refused["jobs"]["token"]["error"] == "Refresh token is invalid, expired or revoked"
    with stack.client() as client:
        assert client.post(f"/api/walmart/{instance_id}/sync", json={"streams": ["orders"]}).status_code == 409
    with stack.emulator() as emulator:  # one refused refresh, however many jobs were queued: no retry storm
        calls = emulator.get("/__emulator/calls", params={"seller_id": seller_id, "endpoint": "POST /v3/token"})
    assert [call["status"] for call in calls.json()["calls"]] == [200, 400]

    redirect = consent(stack, authorization_url(stack, instance_id), seller_id=seller_id)
    assert callback(stack, redirect).status_code == 200
    back = stack.wait_for(instance_id, lambda data: data["status"] == "connected", timeout=60)
    assert back["jobs"]["token"]["status"] == "succeeded"
