"""Walmart Connect advertising against `make run`, over HTTP: claim, discover, link, backfill, performance, the
one-profile-one-account race, tenant isolation, channel and access rules, write-back, revocation and secrets.

The stack is shared by the session, so this module grants its own advertisers (ids drawn at random) through the
emulator's control endpoints, claims them for the demo tenant, and every test works on its own ones.

Discovery: a refresh asked for within ADS_DISCOVERY_MIN_INTERVAL_SECONDS of the last run's end joins that run
(deployed 300 s, locally 5 s). When ``Ads.discover`` would join a finished run it moves that run's ``finished_at``
back in the embedded DynamoDB, as if the user had waited, and asks again.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest

from local.emulator.connect_keys import sign
from tests.e2e.conftest import ROOT, RunningStack

pytestmark = pytest.mark.e2e

# Every body the service's API answered in this module (the secrets test reads them all).
RECEIVED: list[str] = []

# role: (offset, advertiser type, access). The names are "E2E <role> <base>".
ADVERTISERS = {
    "flow": (1, "3p", "write"),
    "race": (2, "3p", "write"),
    "race_a": (3, "3p", "write"),
    "race_b": (4, "3p", "write"),
    "tenant_a": (5, "3p", "write"),
    "one_p": (6, "1p", "write"),
    "read": (7, "3p", "read"),
    "write": (8, "3p", "write"),
    "revoke": (9, "3p", "write"),
    "still_active": (10, "3p", "write"),
}
RACERS = 8
ROUNDS = 5


def _record(response: httpx.Response) -> None:
    response.read()
    RECEIVED.append(response.text)


def until(probe: Callable[[], Any], timeout: float, what: str, interval: float = 0.25) -> Any:
    """The first truthy result of ``probe``, polled until ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = probe()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"{what}: not reached within {timeout} s (last: {json.dumps(last, default=str)[:2000]})")


