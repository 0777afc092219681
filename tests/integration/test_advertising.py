"""Walmart Connect advertising through the real handlers and the Connect emulator: what a user sees.

Discovery (claims, assignment, revocation), linking (one profile, one account; channel; tenants), the 60-day
backfill and the daily refresh (rows equal to Walmart's, never duplicated), write-back, and Walmart's limits.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import boto3
import pytest

from local.harness import ADS_WORKERS, REGION
from tests.support import response_json

FAST = {"ADS_POLL_INITIAL_SECONDS": "0", "ADS_POLL_MAX_SECONDS": "0"}
ADV = 700001


@pytest.fixture
def ads(emulator, stack_factory):
    return stack_factory(**FAST)


def ok(response: dict[str, Any], status: int = 200) -> Any:
    assert response["statusCode"] == status, response["body"]
    return response_json(response)["data"] if response["body"] else None


def discover(stack) -> None:
    """A scheduled discovery run, carried through its polls."""
    stack.handler("profile_refresh").handler(
        {"source": "aws.events", "detail-type": "Scheduled Event"}, stack.context()
    )
    stack.pump(queues=ADS_WORKERS)


def account(stack, channel="walmart-3p", tenant="demo", name="Main"):
    company = ok(stack.call("POST", "/api/companies", {"name": f"Company {name}"}, tenant=tenant), 201)
    body = {"name": name, "channel": channel, "geo": "US"}
    return ok(stack.call("POST", f"/api/companies/{company['id']}/accounts", body, tenant=tenant), 201)


def claimed_profile(stack, emulator, advertiser_id=ADV, name="Acme Foods", kind="3p", access="write", tenant="demo"):
    emulator.add_advertiser(advertiser_id, name, kind, access)
    claim = {"advertiser_id": str(advertiser_id), "advertiser_name": name}
    ok(stack.call("POST", "/api/advertising/claims", claim, tenant=tenant), 201)
    discover(stack)
    return str(advertiser_id)


def linked(stack, emulator, **profile):
    profile_id = claimed_profile(stack, emulator, **profile)
    channel = "walmart-1p" if profile.get("kind") == "1p" else "walmart-3p"
    acct = account(stack, channel, tenant=profile.get("tenant", "demo"))
    ok(stack.call("PUT", f"/api/accounts/{acct['id']}/advertising-profile", {"profile_id": profile_id}))
    return acct["id"], profile_id


def expected_daily(emulator, advertiser_id: int, start: date, end: date) -> dict[str, dict[str, Any]]:
    metrics = ["date", "adSpend", "numAdsShown", "numAdsClicks", "attributedSales14days", "attributedOrders14days"]
    totals: dict[str, dict[str, Any]] = defaultdict(lambda: {"spend": Decimal(0), "impressions": 0, "clicks": 0})
    for row in emulator.report_rows(advertiser_id, "adGroup", start, end, metrics):
        total = totals[row["date"]]
        total["spend"] += Decimal(row["adSpend"])
        total["impressions"] += int(row["numAdsShown"])
        total["clicks"] += int(row["numAdsClicks"])
    return totals


def claims_of(stack, tenant="demo") -> dict[str, dict[str, Any]]:
    return {c["advertiser_id"]: c for c in ok(stack.call("GET", "/api/advertising/claims", tenant=tenant))}


def stored_rows(stack, advertiser_id: str, report_type: str) -> int:
    client = boto3.client("dynamodb", region_name=REGION)
    count, params = (
        0,
        {
            "TableName": stack.env["DATA_TABLE_NAME"],
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": f"ADPERF#{advertiser_id}#{report_type}"}},
            "Select": "COUNT",
        },
    )
    while True:
        page = client.query(**params)
        count += page["Count"]
        if "LastEvaluatedKey" not in page:
            return count
        params["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def days_pass(emulator, days: float) -> None:
    """Move Walmart's "now" for report days (the emulator's knob): a day passes, Walmart publishes the next."""
    emulator.connect_faults.update({"now_offset_seconds": emulator.connect_faults.now_offset_seconds + days * 86400})


def a_day_published(stack, emulator, days: float = 1) -> None:
    """Days pass, then the next discovery run (every 15 minutes) hears which day Walmart has published."""
    days_pass(emulator, days)
    discover(stack)


def scheduled(stack) -> int:
    """One run of the scheduler (EventBridge, every 15 minutes): the advertising runs it started."""
    return int(stack.handler("scheduler").handler({"source": "aws.events"}, stack.context())["advertising_refreshes"])


# -- discovery, claims and assignment --------------------------------------------------------------------------
def test_a_claimed_advertiser_is_assigned_on_discovery_and_listed_with_its_link_state(ads, emulator):
    ok(ads.call("POST", "/api/advertising/claims", {"advertiser_id": str(ADV), "advertiser_name": "acme  foods"}), 201)
    claim = claims_of(ads)[str(ADV)]  # (the demo tenant also claims the emulator's demo advertisers)
    assert claim["status"] == "waiting" and "does not list" in claim["reason"]
    emulator.add_advertiser(ADV, "Acme Foods", "3p", "write")

    refresh = ok(ads.call("POST", "/api/advertising/refresh"), 202)
    assert refresh["status"] == "requested"
    ads.pump(queues=ADS_WORKERS)

    profiles = ok(ads.call("GET", "/api/advertising/profiles"))
    assert [(p["profile_id"], p["advertiser_type"], p["access"], p["status"]) for p in profiles] == [
        (str(ADV), "3p", "write", "active")
    ]
    assert profiles[0]["linked_account_id"] is None
    assert claims_of(ads)[str(ADV)]["status"] == "assigned"
    # Other tenants see nothing of it.
    assert ok(ads.call("GET", "/api/advertising/profiles", tenant="other")) == []


def test_discovery_costs_the_same_whatever_the_number_of_tenants(ads, emulator):
    for n in range(5):
        emulator.add_advertiser(ADV + n, f"Brand {n}", "3p", "read")
        claim = {"advertiser_id": str(ADV + n), "advertiser_name": f"Brand {n}"}
        ok(ads.call("POST", "/api/advertising/claims", claim, tenant=f"tenant-{n}"), 201)
    discover(ads)
    assert emulator.ads_calls("POST /api/v1/snapshot/insight") == 1
    for n in range(5):
        assert [p["profile_id"] for p in ok(ads.call("GET", "/api/advertising/profiles", tenant=f"tenant-{n}"))] == [
            str(ADV + n)
        ]


def test_a_refresh_asked_for_during_a_run_joins_it(ads, emulator):
    first = ok(ads.call("POST", "/api/advertising/refresh"), 202)
    second = ok(ads.call("POST", "/api/advertising/refresh", tenant="other"), 202)
    assert second["refresh_id"] == first["refresh_id"]
    ads.pump(queues=ADS_WORKERS)
    assert emulator.ads_calls("POST /api/v1/snapshot/insight") == 1


def test_contested_and_mismatched_claims_wait_for_an_operator(ads, emulator):
    emulator.add_advertiser(ADV, "Acme Foods", "3p", "write")
    emulator.add_advertiser(ADV + 1, "Blue Widgets", "1p", "write")
    for tenant in ("demo", "other"):
        ok(
            ads.call(
                "POST",
                "/api/advertising/claims",
                {"advertiser_id": str(ADV), "advertiser_name": "Acme Foods"},
                tenant=tenant,
            ),
            201,
        )
    ok(
        ads.call("POST", "/api/advertising/claims", {"advertiser_id": str(ADV + 1), "advertiser_name": "Red Widgets"}),
        201,
    )
    discover(ads)

    for tenant in ("demo", "other"):
        assert ok(ads.call("GET", "/api/advertising/profiles", tenant=tenant)) == []
    reasons = {c["advertiser_id"]: (c["status"], c["reason"]) for c in ok(ads.call("GET", "/api/advertising/claims"))}
    assert reasons[str(ADV)][0] == "waiting" and "More than one tenant" in reasons[str(ADV)][1]
    assert reasons[str(ADV + 1)][0] == "waiting" and "differs" in reasons[str(ADV + 1)][1]

    from walmart_integration.services.profile_discovery import ProfileAssignment
    from walmart_integration.store.advertising import AdvertisingRepository

    assignment = ProfileAssignment(AdvertisingRepository(ads.env["APP_TABLE_NAME"], REGION))
    assert {w["advertiser_id"]: w["reason"] for w in assignment.waiting()} == {
        str(ADV): "contested",
        str(ADV + 1): "name_mismatch",
    }
    assignment.resolve(str(ADV), "other")
    assert [p["profile_id"] for p in ok(ads.call("GET", "/api/advertising/profiles", tenant="other"))] == [str(ADV)]
    assert ok(ads.call("GET", "/api/advertising/profiles")) == []
    assert {c["advertiser_id"]: c["status"] for c in ok(ads.call("GET", "/api/advertising/claims"))}[str(ADV)] == (
        "rejected"
    )


# -- linking ---------------------------------------------------------------------------------------------------
def test_link_rules_channel_tenant_and_one_account_per_profile(ads, emulator):
    profile_id = claimed_profile(ads, emulator)
    one_p = account(ads, "walmart-1p", name="1p")
    response = ads.call("PUT", f"/api/accounts/{one_p['id']}/advertising-profile", {"profile_id": profile_id})
    assert response["statusCode"] == 422
    assert "walmart-3p" in response_json(response)["errors"]["profile_id"][0]

    theirs = account(ads, tenant="other", name="Theirs")
    response = ads.call(
        "PUT", f"/api/accounts/{theirs['id']}/advertising-profile", {"profile_id": profile_id}, tenant="other"
    )
    assert response["statusCode"] == 404
    # Another tenant's account is not found either, whatever the profile.
    response = ads.call("PUT", f"/api/accounts/{theirs['id']}/advertising-profile", {"profile_id": profile_id})
    assert response["statusCode"] == 404
    assert ads.call("GET", f"/api/accounts/{theirs['id']}")["statusCode"] == 404

    first, second = account(ads, name="First"), account(ads, name="Second")
    linked_view = ok(ads.call("PUT", f"/api/accounts/{first['id']}/advertising-profile", {"profile_id": profile_id}))
    assert linked_view["advertising"]["profile_id"] == profile_id and linked_view["backfill"]["status"] == "queued"
    response = ads.call("PUT", f"/api/accounts/{second['id']}/advertising-profile", {"profile_id": profile_id})
    assert response["statusCode"] == 409
    assert first["id"] in response_json(response)["message"]
    # Linking again what is linked is not a second backfill.
    again = ok(ads.call("PUT", f"/api/accounts/{first['id']}/advertising-profile", {"profile_id": profile_id}))
    assert again["backfill"]["run_id"] == linked_view["backfill"]["run_id"]
    assert ok(ads.call("GET", "/api/advertising/profiles"))[0]["linked_account_id"] == first["id"]


def test_unknown_profiles_and_bad_bodies(ads, emulator):
    acct = account(ads)
    assert (
        ads.call("PUT", f"/api/accounts/{acct['id']}/advertising-profile", {"profile_id": "999"})["statusCode"] == 404
    )
    for body in ({"profile_id": 5}, {"profile_id": "abc"}, {}, {"profile_id": "1", "x": 1}):
        response = ads.call("PUT", f"/api/accounts/{acct['id']}/advertising-profile", body)
        assert response["statusCode"] == 422, body
    company = ok(ads.call("POST", "/api/companies", {"name": "C"}), 201)
    for body in (
        {"name": "A", "channel": "walmart"},
        {"name": "A", "channel": "walmart-1p", "geo": "us"},
        {"name": " ", "channel": "walmart-1p"},
        {"channel": "walmart-1p"},
    ):
        response = ads.call("POST", f"/api/companies/{company['id']}/accounts", body)
        assert response["statusCode"] == 422, body
    assert ads.call("POST", "/api/companies/nope/accounts", {"name": "A", "channel": "walmart-1p"})["statusCode"] == 404
    assert (
        ads.call("POST", "/api/advertising/claims", {"advertiser_id": "x1", "advertiser_name": "A"})["statusCode"]
        == 422
    )


# -- backfill and refresh ---------------------------------------------------------------------------------------
def test_link_backfills_sixty_days_with_one_report_per_type_and_serves_walmarts_numbers(ads, emulator):
    account_id, profile_id = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)

    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    backfill = view["backfill"]
    assert backfill["status"] == "succeeded", backfill
    end = emulator.latest_report_date()  # the last day Walmart has published, not our yesterday
    start = end - timedelta(days=59)
    assert (backfill["window_start"], backfill["window_end"]) == (start.isoformat(), end.isoformat())
    assert {key: r["status"] for key, r in backfill["reports"].items()} == {
        "adGroup": "succeeded",
        "keyword": "succeeded",
    }
    assert view["data_through"] == end.isoformat()
    assert emulator.ads_calls("POST /api/v2/snapshot/report", advertiser_id=ADV) == 2

    daily = ok(ads.call("GET", f"/api/accounts/{account_id}/performance", query={"group_by": "date"}))
    expected = expected_daily(emulator, ADV, start, end)
    assert len(daily) == 60 == len(expected)
    for row in daily:
        want = expected[row["date"]]
        assert (Decimal(row["spend"]), row["impressions"], row["clicks"]) == (
            want["spend"],
            want["impressions"],
            want["clicks"],
        )
    by_campaign = ok(ads.call("GET", f"/api/accounts/{account_id}/performance", query={"group_by": "campaign"}))
    assert sum(Decimal(r["spend"]) for r in by_campaign) == sum(w["spend"] for w in expected.values())
    assert all(r["campaign_name"] for r in by_campaign)
    # Walmart's adGroup report has no names (FACTS.md): they come from Walmart's campaign and ad group lists.
    assert {r["campaign_id"]: r["campaign_name"] for r in by_campaign} == {
        str(c["campaignId"]): c["name"] for c in emulator.campaigns(ADV)
    }
    by_group = ok(ads.call("GET", f"/api/accounts/{account_id}/performance", query={"group_by": "ad_group"}))
    assert len(by_group) == len(emulator.report_rows(ADV, "adGroup", end, end, ["adGroupId"]))
    assert all(r["ad_group_name"] for r in by_group)
    week = ok(
        ads.call(
            "GET",
            f"/api/accounts/{account_id}/performance",
            query={"from": (end - timedelta(days=6)).isoformat(), "to": end.isoformat()},
        )
    )
    assert len(week) == 7
    assert stored_rows(ads, profile_id, "keyword") == len(
        emulator.report_rows(ADV, "keyword", start, end, ["date", "keywordId"])
    )
    bad = ads.call("GET", f"/api/accounts/{account_id}/performance", query={"from": "2026-13-01"})
    assert bad["statusCode"] == 422 and "from" in response_json(bad)["errors"]


def test_duplicate_deliveries_request_nothing_twice_and_store_nothing_twice(ads, emulator):
    account_id, profile_id = linked(ads, emulator)
    sqs = boto3.client("sqs", region_name=REGION)
    url = ads.env["queue:AdsReportQueue"]
    handler = ads.handler("ads_reports").handler
    for _ in range(20):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            for _ in range(2):  # every message delivered twice
                result = handler(ads.sqs_event([message["Body"]]), ads.context())
                assert result["batchItemFailures"] == []
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    assert ok(ads.call("GET", f"/api/accounts/{account_id}"))["backfill"]["status"] == "succeeded"
    assert emulator.ads_calls("POST /api/v2/snapshot/report", advertiser_id=ADV) == 2
    end = emulator.latest_report_date()
    start = end - timedelta(days=59)
    assert stored_rows(ads, profile_id, "adGroup") == len(
        emulator.report_rows(ADV, "adGroup", start, end, ["date", "adGroupId"])
    )


class Killed(BaseException):
    """The worker's process died (as the local chaos kills it: right after a successful DynamoDB write)."""


