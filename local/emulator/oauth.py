"""Seller authorization of a solution provider's app (OAuth 2.0 authorization code grant), as Walmart does it.

Walmart's documents (docs/walmart/FACTS.md, "Seller authorization for a platform"; the token grants in
docs/walmart/specs/marketplace__authentication.openapi.json, ``tokenAPI``):

- ``GET /authorize`` (Walmart's host: login.account.wal-mart.com) with ``responseType=code``, ``clientId``,
  ``redirectUri`` (exactly one registered for the app), ``clientType=seller`` (``seller-ca``/``seller-mx``),
  ``nonce`` (single use) and ``state``: the consent page, an Authorize and a Decline button. The emulator has no
  Seller Center login: the page signs in as the demo seller, or the seller picked in its list.
- Authorize redirects the browser to the redirect URI with ``code``, ``type=auth``, ``clientId``, ``sellerId`` and
  ``state``. Decline is not documented by Walmart: the emulator answers as OAuth does (RFC 6749 4.1.2.1),
  ``error=access_denied`` and the ``state``.
- ``POST /v3/token`` with the app's Basic auth and ``WM_PARTNER.ID``: ``authorization_code`` (single use, expires
  after ``auth_code_ttl_seconds``, same ``redirect_uri``) gives an access token (15 minutes) and a refresh token
  (365 days); ``refresh_token`` gives an access token and, as Walmart's example, no new refresh token (unless the
  ``rotate_refresh_tokens`` knob asks for one). A refused code or refresh token answers ``refused_grant_status``
  (400, or 401: Walmart documents neither).
- A seller who disconnects the app (``disconnect``): its refresh tokens and the access tokens issued through the app
  stop working.

An unknown app or an unregistered redirect URI gets an error page, never a redirect (RFC 6749 4.1.2.1).
"""

from __future__ import annotations

import base64
import html
import random
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urlencode

CLIENT_TYPES = ("seller", "seller-ca", "seller-mx")
CONSENT_TTL_SECONDS = 900.0  # how long the consent page stays answerable
REFRESH_TOKEN_TTL_SECONDS = 365 * 24 * 3600.0  # "Refresh Token: 1 year (365 days)" (tokenAPI's description)
SCOPES = ("Items", "Orders", "Settings (ship nodes)", "Reports", "Returns")


@dataclass
class App:
    """A solution provider app registered with Walmart: its credentials and its redirect URIs."""

    client_id: str
    client_secret: str
    name: str = "Solution provider app"
    redirect_uris: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class ConsentRequest:
    request_id: str
    client_id: str
    redirect_uri: str
    state: str
    client_type: str
    created_at: float


@dataclass
class AuthorizationCode:
    code: str
    client_id: str
    seller_id: str
    redirect_uri: str
    issued_at: float
    expires_at: float
    used: bool = False


@dataclass
class RefreshToken:
    refresh_token: str
    client_id: str
    seller_id: str
    issued_at: float
    expires_at: float
    uses: int = 0
    revoked: bool = False