def data(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, (response.request.method, str(response.request.url), response.text)
    return response.json()["data"] if response.content else None


def yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


@dataclass
class Ads:
    stack: RunningStack
    base: int
    discovered: dict[str, Any] | None = None
    _other_token: str | None = None
    _aws: dict[str, Any] = field(default_factory=dict)

    # -- clients ------------------------------------------------------------------------------------------
    def api(self, token: str | None = None) -> httpx.Client:
        client = self.stack.client(token)
        client.event_hooks = {"request": [], "response": [_record]}
        return client

    def aws(self, service: str) -> Any:
        if service not in self._aws:
            state = self.stack.state
            env = state["function_env"]
            factory: Any = boto3.client  # (one client per service, whatever its type)
            self._aws[service] = factory(
                service,
                region_name=state.get("region", "us-east-1"),
                endpoint_url=state["aws_endpoint_url"],
                aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "testing",
                aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "testing",
            )
        return self._aws[service]

    @property
    def env(self) -> dict[str, str]:
        return dict(self.stack.state["function_env"])

    def partner_secret(self) -> dict[str, str]:
        value = self.aws("secretsmanager").get_secret_value(SecretId=self.env["WALMART_ADS_SECRET_NAME"])
        return dict(json.loads(value["SecretString"]))

    def connect(self, path: str, **params: Any) -> Any:
        """GET on the emulator's Walmart Connect API, signed as the partner (what Walmart itself holds now)."""
        secret = self.partner_secret()
        timestamp = int(time.time() * 1000)
        headers = {
            "Authorization": f"Bearer {secret['auth_token']}",
            "WM_CONSUMER.ID": secret["consumer_id"],
            "WM_CONSUMER.intimestamp": str(timestamp),
            "WM_SEC.KEY_VERSION": secret["key_version"],
            "WM_SEC.AUTH_SIGNATURE": sign(
                secret["private_key"], secret["consumer_id"], timestamp, secret["key_version"]
            ),
        }
        with self.stack.emulator() as emulator:
            response = emulator.get(path, params=params, headers=headers)
        assert response.status_code == 200, response.text
        return response.json()

    def other_token(self) -> str:
        """A bearer token of a second tenant (made once)."""
        if self._other_token is None:
            issued = subprocess.run(
                [sys.executable, "scripts/issue_token.py", f"ads-other-{self.base}"],
                cwd=ROOT,
                env={"LOCAL_STATE_FILE": str(self.stack.state_file), "PATH": "/usr/bin:/bin"},
                capture_output=True,
                text=True,
                check=True,
            )
            self._other_token = issued.stdout.strip().splitlines()[-1]
        return self._other_token

    # -- advertisers and discovery --------------------------------------------------------------------------
    def id(self, role: str) -> str:
        return str(self.base + ADVERTISERS[role][0])

    def name(self, role: str) -> str:
        return f"E2E {role} {self.base}"

    def discover(self, force: bool = False) -> dict[str, Any]:
        """A discovery run requested after every change made so far, carried to its end (once per module unless
        ``force``)."""
        if self.discovered is not None and not force:
            return self.discovered
        with self.api() as client:
            deadline = time.monotonic() + 60
            while True:
                asked_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
                run = data(client.post("/api/advertising/refresh"), 202)
                if run["status"] == "requested" and run["requested_at"] >= asked_at:
                    started = run  # a run of ours: its snapshot is asked for after our changes
                    break
                assert time.monotonic() < deadline, f"no discovery run could be started: {run}"
                if run["status"] in ("succeeded", "failed"):
                    self._age_last_discovery()  # a refresh this soon joins the last run: as if time had passed
                else:
                    time.sleep(0.5)  # a run started before our changes: let it end

            def ended() -> dict[str, Any] | None:  # (a refresh asked for during a run answers that run)
                run = data(client.post("/api/advertising/refresh"), 202)
                done = run["status"] in ("succeeded", "failed") and run["requested_at"] >= started["requested_at"]
                return dict(run) if done else None

            run = until(ended, 60, "the discovery run to end")
        assert run["status"] == "succeeded", run
        self.discovered = run
        return run

    def no_discovery_running(self) -> None:
        """Wait for a run in progress (e.g. the one the stack starts with) to end."""
        with self.api() as client:
            until(
                lambda: data(client.post("/api/advertising/refresh"), 202)["status"] in ("succeeded", "failed"),
                60,
                "the discovery run in progress to end",
            )

    def _age_last_discovery(self) -> None:
        """As if five minutes had passed since the last discovery run ended."""
        old = (datetime.now(UTC) - timedelta(minutes=6)).strftime("%Y-%m-%dT%H:%M:%SZ")
        self.aws("dynamodb").update_item(
            TableName=self.env["APP_TABLE_NAME"],
            Key={"pk": {"S": "ADDISCOVERY"}, "sk": {"S": "STATE"}},
            UpdateExpression="SET finished_at = :old",
            ConditionExpression="#s IN (:ok, :failed)",
            ExpressionAttributeNames={"#s": "status"},
            ExpressionAttributeValues={":old": {"S": old}, ":ok": {"S": "succeeded"}, ":failed": {"S": "failed"}},
        )

    # -- companies, accounts, links ---------------------------------------------------------------------------
    def account(self, channel: str = "walmart-3p", name: str = "Main", token: str | None = None) -> dict[str, Any]:
        with self.api(token) as client:
            company = data(client.post("/api/companies", json={"name": f"Company {name} {self.base}"}), 201)
            body = {"name": name, "channel": channel, "geo": "US"}
            account = data(client.post(f"/api/companies/{company['id']}/accounts", json=body), 201)
        assert account["company_id"] == company["id"] and account["advertising"] is None
        return dict(account)

    def link(self, account_id: str, role: str, status: int = 200, token: str | None = None) -> httpx.Response:
        with self.api(token) as client:
            response = client.put(f"/api/accounts/{account_id}/advertising-profile", json={"profile_id": self.id(role)})
        assert response.status_code == status, response.text
        return response

    def get_account(self, account_id: str) -> dict[str, Any]:
        with self.api() as client:
            return dict(data(client.get(f"/api/accounts/{account_id}")))

    def profiles(self, token: str | None = None) -> dict[str, dict[str, Any]]:
        with self.api(token) as client:
            return {p["profile_id"]: p for p in data(client.get("/api/advertising/profiles", params={"limit": 100}))}

    def claims(self, token: str | None = None) -> dict[str, dict[str, Any]]:
        with self.api(token) as client:
            return {c["advertiser_id"]: c for c in data(client.get("/api/advertising/claims", params={"limit": 100}))}

    def backfilled(self, account_id: str, timeout: float = 60) -> dict[str, Any]:
        return until(
            lambda: (
                (a := self.get_account(account_id))["backfill"]["status"] in ("succeeded", "failed", "stopped") and a
            ),
            timeout,
            f"the backfill of account {account_id} to end",
        )


@pytest.fixture(scope="module")
def ads(local_stack: RunningStack) -> Iterator[Ads]:
    """This module's advertisers granted to the partner in the emulator and claimed by the demo tenant."""
    RECEIVED.clear()
    state = Ads(local_stack, random.randrange(7000, 8000) * 100)  # 700000-799999 (810001: the operator test's)
    state.no_discovery_running()  # none lists our advertisers before the first test asks for it
    with local_stack.emulator() as emulator:
        for role, (_, kind, access) in ADVERTISERS.items():
            body = {"advertiser_id": int(state.id(role)), "name": state.name(role)}
            body |= {"advertiser_type": kind, "access": access}
            granted = emulator.post("/__emulator/connect/advertisers", json=body)
            assert granted.status_code == 201, granted.text
    with state.api() as client:
        for role in ADVERTISERS:
            claim = {"advertiser_id": state.id(role), "advertiser_name": state.name(role).upper()}  # case aside
            assert data(client.post("/api/advertising/claims", json=claim), 201)["status"] in ("waiting", "assigned")
    yield state


# -- 1. the user's flow ----------------------------------------------------------------------------------------
def test_claim_refresh_link_backfill_and_read_performance(ads: Ads):
    profile_id = ads.id("flow")
    if ads.discovered is None:  # (when this test runs first, as in a full run)
        claim = ads.claims()[profile_id]
        assert claim["status"] == "waiting" and "does not list" in claim["reason"], claim
        assert profile_id not in ads.profiles()

    run = ads.discover()
    assert run["profiles"] >= len(ADVERTISERS) + 3 and run["error"] is None, run
    profile = ads.profiles()[profile_id]
    assert (profile["advertiser_name"], profile["advertiser_type"], profile["access"], profile["status"]) == (
        ads.name("flow"),
        "3p",
        "write",
        "active",
    )
    assert profile["linked_account_id"] is None
    assert ads.claims()[profile_id]["status"] == "assigned"

    account = ads.account(name="Flow")
    linked = ads.link(account["id"], "flow").json()["data"]
    assert linked["advertising"]["profile_id"] == profile_id
    assert linked["advertising"]["status"] == "active" and linked["advertising"]["access"] == "write"
    backfill = linked["backfill"]
    assert backfill["kind"] == "backfill" and backfill["status"] in ("queued", "running"), backfill
    start, end = date.fromisoformat(backfill["window_start"]), date.fromisoformat(backfill["window_end"])
    assert (end - start).days == 59 and abs((end - yesterday()).days) <= 1, backfill
    assert ads.profiles()[profile_id]["linked_account_id"] == account["id"]

    # The progress is visible while it runs, and it ends well within a minute.
    seen: list[tuple[str, tuple[str, ...]]] = []

    def progress() -> dict[str, Any] | None:
        view = ads.get_account(account["id"])
        run = view["backfill"]
        seen.append((run["status"], tuple(r["status"] for r in run["reports"].values())))
        return view if run["status"] in ("succeeded", "failed") else None

    began = time.monotonic()
    view = until(progress, 60, "the backfill to end", interval=0.2)
    assert time.monotonic() - began < 60
    backfill = view["backfill"]
    assert backfill["status"] == "succeeded", backfill
    assert {kind: r["status"] for kind, r in backfill["reports"].items()} == {
        "adGroup": "succeeded",
        "keyword": "succeeded",
    }
    assert all(r["rows"] > 0 for r in backfill["reports"].values()), backfill
    assert any(status in ("queued", "running") for status, _ in seen), seen
    assert view["data_through"] == backfill["window_end"]

    with ads.api() as client:
        path = f"/api/accounts/{account['id']}/performance"
        daily = data(client.get(path, params={"group_by": "date"}))
        by_campaign = data(client.get(path, params={"group_by": "campaign"}))
        by_ad_group = data(client.get(path, params={"group_by": "ad_group"}))
        default = data(client.get(path))
        week = data(client.get(path, params={"from": (end - timedelta(days=6)).isoformat(), "to": end.isoformat()}))
        bad = client.get(path, params={"group_by": "keyword"})
    assert [row["date"] for row in daily] == [(start + timedelta(days=n)).isoformat() for n in range(60)]
    assert default == daily and len(week) == 7 and week == daily[-7:]
    for row in daily:
        assert Decimal(row["spend"]) >= 0 and Decimal(row["attributed_sales"]) >= 0, row
        assert isinstance(row["impressions"], int) and isinstance(row["clicks"], int), row
        assert 0 <= row["clicks"] <= row["impressions"], row
    assert sum(Decimal(row["spend"]) for row in daily) > 0

    def totals(rows: list[dict[str, Any]]) -> tuple[Decimal, int, int, Decimal]:
        return (
            sum((Decimal(r["spend"]) for r in rows), Decimal(0)),
            sum(r["impressions"] for r in rows),
            sum(r["clicks"] for r in rows),
            sum((Decimal(r["attributed_sales"]) for r in rows), Decimal(0)),
        )

    assert len(by_campaign) == 2 and all(r["campaign_id"] and r["campaign_name"] for r in by_campaign), by_campaign
    assert len(by_ad_group) == 4 and all(r["ad_group_id"] and r["campaign_id"] for r in by_ad_group), by_ad_group
    assert {r["campaign_id"] for r in by_ad_group} == {r["campaign_id"] for r in by_campaign}
    assert totals(daily) == totals(by_campaign) == totals(by_ad_group)
    assert bad.status_code == 422 and "group_by" in bad.json()["errors"], bad.text


# -- 2. one profile, one account -----------------------------------------------------------------------------
def _at_once(ads: Ads, calls: list[Callable[[httpx.Client], httpx.Response]]) -> list[httpx.Response]:
    """Run each call on its own client and thread, all released at the same moment."""
    barrier = threading.Barrier(len(calls))
    results: list[httpx.Response | BaseException | None] = [None] * len(calls)
    clients = [ads.api() for _ in calls]

    def run(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = calls[index](clients[index])
        except BaseException as error:
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for client in clients:
        client.close()
    responses = [r for r in results if isinstance(r, httpx.Response)]
    assert len(responses) == len(calls), f"a concurrent call failed: {results!r}"
    return responses


def _linker(account_id: str, profile_id: str) -> Callable[[httpx.Client], httpx.Response]:
    return lambda client: client.put(f"/api/accounts/{account_id}/advertising-profile", json={"profile_id": profile_id})


def test_concurrent_links_of_one_profile_give_one_200_and_409s_naming_the_winner(ads: Ads):
    ads.discover()
    profile_id = ads.id("race")
    accounts = [ads.account(name=f"Racer {n}")["id"] for n in range(RACERS)]
    winners: list[str] = []
    for round_number in range(ROUNDS):
        responses = _at_once(ads, [_linker(account_id, profile_id) for account_id in accounts])
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] + [409] * (RACERS - 1), (round_number, [r.text for r in responses])
        winner = next(a for a, r in zip(accounts, responses, strict=True) if r.status_code == 200)
        winners.append(winner)
        for response in responses:
            if response.status_code == 409:
                assert winner in response.json()["message"], (round_number, winner, response.text)
        assert ads.profiles()[profile_id]["linked_account_id"] == winner
        for account_id in accounts:
            view = ads.get_account(account_id)
            if account_id == winner:
                assert view["advertising"]["profile_id"] == profile_id
            else:
                assert view["advertising"] is None, (round_number, view)
        if round_number < ROUNDS - 1:
            with ads.api() as client:
                unlinked = data(client.delete(f"/api/accounts/{winner}/advertising-profile"))
            assert unlinked["advertising"] is None
            assert ads.profiles()[profile_id]["linked_account_id"] is None
    # After the churn the last winner's backfill still completes.
    assert ads.backfilled(winners[-1])["backfill"]["status"] == "succeeded"


def test_concurrent_links_of_one_account_to_two_profiles_link_at_most_one(ads: Ads):
    ads.discover()
    account_id = ads.account(name="Two profiles")["id"]
    profile_ids = [ads.id("race_a"), ads.id("race_b")]
    for round_number in range(ROUNDS):
        calls = [_linker(account_id, profile_ids[n % 2]) for n in range(4)]
        responses = _at_once(ads, calls)
        assert {r.status_code for r in responses} <= {200, 409}, [r.text for r in responses]
        won = {profile_ids[n % 2] for n, r in enumerate(responses) if r.status_code == 200}
        assert len(won) <= 1, (round_number, [r.text for r in responses])
        view = ads.get_account(account_id)
        profiles = ads.profiles()
        holders = [p for p in profile_ids if profiles[p]["linked_account_id"] == account_id]
        linked = view["advertising"]["profile_id"] if view["advertising"] else None
        assert holders == ([linked] if linked else []), (round_number, view["advertising"], holders)
        assert won <= set(holders)
        assert all(profiles[p]["linked_account_id"] in (None, account_id) for p in profile_ids)
        if linked:
            with ads.api() as client:
                data(client.delete(f"/api/accounts/{account_id}/advertising-profile"))
    assert all(ads.profiles()[p]["linked_account_id"] is None for p in profile_ids)


# -- 3. tenants ------------------------------------------------------------------------------------------------
def test_another_tenant_sees_and_touches_nothing_of_ours(ads: Ads):
    ads.discover()
    profile_id = ads.id("tenant_a")
    mine = ads.account(name="Tenant A")
    ads.link(mine["id"], "tenant_a")
    before = ads.get_account(mine["id"])
    other = ads.other_token()
    theirs = ads.account(name="Tenant B", token=other)
    demo_profiles = set(ads.profiles())
    acct = f"/api/accounts/{mine['id']}"
    company = f"/api/companies/{mine['company_id']}"

    with ads.api(other) as client:
        assert not demo_profiles & set(ads.profiles(other))
        assert not set(ads.claims()) & set(ads.claims(other))
        for method, path, body in (
            ("GET", acct, None),
            ("PUT", f"{acct}/advertising-profile", {"profile_id": profile_id}),
            ("DELETE", f"{acct}/advertising-profile", None),
            ("PATCH", f"{acct}/campaigns/{profile_id}01", {"status": "paused"}),
            ("PATCH", f"{acct}/keywords/{profile_id}010101", {"bid": "1.50"}),
            ("GET", f"{acct}/performance", None),
            ("GET", f"{acct}/performance?group_by=campaign", None),
            ("GET", f"{acct}/changes", None),
            ("GET", company, None),
            ("GET", f"{company}/accounts", None),
            ("POST", f"{company}/accounts", {"name": "Intruder", "channel": "walmart-3p"}),
            # Our profile linked to their own account: not found either.
            ("PUT", f"/api/accounts/{theirs['id']}/advertising-profile", {"profile_id": profile_id}),
        ):
            response = client.request(method, path, json=body)
            assert response.status_code == 404, (method, path, response.text)
            assert profile_id not in response.text or method == "PUT", response.text
        # Our profile is as unknown to them as a profile nobody has: the same answer.
        ours = client.put(f"/api/accounts/{theirs['id']}/advertising-profile", json={"profile_id": profile_id})
        nobodys = client.put(f"/api/accounts/{theirs['id']}/advertising-profile", json={"profile_id": "999999999"})
        assert ours.status_code == nobodys.status_code == 404
        assert ours.json()["message"].replace(profile_id, "X") == nobodys.json()["message"].replace("999999999", "X")
        # Claiming our advertiser gives them a waiting claim, not the profile.
        claim = data(
            client.post("/api/advertising/claims", json={"advertiser_id": profile_id, "advertiser_name": "x"}), 201
        )
        assert claim["status"] == "waiting", claim
        assert profile_id not in ads.profiles(other)

    with ads.api(token="") as anonymous:
        for method, path, body in (
            ("GET", "/api/advertising/profiles", None),
            ("GET", "/api/advertising/claims", None),
            ("POST", "/api/advertising/claims", {"advertiser_id": profile_id, "advertiser_name": "x"}),
            ("POST", "/api/advertising/refresh", None),
            ("GET", acct, None),
            ("PUT", f"{acct}/advertising-profile", {"profile_id": profile_id}),
            ("PATCH", f"{acct}/campaigns/{profile_id}01", {"status": "paused"}),
            ("GET", f"{acct}/performance", None),
            ("GET", f"{acct}/changes", None),
        ):
            for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer wis_" + "x" * 43}):
                response = anonymous.request(method, path, json=body, headers=headers)
                assert response.status_code == 401, (method, path, headers, response.text)

    after = ads.get_account(mine["id"])
    assert after["advertising"] == before["advertising"] and after["name"] == before["name"]
    assert ads.profiles()[profile_id]["linked_account_id"] == mine["id"]
    assert ads.claims()[profile_id]["status"] == "assigned"
    with ads.api() as client:
        assert data(client.get(f"{acct}/changes")) == []
        assert [a["id"] for a in data(client.get(f"{company}/accounts"))] == [mine["id"]]
    with ads.api(other) as client:
        assert data(client.get(f"/api/accounts/{theirs['id']}"))["advertising"] is None


# -- 4. channel, access and write-back -------------------------------------------------------------------------
def test_channel_mismatch_is_422_and_a_read_only_profile_refuses_changes_with_403(ads: Ads):
    ads.discover()
    three_p = ads.account("walmart-3p", name="3p for 1p")["id"]
    response = ads.link(three_p, "one_p", status=422)
    assert "walmart-1p" in response.json()["errors"]["profile_id"][0], response.text
    one_p = ads.account("walmart-1p", name="1p for 3p")["id"]
    response = ads.link(one_p, "write", status=422)
    assert "walmart-3p" in response.json()["errors"]["profile_id"][0], response.text
    assert ads.get_account(three_p)["advertising"] is None and ads.get_account(one_p)["advertising"] is None
    assert ads.profiles()[ads.id("one_p")]["linked_account_id"] is None
    assert ads.link(one_p, "one_p").json()["data"]["advertising"]["advertiser_type"] == "1p"

    read_only = ads.account(name="Read only")["id"]
    assert ads.link(read_only, "read").json()["data"]["advertising"]["access"] == "read"
    with ads.api() as client:
        campaign = client.patch(f"/api/accounts/{read_only}/campaigns/{ads.id('read')}01", json={"status": "paused"})
        keyword = client.patch(f"/api/accounts/{read_only}/keywords/{ads.id('read')}010101", json={"bid": "1.50"})
        assert data(client.get(f"/api/accounts/{read_only}/changes")) == []
    for response in (campaign, keyword):
        assert response.status_code == 403 and "read-only" in response.json()["message"], response.text


def test_a_change_on_a_write_profile_is_sent_to_walmart(ads: Ads):
    ads.discover()
    advertiser = ads.id("write")
    account_id = ads.account(name="Write-back")["id"]
    ads.link(account_id, "write")
    campaign = ads.connect("/api/v1/campaigns", advertiserId=advertiser)[0]
    keyword = ads.connect("/api/v1/keywords", campaignId=campaign["campaignId"])[0]
    budget = Decimal(str(campaign["dailyBudget"])) + Decimal("12.34")
    bid = Decimal(str(keyword["bid"])) + Decimal("0.25")

    with ads.api() as client:
        sent = data(
            client.patch(
                f"/api/accounts/{account_id}/campaigns/{campaign['campaignId']}",
                json={"daily_budget": str(budget), "status": "paused"},
            ),
            202,
        )
        assert sent["status"] == "queued" and sent["changes"] == {"daily_budget": str(budget), "status": "paused"}
        data(client.patch(f"/api/accounts/{account_id}/keywords/{keyword['keywordId']}", json={"bid": str(bid)}), 202)
        data(client.patch(f"/api/accounts/{account_id}/keywords/99999999", json={"state": "paused"}), 202)
        invalid = client.patch(f"/api/accounts/{account_id}/campaigns/{campaign['campaignId']}", json={})
        assert invalid.status_code == 422, invalid.text

        changes = until(
            lambda: (
                (c := data(client.get(f"/api/accounts/{account_id}/changes")))
                and all(x["status"] != "queued" for x in c)
                and c
            ),
            30,
            "the changes to be sent",
        )
    assert [c["status"] for c in changes] == ["succeeded", "succeeded", "failed"], changes
    assert changes[0]["id"] == sent["id"] and changes[2]["error"], changes

    now = {c["campaignId"]: c for c in ads.connect("/api/v1/campaigns", advertiserId=advertiser)}
    assert Decimal(str(now[campaign["campaignId"]]["dailyBudget"])) == budget
    assert now[campaign["campaignId"]]["status"] == "paused"
    keywords = {k["keywordId"]: k for k in ads.connect("/api/v1/keywords", campaignId=campaign["campaignId"])}
    assert Decimal(str(keywords[keyword["keywordId"]]["bid"])) == bid


# -- 5. revocation --------------------------------------------------------------------------------------------
def test_an_advertiser_that_removes_the_partner_is_revoked_with_a_reason(ads: Ads):
    ads.discover()
    account_id = ads.account(name="Revoked")["id"]
    ads.link(account_id, "revoke")
    other_id = ads.account(name="Still active")["id"]
    ads.link(other_id, "still_active")
    with ads.stack.emulator() as emulator:
        revoked = emulator.post(f"/__emulator/connect/advertisers/{ads.id('revoke')}/revoke")
    assert revoked.status_code == 200 and revoked.json()["revoked"] is True, revoked.text

    run = ads.discover(force=True)
    assert run["revoked"] >= 1, run
    advertising = ads.get_account(account_id)["advertising"]
    assert advertising["status"] == "revoked", advertising
    assert advertising["status_reason"] and "no longer lists" in advertising["status_reason"], advertising
    profiles = ads.profiles()
    assert profiles[ads.id("revoke")]["status"] == "revoked" and profiles[ads.id("revoke")]["status_reason"]
    assert profiles[ads.id("revoke")]["linked_account_id"] == account_id
    assert profiles[ads.id("still_active")]["status"] == "active"
    # It ends either way: succeeded before the revocation, or stopped by it (resumed if access is granted again).
    backfill = ads.backfilled(account_id)["backfill"]
    assert backfill["status"] == "succeeded" or "not granted access" in json.dumps(backfill), backfill
    assert ads.get_account(other_id)["advertising"]["status"] == "active"
    with ads.api() as client:
        refused = client.patch(f"/api/accounts/{account_id}/campaigns/{ads.id('revoke')}01", json={"status": "paused"})
    assert refused.status_code == 409 and "no longer lists" in refused.json()["message"], refused.text


# -- 6. secrets ------------------------------------------------------------------------------------------------
def test_the_partner_secret_is_in_no_response_and_no_log_line(ads: Ads, local_stack: RunningStack):
    ads.discover()
    secret = ads.partner_secret()
    with ads.api() as client:  # a few more bodies, whatever ran before
        for path in ("/api/advertising/profiles", "/api/advertising/claims", "/api/companies", "/api/openapi.json"):
            client.get(path)
        data(client.post("/api/advertising/refresh"), 202)
    assert len(RECEIVED) > 10
    key_body = "".join(line for line in secret["private_key"].splitlines() if "-----" not in line)
    assert len(secret["auth_token"]) >= 16 and len(key_body) > 200
    canaries = [secret["auth_token"], *(key_body[n : n + 32] for n in range(0, len(key_body) - 32, 97))]
    responses = "\n".join(RECEIVED)
    assert "PRIVATE KEY-----" not in responses
    for canary in canaries:
        assert canary not in responses

    text = local_stack.log_text()
    assert "Profile discovery finished" in text  # (the functions' log lines are in it)
    assert "PRIVATE KEY-----" not in text
    for canary in canaries:
        assert canary not in text
