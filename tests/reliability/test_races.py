"""Races against the local stack: the invariants of one name per instance, one account per advertising profile and
PATCH against DELETE hold in every round, over many rounds.

Each round releases its requests at one moment (a barrier, one client per thread). A round's outcome is checked
through the API (and, for name reservations, in the app table) and every broken invariant is counted as a violation
before anything is asserted, so the figures show them.
"""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import boto3
import httpx
import pytest

from tests.e2e.conftest import RunningStack
from tests.e2e.test_advertising import Ads, data
from tests.e2e.test_local_stack import body
from tests.e2e.test_marketplace_sync import read_all
from tests.reliability.conftest import Figures, scale
from walmart_integration.services.auth import hash_token
from walmart_integration.store import keys

pytestmark = pytest.mark.e2e

ROUNDS = scale(5, 20)
CREATORS = scale(6, 8)  # concurrent creates with one name
LINKERS = scale(6, 8)  # concurrent links of one profile (one account each)
PATCHERS = scale(3, 4)  # threads sending PATCHes to one instance while it is deleted
PATCHES_EACH = 3  # PATCHes per thread, one after the other: the later ones land after the DELETE
DELETE_JITTER = 0.4  # seconds: how much later than the PATCHes a DELETE may start (varies the interleavings)
DELETE_ATTEMPTS = 20  # a DELETE answered 409 (changed concurrently) is sent again, as the message asks
NAME_TAKEN = {"name": ["The name has already been taken."]}


@dataclass
class Call:
    method: str
    sent: float  # perf_counter when the request was sent
    received: float  # perf_counter when its response had arrived
    status: int
    body: Any

    def __repr__(self) -> str:
        return f"{self.method} {self.status} {str(self.body)[:200]}"


def send(client: httpx.Client, method: str, path: str, **kwargs: Any) -> Call:
    sent = time.perf_counter()
    response = client.request(method, path, **kwargs)
    received = time.perf_counter()
    content = response.json() if response.content else None
    return Call(method, sent, received, response.status_code, content)


def at_once(stack: RunningStack, work: list[Callable[[httpx.Client], list[Call]]]) -> list[list[Call]]:
    """Run each piece of work on its own client and thread, all released at the same moment."""
    barrier = threading.Barrier(len(work))
    results: list[list[Call] | BaseException | None] = [None] * len(work)
    clients = [stack.client() for _ in work]

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=60)
            results[index] = work[index](clients[index])
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(work))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    for client in clients:
        client.close()
    failed = [r for r in results if not isinstance(r, list)]
    assert not failed, f"a concurrent request failed: {failed!r}"
    return [r for r in results if isinstance(r, list)]


def listed(stack: RunningStack) -> list[dict[str, Any]]:
    return read_all(stack, "/api/walmart")


def name_key(name: str) -> str:
    return name.strip().casefold()


def creator(name: str) -> Callable[[httpx.Client], list[Call]]:
    return lambda client: [send(client, "POST", "/api/walmart", json=body(name, None))]


def linker(account_id: str, profile_id: str) -> Callable[[httpx.Client], list[Call]]:
    path = f"/api/accounts/{account_id}/advertising-profile"
    return lambda client: [send(client, "PUT", path, json={"profile_id": profile_id})]


def report(figures: Figures, race: str, requests: int, violations: list[str], **extra: Any) -> None:
    """One figures record per race (rounds, concurrent requests, violations), then the verdict."""
    figures.record("races", race=race, rounds=ROUNDS, repetitions=requests, violations=len(violations), **extra)
    assert not violations, "\n".join(violations[:20])


# -- (a) concurrent creates with one name --------------------------------------------------------------------------
def test_concurrent_creates_with_one_name_leave_exactly_one_instance(local_stack: RunningStack, figures: Figures):
    violations: list[str] = []
    requests = 0
    for round_number in range(ROUNDS):
        name = f"race-a {uuid.uuid4().hex[:12]}"
        # The same name as different users type it: the name is unique whatever its case and surrounding spaces.
        spellings = [name, name.upper(), f"  {name} ", name.title()]
        work = [creator(spellings[i % len(spellings)]) for i in range(CREATORS)]
        calls = [call for calls in at_once(local_stack, work) for call in calls]
        requests += len(calls)
        created = [c for c in calls if c.status == 201]
        refused = [c for c in calls if c.status == 422 and c.body.get("errors") == NAME_TAKEN]
        if len(created) != 1 or len(refused) != CREATORS - 1:
            violations.append(f"round {round_number}: one 201 and {CREATORS - 1} name errors expected: {calls}")
        mine = [i for i in listed(local_stack) if name_key(i["name"]) == name_key(name)]
        if len(mine) != 1 or (created and mine[0]["id"] != created[0].body["data"]["id"]):
            violations.append(f"round {round_number}: exactly the created instance should be listed: {mine}")
        with local_stack.client() as client:
            for instance in mine:
                assert client.delete(f"/api/walmart/{instance['id']}").status_code == 204
    report(figures, "same_name_creates", requests, violations, racers=CREATORS)