@pytest.mark.parametrize("snapshots", ["ready after a few polls", "failing"])
def test_a_worker_killed_after_any_write_of_a_report_step_loses_nothing(ads, emulator, monkeypatch, snapshots):
    """Each message is delivered until a delivery completes: the first dies after its first DynamoDB write, the
    redelivery after its second, and so on. Every step (request, poll, a failed snapshot asked for again, download,
    the run's end) is cut after each of its writes, and the run still ends."""
    from walmart_integration.store.advertising import AdvertisingRepository, PerformanceRepository

    failing = snapshots == "failing"
    emulator.connect_faults.update({"report_processing_seconds": 0.5, "report_failure_rate": 1.0 if failing else 0})
    account_id, profile_id = linked(ads, emulator)
    plan = {"kill_at": 0, "writes": 0}

    def dying(original, wrote=lambda result: result is not None):
        def write(*args, **kwargs):
            result = original(*args, **kwargs)
            if wrote(result):
                plan["writes"] += 1
                if plan["writes"] == plan["kill_at"]:
                    raise Killed
            return result

        return write

    monkeypatch.setattr(AdvertisingRepository, "update", dying(AdvertisingRepository.update))
    monkeypatch.setattr(AdvertisingRepository, "_put", dying(AdvertisingRepository._put, lambda _: True))
    monkeypatch.setattr(PerformanceRepository, "put_rows", dying(PerformanceRepository.put_rows, lambda _: True))
    sqs = boto3.client("sqs", region_name=REGION)
    url = ads.env["queue:AdsReportQueue"]
    handler = ads.handler("ads_reports").handler
    kills = 0
    for _ in range(2000):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            plan["kill_at"] = 1
            while True:
                plan["writes"] = 0
                try:
                    result = handler(ads.sqs_event([message["Body"]]), ads.context())
                except Killed:
                    kills += 1
                    plan["kill_at"] += 1  # the same message again (SQS redelivers it), dying one write later
                    continue
                break
            assert result["batchItemFailures"] == []
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    plan["kill_at"] = 0
    assert kills > 0
    backfill = ok(ads.call("GET", f"/api/accounts/{account_id}"))["backfill"]
    assert backfill["status"] == ("failed" if failing else "succeeded"), backfill["reports"]
    if failing:
        assert emulator.ads_calls("POST /api/v2/snapshot/report", advertiser_id=ADV) == 2 * 3
        return
    end = emulator.latest_report_date()
    start = end - timedelta(days=59)
    assert stored_rows(ads, profile_id, "adGroup") == len(
        emulator.report_rows(ADV, "adGroup", start, end, ["date", "adGroupId"])
    )


