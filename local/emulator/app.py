"""The Flask app and the :class:`Emulator` facade (Marketplace and Connect)."""

from __future__ import annotations

import time
from collections.abc import Iterable
from datetime import date, datetime
from types import TracebackType
from typing import Any, Self

from flask import Flask, Response, current_app, g, request
from werkzeug.exceptions import HTTPException

from . import connect, consent, control, errors, marketplace
from . import finance as _finance  # noqa: F401  (registers the reconciliation report and returns routes)
from . import items as _items  # noqa: F401  (registers GET /v3/items routes on marketplace.bp)
from . import orders as _orders  # noqa: F401  (registers GET /v3/orders routes on marketplace.bp)
from . import reports as _reports  # noqa: F401  (registers the on-request report routes on marketplace.bp)
from .connect_state import DEMO_ADVERTISERS, ConnectFaults, ConnectState
from .datagen import JsonDict
from .marketplace import EXTENSION_KEY, HDR_ACCESS_TOKEN, HDR_CORRELATION_ID, HDR_PARTNER_ID
from .server import EmulatorServer
from .state import DEMO_SELLER_ID, CallRecord, Clock, EmulatorState, Faults, IssuedToken, Seller


def _is_control_path(path: str) -> bool:
    return path == control.CONTROL_PREFIX or path.startswith(control.CONTROL_PREFIX + "/")


def _endpoint_id() -> str:
    """The "METHOD /template" id of the matched route, else "METHOD /raw/path"."""
    view = current_app.view_functions.get(request.endpoint or "")
    endpoint = getattr(view, "walmart_endpoint", None)
    return endpoint if isinstance(endpoint, str) else f"{request.method} {request.path}"


def _guess_seller(state: EmulatorState) -> str | None:
    """Tie a call to a seller without consuming anything (used before auth ran)."""
    value = (request.headers.get(HDR_ACCESS_TOKEN) or "").strip()
    if value:
        token = state.peek_token(value)
        if token is not None:
            return token.seller_id
    creds = marketplace.parse_basic_auth(request.headers.get("Authorization"))
    if creds:
        with state.lock:
            seller = state.sellers_by_client.get(creds[0])
            if seller is None and creds[0] in state.oauth.apps:  # an app's grant names its seller
                seller = state.sellers.get((request.headers.get(HDR_PARTNER_ID) or "").strip())
            return seller.seller_id if seller else None
    return None


BUSY_PAGE = (
    "<html><head><title>Service Unavailable</title></head>"
    "<body><h1>The service is busy.</h1><p>Please try again later.</p></body></html>"
)


def _before_request() -> Response | None:
    if _is_control_path(request.path):
        return None
    state: EmulatorState = current_app.extensions[EXTENSION_KEY]
    g.started = time.monotonic()
    g.endpoint = _endpoint_id()
    is_connect = connect.is_connect_path(request.path)
    g.seller_id = None if is_connect else _guess_seller(state)
    g.outcome = "ok"
    faults = state.faults
    if not is_connect:
        with state.lock:
            state.in_flight += 1
            busy = state.in_flight > faults.gateway_busy_concurrency
        g.in_flight = True
        if busy or state.roll(faults.non_json_rate):
            # Walmart's gateway under load answers 200 with an HTML page (FACTS.md "Checked behaviours" 8)
            g.outcome = "gateway_busy"
            return Response(BUSY_PAGE, status=200, mimetype="text/html")
    if faults.latency_ms > 0:
        time.sleep(faults.latency_ms / 1000.0)
    status = faults.take_forced(request.method, request.path, g.seller_id)
    if status is None:
        return None
    g.outcome = "forced_fault"
    if is_connect:
        return errors.bare_response(status) if status in errors.BARE_STATUSES else connect.failure(status)
    entry = errors.entry_for_status(status)
    if entry is None:
        return errors.bare_response(status)
    headers: dict[str, str] = {}
    if status == 429:
        now = state.clock()
        wait = float(faults.retry_after_seconds or 1)
        if faults.retry_after_seconds is not None and g.seller_id:
            state.throttled_until[(g.seller_id, g.endpoint)] = now + wait  # the penalty window of that knob
        headers = {
            marketplace.HDR_TOKEN_COUNT: "0",
            marketplace.HDR_REPLENISH: str(int(now * 1000) + 1000),
            marketplace.HDR_RETRY_AFTER: str(int(wait)),
        }
    return errors.error_response(status, entry, key=faults.error_key, headers=headers)


