"""The emulator as Walmart's OAuth 2.0 for solution providers: the consent page, codes, refresh tokens, disconnects
(docs/walmart/FACTS.md, "Seller authorization for a platform"; docs/walmart/specs/marketplace__authentication...)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from flask.testing import FlaskClient

from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID, Emulator
from tests.unit.test_emulator import SHIPNODES, FakeClock, basic, wm_headers

APP_ID, APP_SECRET = "app-0001", "app-secret-0001"
REDIRECT = "https://api.example.test/api/walmart/oauth/callback"


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def em(clock: FakeClock) -> Emulator:
    emulator = Emulator(seed=0, clock=clock)
    emulator.register_app(APP_ID, APP_SECRET, [REDIRECT], "Test App")
    return emulator


@pytest.fixture
def client(em: Emulator) -> FlaskClient:
    return em.wsgi_app.test_client()


def authorize_args(**overrides: str) -> dict[str, str]:
    args = {
        "responseType": "code",
        "clientId": APP_ID,
        "redirectUri": REDIRECT,
        "nonce": "L8VYPBYOO5",
        "state": "A0YFFJJQMD",
        "clientType": "seller",
    }
    args.update(overrides)
    return args


def redirected(response: Any) -> dict[str, str]:
    assert response.status_code == 302, response.get_data(as_text=True)
    location = response.headers["Location"]
    assert location.startswith(REDIRECT + "?"), location
    return dict(parse_qsl(urlsplit(location).query))


def consent(client: FlaskClient, decision: str = "authorize", seller_id: str = DEMO_SELLER_ID, **args: str) -> Any:
    page = client.get("/authorize", query_string=authorize_args(**args))
    assert page.status_code == 200, page.get_data(as_text=True)
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.get_data(as_text=True))
    assert request_id
    return client.post(
        "/authorize", data={"request_id": request_id.group(1), "seller_id": seller_id, "decision": decision}
    )


def grant(client: FlaskClient, partner: str | None = DEMO_SELLER_ID, auth: str | None = None, **form: str) -> Any:
    headers = wm_headers(Authorization=auth or basic(APP_ID, APP_SECRET))
    if partner is not None:
        headers["WM_PARTNER.ID"] = partner
    return client.post("/v3/token", headers=headers, data=form)


def code_for(client: FlaskClient, **args: str) -> str:
    return redirected(consent(client, **args))["code"]


def exchange(client: FlaskClient, code: str, redirect_uri: str = REDIRECT, **kwargs: Any) -> Any:
    return grant(client, grant_type="authorization_code", code=code, redirect_uri=redirect_uri, **kwargs)


# -- the consent page ------------------------------------------------------------------------------------------------
def test_the_consent_page_offers_authorize_and_decline_as_the_demo_seller(client: FlaskClient):
    page = client.get("/authorize", query_string=authorize_args())
    text = page.get_data(as_text=True)
    assert page.status_code == 200 and page.mimetype == "text/html"
    assert "Test App" in text and ">Authorize</button>" in text and ">Decline</button>" in text
    assert f'<option value="{DEMO_SELLER_ID}" selected>' in text


def test_authorize_redirects_with_what_walmart_appends(client: FlaskClient):
    query = redirected(consent(client))
    assert set(query) == {"code", "type", "clientId", "sellerId", "state"}
    assert (query["type"], query["clientId"], query["sellerId"], query["state"]) == (
        "auth",
        APP_ID,
        DEMO_SELLER_ID,
        "A0YFFJJQMD",
    )
    assert re.fullmatch(r"[0-9A-F]{32}", query["code"])


def test_decline_redirects_with_access_denied_and_the_state(client: FlaskClient):
    query = redirected(consent(client, decision="decline"))
    assert query["error"] == "access_denied" and query["state"] == "A0YFFJJQMD" and "code" not in query


@pytest.mark.parametrize(
    ("args", "why"),
    [({"clientId": "unknown"}, "not registered"), ({"redirectUri": "https://evil.example/cb"}, "does not match")],
)
def test_an_unknown_app_or_redirect_uri_gets_an_error_page_never_a_redirect(client, args, why):
    page = client.get("/authorize", query_string=authorize_args(**args))
    assert page.status_code == 400 and "Location" not in page.headers and why in page.get_data(as_text=True)


@pytest.mark.parametrize(
    ("args", "error"),
    [
        ({"responseType": "token"}, "unsupported_response_type"),
        ({"clientType": "buyer"}, "invalid_request"),
        ({"nonce": ""}, "invalid_request"),
    ],
)
def test_other_bad_requests_redirect_with_an_oauth_error(client, args, error):
    query = redirected(client.get("/authorize", query_string=authorize_args(**args)))
    assert query == {"error": error, "state": "A0YFFJJQMD"}


def test_a_nonce_is_used_once_and_a_consent_answered_once(client: FlaskClient):
    page = client.get("/authorize", query_string=authorize_args(nonce="ONCE"))
    request_id = re.search(r'name="request_id" value="([^"]+)"', page.get_data(as_text=True))
    assert request_id
    replayed = client.get("/authorize", query_string=authorize_args(nonce="ONCE"))
    assert redirected(replayed)["error"] == "invalid_request"
    form = {"request_id": request_id.group(1), "seller_id": DEMO_SELLER_ID, "decision": "authorize"}
    assert client.post("/authorize", data=form).status_code == 302
    assert client.post("/authorize", data=form).status_code == 400


# -- POST /v3/token: the app's grants ---------------------------------------------------------------------------------
def test_a_code_gives_an_access_and_a_refresh_token_once(client: FlaskClient, em: Emulator):
    code = code_for(client)
    first = exchange(client, code)
    assert first.status_code == 200, first.get_data(as_text=True)
    body = first.get_json()
    assert list(body) == ["access_token", "refresh_token", "token_type", "expires_in"] and body["expires_in"] == 900
    nodes = client.get(SHIPNODES, headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": body["access_token"]}))
    assert nodes.status_code == 200  # the OAuth access token works on every Marketplace route
    assert em.refresh_tokens(DEMO_SELLER_ID) == [body["refresh_token"]]
    again = exchange(client, code)
    assert again.status_code == 400
    assert again.get_json()["error"][0]["description"] == "Authorization code is invalid, expired or already used"


def test_a_code_expires_and_names_its_redirect_uri_and_seller(client: FlaskClient, em: Emulator, clock: FakeClock):
    assert exchange(client, code_for(client, nonce="A1"), redirect_uri="https://other/cb").status_code == 400
    em.add_seller("other-id", "other-secret", "555")
    assert exchange(client, code_for(client, nonce="A2"), partner="555").status_code == 400
    code = code_for(client, nonce="A3")
    clock.now += 601  # auth_code_ttl_seconds: 600
    assert exchange(client, code).status_code == 400


def test_app_grants_need_the_partner_id_and_the_right_grant_types(client: FlaskClient):
    code = code_for(client)
    missing = exchange(client, code, partner=None)
    assert missing.status_code == 400 and missing.get_json()["error"][0]["field"] == "WM_PARTNER.ID"
    assert grant(client, grant_type="client_credentials").status_code == 400  # an app has no seller keys
    own_keys = grant(client, auth=basic(DEMO_CLIENT_ID, DEMO_CLIENT_SECRET), partner=None, grant_type="refresh_token")
    assert own_keys.status_code == 400  # a seller's own keys: client credentials only
    wrong_secret = exchange(client, code, auth=basic(APP_ID, "wrong"))
    assert wrong_secret.status_code == 401
    assert exchange(client, code).status_code == 200  # none of that spent the code


def test_a_refresh_token_gives_access_tokens_until_the_seller_disconnects(client: FlaskClient, em: Emulator):
    refresh = exchange(client, code_for(client)).get_json()["refresh_token"]
    renewed = grant(client, grant_type="refresh_token", refresh_token=refresh)
    assert renewed.status_code == 200 and list(renewed.get_json()) == ["access_token", "token_type", "expires_in"]
    access = renewed.get_json()["access_token"]
    assert em.disconnect_app(DEMO_SELLER_ID) == 1
    refused = grant(client, grant_type="refresh_token", refresh_token=refresh)
    assert refused.status_code == 400
    assert refused.get_json()["error"][0]["description"] == "Refresh token is invalid, expired or revoked"
    assert client.get(SHIPNODES, headers=wm_headers(**{"WM_SEC.ACCESS_TOKEN": access})).status_code == 401
    em.faults.update({"refused_grant_status": 401})
    assert grant(client, grant_type="refresh_token", refresh_token=refresh).status_code == 401


def test_rotation_is_a_knob_and_revokes_the_old_refresh_token(client: FlaskClient, em: Emulator):
    em.faults.update({"rotate_refresh_tokens": True})
    first = exchange(client, code_for(client)).get_json()["refresh_token"]
    second = grant(client, grant_type="refresh_token", refresh_token=first).get_json()["refresh_token"]
    assert second != first
    assert grant(client, grant_type="refresh_token", refresh_token=first).status_code == 400
    assert grant(client, grant_type="refresh_token", refresh_token=second).status_code == 200


def test_control_endpoints_list_apps_refresh_tokens_and_disconnect(client: FlaskClient):
    refresh = exchange(client, code_for(client)).get_json()["refresh_token"]
    tokens = client.get("/__emulator/tokens").get_json()
    assert [t["refresh_token"] for t in tokens["refresh_tokens"]] == [refresh]
    assert client.get("/__emulator/apps").get_json()[0]["client_secret"] == APP_SECRET
    registered = client.post("/__emulator/apps", json={"client_id": "b", "client_secret": "s", "redirect_uris": ["x"]})
    assert registered.status_code == 400  # redirect URIs are URLs
    assert client.post(f"/__emulator/sellers/{DEMO_SELLER_ID}/disconnect", json={}).get_json() == {
        "revoked_refresh_tokens": 1
    }
    assert grant(client, grant_type="refresh_token", refresh_token=refresh).status_code == 400
