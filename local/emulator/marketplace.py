"""Walmart Marketplace routes (Flask Blueprint) and the gateway checks they share.

Every route is wrapped by :func:`walmart_endpoint`, which does what Walmart's gateway does (docs/walmart/FACTS.md)
before the API sees the call, in this order:

1. required headers ``WM_SVC.NAME`` and ``WM_QOS.CORRELATION_ID`` -> 400 INVALID_REQUEST_HEADER
2. authentication -> 401 UNAUTHORIZED.GMP_GATEWAY_API
   - ``auth="access_token"`` (every API): ``WM_SEC.ACCESS_TOKEN`` header (not Authorization: Bearer)
   - ``auth="client_credentials"`` (POST /v3/token only): ``Authorization: Basic`` with a seller's own keys, or with
     an app's (solution provider) and ``WM_PARTNER.ID`` naming the seller the grant is for
3. per-seller rate limit -> 429 REQUEST_THRESHOLD_VIOLATED.GMP_GATEWAY_API
4. random 5xx (``error_rate`` / ``token_error_rate`` knobs)

Forced faults (``fail_next``) and latency are applied earlier, app-wide (see app.py), so they
hit any path. New routes only need (path variables arrive as keyword arguments)::

    @bp.get("/v3/orders/<purchase_order_id>")
    @walmart_endpoint("GET /v3/orders/{purchaseOrderId}")
    def get_order(ctx: CallContext, purchase_order_id: str) -> Response: ...

``rate_bucket`` picks the token bucket per call (e.g. GET /v3/items: 300/min without query
parameters, 60/min with any). The orders and items routes live in orders.py and items.py.
"""

from __future__ import annotations

import base64
import binascii
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from flask import Blueprint, Response, current_app, g, request

from . import errors
from .oauth import App, GrantRefused
from .ratelimit import MARKETPLACE_RATE_LIMITS, RateDecision
from .state import EmulatorState, IssuedToken, Seller

EXTENSION_KEY = "walmart_emulator"

HDR_SVC_NAME = "WM_SVC.NAME"
HDR_CORRELATION_ID = "WM_QOS.CORRELATION_ID"
HDR_ACCESS_TOKEN = "WM_SEC.ACCESS_TOKEN"  # noqa: S105 (a header name)
HDR_PARTNER_ID = "WM_PARTNER.ID"  # the seller an app's grant is for (authorization_code, refresh_token)
REQUIRED_HEADERS = (HDR_SVC_NAME, HDR_CORRELATION_ID)

# Response headers of the rate limiter (lower case, as Walmart sends them).
HDR_TOKEN_COUNT = "x-current-token-count"  # noqa: S105 (a header name)
HDR_REPLENISH = "x-next-replenishment-time"
# Seconds to wait, declared on 429 (docs/walmart/specs/marketplace__order-management.openapi.json,
# components.responses.TooManyRequests: an integer)
HDR_RETRY_AFTER = "Retry-After"

AuthMode = Literal["access_token", "client_credentials", "none"]

bp = Blueprint("walmart_marketplace", __name__)


def get_state() -> EmulatorState:
    state: EmulatorState = current_app.extensions[EXTENSION_KEY]
    return state


@dataclass
class CallContext:
    """What a route handler gets once the gateway checks passed."""

    state: EmulatorState
    seller: Seller
    endpoint: str
    token: IssuedToken | None = None  # None on POST /v3/token
    app: App | None = None  # POST /v3/token with an app's credentials (the seller from WM_PARTNER.ID)


Handler = Callable[..., Response]  # (ctx: CallContext, **path_variables) -> Response


# --- authentication helpers (reusable) ---------------------------------------------------------