def test_report_days_end_at_the_day_walmart_has_published(ads, emulator):
    # Just after midnight UTC: in Walmart's time zone yesterday is not over, let alone published.
    midnight = datetime.now(UTC).replace(hour=0, minute=5, second=0, microsecond=0)
    emulator.connect_faults.update({"now_offset_seconds": midnight.timestamp() - datetime.now(UTC).timestamp()})
    latest = emulator.latest_report_date()
    assert latest < midnight.date() - timedelta(days=1)
    account_id, _ = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    assert view["backfill"]["status"] == "succeeded", view["backfill"]
    assert view["backfill"]["window_end"] == latest.isoformat() == view["data_through"]
    assert view["backfill"]["window_start"] == (latest - timedelta(days=59)).isoformat()
    assert emulator.ads_calls("POST /api/v2/snapshot/report", status=400) == 0  # never asked beyond it
    assert emulator.ads_calls("GET /api/v2/latestReportDate") >= 1
    assert scheduled(ads) == 0  # the daily refresh waits for Walmart's next day


def test_a_backfill_linked_before_walmarts_latest_day_is_known_fixes_its_window_when_it_starts(ads, emulator):
    emulator.faults.fail_next("/api/v2/latestReportDate", 503, count=10)  # discovery cannot hear it
    profile_id = claimed_profile(ads, emulator)
    assert ok(ads.call("GET", "/api/advertising/profiles"))[0]["status"] == "active"  # discovery went on
    acct = account(ads)
    linked_view = ok(ads.call("PUT", f"/api/accounts/{acct['id']}/advertising-profile", {"profile_id": profile_id}))
    assert (linked_view["backfill"]["window_start"], linked_view["backfill"]["window_end"]) == (None, None)
    emulator.faults.clear_forced()
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{acct['id']}"))
    latest = emulator.latest_report_date()
    assert view["backfill"]["status"] == "succeeded", view["backfill"]
    assert (view["backfill"]["window_start"], view["backfill"]["window_end"]) == (
        (latest - timedelta(days=59)).isoformat(),
        latest.isoformat(),
    )
    assert {r["end"] for r in view["backfill"]["reports"].values()} == {latest.isoformat()}
    assert view["data_through"] == latest.isoformat()


