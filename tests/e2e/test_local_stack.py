"""A user's session against `make run`: create an instance, watch it connect, and the failure paths."""

from __future__ import annotations

import subprocess
import sys
import threading
import uuid

import pytest

from tests.e2e.conftest import ROOT, RunningStack

pytestmark = pytest.mark.e2e

DEMO = {"clientId": "demo-client-id", "clientSecret": "demo-client-secret"}


def body(name: str, credentials: dict[str, str] | None = DEMO) -> dict:
    return {
        "name": name,
        "integration_id": 1,
        "connection_settings": credentials,
        "integration_settings": {
            "start_date": "2026-06-01",
            "store_id": 1,
            "auto_link_products": True,
            "auto_create_products": False,
            "sales_nominal_code_id": 1,
        },
    }


def test_ready_line_and_swagger(local_stack: RunningStack):
    assert local_stack.api_url.startswith("http://127.0.0.1:")
    assert local_stack.token.startswith("wis_")
    with local_stack.client(token="") as anonymous:
        docs = anonymous.get("/api/docs")
        assert docs.status_code == 200 and "swagger" in docs.text.lower()
        assert "/api/walmart" in anonymous.get("/api/openapi.json").json()["paths"]


def test_instance_goes_from_pending_to_connected(local_stack: RunningStack):
    name = f"e2e {uuid.uuid4()}"
    with local_stack.client() as client:
        created = client.post("/api/walmart", json=body(name))
        assert created.status_code == 201, created.text
        data = created.json()["data"]
        assert data["status"] == "pending"
        assert data["connection_settings"]["clientSecret"] == "********"
    done = local_stack.wait_for(
        data["id"], lambda d: d["status"] == "connected" and d["jobs"]["locations"]["status"] == "succeeded"
    )
    assert done["jobs"]["token"]["status"] == "succeeded"
    assert done["jobs"]["locations"]["records"] == 3


def test_wrong_credentials_are_reported_without_retries(local_stack: RunningStack):
    with local_stack.client() as client:
        created = client.post(
            "/api/walmart", json=body(f"bad {uuid.uuid4()}", {"clientId": "demo-client-id", "clientSecret": "nope"})
        )
    failed = local_stack.wait_for(created.json()["data"]["id"], lambda d: d["status"] == "credentials_invalid")
    assert failed["jobs"]["token"]["status"] == "failed"
    assert failed["jobs"]["token"]["error"]


def test_walmart_5xx_is_retried_until_the_instance_connects(local_stack: RunningStack):
    with local_stack.emulator() as emulator:
        assert (
            emulator.post(
                "/__emulator/faults", json={"fail_next": {"path_prefix": "/v3/token", "status": 503, "count": 2}}
            ).status_code
            == 200
        )
    with local_stack.client() as client:
        created = client.post("/api/walmart", json=body(f"flaky {uuid.uuid4()}"))
    connected = local_stack.wait_for(created.json()["data"]["id"], lambda d: d["status"] == "connected", timeout=60)
    assert connected["jobs"]["token"]["status"] == "succeeded"


def test_authentication_and_tenant_isolation(local_stack: RunningStack):
    with local_stack.client(token="") as anonymous:
        assert anonymous.get("/api/walmart").status_code == 401
        assert anonymous.get("/api/walmart", headers={"Authorization": "Bearer nope"}).status_code == 401
        assert anonymous.get("/api/walmart", headers={"Authorization": "Bearer wis_" + "x" * 43}).status_code == 401
    with local_stack.client() as demo:
        mine = demo.post("/api/walmart", json=body(f"mine {uuid.uuid4()}", None)).json()["data"]
    issued = subprocess.run(
        [sys.executable, "scripts/issue_token.py", "other-tenant"],
        cwd=ROOT,
        env={"LOCAL_STATE_FILE": str(local_stack.state_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
    )
    other_token = issued.stdout.strip().splitlines()[-1]
    with local_stack.client(token=other_token) as other:
        assert other.get(f"/api/walmart/{mine['id']}").status_code == 404
        assert other.patch(f"/api/walmart/{mine['id']}", json={"name": "taken over"}).status_code == 404
        assert other.delete(f"/api/walmart/{mine['id']}").status_code == 404
        assert all(item["id"] != mine["id"] for item in other.get("/api/walmart").json()["data"])
    with local_stack.client() as demo:
        assert demo.get(f"/api/walmart/{mine['id']}").json()["data"]["name"] == mine["name"]


def test_validation_and_idempotency_over_http(local_stack: RunningStack):
    name = f"idem {uuid.uuid4()}"
    with local_stack.client() as client:
        invalid = client.post("/api/walmart", json={**body(name), "integration_id": "1"})
        assert invalid.status_code == 422
        assert invalid.json()["errors"] == {"integration_id": ["Input should be a valid integer"]}
        key = {"Idempotency-Key": str(uuid.uuid4())}
        first = client.post("/api/walmart", json=body(name), headers=key)
        second = client.post("/api/walmart", json=body(name), headers=key)
        assert first.status_code == second.status_code == 201
        assert first.json()["data"]["id"] == second.json()["data"]["id"]
        duplicate = client.post("/api/walmart", json=body(name))
        assert duplicate.status_code == 422
        assert duplicate.json()["errors"] == {"name": ["The name has already been taken."]}
        deleted = client.delete(f"/api/walmart/{first.json()['data']['id']}")
        assert deleted.status_code == 204


def test_concurrent_creates_with_one_name_give_one_201_and_the_rest_422(local_stack: RunningStack):
    for _ in range(5):
        name = f"race {uuid.uuid4()}"
        statuses: list[int] = []
        barrier = threading.Barrier(3)

        def create(name: str = name, barrier: threading.Barrier = barrier, statuses: list[int] = statuses) -> None:
            with local_stack.client() as client:
                barrier.wait()
                statuses.append(client.post("/api/walmart", json=body(name, None)).status_code)

        threads = [threading.Thread(target=create) for _ in range(3)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) == [201, 422, 422]