def _after_request(response: Response) -> Response:
    if _is_control_path(request.path):
        return response
    state: EmulatorState = current_app.extensions[EXTENSION_KEY]
    correlation_id = request.headers.get(HDR_CORRELATION_ID)
    if correlation_id:
        response.headers[HDR_CORRELATION_ID] = correlation_id
    outcome = g.get("outcome", "ok")
    if outcome == "ok" and response.status_code >= 400:
        outcome = "error"
    endpoint = g.get("endpoint") or f"{request.method} {request.path}"
    if connect.is_connect_path(request.path):
        advertiser_id = g.get("advertiser_id")
        current_app.extensions[connect.CONNECT_EXTENSION_KEY].record_call(
            endpoint, advertiser_id if isinstance(advertiser_id, int) else None, response.status_code
        )
    state.record_call(
        CallRecord(
            ts=state.clock(),
            method=request.method,
            path=request.path,
            query_string=request.query_string.decode("latin-1"),
            endpoint=endpoint,
            seller_id=g.get("seller_id"),
            status=response.status_code,
            correlation_id=correlation_id,
            outcome=outcome,
        )
    )
    return response


def _teardown_request(_error: BaseException | None) -> None:
    if g.get("in_flight"):
        state: EmulatorState = current_app.extensions[EXTENSION_KEY]
        with state.lock:
            state.in_flight -= 1


def _http_error(exc: HTTPException) -> Response:
    """Unknown paths / methods answer like the gateway (JSON), not Flask's HTML."""
    if _is_control_path(request.path):
        return errors.json_response({"message": exc.description}, status=exc.code or 500)
    if connect.is_connect_path(request.path):
        return connect.failure(exc.code or 500)
    key = current_app.extensions[EXTENSION_KEY].faults.error_key
    status = exc.code or 500
    if status == 404:
        return errors.error_response(404, errors.uri_not_found(), key=key)
    if status == 405:
        return errors.error_response(405, errors.method_not_allowed(), key=key)
    entry = errors.entry_for_status(status)
    return errors.error_response(status, entry, key=key) if entry else errors.bare_response(status)


