"""Walmart Connect (advertising API) client: partner-signed requests for snapshots, reports and bid changes.

Every request carries a fresh RSA signature and timestamp (also on retries). 5xx and transport errors are retried
briefly inside the call; a 429 is never waited out: ``WalmartRateLimited`` (10 minutes: docs/walmart/FACTS.md).
No header value, token or key ever goes into an exception message.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, closing, contextmanager
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from walmart_integration.walmart.connect_files import iter_report_rows
from walmart_integration.walmart.errors import WalmartAuthError, WalmartError, WalmartRateLimited, WalmartUnavailable
from walmart_integration.walmart.signing import auth_signature

RATE_LIMIT_WAIT_SECONDS = 600.0
FAILED_STATUSES = frozenset({"failed", "expired"})  # jobStatus enum: ads spec, GET /api/v2/snapshot


@dataclass(frozen=True, repr=False)
class PartnerCredentials:
    consumer_id: str
    key_version: str
    private_key_pem: str
    auth_token: str

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any]) -> PartnerCredentials:
        """From a secret with the keys consumer_id, key_version, private_key, auth_token."""
        keys = ("consumer_id", "key_version", "private_key", "auth_token")
        missing = [key for key in keys if data.get(key) in (None, "")]
        if missing:
            raise ValueError(f"Walmart Connect credentials lack: {', '.join(missing)}.")
        consumer_id, key_version, private_key, auth_token = (str(data[key]).strip() for key in keys)
        return cls(consumer_id, key_version, private_key, auth_token)

    def __repr__(self) -> str:
        return f"PartnerCredentials(consumer_id={self.consumer_id!r}, key_version={self.key_version!r})"


@dataclass(frozen=True)
class Snapshot:
    snapshot_id: str
    job_status: str  # pending | processing | done | failed | expired
    details: str  # the file URL when done, else "" or Walmart's error text

    @property
    def is_done(self) -> bool:
        return self.job_status == "done"

    @property
    def is_failed(self) -> bool:
        return self.job_status in FAILED_STATUSES


@dataclass(frozen=True)
class EntityUpdateResult:
    entity_id: str
    ok: bool
    details: str


class ConnectClient:
    """The partner's view of Walmart Connect at ``base_url``; ``credentials`` is asked for on every request."""

    def __init__(
        self,
        base_url: str,
        credentials: Callable[[], PartnerCredentials],
        *,
        timeout_seconds: float = 10.0,
        attempts: int = 3,
        transport: httpx.BaseTransport | None = None,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout_seconds, transport=transport)
        self._credentials = credentials
        self.attempts = max(1, attempts)
        self._clock = clock
        self._sleep = sleep
        self._secrets: tuple[str, ...] = ()  # token and signature of the last request, masked out of messages

    def close(self) -> None:
        self._http.close()

    # -- snapshots -------------------------------------------------------------------------------------------

    def request_insight_snapshot(
        self, insight_type: str = "advertiserAttributes", file_format: str = "gzip"
    ) -> Snapshot:
        body = {"insightType": insight_type, "format": file_format}
        return _snapshot(self._call("POST", "/api/v1/snapshot/insight", body=body), request=True)

    def insight_snapshot(self, snapshot_id: str) -> Snapshot:
        return _snapshot(self._call("GET", "/api/v1/snapshot", params={"snapshotId": snapshot_id}))

    def request_report_snapshot(
        self, advertiser_id: str, report_type: str, metrics: Sequence[str], start: date, end: date
    ) -> Snapshot:
        body = {
            "advertiserId": int(advertiser_id),
            "reportType": report_type,
            "reportMetrics": list(metrics),
            "startDate": start.isoformat(),
            "endDate": end.isoformat(),
        }
        return _snapshot(self._call("POST", "/api/v2/snapshot/report", body=body), request=True)

    def report_snapshot(self, advertiser_id: str, snapshot_id: str) -> Snapshot:
        params = {"advertiserId": advertiser_id, "snapshotId": snapshot_id}
        return _snapshot(self._call("GET", "/api/v2/snapshot", params=params))

    def latest_report_dates(self) -> dict[str, date]:
        """The last day Walmart has published per report type: GET /api/v2/latestReportDate
        (docs/walmart/specs/ads__sponsored-products.openapi.json, operation getLatestReportDateV2: an array of
        {reportType, latestReportDate}). An entry without a report type (the v1 shape) is filed under "*".
        Walmart's own sample pads a date with a space: dates are read from their first ten characters."""
        body = self._call("GET", "/api/v2/latestReportDate")
        dates: dict[str, date] = {}
        for item in body if isinstance(body, list) else [body]:
            if not isinstance(item, dict):
                continue
            try:
                day = date.fromisoformat(str(item.get("latestReportDate") or "").strip()[:10])
            except ValueError:
                continue
            dates[str(item.get("reportType") or "*").strip() or "*"] = day
        if not dates:
            raise WalmartError("Walmart Connect's latest report date answer named no date.", 200)
        return dates

    # -- files -----------------------------------------------------------------------------------------------

    def download(self, url: str) -> bytes:
        """The snapshot file's bytes exactly as stored (a gzip stays gzip: no transparent content-decoding)."""
        with closing(self._send("GET", url, stream=True)) as response:
            self._raise_for(response)
            try:
                return b"".join(_raw(response))
            except httpx.TransportError as error:
                raise _unavailable(error) from None

    @contextmanager
    def _rows(self, url: str) -> Iterator[Iterator[dict[str, str]]]:
        with closing(self._send("GET", url, stream=True)) as response:
            self._raise_for(response)

            def rows() -> Iterator[dict[str, str]]:
                try:
                    yield from iter_report_rows(_raw(response))
                except httpx.TransportError as error:
                    raise _unavailable(error) from None

            yield rows()

    def report_rows(self, url: str) -> AbstractContextManager[Iterator[dict[str, str]]]:
        """Rows of a (gzip) CSV report, streamed and decoded as they arrive; use as ``with client.report_rows(u) as
        rows: for row in rows: ...``. The connection is released when the block ends."""
        return self._rows(url)

    # -- entities --------------------------------------------------------------------------------------------

    def campaign_names(self, advertiser_id: str) -> dict[str, str]:
        """{campaignId: name} of the advertiser's campaigns (GET /api/v1/campaigns, operation CampaignList)."""
        return self._names("/api/v1/campaigns", "campaignId", advertiser_id)

    def ad_group_names(self, advertiser_id: str) -> dict[str, str]:
        """{adGroupId: name} of the advertiser's ad groups (GET /api/v1/adGroups, operation AdGroupList)."""
        return self._names("/api/v1/adGroups", "adGroupId", advertiser_id)

    def _names(self, path: str, id_key: str, advertiser_id: str) -> dict[str, str]:
        body = self._call("GET", path, params={"advertiserId": advertiser_id})
        names: dict[str, str] = {}
        for item in body if isinstance(body, list) else []:
            if isinstance(item, dict) and item.get(id_key) not in (None, "") and isinstance(item.get("name"), str):
                names[str(item[id_key]).strip()] = item["name"].strip()
        return names

    # -- changes and usage -----------------------------------------------------------------------------------

    def update_campaign(self, update: Mapping[str, Any]) -> EntityUpdateResult:
        """PUT /api/v1/campaigns with one CampaignUpdate object (the id and the changed attributes)."""
        return self._update("/api/v1/campaigns", "campaignId", update)

    def update_keyword(self, update: Mapping[str, Any]) -> EntityUpdateResult:
        """PUT /api/v1/keywords with one KeywordUpdate object (the id and the changed attributes)."""
        return self._update("/api/v1/keywords", "keywordId", update)

    def api_usage(self) -> int:
        """Operations counted against the partner in the last hour."""
        body = self._call("GET", "/api/v1/api_usage_analyze")
        if isinstance(body, list) and body:
            body = body[0]
        try:
            return int(body["count"])
        except (KeyError, TypeError, ValueError):
            raise WalmartError("Walmart Connect's usage answer carried no count.", 200) from None

    def _update(self, path: str, id_key: str, update: Mapping[str, Any]) -> EntityUpdateResult:
        """Send one update; Walmart's result for it.

        docs/walmart/specs/ads__sponsored-products.openapi.json, operations CampaignUpdate and KeywordUpdate: the body
        is one object (CampaignUpdate / KeywordUpdate), the answer an array of per-item results {code, details, id}.
        Walmart's own samples answer ids as strings and once a key with a stray space (" keywordId"), so keys are
        read stripped and ids as text. The result whose id is ours is ours; a lone result without an id is too."""
        wanted = str(update.get(id_key, "")).strip()
        body = self._call("PUT", path, content=_dumps(dict(update)).encode())
        items = [body] if isinstance(body, dict) else body if isinstance(body, list) else []
        results = [{str(key).strip(): value for key, value in item.items()} for item in items if isinstance(item, dict)]
        ours = [item for item in results if str(item.get(id_key, "")).strip() == wanted]
        if not ours and len(results) == 1 and str(results[0].get(id_key) or "0").strip() in ("", "0"):
            ours = results
        if not ours:
            raise WalmartError(f"Walmart Connect answered no result for {id_key} {wanted}.", 200)
        item = ours[0]
        return EntityUpdateResult(wanted, str(item.get("code") or "").strip().lower() == "success", _details(item))

    # -- transport -------------------------------------------------------------------------------------------

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        body: Any = None,
        content: bytes | None = None,
    ) -> Any:
        if body is not None:
            content = _dumps(body).encode()
        response = self._send(method, path, params=params, content=content)
        self._raise_for(response)
        try:
            return json.loads(response.text, parse_float=Decimal)
        except ValueError:
            raise WalmartError("Walmart Connect answered with a body that is not JSON.", response.status_code) from None

    def _headers(self) -> dict[str, str]:
        credentials = self._credentials()
        timestamp = int(self._clock() * 1000)
        try:
            signature = auth_signature(
                credentials.consumer_id, timestamp, credentials.key_version, credentials.private_key_pem
            )
        except ValueError as error:
            raise WalmartAuthError(str(error)) from None
        self._secrets = (credentials.auth_token, signature)
        return {
            "Authorization": f"Bearer {credentials.auth_token}",
            "WM_CONSUMER.ID": credentials.consumer_id,
            "WM_CONSUMER.intimestamp": str(timestamp),
            "WM_SEC.KEY_VERSION": credentials.key_version,
            "WM_SEC.AUTH_SIGNATURE": signature,
            "Accept": "application/json",
        }

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: bytes | None = None,
        stream: bool = False,
    ) -> httpx.Response:
        """Send with fresh headers per attempt; 5xx and transport errors are retried (<= ~1 s of backoff in all).
        With ``stream`` the returned response is open (the caller closes it) and its body is not decoded."""
        for attempt in range(1, self.attempts + 1):
            headers = self._headers()
            if content is not None:
                headers["Content-Type"] = "application/json"
            if stream:
                headers["Accept-Encoding"] = "identity"
            request = self._http.build_request(method, url, params=params, content=content, headers=headers)
            try:
                response = self._http.send(request, stream=stream, follow_redirects=stream)
            except httpx.TransportError as error:
                failure: WalmartError = _unavailable(error)
            else:
                if response.status_code < 500:
                    return response
                try:
                    response.read()
                    details = self._details(response)
                    failure = WalmartUnavailable(
                        f"Walmart Connect answered HTTP {response.status_code}{': ' + details if details else '.'}",
                        response.status_code,
                    )
                except httpx.TransportError as error:
                    failure = _unavailable(error)
                finally:
                    response.close()
            if attempt == self.attempts:
                raise failure
            self._sleep(min(0.4, 0.15 * 2 ** (attempt - 1)) * random.uniform(0.5, 1.0))
        raise AssertionError("unreachable")

    def _details(self, response: httpx.Response) -> str:
        """Walmart's words from an error body, with this client's token and signature masked should they echo."""
        text = _details(response)
        for secret in self._secrets:
            if secret:
                text = text.replace(secret, "***")
        return text

    def _raise_for(self, response: httpx.Response) -> None:
        status = response.status_code
        if 200 <= status < 300:
            return
        response.read()
        details = self._details(response)
        if status in (401, 403):
            raise WalmartAuthError(
                f"Walmart Connect refused the partner credentials: {details or f'HTTP {status}'}", status
            )
        if status == 429:
            raise WalmartRateLimited(
                f"Walmart Connect rate limit reached, retry after 10 minutes ({details or 'HTTP 429'}).",
                retry_after_seconds=RATE_LIMIT_WAIT_SECONDS,
            )
        raise WalmartError(details or f"Walmart Connect answered HTTP {status}.", status)


