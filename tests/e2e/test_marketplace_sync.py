"""Minutes after POST /api/walmart every job has succeeded and the seller's data is readable, also
when Walmart misbehaves: a faulty run of a seller leaves exactly what a clean run of it leaves."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack

pytestmark = pytest.mark.e2e

STREAMS = ("token", "locations", "products", "orders", "backfill", "settlements", "returns")


def create(stack: RunningStack, seller: dict[str, str], name: str) -> str:
    body = {
        "name": name,
        "integration_id": 1,
        "connection_settings": {"clientId": seller["client_id"], "clientSecret": seller["client_secret"]},
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
    return str(response.json()["data"]["id"])


def settled(data: dict[str, Any]) -> bool:
    return all(data["jobs"][name]["status"] in ("succeeded", "failed") for name in STREAMS)


def read_all(stack: RunningStack, path: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    with stack.client() as client:
        while True:
            params = {"limit": 100, **({"cursor": cursor} if cursor else {})}
            page = client.get(path, params=params).json()
            items += page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return items


def snapshot(stack: RunningStack, instance_id: str) -> dict[str, Any]:
    def strip(record: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in record.items() if k not in ("updated_at", "synced_at")}

    return {
        kind: sorted((strip(r) for r in read_all(stack, f"/api/walmart/{instance_id}/{kind}")), key=str)
        for kind in ("locations", "products", "orders")
    }


def test_a_faulty_sync_leaves_what_a_clean_sync_leaves(local_stack: RunningStack):
    seller = {"client_id": f"e2e-{uuid.uuid4().hex[:8]}", "client_secret": "e2e-secret"}
    with local_stack.emulator() as emulator:
        added = emulator.post("/__emulator/sellers", json={**seller, "item_count": 60, "order_count": 300})
        assert added.status_code in (200, 201), added.text
    clean_id = create(local_stack, seller, f"clean {seller['client_id']}")
    started = time.monotonic()
    clean = local_stack.wait_for(clean_id, settled, timeout=180)
    clean_seconds = time.monotonic() - started
    assert {clean["jobs"][n]["status"] for n in STREAMS} == {"succeeded"}, clean["jobs"]
    expected = snapshot(local_stack, clean_id)
    assert len(expected["orders"]) > 100 and len(expected["products"]) == 60

    faults = {"error_rate": 0.15, "token_expiry_after_calls": 10, "duplicate_item_rate": 0.3, "latency_ms": 5}
    with local_stack.emulator() as emulator:
        assert emulator.post("/__emulator/faults", json=faults).status_code == 200
        assert (
            emulator.post(
                "/__emulator/faults", json={"fail_next": [{"path_prefix": "/v3/orders", "status": 503, "count": 3}]}
            ).status_code
            == 200
        )
    try:
        faulty_id = create(local_stack, seller, f"faulty {seller['client_id']}")
        faulty = local_stack.wait_for(faulty_id, settled, timeout=300)
    finally:
        with local_stack.emulator() as emulator:
            emulator.post(
                "/__emulator/faults",
                json={"error_rate": 0, "token_expiry_after_calls": None, "duplicate_item_rate": 0, "latency_ms": 0},
            )
    assert {faulty["jobs"][n]["status"] for n in STREAMS} == {"succeeded"}, faulty["jobs"]
    assert snapshot(local_stack, faulty_id) == expected
    assert faulty["jobs"]["products"]["records"] == clean["jobs"]["products"]["records"]
    assert clean_seconds < 120