def parse_basic_auth(header: str | None) -> tuple[str, str] | None:
    """(client_id, client_secret) from ``Authorization: Basic base64(id:secret)``, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return None
    return client_id, secret


def unauthorized_response(state: EmulatorState) -> Response:
    return errors.error_response(401, errors.unauthorized(), key=state.faults.error_key)


def authenticate_access_token(
    state: EmulatorState,
) -> tuple[IssuedToken, Seller] | Response:
    """Check ``WM_SEC.ACCESS_TOKEN``: the token and its seller, or the error response to send."""
    value = (request.headers.get(HDR_ACCESS_TOKEN) or "").strip()
    token, verdict = state.use_token(value) if value else (None, "missing")
    if token is not None:
        g.seller_id = token.seller_id
    if verdict == "ok" and token is not None:
        seller = state.seller(token.seller_id)
        if seller is not None:
            return token, seller
    g.outcome = f"unauthorized:{verdict}"
    if verdict in ("expired", "exhausted") and state.faults.expired_token_status == 400:
        return errors.error_response(400, errors.invalid_token(), key=state.faults.error_key)
    return unauthorized_response(state)


def authenticate_client_credentials(state: EmulatorState) -> tuple[Seller, App | None] | Response:
    """A seller's own keys, or an app's keys with ``WM_PARTNER.ID`` naming a seller (the app's grants)."""
    creds = parse_basic_auth(request.headers.get("Authorization"))
    seller = state.check_credentials(*creds) if creds else None
    if seller is not None:
        g.seller_id = seller.seller_id
        return seller, None
    with state.lock:
        app = state.oauth.check_app(*creds) if creds else None
    if app is None:
        g.outcome = "unauthorized:credentials" if creds else "unauthorized:missing"
        return unauthorized_response(state)
    partner_id = (request.headers.get(HDR_PARTNER_ID) or "").strip()
    partner = state.seller(partner_id) if partner_id else None
    if partner is None:
        g.outcome = "bad_request"
        entry = (
            errors.invalid_param(HDR_PARTNER_ID, f"{HDR_PARTNER_ID} is not a known seller")
            if partner_id
            else errors.missing_param(HDR_PARTNER_ID, f"{HDR_PARTNER_ID} is required for an app's grants")
        )
        return errors.error_response(400, entry, key=state.faults.error_key)
    g.seller_id = partner.seller_id
    return partner, app


def rate_headers(decision: RateDecision) -> dict[str, str]:
    return {
        HDR_TOKEN_COUNT: str(decision.remaining),
        HDR_REPLENISH: str(decision.next_replenishment_ms),
    }


def throttled_response(state: EmulatorState, decision: RateDecision, retry_after: float) -> Response:
    headers = rate_headers(decision) | {HDR_RETRY_AFTER: str(max(1, math.ceil(retry_after - 1e-9)))}
    return errors.error_response(429, errors.threshold_violated(), key=state.faults.error_key, headers=headers)


def throttle(state: EmulatorState, key: tuple[str, str], limit: float) -> Response | RateDecision:
    """Take a token of the seller's bucket: the decision, or the 429 to send. A 429 says ``Retry-After`` (the wait
    for the next token, or the ``retry_after_seconds`` knob, during which the bucket refuses every call)."""
    faults = state.faults
    now = state.clock()
    until = state.throttled_until.get(key)
    if until is not None and now < until:
        g.outcome = "throttled"
        decision = RateDecision(False, 0, math.ceil(until * 1000))
        return throttled_response(state, decision, until - now)
    decision = state.rate_limiter.take(key, limit, faults.rate_limit_scale)
    if decision.allowed:
        return decision
    g.outcome = "throttled"
    retry_after = decision.next_replenishment_ms / 1000 - now
    if faults.retry_after_seconds is not None:
        retry_after = float(faults.retry_after_seconds)
        state.throttled_until[key] = now + retry_after
        decision = RateDecision(False, decision.remaining, math.ceil((now + retry_after) * 1000))
    return throttled_response(state, decision, retry_after)


def check_required_headers(state: EmulatorState) -> Response | None:
    for name in REQUIRED_HEADERS:
        if not (request.headers.get(name) or "").strip():
            g.outcome = "missing_header"
            return errors.error_response(400, errors.invalid_header(name), key=state.faults.error_key)
    return None


# --- the gateway decorator ---------------------------------------------------------------------


def walmart_endpoint(
    endpoint: str,
    *,
    auth: AuthMode = "access_token",
    rate_per_minute: float | None = None,
    error_rate_knob: str = "error_rate",
    rate_bucket: Callable[[], str] | None = None,
) -> Callable[[Handler], Callable[..., Response]]:
    """Wrap a route handler with Walmart's gateway checks (see the module docstring).

    ``endpoint`` is the id used for rate limits and call counting ("METHOD /path/template");
    ``rate_per_minute`` defaults to ``MARKETPLACE_RATE_LIMITS[endpoint]`` (None there: no limit).
    ``rate_bucket``, called per request, names the bucket instead (a key of
    ``MARKETPLACE_RATE_LIMITS``, whose limit applies).
    """
    default_limit = rate_per_minute if rate_per_minute is not None else MARKETPLACE_RATE_LIMITS.get(endpoint)

    def decorator(handler: Handler) -> Callable[..., Response]:
        @functools.wraps(handler)
        def wrapper(**path_variables: Any) -> Response:
            state = get_state()
            g.endpoint = endpoint
            failed = check_required_headers(state)
            if failed is not None:
                return failed

            token: IssuedToken | None = None
            app: App | None = None
            if auth == "access_token":
                result = authenticate_access_token(state)
                if isinstance(result, Response):
                    return result
                token, seller = result
            elif auth == "client_credentials":
                found = authenticate_client_credentials(state)
                if isinstance(found, Response):
                    return found
                seller, app = found
            else:  # pragma: no cover - no unauthenticated Walmart route yet
                raise RuntimeError("auth='none' needs a seller resolver")

            decision: RateDecision | None = None
            faults = state.faults
            bucket, limit = endpoint, default_limit
            if rate_bucket is not None:
                bucket = rate_bucket()
                limit = MARKETPLACE_RATE_LIMITS.get(bucket)
            limit = faults.rate_limits.get(bucket, limit)
            if limit is not None and faults.rate_limits_enabled:
                taken = throttle(state, (seller.seller_id, bucket), limit)
                if isinstance(taken, Response):
                    return taken
                decision = taken

            if state.roll(float(getattr(faults, error_rate_knob, 0.0))):
                g.outcome = "random_fault"
                return errors.error_response(500, errors.system_error(), key=faults.error_key)

            response = handler(CallContext(state, seller, endpoint, token, app), **path_variables)
            if decision is not None:
                for name, value in rate_headers(decision).items():
                    response.headers.setdefault(name, value)
            return response

        wrapper.walmart_endpoint = endpoint  # type: ignore[attr-defined]
        return wrapper

    return decorator


# --- routes ------------------------------------------------------------------------------------


@bp.post("/v3/token")
@walmart_endpoint("POST /v3/token", auth="client_credentials", error_rate_knob="token_error_rate")
def post_token(ctx: CallContext) -> Response:
    """The Token API: ``client_credentials`` with a seller's own keys; ``authorization_code`` and ``refresh_token``
    with an app's keys and ``WM_PARTNER.ID`` (oauth.py). A flat JSON body; ``refresh_token`` only where Walmart's
    examples carry one (docs/walmart/examples/POST_v3_token__200__example.json)."""
    key = ctx.state.faults.error_key
    mimetype = request.mimetype
    if mimetype != "application/x-www-form-urlencoded":
        g.outcome = "bad_request"
        return errors.error_response(415, errors.unsupported_media_type(mimetype or ""), key=key)
    grant_type = request.form.get("grant_type")
    if not grant_type:
        g.outcome = "bad_request"
        return errors.error_response(400, errors.missing_param("grant_type", "grant_type is required"), key=key)
    supported = ("authorization_code", "refresh_token") if ctx.app is not None else ("client_credentials",)
    if grant_type not in supported:
        g.outcome = "bad_request"
        return errors.error_response(
            400,
            errors.invalid_param(
                "grant_type",
                f"grant_type '{grant_type}' is not supported for this client",
            ),
            key=key,
        )
    if ctx.app is None:
        token = ctx.state.issue_token(ctx.seller)
        return _token_body(token)
    for name in ("code", "redirect_uri") if grant_type == "authorization_code" else ("refresh_token",):
        if not request.form.get(name):
            g.outcome = "bad_request"
            return errors.error_response(400, errors.missing_param(name, f"{name} is required"), key=key)
    state, app, now = ctx.state, ctx.app, ctx.state.clock()
    try:
        with state.lock:
            if grant_type == "authorization_code":
                refresh = state.oauth.redeem_code(
                    app, ctx.seller.seller_id, request.form["code"], request.form["redirect_uri"], now
                )
                returned: str | None = refresh.refresh_token
            else:
                refresh = state.oauth.use_refresh_token(app, ctx.seller.seller_id, request.form["refresh_token"], now)
                returned = None
                if state.faults.rotate_refresh_tokens:
                    refresh.revoked = True
                    returned = state.oauth.issue_refresh_token(app, ctx.seller.seller_id, now).refresh_token
    except GrantRefused as refused:
        g.outcome = f"refused:{grant_type}"
        status = state.faults.refused_grant_status
        entry = (
            errors.invalid_param(refused.field, refused.message)
            if status == 400
            else errors.error_entry(
                "UNAUTHORIZED.GMP_GATEWAY_API",
                refused.message,
                "Unauthorized token or token is expired",
                field=refused.field,
            )
        )
        return errors.error_response(status, entry, key=key)
    token = state.issue_token(ctx.seller, client_id=app.client_id)
    return _token_body(token, returned)


def _token_body(token: IssuedToken, refresh_token: str | None = None) -> Response:
    body: dict[str, object] = {"access_token": token.access_token}
    if refresh_token:
        body["refresh_token"] = refresh_token
    body |= {"token_type": "Bearer", "expires_in": round(token.expires_at - token.issued_at)}
    return errors.json_response(body, headers={"Cache-Control": "no-store"})


@bp.get("/v3/settings/shipping/shipnodes")
@walmart_endpoint("GET /v3/settings/shipping/shipnodes")
def get_ship_nodes(ctx: CallContext) -> Response:
    """A top-level JSON array of the seller's ship nodes (fulfillment centers)."""
    include_calendar = request.args.get("includeCalendarDayConfiguration", "").lower() == "true"
    with ctx.state.lock:
        nodes = [dict(node) for node in ctx.seller.ship_nodes]
    if not include_calendar:
        for node in nodes:
            node.pop("calendarDayConfiguration", None)
    return errors.json_response(nodes)