def test_the_daily_refresh_runs_once_walmart_publishes_a_day_and_repulls_restated_days(ads, emulator):
    account_id, profile_id = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    rows_before = stored_rows(ads, profile_id, "adGroup")
    backfilled = emulator.latest_report_date()
    assert scheduled(ads) == 0  # nothing new is published: no refresh (it used to fire after midnight UTC)

    a_day_published(ads, emulator)  # Walmart publishes the next day and restates the days before it
    end = emulator.latest_report_date()
    assert end == backfilled + timedelta(days=1)
    emulator.restate(ADV, days=14)
    assert scheduled(ads) == 1
    ads.pump(queues=ADS_WORKERS)
    assert scheduled(ads) == 0  # not due again until Walmart publishes another day

    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    assert view["refresh"]["status"] == "succeeded"
    assert (view["refresh"]["window_start"], view["refresh"]["window_end"]) == (
        (end - timedelta(days=13)).isoformat(),
        end.isoformat(),
    )
    assert view["data_through"] == end.isoformat()
    new_day = len(emulator.report_rows(ADV, "adGroup", end, end, ["date", "adGroupId"]))
    assert stored_rows(ads, profile_id, "adGroup") == rows_before + new_day  # re-pulled days replaced
    expected = expected_daily(emulator, ADV, end - timedelta(days=59), end)
    daily = ok(ads.call("GET", f"/api/accounts/{account_id}/performance"))  # by default: 60 days to data_through
    assert {row["date"]: Decimal(row["spend"]) for row in daily} == {d: v["spend"] for d, v in expected.items()}


