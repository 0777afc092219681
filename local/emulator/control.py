"""Control endpoints under /__emulator/ so e2e tests can steer a running emulator over HTTP.

GET  /__emulator/              state summary (also /__emulator/state)
GET  /__emulator/faults        the knobs
POST /__emulator/faults        set knobs: {"latency_ms": 200, "fail_next": {"path_prefix": "/v3/token",
                               "status": 503, "count": 2}, "clear_fail_next": true, ...}
GET  /__emulator/sellers       sellers (with ship nodes)
POST /__emulator/sellers       {"client_id", "client_secret", "seller_id"?, "ship_nodes"? (list | count)}
POST /__emulator/reset         {"seed"?: int}: back to a fresh emulator
GET  /__emulator/calls         call log; filters ?seller_id=&endpoint=&status=&limit=
POST /__emulator/tokens/expire {"seller_id"?}: revoke live access tokens
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, Response, request

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
    return {
        "seller_id": seller.seller_id,
        "client_id": seller.client_id,
        "client_secret": seller.client_secret,
        "ship_nodes": seller.ship_nodes,
    }


@bp.get("")
@bp.get("/")
@bp.get("/state")
def summary() -> Response:
    return json_response(get_state().summary())


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
    try:
        seller = get_state().add_seller(
            client_id,
            client_secret,
            None if seller_id is None else str(seller_id),
            ship_nodes,
        )
    except ValueError as exc:
        return _bad(str(exc))
    return json_response(_seller_dict(seller), status=201)


@bp.post("/reset")
def reset() -> Response:
    seed = _body().get("seed")
    if seed is not None and not isinstance(seed, int):
        return _bad("seed must be an integer")
    state = get_state()
    state.reset(seed)
    return json_response(state.summary())


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


@bp.post("/tokens/expire")
def expire_tokens() -> Response:
    seller_id = _body().get("seller_id")
    count = get_state().expire_tokens(None if seller_id is None else str(seller_id))
    return json_response({"expired": count})