def _snapshot(body: Any, request: bool = False) -> Snapshot:
    """A snapshot answer, bare or in a one-element array (FACTS.md). ``{"code": "failure"}`` on a request (or a poll
    without a job status) is an error."""
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, dict):
        raise WalmartError("Walmart Connect's snapshot answer is not an object.", 200)
    status = str(body.get("jobStatus") or "").lower()
    failed = str(body.get("code") or "").lower() == "failure"
    if failed and (request or not status):
        raise WalmartError(_details(body) or "Walmart Connect refused the snapshot request.", 200, "failure")
    snapshot_id = str(body.get("snapshotId") or "")
    if not snapshot_id:
        raise WalmartError("Walmart Connect's snapshot answer carried no snapshotId.", 200)
    return Snapshot(snapshot_id, status or "pending", str(body.get("details") or ""))


def _details(source: httpx.Response | Mapping[str, Any]) -> str:
    """Walmart's own words (``details`` or ``message``), at most 300 characters."""
    if isinstance(source, httpx.Response):
        try:
            body: Any = json.loads(source.text)
        except ValueError:
            return source.text.strip()[:300]
    else:
        body = source
    if isinstance(body, list) and body:
        body = body[0]
    if not isinstance(body, Mapping):
        return ""
    text = body.get("details") or body.get("message") or body.get("error") or ""
    return (text if isinstance(text, str) else json.dumps(text, default=str)).strip()[:300]


def _raw(response: httpx.Response) -> Iterator[bytes]:
    """The body as sent, without content-decoding (an already-read body, as test transports give, as is)."""
    return iter([response.content]) if response.is_stream_consumed else response.iter_raw()


def _unavailable(error: httpx.TransportError) -> WalmartUnavailable:
    if isinstance(error, httpx.TimeoutException):
        return WalmartUnavailable(f"Walmart Connect did not answer in time ({type(error).__name__}).")
    return WalmartUnavailable(f"Walmart Connect could not be reached ({type(error).__name__}).")


def _dumps(value: Any) -> str:
    """JSON in which ``Decimal`` values are written as exact numbers (``Decimal("1.10")`` -> ``1.10``)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError("A non-finite Decimal cannot be sent to Walmart Connect.")
        return format(value, "f")
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(str(key))}:{_dumps(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(_dumps(item) for item in value) + "]"
    return json.dumps(value)