def test_a_run_that_lost_its_messages_is_replaced_after_twelve_hours(ads, emulator):
    account_id, _ = linked(ads, emulator)
    sqs = boto3.client("sqs", region_name=REGION)
    sqs.purge_queue(QueueUrl=ads.env["queue:AdsReportQueue"])  # its messages are gone (a dead-letter queue, say)
    assert scheduled(ads) == 0  # a run in progress is left alone
    started = (datetime.now(UTC) - timedelta(hours=13)).strftime("%Y-%m-%dT%H:%M:%SZ")
    boto3.client("dynamodb", region_name=REGION).update_item(
        TableName=ads.env["APP_TABLE_NAME"],
        Key={"pk": {"S": "TENANT#demo"}, "sk": {"S": f"ACCOUNT#{account_id}"}},
        UpdateExpression="SET backfill.started_at = :t",
        ExpressionAttributeValues={":t": {"S": started}},
    )
    assert scheduled(ads) == 1  # thirteen hours later it is taken for dead and started again
    assert scheduled(ads) == 0
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    assert view["backfill"]["status"] == "succeeded", view["backfill"]
    assert view["data_through"] == emulator.latest_report_date().isoformat()


def test_a_failed_snapshot_is_requested_again(ads, emulator):
    emulator.connect_faults.update({"report_failure_rate": 1.0})
    account_id, _ = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    backfill = ok(ads.call("GET", f"/api/accounts/{account_id}"))["backfill"]
    assert backfill["status"] == "failed"
    assert all(r["status"] == "failed" for r in backfill["reports"].values())
    assert emulator.ads_calls("POST /api/v2/snapshot/report", advertiser_id=ADV) == 2 * 3


