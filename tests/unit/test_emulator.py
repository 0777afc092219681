"""Walmart sandbox emulator (local/emulator): Marketplace token + ship nodes, faults, limits."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import httpx
import pytest
from flask.testing import FlaskClient

from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, Emulator

SHIPNODES = "/v3/settings/shipping/shipnodes"
SHIPNODES_EP = "GET /v3/settings/shipping/shipnodes"
UNAUTHORIZED_BODY = {
    "error": [
        {
            "code": "UNAUTHORIZED.GMP_GATEWAY_API",
            "field": "clientId",
            "description": "Unauthorized",
            "info": "Unauthorized token or token is expired",
            "severity": "ERROR",
            "category": "DATA",
            "causes": [],
            "errorIdentifiers": {},
        }
    ]
}


class FakeClock:
    def __init__(self, now: float = 1_760_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def basic(client_id: str = DEMO_CLIENT_ID, secret: str = DEMO_CLIENT_SECRET) -> str:
    return "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode()


def wm_headers(**extra: str) -> dict[str, str]:
    headers = {
        "WM_SVC.NAME": "Walmart Marketplace",
        "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
        "Accept": "application/json",
    }
    headers.update(extra)
    return headers


def post_token(
    client: FlaskClient,
    *,
    auth: str | None = None,
    headers: dict[str, str] | None = None,
    grant_type: str = "client_credentials",
) -> Any:
    h = wm_headers() if headers is None else dict(headers)
    if auth is not None:
        h["Authorization"] = auth
    return client.post("/v3/token", headers=h, data={"grant_type": grant_type})


def get_token(client: FlaskClient) -> str:
    resp = post_token(client, auth=basic())
    assert resp.status_code == 200, resp.get_data(as_text=True)
    token: str = resp.get_json()["access_token"]
    return token


def get_nodes(client: FlaskClient, token: str, **params: str) -> Any:
    return client.get(
        SHIPNODES,
        headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": token}),
        query_string=params,
    )


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def em(clock: FakeClock) -> Emulator:
    return Emulator(seed=0, clock=clock)


@pytest.fixture
def client(em: Emulator) -> FlaskClient:
    return em.wsgi_app.test_client()


# --- POST /v3/token -----------------------------------------------------------------------------


def test_token_success_shape_and_headers(client: FlaskClient, em: Emulator) -> None:
    headers = wm_headers(Authorization=basic())
    resp = client.post("/v3/token", headers=headers, data={"grant_type": "client_credentials"})
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    body = resp.get_json()
    assert list(body) == ["access_token", "token_type", "expires_in"]
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    assert isinstance(body["access_token"], str) and len(body["access_token"]) > 100
    assert resp.headers["WM_QOS.CORRELATION_ID"] == headers["WM_QOS.CORRELATION_ID"]
    # a fresh token every call, bound to the demo seller, recorded with its expiry
    second = post_token(client, auth=basic()).get_json()["access_token"]
    assert second != body["access_token"]
    tokens = em.tokens(DEMO_SELLER_ID)
    assert [t.access_token for t in tokens] == [body["access_token"], second]
    assert tokens[0].expires_at - tokens[0].issued_at == 900
    assert em.calls(DEMO_SELLER_ID, "POST /v3/token") == 2


def test_token_header_names_are_case_insensitive(client: FlaskClient) -> None:
    headers = {
        "wm_svc.name": "x",
        "wm_qos.correlation_id": "abc-123",
        "authorization": basic(),
    }
    resp = client.post("/v3/token", headers=headers, data={"grant_type": "client_credentials"})
    assert resp.status_code == 200
    assert resp.headers["wm_qos.correlation_id"] == "abc-123"


def test_token_wrong_secret_is_401_with_walmart_body(client: FlaskClient) -> None:
    resp = post_token(client, auth=basic(secret="nope"))
    assert resp.status_code == 401
    assert resp.mimetype == "application/json"
    assert resp.get_json() == UNAUTHORIZED_BODY


@pytest.mark.parametrize("auth", [None, "Basic !!!not-base64", "Bearer abc", basic("unknown-client", "x")])
def test_token_missing_or_bad_auth_is_401(client: FlaskClient, auth: str | None) -> None:
    resp = post_token(client, auth=auth)
    assert resp.status_code == 401
    assert resp.get_json() == UNAUTHORIZED_BODY


@pytest.mark.parametrize("grant_type", ["authorization_code", "password", ""])
def test_token_wrong_grant_type_is_400(client: FlaskClient, grant_type: str) -> None:
    resp = post_token(client, auth=basic(), grant_type=grant_type)
    assert resp.status_code == 400
    error = resp.get_json()["error"][0]
    assert error["field"] == "grant_type" and error["severity"] == "ERROR"
    assert error["code"].endswith(".GMP_GATEWAY_API")


def test_token_json_body_is_415(client: FlaskClient) -> None:
    resp = client.post(
        "/v3/token",
        headers=wm_headers(Authorization=basic()),
        json={"grant_type": "client_credentials"},
    )
    assert resp.status_code == 415


@pytest.mark.parametrize("missing", ["WM_SVC.NAME", "WM_QOS.CORRELATION_ID"])
def test_token_missing_required_header_is_400(client: FlaskClient, missing: str) -> None:
    headers = wm_headers()
    del headers[missing]
    resp = post_token(client, auth=basic(), headers=headers)
    assert resp.status_code == 400
    error = resp.get_json()["error"][0]
    assert error["code"] == "INVALID_REQUEST_HEADER.GMP_GATEWAY_API"
    assert error["field"] == missing
    assert error["category"] == "DATA"


# --- GET /v3/settings/shipping/shipnodes -------------------------------------------------------


def test_shipnodes_with_valid_token(client: FlaskClient, em: Emulator) -> None:
    token = get_token(client)
    resp = get_nodes(client, token)
    assert resp.status_code == 200
    assert resp.mimetype == "application/json"
    nodes = resp.get_json()
    assert isinstance(nodes, list) and len(nodes) == 3
    for node in nodes:
        assert {
            "shipNode",
            "shipNodeName",
            "nodeType",
            "status",
            "timeZone",
            "postalAddress",
            "distributorSupportedServices",
            "shippingDetails",
        } <= set(node)
        assert node["nodeType"] in {"PHYSICAL", "VIRTUAL", "3PL"}
        assert node["status"] in {"ACTIVE", "INACTIVE"}
        assert set(node["postalAddress"]) >= {
            "addressLine1",
            "city",
            "state",
            "country",
            "postalCode",
        }
        assert node["shipNode"].isdigit()
        assert "calendarDayConfiguration" not in node
    assert nodes[0]["status"] == "ACTIVE"
    assert len({n["shipNode"] for n in nodes}) == 3
    # rate-limit headers ride along on success too
    assert int(resp.headers["x-current-token-count"]) == 49
    with_calendar = get_nodes(client, token, includeCalendarDayConfiguration="true").get_json()
    assert all("standardProcessingSchedule" in n["calendarDayConfiguration"] for n in with_calendar)
    assert em.calls(DEMO_SELLER_ID, SHIPNODES_EP) == 2
    assert em.calls(DEMO_SELLER_ID, SHIPNODES) == 2


@pytest.mark.parametrize("token", ["not-a-token", ""])
def test_shipnodes_invalid_token_is_401(client: FlaskClient, token: str) -> None:
    resp = get_nodes(client, token)
    assert resp.status_code == 401
    assert resp.get_json() == UNAUTHORIZED_BODY


def test_shipnodes_bearer_instead_of_wm_sec_access_token_is_401(
    client: FlaskClient,
) -> None:
    token = get_token(client)
    resp = client.get(SHIPNODES, headers=wm_headers(Authorization=f"Bearer {token}"))
    assert resp.status_code == 401


def test_shipnodes_missing_correlation_id_is_400(client: FlaskClient) -> None:
    token = get_token(client)
    headers = wm_headers(**{"WM_SEC.ACCESS_TOKEN": token})
    del headers["WM_QOS.CORRELATION_ID"]
    resp = client.get(SHIPNODES, headers=headers)
    assert resp.status_code == 400
    assert resp.get_json()["error"][0]["field"] == "WM_QOS.CORRELATION_ID"


def test_token_expires_after_n_calls(client: FlaskClient, em: Emulator) -> None:
    em.faults.token_expiry_after_calls = 2
    token = get_token(client)
    assert get_nodes(client, token).status_code == 200
    assert get_nodes(client, token).status_code == 200
    third = get_nodes(client, token)
    assert third.status_code == 401
    assert third.get_json() == UNAUTHORIZED_BODY
    assert get_nodes(client, token).status_code == 401  # stays dead
    assert get_nodes(client, get_token(client)).status_code == 200  # a new token works


def test_token_expires_after_ttl(client: FlaskClient, clock: FakeClock) -> None:
    token = get_token(client)
    clock.now += 899
    assert get_nodes(client, token).status_code == 200
    clock.now += 1
    assert get_nodes(client, token).status_code == 401


def test_expired_token_can_answer_400_invalid_token(client: FlaskClient, em: Emulator) -> None:
    em.faults.update({"expired_token_status": 400, "token_expiry_after_calls": 0})
    resp = get_nodes(client, get_token(client))
    assert resp.status_code == 400
    assert resp.get_json()["error"][0]["code"] == "INVALID_TOKEN.GMP_GATEWAY_API"


# --- faults ------------------------------------------------------------------------------------


def test_fail_next_forces_5xx_then_recovers(client: FlaskClient, em: Emulator) -> None:
    em.faults.fail_next("/v3/token", 500, count=1)
    em.faults.fail_next("/v3/token", 503, count=1)
    first = post_token(client, auth=basic())
    assert first.status_code == 500
    assert first.get_json()["error"][0]["code"] == "SYSTEM_ERROR.GMP_GATEWAY_API"
    second = post_token(client, auth=basic())
    assert second.status_code == 503  # gateway unreachable: bare body
    assert second.mimetype == "text/plain"
    assert post_token(client, auth=basic()).status_code == 200
    statuses = [r.status for r in em.call_log if r.endpoint == "POST /v3/token"]
    assert statuses == [500, 503, 200]
    assert em.calls(DEMO_SELLER_ID, "POST /v3/token", status=500) == 1


def test_token_error_rate_one_always_fails(client: FlaskClient, em: Emulator) -> None:
    em.faults.token_error_rate = 1.0
    assert post_token(client, auth=basic()).status_code == 500
    em.faults.token_error_rate = 0.0
    assert post_token(client, auth=basic()).status_code == 200


def test_rate_limit_429_with_both_headers(client: FlaskClient, em: Emulator, clock: FakeClock) -> None:
    token = get_token(client)
    for _ in range(50):
        assert get_nodes(client, token).status_code == 200
    resp = get_nodes(client, token)
    assert resp.status_code == 429
    error = resp.get_json()["error"][0]
    assert error["code"] == "REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API"
    assert resp.headers["x-current-token-count"] == "0"
    replenish_ms = int(resp.headers["x-next-replenishment-time"])
    assert replenish_ms == int(clock.now * 1000) + 1200  # 50/min -> one token per 1.2 s
    # refilled gradually: one token after 1.2 s, not the whole bucket
    clock.now += 1.2
    assert get_nodes(client, token).status_code == 200
    assert get_nodes(client, token).status_code == 429
    # buckets are per seller
    em.add_seller("other-client", "other-secret", "202")
    other = post_token(client, auth=basic("other-client", "other-secret")).get_json()["access_token"]
    assert get_nodes(client, other).status_code == 200


def test_rate_limit_scale_knob(client: FlaskClient, em: Emulator) -> None:
    em.faults.rate_limit_scale = 0.04  # 50/min -> 2/min
    token = get_token(client)
    assert [get_nodes(client, token).status_code for _ in range(3)] == [200, 200, 429]


def test_control_endpoints(client: FlaskClient, em: Emulator) -> None:
    resp = client.post(
        "/__emulator/faults",
        json={
            "latency_ms": 0,
            "fail_next": {"path_prefix": SHIPNODES, "status": 429, "count": 1},
        },
    )
    assert resp.status_code == 200 and resp.get_json()["fail_next"][0]["status"] == 429
    assert client.post("/__emulator/faults", json={"bogus": 1}).status_code == 400
    token = get_token(client)
    forced = get_nodes(client, token)
    assert forced.status_code == 429 and "x-next-replenishment-time" in forced.headers
    created = client.post(
        "/__emulator/sellers",
        json={
            "client_id": "c2",
            "client_secret": "s2",
            "seller_id": "555",
            "ship_nodes": 1,
        },
    )
    assert created.status_code == 201
    t2 = post_token(client, auth=basic("c2", "s2")).get_json()["access_token"]
    assert len(get_nodes(client, t2).get_json()) == 1
    state = client.get("/__emulator/").get_json()
    assert {s["seller_id"] for s in state["sellers"]} == {DEMO_SELLER_ID, "555"}
    assert state["calls"]["by_seller"]["555"][SHIPNODES_EP] == 1
    log = client.get("/__emulator/calls", query_string={"seller_id": "555"}).get_json()
    assert log["count"] == 2
    assert client.post("/__emulator/tokens/expire", json={}).get_json()["expired"] == 2
    assert get_nodes(client, t2).status_code == 401
    assert client.post("/__emulator/reset", json={}).status_code == 200
    assert [s.seller_id for s in em.sellers] == [DEMO_SELLER_ID]
    assert em.call_log == [] and em.faults.pending == []


def test_unknown_path_is_walmart_404(client: FlaskClient) -> None:
    resp = client.get("/v3/nope", headers=wm_headers())
    assert resp.status_code == 404
    assert resp.get_json()["error"][0]["code"] == "URI_NOT_FOUND.GMP_GATEWAY_API"


# --- determinism -------------------------------------------------------------------------------


def _session(seed: int) -> tuple[str, list[Any]]:
    em = Emulator(seed=seed, clock=FakeClock())
    client = em.wsgi_app.test_client()
    token = get_token(client)
    return token, get_nodes(client, token, includeCalendarDayConfiguration="true").get_json()


def test_same_seed_same_data() -> None:
    assert _session(0) == _session(0)
    assert _session(7) == _session(7)
    assert _session(0)[1] != _session(1)[1]
    assert _session(0)[0] != _session(1)[0]


# --- real server ---------------------------------------------------------------------------------


@pytest.mark.enable_socket
def test_real_server_on_free_port() -> None:
    em = Emulator(seed=0)
    url = em.start(host="127.0.0.1", port=0)
    try:
        assert url.startswith("http://127.0.0.1:") and not url.endswith(":0")
        with httpx.Client(base_url=url, timeout=5) as http:
            resp = http.post(
                "/v3/token",
                headers=wm_headers(Authorization=basic()),
                data={"grant_type": "client_credentials"},
            )
            assert resp.status_code == 200, resp.text
            assert resp.headers["wm_qos.correlation_id"]
            token = resp.json()["access_token"]
            nodes = http.get(SHIPNODES, headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": token}))
            assert nodes.status_code == 200 and len(nodes.json()) == 3
            http.post(
                "/__emulator/faults",
                json={"fail_next": {"path_prefix": SHIPNODES, "status": 503}},
            )
            assert http.get(SHIPNODES, headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": token})).status_code == 503
        assert em.calls(DEMO_SELLER_ID, SHIPNODES_EP) == 2
    finally:
        em.stop()


def test_httpx_wsgi_transport(em: Emulator) -> None:
    with httpx.Client(transport=httpx.WSGITransport(app=em.wsgi_app), base_url="http://emulator") as http:
        resp = http.post(
            "/v3/token",
            headers=wm_headers(Authorization=basic()),
            data={"grant_type": "client_credentials"},
        )
        assert resp.status_code == 200


def test_invalid_fault_update_changes_nothing(em: Emulator) -> None:
    with pytest.raises(ValueError):
        em.faults.update({"latency_ms": 50, "fail_next": [{"path_prefix": "/v3/token", "status": 999}]})
    assert em.faults.latency_ms == 0 and em.faults.pending == []


@pytest.mark.enable_socket
def test_threaded_server_concurrent_calls() -> None:
    from concurrent.futures import ThreadPoolExecutor

    em = Emulator(seed=0)
    em.faults.rate_limits_enabled = False
    url = em.start()
    try:
        with httpx.Client(base_url=url, timeout=10) as http:

            def one(_: int) -> tuple[int, int]:
                tok = http.post(
                    "/v3/token",
                    headers=wm_headers(Authorization=basic()),
                    data={"grant_type": "client_credentials"},
                )
                nodes = http.get(SHIPNODES, headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": tok.json()["access_token"]}))
                return tok.status_code, nodes.status_code

            with ThreadPoolExecutor(max_workers=8) as pool:
                results = list(pool.map(one, range(40)))
        assert results == [(200, 200)] * 40
        assert len({t.access_token for t in em.tokens()}) == 40
        assert em.calls(DEMO_SELLER_ID, "POST /v3/token") == 40
        assert em.calls(DEMO_SELLER_ID, SHIPNODES_EP) == 40
    finally:
        em.stop()
