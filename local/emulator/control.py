"""Control endpoints under /__emulator/ so e2e tests can steer a running emulator over HTTP.

GET  /__emulator/              state summary (also /__emulator/state)
GET  /__emulator/faults        the knobs
POST /__emulator/faults        set knobs: {"latency_ms": 200, "fail_next": {"path_prefix": "/v3/token",
                               "status": 503, "count": 2, "seller_id"?: "..."}, "clear_fail_next": true, ...}
GET  /__emulator/sellers       sellers (with ship nodes)
POST /__emulator/sellers       {"client_id", "client_secret", "seller_id"?, "ship_nodes"? (list | count),
                               "item_count"? (60), "order_count"? (300), "order_days"? (90)}
GET  /__emulator/sellers/<id>/orders          order metadata (orderDate, lastModified, shipNodeType,
                               line statuses), newest first; ?offset=&limit= (default 100)
POST /__emulator/sellers/<id>/orders          {"count": n, "status"?: "Created"}: n new orders created now
GET  /__emulator/sellers/<id>/orders/<po>     {"meta": {...}, "order": {...}}
POST /__emulator/sellers/<id>/orders/<po>     {"status": "Shipped", "line"?: "1" | ["1", "2"], "quantity"?: 1}:
                               change line status(es) (all lines without "line"; of "quantity" units of each, the
                               rest keeping theirs), bump lastModified
GET  /__emulator/reports       the on-request report requests (requestId, seller, type, status, ready_at)
GET  /__emulator/sellers/<id>/items           the catalogue; ?offset=&limit= (default 100)
POST /__emulator/reset         {"seed"?: int}: back to a fresh emulator
GET  /__emulator/calls         call log; filters ?seller_id=&endpoint=&status=&limit=
GET  /__emulator/tokens        every access token issued since the last reset (with seller_id, issued_at,
                               expires_at, uses, revoked) and every refresh token ("refresh_tokens"): what a secret
                               scan looks for; ?seller_id=
POST /__emulator/tokens/expire {"seller_id"?}: revoke live access tokens
GET  /__emulator/apps          solution provider apps (client_id, client_secret, redirect_uris)
POST /__emulator/apps          {"client_id", "client_secret", "redirect_uris"?: [...], "name"?}: register (replace)
                               an app
POST /__emulator/sellers/<id>/disconnect  {"client_id"?}: the seller disconnects the app (every app): its refresh
                               tokens and the access tokens issued through it stop working

Connect (advertising):
GET  /__emulator/connect/faults        the Connect knobs (connect_state.ConnectFaults)
POST /__emulator/connect/faults        set them: {"report_processing_seconds": 600, "hourly_operations": 50, ...}
POST /__emulator/connect/partner       {"consumer_id", "key_version", "public_key_pem", "auth_token"}
GET  /__emulator/connect/advertisers   every advertiser (discovery record + "revoked")
POST /__emulator/connect/advertisers   {"advertiser_id", "name", "advertiser_type"? ("3p"), "access"? ("write"),
                               "seller_id"?, "seller_name"?, "campaigns"? (2), "ad_groups_per_campaign"? (2),
                               "keywords_per_ad_group"? (2), "granted_at"? (epoch s)}: grant access
POST /__emulator/connect/advertisers/demo              add the demo advertisers (600001-600003)
POST /__emulator/connect/advertisers/<id>/revoke       the advertiser removes the partner
POST /__emulator/connect/advertisers/<id>/access       {"access": "read" | "write"}
POST /__emulator/connect/advertisers/<id>/restate      {"days"?: 14}: figures of the last days change
GET  /__emulator/connect/usage         {"operations_last_hour", "calls": {"METHOD /path": n}}
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from flask import Blueprint, Response, request

from .connect import get_connect
from .connect_state import DEMO_ADVERTISERS
from .errors import json_response
from .marketplace import get_state
from .state import Seller

CONTROL_PREFIX = "/__emulator"

bp = Blueprint("walmart_emulator_control", __name__, url_prefix=CONTROL_PREFIX)


def _body() -> dict[str, Any]:
    data = request.get_json(silent=True)
    return data if isinstance(data, dict) else {}


def _bad(message: str) -> Response:
    return json_response({"message": message}, status=400)


def _seller_dict(seller: Seller) -> dict[str, Any]:
    data = {
        "seller_id": seller.seller_id,
        "client_id": seller.client_id,
        "client_secret": seller.client_secret,
        "ship_nodes": seller.ship_nodes,
    }
    if seller.records is not None:
        data.update(seller.records.summary())
    return data


def _not_found(message: str) -> Response:
    return json_response({"message": message}, status=404)


def _window() -> tuple[int, int] | Response:
    offset = request.args.get("offset", 0, type=int)
    limit = request.args.get("limit", 100, type=int)
    if offset < 0 or limit < 0:
        return _bad("offset and limit must be >= 0")
    return offset, limit


@bp.get("")
@bp.get("/")
@bp.get("/state")
def summary() -> Response:
    return json_response({**get_state().summary(), "connect": get_connect().summary()})


@bp.get("/faults")
def get_faults() -> Response:
    return json_response(get_state().faults.to_dict())


@bp.post("/faults")
def set_faults() -> Response:
    faults = get_state().faults
    try:
        faults.update(_body())
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_response(faults.to_dict())


@bp.get("/sellers")
def list_sellers() -> Response:
    state = get_state()
    with state.lock:
        return json_response([_seller_dict(s) for s in state.sellers.values()])


@bp.post("/sellers")
def add_seller() -> Response:
    body = _body()
    client_id, client_secret = body.get("client_id"), body.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        return _bad("client_id and client_secret (strings) are required")
    ship_nodes = body.get("ship_nodes")
    if ship_nodes is not None and not isinstance(ship_nodes, (list, int)):
        return _bad("ship_nodes must be a list of ship nodes or a count")
    seller_id = body.get("seller_id")
    sizes: dict[str, Any] = {}
    for name in ("item_count", "order_count", "order_days"):
        value = body.get(name)
        if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))):
            return _bad(f"{name} must be a number")
        sizes[name] = value
    try:
        seller = get_state().add_seller(
            client_id,
            client_secret,
            None if seller_id is None else str(seller_id),
            ship_nodes,
            **sizes,
        )
    except ValueError as exc:
        return _bad(str(exc))
    return json_response(_seller_dict(seller), status=201)


@bp.get("/sellers/<seller_id>/orders")
def list_orders(seller_id: str) -> Response:
    state = get_state()
    window = _window()
    if isinstance(window, Response):
        return window
    offset, limit = window
    with state.lock:
        if state.seller(seller_id) is None:
            return _not_found(f"unknown seller {seller_id}")
        orders = state.records(seller_id).orders
        body = {"count": len(orders), "orders": [o.meta() for o in orders[offset : offset + limit]]}
    return json_response(body)


@bp.post("/sellers/<seller_id>/orders")
def add_orders(seller_id: str) -> Response:
    body = _body()
    count, status = body.get("count", 1), body.get("status", "Created")
    if isinstance(count, bool) or not isinstance(count, int) or count < 0:
        return _bad("count must be an integer >= 0")
    state = get_state()
    if state.seller(seller_id) is None:
        return _not_found(f"unknown seller {seller_id}")
    try:
        added = state.add_orders(seller_id, count, str(status))
    except ValueError as exc:
        return _bad(str(exc))
    return json_response({"purchase_order_ids": [o.purchase_order_id for o in added]}, status=201)


def _order_view(seller_id: str, purchase_order_id: str) -> Response:
    state = get_state()
    with state.lock:
        records = state.records(seller_id)
        order = records.order(purchase_order_id)
        if order is None:
            return _not_found(f"no order {purchase_order_id}")
        return json_response({"meta": order.meta(), "order": records.render(order)})


@bp.get("/sellers/<seller_id>/orders/<purchase_order_id>")
def get_order(seller_id: str, purchase_order_id: str) -> Response:
    if get_state().seller(seller_id) is None:
        return _not_found(f"unknown seller {seller_id}")
    return _order_view(seller_id, purchase_order_id)


@bp.post("/sellers/<seller_id>/orders/<purchase_order_id>")
def update_order(seller_id: str, purchase_order_id: str) -> Response:
    body = _body()
    status, line, quantity = body.get("status"), body.get("line"), body.get("quantity")
    if not isinstance(status, str):
        return _bad("status (a string) is required")
    if line is not None and not isinstance(line, (str, int, list)):
        return _bad("line must be a lineNumber or a list of them")
    if quantity is not None and (isinstance(quantity, bool) or not isinstance(quantity, int) or quantity < 1):
        return _bad("quantity must be an integer >= 1")
    state = get_state()
    if state.seller(seller_id) is None:
        return _not_found(f"unknown seller {seller_id}")
    try:
        state.update_order(seller_id, purchase_order_id, status, line, quantity)
    except KeyError as exc:
        return _not_found(str(exc.args[0]) if exc.args else "not found")
    except ValueError as exc:
        return _bad(str(exc))
    return _order_view(seller_id, purchase_order_id)


@bp.get("/sellers/<seller_id>/items")
def list_items(seller_id: str) -> Response:
    state = get_state()
    window = _window()
    if isinstance(window, Response):
        return window
    offset, limit = window
    with state.lock:
        if state.seller(seller_id) is None:
            return _not_found(f"unknown seller {seller_id}")
        items = state.records(seller_id).items
        body = {"count": len(items), "items": items[offset : offset + limit]}
    return json_response(body)


@bp.get("/reports")
def list_reports() -> Response:
    from .reports import status_of

    state = get_state()
    with state.lock:
        reports = [
            {**asdict(report), "status": status_of(state, report)}
            for report in sorted(state.reports.values(), key=lambda r: r.submitted_at)
        ]
    return json_response({"count": len(reports), "reports": reports})


@bp.post("/reset")
def reset() -> Response:
    seed = _body().get("seed")
    if seed is not None and not isinstance(seed, int):
        return _bad("seed must be an integer")
    state = get_state()
    with state.lock:
        state.reset(seed)
        get_connect().reset(state.seed)
    return summary()


@bp.get("/calls")
def calls() -> Response:
    state = get_state()
    seller_id = request.args.get("seller_id")
    endpoint = request.args.get("endpoint")
    status = request.args.get("status", type=int)
    limit = request.args.get("limit", type=int)
    with state.lock:
        records = [
            r
            for r in state.call_log
            if (seller_id is None or r.seller_id == seller_id)
            and (endpoint is None or r.endpoint == endpoint or r.endpoint.endswith(f" {endpoint}"))
            and (status is None or r.status == status)
        ]
    if limit is not None:
        records = records[-limit:] if limit > 0 else []
    return json_response({"count": len(records), "calls": [r.to_dict() for r in records]})


@bp.get("/tokens")
def list_tokens() -> Response:
    state = get_state()
    seller_id = request.args.get("seller_id")
    with state.lock:
        tokens = [asdict(t) for t in state.tokens.values() if seller_id is None or t.seller_id == seller_id]
        refresh = [
            asdict(t) for t in state.oauth.refresh_tokens.values() if seller_id is None or t.seller_id == seller_id
        ]
    return json_response({"count": len(tokens), "tokens": tokens, "refresh_tokens": refresh})


@bp.post("/tokens/expire")
def expire_tokens() -> Response:
    seller_id = _body().get("seller_id")
    count = get_state().expire_tokens(None if seller_id is None else str(seller_id))
    return json_response({"expired": count})


@bp.get("/apps")
def list_apps() -> Response:
    state = get_state()
    with state.lock:
        return json_response([app.summary() for app in state.oauth.apps.values()])


@bp.post("/apps")
def register_app() -> Response:
    body = _body()
    client_id, client_secret, uris = body.get("client_id"), body.get("client_secret"), body.get("redirect_uris", [])
    if not isinstance(client_id, str) or not isinstance(client_secret, str):
        return _bad("client_id and client_secret (strings) are required")
    if not isinstance(uris, list) or not all(isinstance(uri, str) for uri in uris):
        return _bad("redirect_uris must be a list of URLs")
    name = body.get("name")
    state = get_state()
    try:
        with state.lock:
            app = state.oauth.register_app(client_id, client_secret, uris, name if isinstance(name, str) else None)
    except ValueError as exc:
        return _bad(str(exc))
    return json_response(app.summary(), status=201)


@bp.post("/sellers/<seller_id>/disconnect")
def disconnect_app(seller_id: str) -> Response:
    state = get_state()
    if state.seller(seller_id) is None:
        return _not_found(f"unknown seller {seller_id}")
    client_id = _body().get("client_id")
    revoked = state.disconnect_app(seller_id, None if client_id is None else str(client_id))
    return json_response({"revoked_refresh_tokens": revoked})


# --- Connect ----------------------------------------------------------------------------------


@bp.get("/connect/faults")
def get_connect_faults() -> Response:
    return json_response(get_connect().faults.to_dict())


@bp.post("/connect/faults")
def set_connect_faults() -> Response:
    faults = get_connect().faults
    try:
        faults.update(_body())
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_response(faults.to_dict())


@bp.post("/connect/partner")
def configure_partner() -> Response:
    body = _body()
    names = ("consumer_id", "key_version", "public_key_pem", "auth_token")
    if not all(isinstance(body.get(n), (str, int)) and not isinstance(body.get(n), bool) for n in names):
        return _bad(f"{', '.join(names)} are required")
    try:
        get_connect().configure_partner(*(str(body[n]) for n in names))
    except ValueError as exc:
        return _bad(str(exc))
    return json_response({"consumer_id": body["consumer_id"], "key_version": str(body["key_version"])})


@bp.get("/connect/advertisers")
def list_advertisers() -> Response:
    return json_response(get_connect().advertiser_list())


@bp.post("/connect/advertisers")
def add_advertiser() -> Response:
    body = _body()
    known = {
        "advertiser_id",
        "name",
        "advertiser_type",
        "access",
        "seller_id",
        "seller_name",
        "campaigns",
        "ad_groups_per_campaign",
        "keywords_per_ad_group",
        "granted_at",
    }
    unknown = set(body) - known
    if unknown:
        return _bad(f"unknown field(s): {', '.join(sorted(unknown))}")
    granted_at = body.get("granted_at")
    if granted_at is not None and (isinstance(granted_at, bool) or not isinstance(granted_at, (int, float))):
        return _bad("granted_at must be epoch seconds")
    try:
        record = get_connect().add_advertiser(**body)
    except (TypeError, ValueError) as exc:
        return _bad(str(exc))
    return json_response(record, status=201)


@bp.post("/connect/advertisers/demo")
def add_demo_advertisers() -> Response:
    connect = get_connect()
    return json_response([connect.add_advertiser(**spec) for spec in DEMO_ADVERTISERS], status=201)


def _advertiser_change(advertiser_id: int, change: Any) -> Response:
    connect = get_connect()
    try:
        result = change(connect)
    except KeyError:
        return _not_found(f"unknown advertiser {advertiser_id}")
    except ValueError as exc:
        return _bad(str(exc))
    with connect.lock:
        advertiser = connect.advertiser(advertiser_id)
        record = {**advertiser.record(), "revoked": advertiser.revoked}
    if result is not None:
        record["restated"] = [d.isoformat() for d in result]
    return json_response(record)


@bp.post("/connect/advertisers/<int:advertiser_id>/revoke")
def revoke_advertiser(advertiser_id: int) -> Response:
    return _advertiser_change(advertiser_id, lambda c: c.revoke(advertiser_id))


@bp.post("/connect/advertisers/<int:advertiser_id>/access")
def set_advertiser_access(advertiser_id: int) -> Response:
    access = _body().get("access")
    return _advertiser_change(advertiser_id, lambda c: c.set_access(advertiser_id, str(access)))


@bp.post("/connect/advertisers/<int:advertiser_id>/restate")
def restate_advertiser(advertiser_id: int) -> Response:
    days = _body().get("days", 14)
    return _advertiser_change(advertiser_id, lambda c: c.restate(advertiser_id, days))


@bp.get("/connect/usage")
def connect_usage() -> Response:
    summary = get_connect().summary()
    return json_response({"operations_last_hour": summary["operations_last_hour"], "calls": summary["calls"]})