class GrantRefused(Exception):
    """POST /v3/token refuses the code or refresh token; ``field`` and the message go into Walmart's error body."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class OAuthState:
    """Apps, consent requests, codes and refresh tokens (guarded by the emulator's lock, timed by its clock)."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.apps: dict[str, App] = {}
        self.consents: dict[str, ConsentRequest] = {}
        self.codes: dict[str, AuthorizationCode] = {}
        self.refresh_tokens: dict[str, RefreshToken] = {}
        self.nonces: set[tuple[str, str]] = set()  # (client id, nonce) already used

    # -- apps ----------------------------------------------------------------------------------------------------
    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: list[str] | None = None, name: str | None = None
    ) -> App:
        if not client_id or not client_secret:
            raise ValueError("client_id and client_secret are required")
        uris = [str(uri) for uri in redirect_uris or []]
        if not all(uri.startswith(("http://", "https://")) for uri in uris):
            raise ValueError("redirect_uris must be http(s) URLs")
        app = App(client_id, client_secret, name or "Solution provider app", uris)
        self.apps[client_id] = app
        return app

    def check_app(self, client_id: str, client_secret: str) -> App | None:
        app = self.apps.get(client_id)
        return app if app is not None and app.client_secret == client_secret else None

    # -- the consent page -----------------------------------------------------------------------------------------
    def open_consent(self, args: dict[str, str], now: float) -> ConsentRequest | tuple[str, str | None]:
        """The consent request of an authorize URL, or (error, redirect URI or None: an error page instead)."""
        app = self.apps.get(args.get("clientId", ""))
        redirect_uri = args.get("redirectUri", "")
        if app is None:
            return "The app (clientId) is not registered with Walmart.", None
        if redirect_uri not in app.redirect_uris:
            return "The redirectUri does not match any URI registered for this app.", None
        if args.get("responseType") != "code":
            return "unsupported_response_type", redirect_uri
        nonce = args.get("nonce", "")
        if args.get("clientType") not in CLIENT_TYPES or not nonce or not args.get("state"):
            return "invalid_request", redirect_uri
        if (app.client_id, nonce) in self.nonces:  # "used only once to prevent replay attacks"
            return "invalid_request", redirect_uri
        self.nonces.add((app.client_id, nonce))
        request = ConsentRequest(
            request_id=self._random_hex(16),
            client_id=app.client_id,
            redirect_uri=redirect_uri,
            state=args["state"],
            client_type=args["clientType"],
            created_at=now,
        )
        self.consents[request.request_id] = request
        return request

    def decide(self, request_id: str, seller_id: str, authorize: bool, now: float, code_ttl: float) -> str:
        """Where the browser goes after the seller's Authorize (a code) or Decline (``error=access_denied``).
        KeyError: no such consent request (used, expired or made up)."""
        request = self.consents.pop(request_id, None)
        if request is None or now - request.created_at > CONSENT_TTL_SECONDS:
            raise KeyError(request_id)
        if not authorize:
            return with_query(
                request.redirect_uri,
                {"error": "access_denied", "error_description": "The seller declined.", "state": request.state},
            )
        code = AuthorizationCode(
            code=self._random_hex(16).upper(),
            client_id=request.client_id,
            seller_id=seller_id,
            redirect_uri=request.redirect_uri,
            issued_at=now,
            expires_at=now + code_ttl,
        )
        self.codes[code.code] = code
        return with_query(
            request.redirect_uri,
            {
                "code": code.code,
                "type": "auth",
                "clientId": request.client_id,
                "sellerId": seller_id,
                "state": request.state,
            },
        )

    # -- POST /v3/token ---------------------------------------------------------------------------------------------
    def redeem_code(self, app: App, seller_id: str, code: str, redirect_uri: str, now: float) -> RefreshToken:
        """Spend an authorization code; its refresh token. GrantRefused: unknown, used, expired, another app's or
        another seller's code, or another redirect_uri than the authorize URL's."""
        found = self.codes.get(code)
        if found is None or found.used or now >= found.expires_at or found.client_id != app.client_id:
            raise GrantRefused("code", "Authorization code is invalid, expired or already used")
        if found.seller_id != seller_id:
            raise GrantRefused("WM_PARTNER.ID", "WM_PARTNER.ID does not match the seller who authorized")
        if found.redirect_uri != redirect_uri:
            raise GrantRefused("redirect_uri", "redirect_uri does not match the authorization request")
        found.used = True
        return self.issue_refresh_token(app, seller_id, now)

    def issue_refresh_token(self, app: App, seller_id: str, now: float) -> RefreshToken:
        token = RefreshToken(
            refresh_token="APX" + base64.urlsafe_b64encode(self.rng.randbytes(72)).decode().rstrip("="),
            client_id=app.client_id,
            seller_id=seller_id,
            issued_at=now,
            expires_at=now + REFRESH_TOKEN_TTL_SECONDS,
        )
        self.refresh_tokens[token.refresh_token] = token
        return token

    def use_refresh_token(self, app: App, seller_id: str, refresh_token: str, now: float) -> RefreshToken:
        found = self.refresh_tokens.get(refresh_token)
        if (
            found is None
            or found.revoked
            or now >= found.expires_at
            or found.client_id != app.client_id
            or found.seller_id != seller_id
        ):
            raise GrantRefused("refresh_token", "Refresh token is invalid, expired or revoked")
        found.uses += 1
        return found

    def disconnect(self, seller_id: str, client_id: str | None = None) -> list[str]:
        """The seller disconnects the app (every app, without ``client_id``): its refresh tokens are revoked. The
        client ids whose access tokens must stop too."""
        apps: set[str] = set()
        for token in self.refresh_tokens.values():
            if token.seller_id == seller_id and (client_id is None or token.client_id == client_id):
                token.revoked = True
                apps.add(token.client_id)
        return sorted(apps)

    def _random_hex(self, size: int) -> str:
        return self.rng.randbytes(size).hex()


def with_query(uri: str, params: dict[str, str]) -> str:
    return uri + ("&" if "?" in uri else "?") + urlencode(params)


# -- the pages (Walmart's are richer; these carry what the flow needs) -------------------------------------------------
_STYLE = (
    "body{font-family:system-ui,sans-serif;background:#f2f8fd;margin:0;color:#2e2f32}"
    "main{max-width:30rem;margin:8vh auto;background:#fff;padding:2rem;border-radius:8px}"
    "h1{color:#0071dc;font-size:1.4rem}"
    "button{font-size:1rem;padding:.6rem 1.4rem;border-radius:20px;margin-right:.5rem}"
    "#authorize{background:#0071dc;color:#fff;border:0}#decline{background:#fff;border:1px solid #2e2f32}"
)


def consent_page(request: ConsentRequest, app: App, sellers: list[tuple[str, str]], signed_in: str) -> str:
    """The authorization request page: who asks, for what, as which seller; Authorize or Decline (a plain form)."""
    options = "".join(
        f'<option value="{html.escape(seller_id)}"{" selected" if seller_id == signed_in else ""}>'
        f"{html.escape(label)}</option>"
        for seller_id, label in sellers
    )
    scopes = "".join(f"<li>{html.escape(scope)}</li>" for scope in SCOPES)
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Walmart Marketplace - Authorize app</title>'
        f"<style>{_STYLE}</style></head><body><main><h1>Authorize {html.escape(app.name)}</h1>"
        f"<p>{html.escape(app.name)} asks to access your Walmart Marketplace seller account:</p><ul>{scopes}</ul>"
        '<form method="post" action="/authorize">'
        f'<input type="hidden" name="request_id" value="{html.escape(request.request_id)}">'
        f'<p><label for="seller_id">Signed in as</label> <select id="seller_id" name="seller_id">{options}</select></p>'
        '<button id="authorize" type="submit" name="decision" value="authorize">Authorize</button>'
        '<button id="decline" type="submit" name="decision" value="decline">Decline</button>'
        "</form></main></body></html>"
    )


def error_page(message: str) -> str:
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Walmart Marketplace - Error</title>'
        f"<style>{_STYLE}</style></head><body><main><h1>Something went wrong</h1><p>{html.escape(message)}</p>"
        "</main></body></html>"
    )