def test_walmart_429_defers_the_work_ten_minutes_without_failing_it(ads, emulator):
    account_id, _ = linked(ads, emulator)
    emulator.connect_faults.update({"hourly_operations": emulator.ads_operations()})  # Walmart's budget is spent
    sqs = boto3.client("sqs", region_name=REGION)
    url = ads.env["queue:AdsReportQueue"]
    bodies = [m["Body"] for m in sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]]
    result = ads.handler("ads_reports").handler(ads.sqs_event(bodies[:1]), ads.context())
    assert result["batchItemFailures"] == []  # waiting is not a failure: the message is sent again, delayed
    attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
    assert int(attributes["Attributes"]["ApproximateNumberOfMessagesDelayed"]) == 1
    assert ok(ads.call("GET", f"/api/accounts/{account_id}"))["backfill"]["status"] in ("queued", "running")
    assert emulator.ads_calls(status=429) == 1


def test_our_shared_budget_defers_work_before_walmart_says_429(stack_factory, emulator):
    ads = stack_factory(**FAST, WALMART_ADS_HOURLY_OPERATIONS="10")  # 5 at once, then 5 over the hour
    linked(ads, emulator)
    with pytest.raises(AssertionError, match="did not drain"):
        ads.pump(queues=ADS_WORKERS, timeout=3)
    assert emulator.ads_calls(status=429) == 0
    assert emulator.ads_operations() <= 10


# -- revocation and write-back -------------------------------------------------------------------------------
def test_a_revoked_profile_stops_syncing_and_says_why(ads, emulator):
    account_id, _ = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    emulator.revoke_advertiser(ADV)
    discover(ads)
    assert discovery_run(ads)["attempts"] == 2  # an empty list is believed when the next one is empty too
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    assert view["advertising"]["status"] == "revoked"
    assert "no longer lists" in view["advertising"]["status_reason"]
    assert ok(ads.call("GET", "/api/advertising/profiles"))[0]["status"] == "revoked"
    assert ads.handler("scheduler").handler({}, ads.context())["advertising_refreshes"] == 0
    response = ads.call("PATCH", f"/api/accounts/{account_id}/campaigns/1", {"status": "paused"})
    assert response["statusCode"] == 409
    # Access granted again: the profile is active again.
    emulator.add_advertiser(ADV, "Acme Foods", "3p", "write")
    discover(ads)
    assert ok(ads.call("GET", f"/api/accounts/{account_id}"))["advertising"]["status"] == "active"


