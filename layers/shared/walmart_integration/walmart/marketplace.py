"""Walmart Marketplace API client: access tokens (client credentials, or a seller's OAuth 2.0 authorization) and the
seller's resources (docs/walmart/FACTS.md)."""

from __future__ import annotations

import base64
import json
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import quote

import httpx

from walmart_integration.walmart.errors import (
    WalmartAuthError,
    WalmartCursorExpired,
    WalmartError,
    WalmartGrantRefused,
    WalmartNotFound,
    WalmartRateLimited,
    WalmartUnavailable,
    parse_error,
    parse_error_body,
)
from walmart_integration.walmart.shapes import as_list

REPLENISH_HEADERS = ("x-next-replenishment-time", "x-next-replenish-time")  # docs/walmart/FACTS.md, "Rate limits"
DEFAULT_RATE_LIMIT_WAIT = 60.0


@dataclass(frozen=True)
class AccessToken:
    value: str = field(repr=False)  # never in a log line or a traceback
    expires_at: datetime

    def usable(self, now: datetime, margin_seconds: float = 60) -> bool:
        """Still valid ``margin_seconds`` from now (15-minute tokens: authentication spec, POST /v3/token)."""
        return self.expires_at - timedelta(seconds=margin_seconds) > now


@dataclass(frozen=True)
class OAuthTokens:
    """What ``POST /v3/token`` answers an authorization code or a refresh token: an access token and, when Walmart
    sends one, a refresh token (the ``refresh_token`` grant's example carries none: keep the one you have)."""

    access: AccessToken
    refresh_token: str | None = field(repr=False)


@dataclass(frozen=True)
class AppCredentials:
    """Our solution provider app's registered client id and secret (Basic auth of the OAuth grants)."""

    client_id: str
    client_secret: str = field(repr=False)  # never in a log line or a traceback


@dataclass(frozen=True)
class OrdersPage:
    orders: list[Any]
    total_count: int
    next_cursor: str | None


@dataclass(frozen=True)
class ItemsPage:
    items: list[Any]
    total_items: int
    next_cursor: str | None


@dataclass(frozen=True)
class ReconPage:
    """One page of a reconciliation report (reports spec, getAvailableV1ReconReportAsJson): its rows, and the offset
    of the next page (``nextOffset``; None once a page came back with fewer rows than asked for, or none)."""

    rows: list[Any]
    next_offset: int | None


@dataclass(frozen=True)
class ReturnsPage:
    returns: list[Any]
    total_count: int
    next_cursor: str | None


@dataclass(frozen=True)
class ReportRequest:
    """An on-request report's request: ``requestStatus`` RECEIVED | INPROGRESS | READY | ERROR."""

    request_id: str
    status: str
    submitted_at: str | None = None

    @classmethod
    def of(cls, body: Any) -> ReportRequest:
        body = body if isinstance(body, dict) else {}
        request_id = body.get("requestId")
        if not request_id:
            raise WalmartUnavailable("Walmart's report answer carried no requestId.", 200)
        status = str(body.get("requestStatus") or body.get("status") or "RECEIVED").upper()
        submitted = body.get("requestSubmissionDate")
        return cls(str(request_id), status, str(submitted) if submitted else None)