# -- (b) concurrent links of one advertising profile ---------------------------------------------------------------
def test_concurrent_links_of_one_profile_link_exactly_one_account(local_stack: RunningStack, figures: Figures):
    ads = Ads(local_stack, random.randrange(9000, 9900) * 100)  # 900000-989999: clear of the e2e modules' ids
    profile_id = ads.id("race")
    ads.no_discovery_running()
    with local_stack.emulator() as emulator:
        # The smallest advertiser Walmart could have: every link starts a backfill, and there are many links.
        grant = {"advertiser_id": int(profile_id), "name": ads.name("race"), "advertiser_type": "3p"}
        grant |= {"campaigns": 1, "ad_groups_per_campaign": 1, "keywords_per_ad_group": 1}
        granted = emulator.post("/__emulator/connect/advertisers", json=grant)
        assert granted.status_code == 201, granted.text
    with ads.api() as client:
        claim = {"advertiser_id": profile_id, "advertiser_name": ads.name("race")}
        data(client.post("/api/advertising/claims", json=claim), 201)
    ads.discover()
    assert ads.profiles()[profile_id]["status"] == "active"
    accounts = [ads.account(name=f"Race {n}")["id"] for n in range(LINKERS)]

    violations: list[str] = []
    requests = 0
    for round_number in range(ROUNDS):
        work = [linker(account, profile_id) for account in accounts]
        calls = [call for calls in at_once(local_stack, work) for call in calls]
        requests += len(calls)
        winners = [a for a, c in zip(accounts, calls, strict=True) if c.status == 200]
        losers = [c for c in calls if c.status == 409]
        if len(winners) != 1 or len(losers) != LINKERS - 1:
            violations.append(f"round {round_number}: one 200 and {LINKERS - 1} 409s expected: {calls}")
        winner = winners[0] if len(winners) == 1 else None
        for call in losers:
            if winner is None or winner not in call.body.get("message", ""):
                violations.append(f"round {round_number}: a 409 does not name the holder {winner}: {call}")
        holder = ads.profiles()[profile_id]["linked_account_id"]
        linked = {a for a in accounts if (ads.get_account(a)["advertising"] or {}).get("profile_id") == profile_id}
        if holder != winner or linked != ({winner} if winner else set()):
            violations.append(f"round {round_number}: profile held by {holder}, accounts {linked}, winner {winner}")
        with ads.api() as client:
            for account in linked | ({holder} if holder else set()):
                data(client.delete(f"/api/accounts/{account}/advertising-profile"))
        assert ads.profiles()[profile_id]["linked_account_id"] is None
    report(figures, "profile_links", requests, violations, racers=LINKERS)


