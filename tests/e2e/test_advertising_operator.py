"""The operator's command for advertising claims that wait (contested or mismatched), against the running stack."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from tests.e2e.conftest import ROOT, RunningStack

ADVERTISER = 810001


def run_script(stack: RunningStack, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(Path("scripts") / "advertising_claims.py"), *args],
        check=False,
        cwd=ROOT,
        env={"LOCAL_STATE_FILE": str(stack.state_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def token(stack: RunningStack, tenant: str) -> str:
    result = subprocess.run(
        [sys.executable, "scripts/issue_token.py", tenant],
        cwd=ROOT,
        env={"LOCAL_STATE_FILE": str(stack.state_file), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return result.stdout.strip().splitlines()[-1]


def claims(stack: RunningStack, bearer: str) -> dict[str, dict[str, Any]]:
    with stack.client(bearer) as client:
        return {c["advertiser_id"]: c for c in client.get("/api/advertising/claims").json()["data"]}


def test_a_contested_claim_waits_until_the_operator_assigns_it(local_stack: RunningStack) -> None:
    first, second = token(local_stack, "operator-a"), token(local_stack, "operator-b")
    with local_stack.emulator() as emulator:
        added = emulator.post(
            "/__emulator/connect/advertisers",
            json={"advertiser_id": ADVERTISER, "name": "Contested Brand", "advertiser_type": "3p"},
        )
        assert added.status_code in (200, 201), added.text
    for bearer in (first, second):
        with local_stack.client(bearer) as client:
            claim = {"advertiser_id": str(ADVERTISER), "advertiser_name": "Contested Brand"}
            assert client.post("/api/advertising/claims", json=claim).status_code == 201
    waiting: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # a refresh joins a run of the last minutes: ask until one lists it
        with local_stack.client(first) as client:
            client.post("/api/advertising/refresh")
        listed = run_script(local_stack, "list")
        assert listed.returncode == 0, listed.stderr
        waiting = [w for w in json.loads(listed.stdout) if w["advertiser_id"] == str(ADVERTISER)]
        if waiting:
            break
        time.sleep(2)
    assert waiting and waiting[0]["reason"] == "contested"
    assert {c["tenant_id"] for c in waiting[0]["claims"]} >= {"operator-a", "operator-b"}
    assert claims(local_stack, first)[str(ADVERTISER)]["status"] == "waiting"

    assigned = run_script(local_stack, "assign", str(ADVERTISER), "operator-b")
    assert assigned.returncode == 0, assigned.stderr
    with local_stack.client(second) as client:
        profiles = client.get("/api/advertising/profiles").json()["data"]
    assert [p["profile_id"] for p in profiles] == [str(ADVERTISER)]
    assert claims(local_stack, first)[str(ADVERTISER)]["status"] == "rejected"
    assert claims(local_stack, second)[str(ADVERTISER)]["status"] == "assigned"
    unknown = run_script(local_stack, "assign", str(ADVERTISER), "nobody")
    assert unknown.returncode == 1 and "has not claimed" in unknown.stderr