class MarketplaceClient:
    """One seller's view of the Marketplace API at ``base_url``.

    5xx and timeouts are retried a few times with capped, jittered exponential backoff; a 429 is
    never slept through: it surfaces as ``WalmartRateLimited`` with the replenishment time.
    """

    def __init__(
        self,
        base_url: str,
        service_name: str,
        timeout_seconds: float = 10.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_seconds, transport=transport)
        self.service_name = service_name
        self.attempts = attempts
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def _headers(self) -> dict[str, str]:
        return {
            "WM_SVC.NAME": self.service_name,
            "WM_QOS.CORRELATION_ID": str(uuid.uuid4()),
            "Accept": "application/json",
        }

    def _send(self, build: Callable[[], httpx.Request], expect_json: bool = True) -> tuple[httpx.Response, Any]:
        """The response and, for a 200, its JSON body (numbers with a fraction as ``Decimal``, money stays exact).

        A 200 whose body is not JSON counts as a 5xx: Walmart's gateway answers so under load
        (docs/walmart/FACTS.md, "Checked behaviours" 8), and it is worth the same retries.
        """
        for attempt in range(1, self.attempts + 1):
            try:
                response = self._http.send(build())
            except httpx.TimeoutException as error:
                failure: WalmartError = WalmartUnavailable(f"Walmart did not answer in time ({type(error).__name__}).")
            except httpx.TransportError as error:
                failure = WalmartUnavailable(f"Walmart could not be reached ({type(error).__name__}).")
            else:
                if response.status_code < 500:
                    if response.status_code != 200 or not expect_json:
                        return response, None
                    try:
                        return response, json.loads(response.text, parse_float=Decimal)
                    except ValueError:
                        kind = response.headers.get("content-type") or "no content type"
                        failure = WalmartUnavailable(
                            f"Walmart answered 200 with a body that is not JSON ({kind}).", 200
                        )
                else:
                    code, message = parse_error_body(response.text)
                    failure = WalmartUnavailable(
                        message or f"Walmart answered HTTP {response.status_code}.", response.status_code, code
                    )
            if attempt == self.attempts:
                raise failure
            self._sleep(min(2.0, 0.25 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def fetch_token(self, client_id: str, client_secret: str, now: datetime | None = None) -> AccessToken:
        """Client credentials: a seller's own API keys (docs/walmart/FACTS.md, "Access token")."""
        response, body = self._token_call(client_id, client_secret, {"grant_type": "client_credentials"})
        if response.status_code != 200:
            raise self._error(response)
        return self._access_token(response, body, now)

    def exchange_code(
        self, app: AppCredentials, seller_id: str, code: str, redirect_uri: str, now: datetime | None = None
    ) -> OAuthTokens:
        """The authorization code Walmart sent to our redirect URI, for the seller's access and refresh tokens:
        ``grant_type=authorization_code`` with the same ``redirect_uri``, Basic auth with our app's credentials and
        ``WM_PARTNER.ID`` = the seller id (docs/walmart/specs/marketplace__authentication.openapi.json, ``tokenAPI``;
        docs/walmart/examples/POST_v3_token__request__tokenAPIReq.json)."""
        form = {"grant_type": "authorization_code", "code": code, "redirect_uri": redirect_uri}
        return self._grant(app, seller_id, form, now)

    def refresh(
        self, app: AppCredentials, seller_id: str, refresh_token: str, now: datetime | None = None
    ) -> OAuthTokens:
        """A new access token for a seller from its refresh token (``grant_type=refresh_token``, ``WM_PARTNER.ID``;
        docs/walmart/examples/POST_v3_token__request__refreshTokenReq.json). Walmart's example answer carries no new
        refresh token (docs/walmart/examples/POST_v3_token__200__example.json, ``refreshTokenRes``)."""
        return self._grant(app, seller_id, {"grant_type": "refresh_token", "refresh_token": refresh_token}, now)

    def _grant(self, app: AppCredentials, seller_id: str, form: dict[str, str], now: datetime | None) -> OAuthTokens:
        response, body = self._token_call(app.client_id, app.client_secret, form, {"WM_PARTNER.ID": seller_id})
        if response.status_code in (400, 401):
            code, message = parse_error_body(response.text)
            raise WalmartGrantRefused(
                message or f"Walmart refused the {form['grant_type']} grant (HTTP {response.status_code}).",
                response.status_code,
                code,
            )
        if response.status_code != 200:
            raise self._error(response)
        refresh_token = body.get("refresh_token") if isinstance(body, dict) else None
        return OAuthTokens(self._access_token(response, body, now), str(refresh_token) if refresh_token else None)

    def _token_call(
        self, client_id: str, client_secret: str, form: dict[str, str], headers: dict[str, str] | None = None
    ) -> tuple[httpx.Response, Any]:
        """``POST /v3/token``: a form body, Basic auth (docs/walmart/specs/marketplace__authentication.openapi.json)."""
        basic = base64.b64encode(f"{client_id}:{client_secret}".encode()).decode()

        def build() -> httpx.Request:
            sent = self._headers() | {
                "Authorization": f"Basic {basic}",
                "Content-Type": "application/x-www-form-urlencoded",
                **(headers or {}),
            }
            return self._http.build_request("POST", "/v3/token", headers=sent, data=form)

        return self._send(build)

    @staticmethod
    def _access_token(response: httpx.Response, body: Any, now: datetime | None) -> AccessToken:
        token = body.get("access_token") if isinstance(body, dict) else None
        if not token or not isinstance(body, dict):
            raise WalmartUnavailable("Walmart's token response carried no access_token.", response.status_code)
        expires_in = float(body.get("expires_in") or 900)
        issued = now or datetime.now(UTC)
        return AccessToken(value=str(token), expires_at=issued + timedelta(seconds=expires_in))

    def get(self, path: str, access_token: str, params: dict[str, Any] | None = None, cursor: str | None = None) -> Any:
        """GET a resource with the seller's token. A ``cursor`` (a query string starting with ``?``) is
        appended verbatim, with no other parameters: re-encoding Walmart's cursors breaks them (FACTS.md, Orders)."""

        def build() -> httpx.Request:
            headers = self._headers() | {"WM_SEC.ACCESS_TOKEN": access_token}
            if cursor:
                prefix = self._http.base_url.raw_path.decode().rstrip("/")
                url = self._http.base_url.copy_with(raw_path=(prefix + path + cursor).encode())
                return self._http.build_request("GET", url, headers=headers)
            return self._http.build_request("GET", path, headers=headers, params=params)

        return self._call(build)

    def _call(self, build: Callable[[], httpx.Request]) -> Any:
        response, body = self._send(build)
        if response.status_code != 200:
            raise self._error(response)
        return body

    def orders_page(
        self, access_token: str, params: dict[str, Any] | None = None, cursor: str | None = None
    ) -> OrdersPage:
        """One page of ``GET /v3/orders`` (order-management spec, getAllOrders): ``params`` first, then ``cursor``.

        Any 404 is a query that matched nothing: the order spec's own example (components.responses.NotFound)
        answers ``NOT_FOUND.GMP_ORDER_API``, the gateway ``CONTENT_NOT_FOUND`` (FACTS.md, "Checked behaviours" 3).
        """
        try:
            body = self.get("/v3/orders", access_token, params=None if cursor else params, cursor=cursor)
        except WalmartNotFound:
            return OrdersPage(orders=[], total_count=0, next_cursor=None)
        listing = (body or {}).get("list") or {} if isinstance(body, dict) else {}
        meta = listing.get("meta") or {}
        orders = as_list((listing.get("elements") or {}).get("order"))
        return OrdersPage(
            orders=orders,
            total_count=int(meta.get("totalCount") or 0),
            next_cursor=meta.get("nextCursor") or None,
        )

    def items_page(self, access_token: str, cursor: str, offset: int, limit: int) -> ItemsPage:
        """One page of ``GET /v3/items``: first cursor ``*``, then the same one (item spec, getAllItems nextCursor).

        A cursor lives about two minutes, then Walmart answers 400 "Invalid Cursor"
        (docs/walmart/specs/marketplace__item-management.openapi.json, GET /v3/items, ``nextCursor``):
        that is ``WalmartCursorExpired``, for the caller to start again from ``*``.
        """
        params = {"nextCursor": cursor, "offset": offset, "limit": limit}
        try:
            body = self.get("/v3/items", access_token, params=params)
        except WalmartNotFound as error:
            if not (error.code or "").startswith(("CONTENT_NOT_FOUND", "NOT_FOUND")):
                raise
            return ItemsPage(items=[], total_items=0, next_cursor=None)
        except WalmartError as error:
            about_cursor = error.field == "nextCursor" or "cursor" in (error.message or "").lower()
            if error.status == 400 and cursor != "*" and about_cursor:
                raise WalmartCursorExpired(error.message, error.status, error.code, error.field) from error
            raise
        body = body if isinstance(body, dict) else {}
        return ItemsPage(
            items=as_list(body.get("ItemResponse")),
            total_items=int(body.get("totalItems") or 0),
            next_cursor=body.get("nextCursor") or None,
        )

    def ship_nodes(self, access_token: str) -> list[dict[str, Any]]:
        """The seller's ship nodes (locations): a top-level JSON array (settings spec, getAllFulfillmentCenters)."""
        try:
            body = self.get("/v3/settings/shipping/shipnodes", access_token)
        except WalmartNotFound as error:
            if not (error.code or "").startswith("CONTENT_NOT_FOUND"):
                raise
            return []
        if isinstance(body, dict):  # tolerate a wrapped list
            body = body.get("shipNodes") or body.get("elements") or []
        return [node for node in as_list(body) if isinstance(node, dict)]

    # -- settlements: the reconciliation report (docs/walmart/specs/marketplace__reports.openapi.yml) ----------------
    def recon_report_dates(self, access_token: str) -> list[str]:
        """``GET /v3/report/reconreport/availableReconFiles?reportVersion=v1`` (getAvailableV1ReconReportDates): the
        report dates Walmart has, as it spells them (``availableApReportDates``, ``MMddyyyy``: the legacy
        operation's example ``'07012018'``). A 404 is "none yet"."""
        try:
            body = self.get("/v3/report/reconreport/availableReconFiles", access_token, params={"reportVersion": "v1"})
        except WalmartNotFound:
            return []
        dates = body.get("availableApReportDates") if isinstance(body, dict) else None
        return [str(day).strip() for day in as_list(dates) if str(day or "").strip()]

    def recon_report_page(self, access_token: str, report_date: str, offset: int, rows: int) -> ReconPage:
        """``GET /v3/report/reconreport/reconFileJson`` (operation getAvailableV1ReconReportAsJson): ``rows`` rows
        (``noOfRecords``, "max limit 1000") from ``offset`` ("starting number of the bytes, initial value for the
        offset is zero": an opaque position we only ever take from ``nextOffset``). The report ends with a page of
        fewer rows than asked for, or without a ``nextOffset`` that moves on."""
        params = {"reportDate": report_date, "offset": offset, "noOfRecords": rows}
        body = self.get("/v3/report/reconreport/reconFileJson", access_token, params=params)
        body = body if isinstance(body, dict) else {}
        data = [row for row in as_list(body.get("reportData")) if isinstance(row, dict)]
        raw_next = body.get("nextOffset")
        try:
            next_offset: int | None = int(raw_next) if raw_next is not None and raw_next != "" else None
        except (TypeError, ValueError):
            next_offset = None
        if len(data) < rows or next_offset is None or next_offset <= offset:
            next_offset = None
        return ReconPage(rows=data, next_offset=next_offset)

    def recon_report_file(self, access_token: str, report_date: str) -> bytes:
        """``GET /v3/report/reconreport/reconFile?reportVersion=v1`` (operation getReconReportV1): the whole report as
        a zip holding one CSV (the answer's ``Content-Disposition`` names it)."""

        def build() -> httpx.Request:
            headers = self._headers() | {"WM_SEC.ACCESS_TOKEN": access_token, "Accept": "application/octet-stream"}
            params = {"reportDate": report_date, "reportVersion": "v1"}
            return self._http.build_request("GET", "/v3/report/reconreport/reconFile", headers=headers, params=params)

        response, _ = self._send(build, expect_json=False)
        if response.status_code != 200:
            raise self._error(response)
        return response.content

    # -- returns (docs/walmart/specs/marketplace__returns.openapi.yml, getReturns) ---------------------------------
    def returns_page(
        self, access_token: str, params: dict[str, Any] | None = None, cursor: str | None = None
    ) -> ReturnsPage:
        """One page of ``GET /v3/returns``: ``params`` first, then Walmart's ``meta.nextCursor`` (a query string,
        example ``"?sellerId=151&limit=10&offset=10"``) appended verbatim, as the orders' cursor is. A 404 is no
        returns (as on the order lists, FACTS.md "Checked behaviours" 3)."""
        try:
            body = self.get("/v3/returns", access_token, params=None if cursor else params, cursor=cursor)
        except WalmartNotFound:
            return ReturnsPage(returns=[], total_count=0, next_cursor=None)
        body = body if isinstance(body, dict) else {}
        meta: dict[str, Any] = body["meta"] if isinstance(body.get("meta"), dict) else {}
        next_cursor = str(meta.get("nextCursor") or "") or None
        if next_cursor and not next_cursor.startswith("?"):
            next_cursor = "?" + next_cursor
        return ReturnsPage(
            returns=as_list(body.get("returnOrders")),
            total_count=int(meta.get("totalCount") or 0),
            next_cursor=next_cursor,
        )

    # -- on-request reports (docs/walmart/specs/marketplace__on-request-reports.openapi.yml) -------------------------
    def request_report(self, access_token: str, report_type: str, report_version: str) -> ReportRequest:
        """``POST /v3/reports/reportRequests`` (operation generateReport): a new report request."""

        def build() -> httpx.Request:
            headers = self._headers() | {"WM_SEC.ACCESS_TOKEN": access_token, "Content-Type": "application/json"}
            params = {"reportType": report_type, "reportVersion": report_version}
            return self._http.build_request(
                "POST", "/v3/reports/reportRequests", headers=headers, params=params, json={}
            )

        return ReportRequest.of(self._call(build))

    def report_requests(self, access_token: str, report_type: str, submitted_since: datetime) -> list[ReportRequest]:
        """``GET /v3/reports/reportRequests`` (operation getRequestsStatus): requests of a type submitted since then,
        newest first (their ``nextCursor`` is a query string to append, like the orders' cursor)."""
        params = {
            "reportType": report_type,
            "requestSubmissionStartDate": submitted_since.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }
        found: list[ReportRequest] = []
        cursor: str | None = None
        for _ in range(20):  # a cursor that never ends would otherwise loop for ever
            try:
                body = self.get(
                    "/v3/reports/reportRequests", access_token, params=None if cursor else params, cursor=cursor
                )
            except WalmartNotFound:
                break
            body = body if isinstance(body, dict) else {}
            found += [ReportRequest.of(item) for item in as_list(body.get("requests")) if isinstance(item, dict)]
            cursor = body.get("nextCursor") or None
            if cursor and not cursor.startswith("?"):
                cursor = "?" + cursor
            if not cursor:
                break
        return sorted(found, key=lambda request: request.submitted_at or "", reverse=True)

    def report_request(self, access_token: str, request_id: str) -> ReportRequest:
        """``GET /v3/reports/reportRequests/{requestId}`` (operation getSingleRequestStatus)."""
        return ReportRequest.of(self.get(f"/v3/reports/reportRequests/{quote(request_id, safe='')}", access_token))

    def report_download_url(self, access_token: str, request_id: str) -> str:
        """``GET /v3/reports/downloadReport?requestId=`` (operation downloadReport): the file's ``downloadURL``."""
        body = self.get("/v3/reports/downloadReport", access_token, params={"requestId": request_id})
        url = body.get("downloadURL") if isinstance(body, dict) else None
        if not url:
            raise WalmartUnavailable("Walmart's download answer carried no downloadURL.", 200)
        return str(url)

    def download(self, url: str) -> bytes:
        """The report file behind a ``downloadURL``: a pre-signed address, fetched without the seller's token (it may
        live on another host, which must never see it)."""

        def build() -> httpx.Request:
            return self._http.build_request("GET", url, headers={"WM_QOS.CORRELATION_ID": str(uuid.uuid4())})

        response, _ = self._send(build, expect_json=False)
        if response.status_code != 200:
            raise self._error(response)
        return response.content

    @staticmethod
    def _error(response: httpx.Response) -> WalmartError:
        code, message, field = parse_error(response.text)
        status = response.status_code
        text = message or f"Walmart answered HTTP {status}."
        if status == 429:
            return WalmartRateLimited(text, retry_after_seconds=_rate_limit_wait(response.headers), code=code)
        if status == 401 or (code or "").startswith("INVALID_TOKEN"):
            return WalmartAuthError(text, status, code, field)
        if status == 404:
            return WalmartNotFound(text, status, code, field)
        return WalmartError(text, status, code, field)


def _rate_limit_wait(headers: httpx.Headers, now: float | None = None) -> float:
    """Seconds before the next call may go: the later of ``Retry-After`` (declared on the orders API's 429,
    docs/walmart/specs/marketplace__order-management.openapi.json, components.responses.TooManyRequests) and the
    gateway's replenishment time; Walmart's limit applies until both have passed."""
    waits = [wait for wait in (_retry_after(headers, now), _replenish_wait(headers, now, None)) if wait is not None]
    return max(waits) if waits else DEFAULT_RATE_LIMIT_WAIT


def _retry_after(headers: httpx.Headers, now: float | None = None) -> float | None:
    """``Retry-After``: delay-seconds or an HTTP-date (RFC 9110, 10.2.3); None when absent or unreadable."""
    raw = (headers.get("retry-after") or "").strip()
    if not raw:
        return None
    current = time.time() if now is None else now
    try:
        return max(0.0, float(raw))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, moment.timestamp() - current)


def _replenish_wait(
    headers: httpx.Headers, now: float | None = None, default: float | None = DEFAULT_RATE_LIMIT_WAIT
) -> float | None:
    """Seconds until Walmart replenishes the bucket; the header's format is unconfirmed (FACTS.md), so read
    epoch milliseconds, epoch seconds, a number of seconds, or an HTTP/ISO date."""
    current = time.time() if now is None else now
    for name in REPLENISH_HEADERS:
        raw = headers.get(name)
        if not raw:
            continue
        raw = raw.strip()
        try:
            number = float(raw)
        except ValueError:
            number = None
        if number is not None:
            if number > 1e11:  # epoch milliseconds
                return max(0.0, number / 1000 - current)
            if number > 1e9:  # epoch seconds
                return max(0.0, number - current)
            return max(0.0, number)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
        except ValueError:
            try:
                moment = parsedate_to_datetime(raw)
            except (TypeError, ValueError, IndexError):
                continue
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return max(0.0, moment.timestamp() - current)
    return default