def test_access_granted_again_resumes_the_account_and_pulls_the_days_it_missed(ads, emulator):
    # Revoked before its backfill ran: the backfill stops.
    account_id, _ = linked(ads, emulator)
    emulator.revoke_advertiser(ADV)
    discover(ads)
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    assert view["advertising"]["status"] == "revoked" and view["backfill"]["status"] == "stopped", view
    assert scheduled(ads) == 0  # nothing runs for a revoked profile

    # Granted again: the next schedule resumes the backfill on its own.
    emulator.add_advertiser(ADV, "Acme Foods", "3p", "write")
    discover(ads)
    assert scheduled(ads) == 1
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    latest = emulator.latest_report_date()
    assert view["backfill"]["status"] == "succeeded", view["backfill"]
    assert view["data_through"] == latest.isoformat()

    # Revoked for three weeks, then granted again: every day it missed is pulled, not only the trailing 14.
    emulator.revoke_advertiser(ADV)
    discover(ads)
    days_pass(emulator, 21)
    emulator.add_advertiser(ADV, "Acme Foods", "3p", "write")
    discover(ads)
    assert scheduled(ads) == 1
    ads.pump(queues=ADS_WORKERS)
    view = ok(ads.call("GET", f"/api/accounts/{account_id}"))
    end = emulator.latest_report_date()
    assert view["refresh"]["status"] == "succeeded", view["refresh"]
    assert view["refresh"]["window_start"] == (latest + timedelta(days=1)).isoformat()
    assert view["data_through"] == end.isoformat()
    expected = expected_daily(emulator, ADV, end - timedelta(days=59), end)
    daily = ok(ads.call("GET", f"/api/accounts/{account_id}/performance"))
    assert {row["date"]: Decimal(row["spend"]) for row in daily} == {d: v["spend"] for d, v in expected.items()}
    assert scheduled(ads) == 0  # then the daily refresh, once Walmart publishes the next day
    a_day_published(ads, emulator)
    assert scheduled(ads) == 1


def discovery_run(stack) -> dict[str, Any]:
    from walmart_integration.store.advertising import AdvertisingRepository

    run = AdvertisingRepository(stack.env["APP_TABLE_NAME"], REGION).discovery()
    assert run is not None
    return run.model_dump()


def test_an_empty_unreadable_or_failed_advertiser_snapshot_revokes_nobody(ads, emulator):
    account_id, profile_id = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    requested = emulator.ads_calls("POST /api/v1/snapshot/insight")

    # Three bad snapshots in a row: each is asked for again, then the run ends failed; every profile stays.
    emulator.connect_faults.update({"insight_faults": ["empty", "unreadable", "failed"]})
    discover(ads)
    run = discovery_run(ads)
    assert run["status"] == "failed", run
    assert "kept" in run["error"] and "failed" in run["error"], run
    assert emulator.ads_calls("POST /api/v1/snapshot/insight") == requested + 3
    assert {p["profile_id"]: p["status"] for p in ok(ads.call("GET", "/api/advertising/profiles"))} == {
        profile_id: "active"
    }
    assert ok(ads.call("GET", f"/api/accounts/{account_id}"))["advertising"]["status"] == "active"

    # One empty list: the run asks again at once and reads the whole list. (Two in a row are believed: the last
    # advertiser to remove the partner leaves an empty list, see test_a_revoked_profile_stops_syncing_and_says_why.)
    emulator.connect_faults.update({"insight_faults": ["empty"]})
    discover(ads)
    run = discovery_run(ads)
    assert (run["status"], run["revoked"], run["profiles"]) == ("succeeded", 0, 1), run
    assert emulator.ads_calls("POST /api/v1/snapshot/insight") == requested + 5

    # A list with a record we cannot read: what it lists is kept up to date, nothing is revoked on its word.
    emulator.add_advertiser(ADV + 1, "Other Brand", "3p", "write")
    emulator.connect_faults.update({"insight_faults": ["malformed"]})  # the first record (ADV) unreadable
    discover(ads)
    run = discovery_run(ads)
    assert (run["status"], run["revoked"], run["profiles"], run["skipped"]) == ("succeeded", 0, 1, 1), run
    assert "not revoked" in run["error"], run
    assert ok(ads.call("GET", "/api/advertising/profiles"))[0]["status"] == "active"
    # The next whole list does revoke what Walmart stopped listing.
    emulator.revoke_advertiser(ADV)
    discover(ads)
    assert (discovery_run(ads)["status"], discovery_run(ads)["revoked"]) == ("succeeded", 1)
    assert ok(ads.call("GET", "/api/advertising/profiles"))[0]["status"] == "revoked"