# -- (c) concurrent PATCH (renames included) and DELETE of one instance --------------------------------------------
class NameReservations:
    """The name reservations in the app table that point at an instance (a leaked one outlives its instance)."""

    def __init__(self, stack: RunningStack) -> None:
        state = stack.state
        env = state["function_env"]
        self.table = env["APP_TABLE_NAME"]
        self.client = boto3.client(
            "dynamodb",
            region_name=state.get("region", "us-east-1"),
            endpoint_url=state["aws_endpoint_url"],
            aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "testing",
            aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "testing",
        )
        token = self.client.get_item(
            TableName=self.table,
            Key={"pk": {"S": keys.api_token_pk(hash_token(stack.token))}, "sk": {"S": keys.API_TOKEN_SK}},
        )
        self.pk = keys.tenant_pk(token["Item"]["tenant_id"]["S"])

    def of(self, instance_id: str) -> list[str]:
        params: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
            "FilterExpression": "instance_id = :id",
            "ExpressionAttributeValues": {
                ":pk": {"S": self.pk},
                ":prefix": {"S": keys.instance_name_sk("")},
                ":id": {"S": instance_id},
            },
            "ConsistentRead": True,
        }
        found: list[str] = []
        while True:
            page = self.client.query(**params)
            found += [item["sk"]["S"] for item in page.get("Items", [])]
            if "LastEvaluatedKey" not in page:
                return found
            params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def test_concurrent_patches_and_deletes_of_one_instance_leave_it_gone(local_stack: RunningStack, figures: Figures):
    reservations = NameReservations(local_stack)
    violations: list[str] = []
    requests = 0
    outcomes: Counter[str] = Counter()
    for round_number in range(ROUNDS):
        prefix = f"race-c {uuid.uuid4().hex[:12]}"
        with local_stack.client() as client:
            created = client.post("/api/walmart", json=body(prefix, None))
        assert created.status_code == 201, created.text
        instance_id = created.json()["data"]["id"]
        path = f"/api/walmart/{instance_id}"

        def patcher(client: httpx.Client, index: int, path: str = path, prefix: str = prefix) -> list[Call]:
            calls: list[Call] = []
            for attempt in range(PATCHES_EACH):
                if index == 0:  # not a rename: the settings and the automatic-sync flag
                    patch: dict[str, Any] = {"is_automatic_sync_enabled": attempt % 2 == 0}
                    patch["integration_settings"] = {"auto_link_products": attempt % 2 == 1}
                else:
                    patch = {"name": f"{prefix} p{index} r{attempt}"}
                calls.append(send(client, "PATCH", path, json=patch))
                if calls[-1].status == 404:
                    break
            return calls

        def deleter(client: httpx.Client, path: str = path) -> list[Call]:
            time.sleep(random.uniform(0, DELETE_JITTER))  # land between, before or after the PATCHes: all orders
            calls = [send(client, "DELETE", path)]
            while calls[-1].status == 409 and len(calls) < DELETE_ATTEMPTS:
                calls.append(send(client, "DELETE", path))  # "changed by another request": send it again
            return calls

        work: list[Callable[[httpx.Client], list[Call]]] = [partial(patcher, index=n) for n in range(PATCHERS)]
        work += [deleter, deleter]
        results = at_once(local_stack, work)
        calls = [call for calls in results for call in calls]
        requests += len(calls)
        patches = [c for c in calls if c.method == "PATCH"]
        deletes = [c for c in calls if c.method == "DELETE"]
        outcomes.update(f"{c.method} {c.status}" for c in calls)

        def broken(message: str, round_number: int = round_number) -> None:
            violations.append(f"round {round_number}: {message}")

        if {c.status for c in patches} - {200, 404, 409}:
            broken(f"a PATCH answered something else than 200, 404 or 409: {patches}")
        if {c.status for c in deletes} - {204, 404, 409}:
            broken(f"a DELETE answered something else than 204, 404 or 409: {deletes}")
        deleted = [c for c in deletes if c.status == 204]
        if len(deleted) != 1:
            broken(f"exactly one DELETE should have deleted the instance: {deletes}")
        if deleted:
            late = [c for c in patches if c.sent > deleted[0].received and c.status != 404]
            if late:
                broken(f"a PATCH sent after the DELETE's 204 did not get 404: {late}")
        with local_stack.client() as client:
            after = client.get(path)
            if after.status_code != 404:
                broken(f"the instance is still there: {after.status_code} {after.text[:300]}")
        if any(i["id"] == instance_id for i in listed(local_stack)):
            broken("the deleted instance is still listed")
        leaked = reservations.of(instance_id)
        if leaked:
            broken(f"name reservations outlived the instance: {leaked}")
        # Every name the instance held (its first and each rename that succeeded) is free again.
        held = {prefix} | {c.body["data"]["name"] for c in patches if c.status == 200}
        with local_stack.client() as client:
            for name in sorted(held):
                again = client.post("/api/walmart", json=body(name, None))
                requests += 1
                if again.status_code != 201:
                    broken(f"the name {name!r} is not free again: {again.status_code} {again.text[:300]}")
                    continue
                assert client.delete(f"/api/walmart/{again.json()['data']['id']}").status_code == 204
    report(figures, "patch_and_delete", requests, violations, patchers=PATCHERS, outcomes=dict(outcomes))
