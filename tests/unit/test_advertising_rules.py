"""Advertising rules that need no AWS: report windows, rows, poll delays, the operations budget, name matching."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from pydantic import ValidationError

from walmart_integration.config import Settings
from walmart_integration.models.advertising import CampaignChange, KeywordChange
from walmart_integration.services.ads_changes import walmart_update
from walmart_integration.services.ads_reports import AdsReports, MalformedRow, report_row
from walmart_integration.services.connect_gateway import operations_bucket, poll_delay
from walmart_integration.services.profile_discovery import same_name

NOW = datetime(2026, 12, 2, 13, 0, tzinfo=UTC)


LATEST = date(2026, 11, 30)  # the last day Walmart has published (not our yesterday, 2026-12-01)


def reports(**settings: Any) -> AdsReports:
    return AdsReports(Settings(**settings), None, None, None, None, clock=lambda: NOW)  # type: ignore[arg-type]


def plan(through: date | None = LATEST, **settings: Any) -> tuple[dict[str, Any], list[Any]]:
    run, jobs = reports(**settings).plan("t", "a", "600001", "backfill", through)
    return run.model_dump(), jobs


def test_sixty_days_is_one_snapshot_per_report_type_ending_at_walmarts_latest_day() -> None:
    run, jobs = plan()
    assert (run["window_start"], run["window_end"]) == ("2026-10-02", "2026-11-30")
    assert [(job.key, job.start, job.end) for job in jobs] == [
        ("adGroup", "2026-10-02", "2026-11-30"),
        ("keyword", "2026-10-02", "2026-11-30"),
    ]
    assert set(run["reports"]) == {"adGroup", "keyword"}


def test_a_window_longer_than_62_days_is_split() -> None:
    run, jobs = plan(ads_backfill_days=90, ads_report_types="adGroup")
    assert [(job.key, job.start, job.end) for job in jobs] == [
        ("adGroup-1", "2026-09-02", "2026-11-02"),
        ("adGroup-2", "2026-11-03", "2026-11-30"),
    ]
    assert run["window_start"] == "2026-09-02"


def test_a_window_planned_before_walmarts_latest_day_is_known_is_fixed_when_it_starts() -> None:
    run, jobs = plan(None, ads_backfill_days=90, ads_report_types="adGroup")
    assert (run["window_start"], run["window_end"], run["days"]) == (None, None, 90)
    assert [(job.key, job.start, job.end) for job in jobs] == [("adGroup-1", None, None), ("adGroup-2", None, None)]
    assert [(r["offset"], r["days"]) for r in run["reports"].values()] == [(0, 62), (62, 28)]


@pytest.mark.parametrize(
    ("answer", "types", "through"),
    [
        ({"adGroup": date(2026, 11, 30), "keyword": date(2026, 11, 29)}, "adGroup,keyword", date(2026, 11, 29)),
        ({"adGroup": date(2026, 11, 30), "keyword": date(2026, 11, 29)}, "adGroup", date(2026, 11, 30)),
        ({"pageType": date(2026, 11, 28), "adGroup": date(2026, 11, 30)}, "adGroup,keyword", date(2026, 11, 28)),
        ({"*": date(2026, 11, 27)}, "adGroup,keyword", date(2026, 11, 27)),
        ({}, "adGroup", None),
    ],
)
def test_runs_end_at_the_last_day_published_for_every_report_type_we_pull(
    answer: dict[str, date], types: str, through: date | None
) -> None:
    assert reports(ads_report_types=types).availability.through(answer) == through


def test_report_rows_are_read_by_name_with_exact_money() -> None:
    raw = {
        "adSpend": "12.30",
        "date": "2026-11-30",
        "campaignId": "60000101",
        "adGroupId": "6000010101",
        "numAdsShown": "1000",
        "numAdsClicks": "17",
        "attributedSales14days": "99.99",
        "attributedOrders14days": "3",
    }
    names = {"campaign:60000101": "Brand", "adGroup:6000010101": "Shoes"}
    row = report_row("adGroup", raw, "run", names)
    assert row["sk"] == "2026-11-30#60000101#6000010101"
    assert (row["spend"], row["attributed_sales"]) == (Decimal("12.30"), Decimal("99.99"))
    assert (row["impressions"], row["clicks"], row["attributed_orders"]) == (1000, 17, 3)
    assert (row["campaign_name"], row["ad_group_name"]) == ("Brand", "Shoes")
    assert report_row("adGroup", raw, "run")["campaign_name"] is None  # Walmart's rows carry no names
    for broken in ({"date": "yesterday"}, {"campaignId": ""}, {"adSpend": "n/a"}):
        with pytest.raises(MalformedRow):
            report_row("adGroup", {**raw, **broken}, "run")


def test_keyword_rows_read_walmarts_keyword_columns() -> None:
    raw = {
        "date": "2026-11-30",
        "campaignId": "60000101",
        "adGroupId": "6000010101",
        "keywordId": "42",
        "biddedKeyword": " running shoes ",
        "matchType": "exact",
        "adSpend": "1.10",
        "numAdsShown": "10",
        "numAdsClicks": "2",
        "directAttributedSales14days": "7.00",
        "brandAttributedSales14days": "2.00",
        "relatedAttributedSales14days": "1.01",
        "attributedOrders14days": "1",
    }
    row = report_row("keyword", raw, "run")
    assert row["sk"] == "2026-11-30#60000101#6000010101#42"
    assert (row["keyword_id"], row["keyword_text"], row["match_type"]) == ("42", "running shoes", "exact")
    assert (row["direct_attributed_sales"], row["brand_attributed_sales"], row["related_attributed_sales"]) == (
        Decimal("7.00"),
        Decimal("2.00"),
        Decimal("1.01"),
    )
    assert (row["spend"], row["attributed_orders"]) == (Decimal("1.10"), 1)
    with pytest.raises(MalformedRow):
        report_row("keyword", {**raw, "keywordId": ""}, "run")


def test_polls_back_off_and_stay_within_sqs_delays() -> None:
    settings = Settings(ads_poll_initial_seconds=30, ads_poll_max_seconds=120)
    delays = [poll_delay(settings, n) for n in range(6)]
    assert delays == [30, 45, 67.5, 101.25, 120, 120]


def test_no_rolling_hour_can_spend_more_than_the_hourly_budget() -> None:
    bucket = operations_bucket(10_000)
    assert bucket.capacity + bucket.refill_per_second * 3600 == pytest.approx(10_000)


def test_claimed_names_match_as_a_person_would_compare_them() -> None:
    assert same_name("Acme Foods, Inc.", "acme  foods inc")
    assert not same_name("Acme Foods", "Acme Food")


def test_changes_are_validated_and_sent_as_walmart_wants_them() -> None:
    with pytest.raises(ValidationError):
        CampaignChange.model_validate({})
    with pytest.raises(ValidationError):
        CampaignChange.model_validate({"daily_budget": "1.001"})
    with pytest.raises(ValidationError):
        KeywordChange.model_validate({"bid": 0.29})
    change = CampaignChange.model_validate_json('{"daily_budget": 25.10, "status": "paused"}')
    assert change.daily_budget == Decimal("25.10")
    update = walmart_update("campaign", "60000101", {"daily_budget": "25.10", "status": "paused"})
    assert update == {"campaignId": 60000101, "dailyBudget": Decimal("25.10"), "status": "paused"}
    assert walmart_update("keyword", "7", {"bid": "1.5"}) == {"keywordId": 7, "bid": Decimal("1.5")}