def create_app(state: EmulatorState, connect_state: ConnectState | None = None) -> Flask:
    app = Flask("walmart_emulator")
    app.extensions[EXTENSION_KEY] = state
    app.extensions[connect.CONNECT_EXTENSION_KEY] = connect_state or ConnectState(state.seed, state.clock, state.lock)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.before_request(_before_request)
    app.after_request(_after_request)
    app.teardown_request(_teardown_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_blueprint(marketplace.bp)
    app.register_blueprint(consent.bp)
    app.register_blueprint(connect.bp)
    app.register_blueprint(control.bp)
    return app


class Emulator:
    """A Walmart sandbox emulator: Marketplace (seller API) and Connect (advertising API for partners).

    >>> em = Emulator(seed=0)
    >>> url = em.start()          # threaded server on 127.0.0.1, free port
    >>> em.stop()

    ``wsgi_app`` is the Flask app, for ``app.test_client()`` or ``httpx.WSGITransport``.
    ``clock`` (epoch seconds) is injectable so tests can age tokens and refill buckets.
    """

    def __init__(self, seed: int = 0, *, clock: Clock | None = None) -> None:
        self.state = EmulatorState(seed=seed, clock=clock)
        self.connect_state = ConnectState(seed, self.state.clock, self.state.lock)
        self.wsgi_app: Flask = create_app(self.state, self.connect_state)
        self._server: EmulatorServer | None = None

    # -- server ---------------------------------------------------------------------------
    def start(self, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> str:
        """Serve in a background thread; returns the base URL. Port 0 picks a free port."""
        if self._server is None:
            server = EmulatorServer(self.wsgi_app, host, port, quiet=quiet)
            server.start()
            self._server = server
        return self._server.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    @property
    def url(self) -> str | None:
        return self._server.url if self._server else None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- state ----------------------------------------------------------------------------
    @property
    def seed(self) -> int:
        return self.state.seed

    @property
    def faults(self) -> Faults:
        return self.state.faults

    def add_seller(
        self,
        client_id: str,
        client_secret: str,
        seller_id: str | None = None,
        ship_nodes: Iterable[JsonDict] | int | None = None,
        *,
        item_count: int | None = None,
        order_count: int | None = None,
        order_days: float | None = None,
    ) -> Seller:
        """Register (or replace) a seller; its catalogue (``item_count`` items, default 60) and
        orders (``order_count``, default 300, created over the last ``order_days``, default 90)
        are generated deterministically on first use."""
        return self.state.add_seller(
            client_id,
            client_secret,
            seller_id,
            ship_nodes,
            item_count=item_count,
            order_count=order_count,
            order_days=order_days,
        )

    # -- orders and items -----------------------------------------------------------------
    def generate(self, seller_id: str | None = None) -> dict[str, int]:
        """Generate a seller's data now (normally done on first use): {"items": n, "orders": n}."""
        with self.state.lock:
            records = self.state.records(seller_id or DEMO_SELLER_ID)
            records.ensure()
            return {"items": len(records.items), "orders": len(records.orders)}

    def orders(self, seller_id: str, *, product_info: bool = False) -> list[JsonDict]:
        """Every order of the seller as Walmart would render it (no knobs applied), newest first."""
        with self.state.lock:
            records = self.state.records(seller_id)
            return [records.render(o, product_info=product_info) for o in records.orders]

    def order(self, seller_id: str, purchase_order_id: str) -> JsonDict | None:
        with self.state.lock:
            records = self.state.records(seller_id)
            found = records.order(purchase_order_id)
            return records.render(found) if found else None

    def order_meta(self, seller_id: str, purchase_order_id: str) -> JsonDict | None:
        """What the emulator tracks beside the body: orderDate, lastModified (epoch ms), shipNodeType,
        per-line sku and status."""
        with self.state.lock:
            found = self.state.records(seller_id).order(purchase_order_id)
            return found.meta() if found else None

    def items(self, seller_id: str) -> list[JsonDict]:
        """The seller's catalogue (copies), in paging order."""
        with self.state.lock:
            return [dict(item) for item in self.state.records(seller_id).items]

    def update_order(
        self,
        seller_id: str,
        purchase_order_id: str,
        status: str,
        line: str | int | Iterable[str | int] | None = None,
        quantity: int | None = None,
    ) -> JsonDict:
        """Set the status of one line (its lineNumber), several, or all lines (None), or of ``quantity`` units of
        each (one of two units shipped, the other cancelled); statusDate and lastModified become now. Returns the
        order as rendered. KeyError / ValueError on bad input."""
        with self.state.lock:
            record = self.state.update_order(seller_id, purchase_order_id, status, line, quantity)
            return self.state.records(seller_id).render(record)

    def add_orders(self, seller_id: str, n: int, status: str = "Created") -> list[str]:
        """``n`` new orders created now (lines in ``status``); their purchaseOrderIds."""
        return [o.purchase_order_id for o in self.state.add_orders(seller_id, n, status)]

    def seller(self, seller_id: str) -> Seller | None:
        return self.state.seller(seller_id)

    @property
    def sellers(self) -> list[Seller]:
        with self.state.lock:
            return list(self.state.sellers.values())

    def tokens(self, seller_id: str | None = None) -> list[IssuedToken]:
        """Issued tokens (all, or of one seller), oldest first."""
        with self.state.lock:
            return [t for t in self.state.tokens.values() if seller_id is None or t.seller_id == seller_id]

    def expire_tokens(self, seller_id: str | None = None) -> int:
        return self.state.expire_tokens(seller_id)

    # -- seller authorization of an app (OAuth 2.0, oauth.py) ----------------------------------------------------
    def register_app(
        self, client_id: str, client_secret: str, redirect_uris: Iterable[str] = (), name: str | None = None
    ) -> None:
        """A solution provider app (replaces one with this client id): the consent page and the grants accept it."""
        with self.state.lock:
            self.state.oauth.register_app(client_id, client_secret, list(redirect_uris), name)

    def disconnect_app(self, seller_id: str, client_id: str | None = None) -> int:
        """The seller disconnects the app: its refresh tokens are refused from now on (how many were revoked)."""
        return self.state.disconnect_app(seller_id, client_id)

    def refresh_tokens(self, seller_id: str | None = None) -> list[str]:
        """Every refresh token issued (of one seller), revoked ones too."""
        with self.state.lock:
            return [
                t.refresh_token
                for t in self.state.oauth.refresh_tokens.values()
                if seller_id is None or t.seller_id == seller_id
            ]

    def calls(
        self,
        seller_id: str | None,
        endpoint: str | None = None,
        status: int | None = None,
    ) -> int:
        """How many calls a seller made to an endpoint ("GET /v3/..." or just "/v3/...")."""
        return self.state.calls(seller_id, endpoint, status)

    @property
    def call_log(self) -> list[CallRecord]:
        with self.state.lock:
            return list(self.state.call_log)

    def summary(self) -> dict[str, Any]:
        return {**self.state.summary(), "connect": self.connect_state.summary()}

    def reset(self, seed: int | None = None) -> None:
        """Back to a new emulator (Marketplace and Connect: no partner, no advertisers)."""
        with self.state.lock:
            self.state.reset(seed)
            self.connect_state.reset(self.state.seed)

    # -- Connect (advertising) --------------------------------------------------------------------
    @property
    def connect_faults(self) -> ConnectFaults:
        return self.connect_state.faults

    def configure_partner(self, consumer_id: str, key_version: str, public_key_pem: str, auth_token: str) -> None:
        """The API partner whose signed calls are accepted (until then every Connect call is 403)."""
        self.connect_state.configure_partner(consumer_id, key_version, public_key_pem, auth_token)

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
        """An advertiser grants the partner access (``granted_at``: epoch seconds or datetime, default
        now); its campaigns, ad groups and keywords are generated. Returns its discovery record."""
        return self.connect_state.add_advertiser(
            advertiser_id,
            name,
            advertiser_type,
            access,
            seller_id=seller_id,
            seller_name=seller_name,
            campaigns=campaigns,
            ad_groups_per_campaign=ad_groups_per_campaign,
            keywords_per_ad_group=keywords_per_ad_group,
            granted_at=granted_at,
        )

    def seed_demo_advertisers(self) -> list[JsonDict]:
        """Add ``DEMO_ADVERTISERS`` (600001 1p write, 600002 3p write of the demo seller, 600003 3p read)."""
        return [self.add_advertiser(**spec) for spec in DEMO_ADVERTISERS]

    def revoke_advertiser(self, advertiser_id: int) -> None:
        """The advertiser removes the partner: gone from the next discovery file, its calls 403."""
        self.connect_state.revoke(advertiser_id)

    def set_advertiser_access(self, advertiser_id: int, access: str) -> None:
        self.connect_state.set_access(advertiser_id, access)

    @property
    def advertisers(self) -> list[JsonDict]:
        """Every advertiser ever added (discovery record plus "revoked")."""
        return self.connect_state.advertiser_list()

    def report_rows(
        self, advertiser_id: int, report_type: str, start: date, end: date, metrics: list[str]
    ) -> list[dict[str, str]]:
        """The rows a report file for this request holds right now (keys in the file's column order)."""
        return self.connect_state.report_rows(advertiser_id, report_type, start, end, list(metrics))

    def latest_report_date(self, report_type: str = "adGroup") -> date:
        """The last day Walmart has published reports for (what GET /api/v2/latestReportDate answers)."""
        return self.connect_state.latest_report_date(report_type)

    def restate(self, advertiser_id: int, days: int = 14) -> list[date]:
        """Walmart reprocesses the last ``days`` published days: their figures change; the restated dates."""
        return self.connect_state.restate(advertiser_id, days)

    def campaigns(self, advertiser_id: int) -> list[JsonDict]:
        with self.state.lock:
            return [c.render() for c in self.connect_state.advertiser(advertiser_id).campaigns]

    def campaign(self, campaign_id: int) -> JsonDict | None:
        with self.state.lock:
            found = self.connect_state.campaigns.get(campaign_id)
            return found.render() if found else None

    def keywords(self, advertiser_id: int) -> list[JsonDict]:
        with self.state.lock:
            return [k.render() for k in self.connect_state.advertiser(advertiser_id).keywords]

    def keyword(self, keyword_id: int) -> JsonDict | None:
        with self.state.lock:
            found = self.connect_state.keywords.get(keyword_id)
            return found.render() if found else None

    def ads_operations(self, window_seconds: float = 3600) -> int:
        """Operations counted against the partner budget in the last ``window_seconds`` (max 24 h)."""
        return self.connect_state.operations(window_seconds)

    def ads_calls(
        self, endpoint: str | None = None, advertiser_id: int | None = None, status: int | None = None
    ) -> int:
        """Connect calls (refused ones too) to an endpoint ("GET /api/v2/snapshot" or "/api/v2/snapshot",
        "GET /ads/files"), of an advertiser (when the call named one), with a status."""
        return self.connect_state.count_calls(endpoint, advertiser_id, status)