def test_changes_are_sent_to_walmart_and_their_results_are_visible(ads, emulator):
    account_id, _ = linked(ads, emulator)
    campaign = emulator.campaigns(ADV)[0]
    keyword = emulator.keywords(ADV)[0]
    change = ok(
        ads.call(
            "PATCH",
            f"/api/accounts/{account_id}/campaigns/{campaign['campaignId']}",
            {"daily_budget": 25.5, "status": "paused"},
        ),
        202,
    )
    assert change["status"] == "queued" and change["changes"] == {"daily_budget": "25.5", "status": "paused"}
    ok(ads.call("PATCH", f"/api/accounts/{account_id}/keywords/{keyword['keywordId']}", {"bid": "1.25"}), 202)
    ok(ads.call("PATCH", f"/api/accounts/{account_id}/keywords/99999999", {"state": "paused"}), 202)
    ads.pump(queues={"AdsWriteBackQueue": "ads_writeback"})

    changes = ok(ads.call("GET", f"/api/accounts/{account_id}/changes"))
    assert [c["status"] for c in changes] == ["succeeded", "succeeded", "failed"]
    assert changes[2]["error"] == "Keyword 99999999 not found"  # Walmart's per-item result, read back
    assert Decimal(str(emulator.campaign(campaign["campaignId"])["dailyBudget"])) == Decimal("25.5")
    assert emulator.campaign(campaign["campaignId"])["status"] == "paused"
    assert Decimal(str(emulator.keyword(keyword["keywordId"])["bid"])) == Decimal("1.25")
    # A duplicate delivery of a sent change sends nothing.
    calls = emulator.ads_calls("PUT /api/v1/campaigns")
    body = json.dumps({"tenant_id": "demo", "account_id": account_id, "change_id": changes[0]["id"]})
    ads.handler("ads_writeback").handler(ads.sqs_event([body]), ads.context())
    assert emulator.ads_calls("PUT /api/v1/campaigns") == calls


def test_read_only_access_refuses_changes_with_403_and_bad_changes_are_422(ads, emulator):
    account_id, _ = linked(ads, emulator, access="read")
    response = ads.call("PATCH", f"/api/accounts/{account_id}/campaigns/1", {"status": "paused"})
    assert response["statusCode"] == 403 and "read-only" in response_json(response)["message"]
    writable, _ = linked(ads, emulator, advertiser_id=ADV + 1, name="Writable")
    for path, body in (
        ("campaigns/1", {}),
        ("campaigns/1", {"daily_budget": 0}),
        ("campaigns/1", {"daily_budget": 1.234}),
        ("campaigns/1", {"status": "archived"}),
        ("keywords/1", {"bid": 0.1}),
        ("keywords/abc", {"bid": 1}),
    ):
        response = ads.call("PATCH", f"/api/accounts/{writable}/{path}", body)
        assert response["statusCode"] == 422, (path, body, response["body"])
    assert (
        ads.call("PATCH", f"/api/accounts/{writable}/campaigns/1", {"status": "paused"}, tenant="other")["statusCode"]
        == 404
    )


def test_no_secret_reaches_a_response_or_a_log_line(ads, emulator, capsys):
    secret = json.loads(
        boto3.client("secretsmanager", region_name=REGION).get_secret_value(
            SecretId=ads.env["WALMART_ADS_SECRET_NAME"]
        )["SecretString"]
    )
    account_id, _ = linked(ads, emulator)
    ads.pump(queues=ADS_WORKERS)
    bodies = [
        ads.call("GET", f"/api/accounts/{account_id}")["body"],
        ads.call("GET", "/api/advertising/profiles")["body"],
    ]
    output = capsys.readouterr()
    text = "\n".join([*bodies, output.out, output.err])
    key_body = "".join(line for line in secret["private_key"].splitlines() if "-----" not in line)
    for canary in (secret["auth_token"], key_body[:40], key_body[-40:]):
        assert canary not in text
