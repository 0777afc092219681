"""The cost bench's arithmetic (bench/cost_model.py, bench/cost.py's extrapolation): AWS's unit rules, prices x
quantities, the Lambda duration model and the memory choice rule. No AWS, no sockets."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from bench import cost, cost_model, prices


def s(text: str) -> dict[str, str]:
    return {"S": text}


# -- DynamoDB item sizes (CapacityUnitCalculations.html) --------------------------------------------------------------
def test_an_item_is_its_names_and_values_in_bytes() -> None:
    assert cost_model.item_size({"pk": s("TENANT#é")}) == 2 + 9  # UTF-8: é is two bytes
    # A number: one byte per two significant digits, plus one; leading and trailing zeros do not count.
    assert cost_model.item_size({"n": {"N": "123.45"}}) == 1 + 4
    assert cost_model.item_size({"n": {"N": "-0.00120"}}) == 1 + 2
    assert cost_model.item_size({"ok": {"BOOL": True}, "gone": {"NULL": True}}) == 2 + 1 + 4 + 1
    assert cost_model.item_size({"b": {"B": b"\x00\x01\x02"}}) == 1 + 3
    # Lists and maps: 3 bytes, plus each element and one byte per element.
    assert cost_model.item_size({"m": {"M": {"a": s("xy")}}}) == 1 + 3 + (1 + 2 + 1)
    assert cost_model.item_size({"l": {"L": [s("x"), {"N": "7"}]}}) == 1 + 3 + (1 + 1) + (2 + 1)
    assert cost_model.item_size({"ss": {"SS": ["ab", "c"]}}) == 2 + 3
    assert cost_model.item_size(None) == 0


# -- DynamoDB request units (read-write-operations.html) ---------------------------------------------------------------
def test_reads_round_up_to_4_kb_and_halve_when_eventually_consistent() -> None:
    assert cost_model.read_units(3500, consistent=True) == 1
    assert cost_model.read_units(3500) == Decimal("0.5")
    assert cost_model.read_units(10 * 1024, consistent=True) == 3
    assert cost_model.read_units(0) == Decimal("0.5")  # reading nothing still costs the minimum
    assert cost_model.read_units(4096, transactional=True) == 2


def test_writes_round_up_to_1_kb_and_double_in_a_transaction() -> None:
    assert cost_model.write_units(1536) == 2
    assert cost_model.write_units(1536, transactional=True) == 4
    assert cost_model.write_units(0) == 1


def test_an_update_costs_the_larger_item_and_each_index_it_touches() -> None:
    index = cost_model.IndexKeys("gsi1", ("gsi1pk", "gsi1sk"))
    before = {"pk": s("P"), "sk": s("S"), "body": s("x" * 900)}
    after = {**before, "body": s("x" * 1100)}
    assert cost_model.item_write_units(before, after) == 2  # 1,100-odd bytes: two units
    assert cost_model.item_write_units(after, before) == 2  # shrinking is sized by the item before
    indexed = {**after, "gsi1pk": s("I"), "gsi1sk": s("1")}
    # Not in the index before, in it after: one index write of the new item.
    assert cost_model.item_write_units(before, indexed, [index]) == 2 + 2
    # Index key unchanged: one index write; changed: the old entry deleted and the new one put.
    assert cost_model.item_write_units(indexed, {**indexed, "body": s("y")}, [index]) == 2 + 2
    moved = {**indexed, "gsi1sk": s("2")}
    assert cost_model.item_write_units(indexed, moved, [index]) == 2 + 2 + 2
    # In a transaction the table write doubles, the index write does not.
    assert cost_model.item_write_units(indexed, moved, [index], transactional=True) == 4 + 2 + 2


def test_a_failed_condition_still_costs_its_write() -> None:
    big = {"pk": s("P"), "body": s("x" * 3000)}
    assert cost_model.item_write_units(None, big, failed=True) == 1  # the item does not exist: one unit
    assert cost_model.item_write_units(big, big, failed=True) == 3  # it exists: by its size


def test_a_query_sums_the_items_it_evaluates_before_rounding() -> None:
    items = [{"body": s("x" * 1496)}] * 3  # 3 x 1,500 bytes = 4,500: two 4 KB blocks
    assert cost_model.query_read_units(items) == 1
    assert cost_model.query_read_units(items, consistent=True) == 2
    assert cost_model.query_read_units([]) == Decimal("0.5")


# -- SQS and EventBridge chunks ------------------------------------------------------------------------------------
def test_requests_are_billed_per_started_64_kb_chunk() -> None:
    assert cost_model.sqs_requests(0) == 1
    assert cost_model.sqs_requests(64 * 1024) == 1
    assert cost_model.sqs_requests(64 * 1024 + 1) == 2
    entry = {"Source": "src", "DetailType": "Type", "Detail": '{"a": 1}', "Resources": ["arn:x"]}
    assert cost_model.eventbridge_event_size(entry) == 14 + 3 + 4 + 8 + 5
    assert cost_model.eventbridge_events({**entry, "Detail": "x" * (64 * 1024)}) == 2


# -- Lambda: duration, cost, memory ------------------------------------------------------------------------------------
def test_cpu_time_stretches_below_one_vcpu_and_io_does_not() -> None:
    assert cost_model.duration_seconds(0.1, 0.05, 1769) == pytest.approx(0.15)
    assert cost_model.duration_seconds(0.1, 0.05, 2048) == pytest.approx(0.15)  # one thread: no gain past a vCPU
    assert cost_model.duration_seconds(0.1, 0.05, 128) == pytest.approx(0.05 + 0.1 * 1769 / 128)


def test_an_invocation_costs_its_request_and_its_billed_gb_seconds() -> None:
    assert cost_model.billed_milliseconds(0.1000001) == 101  # every started millisecond
    assert cost_model.billed_milliseconds(0.1) == 100
    expected = prices.LAMBDA_REQUEST + Decimal("0.05") * prices.LAMBDA_ARM_GB_SECOND  # 512 MB x 100 ms
    assert cost_model.invocation_cost(512, 0.1) == expected


def test_a_cpu_bound_function_gets_one_vcpu() -> None:
    options = cost_model.memory_options(0.100, 0.0)
    # Below 1,769 MB it is slower in proportion and costs the same; 2,048 MB is as fast and dearer.
    assert cost_model.choose_memory(options).memory_mb == 1769


def test_an_io_bound_function_gets_the_cheapest_size_within_10_percent_of_the_fastest() -> None:
    options = {o.memory_mb: o for o in cost_model.memory_options(0.005, 0.300)}
    assert options[128].duration_ms > 1.1 * options[1769].duration_ms  # 369 ms against 305: too slow
    assert options[256].duration_ms <= 1.1 * options[1769].duration_ms  # 334.5 ms: close enough
    assert cost_model.choose_memory(options.values()).memory_mb == 256


def test_the_choice_keeps_to_the_sizes_the_function_fits_in() -> None:
    assert cost_model.choose_memory(cost_model.memory_options(0.005, 0.300, needed_mb=300)).memory_mb == 512
    with pytest.raises(ValueError, match="fits in none"):
        cost_model.choose_memory(cost_model.memory_options(0.005, 0.300, needed_mb=4096))


def test_polls_follow_the_schedule_until_the_file_is_ready() -> None:
    delays = [30, 45, 67, 101, 120]

    def after(n: int) -> float:
        return float(delays[min(n, len(delays) - 1)])

    # 30, 75, 142, 243, 363, 483, 603, 723, 843: the ninth poll, 843 s after the request, finds 750 s passed.
    assert cost_model.polls_until_ready(750, after) == 9
    assert cost_model.polls_until_ready(10, after) == 1
    with pytest.raises(ValueError, match="not ready"):
        cost_model.polls_until_ready(1, lambda n: 0.0)


# -- prices x quantities -----------------------------------------------------------------------------------------------
def test_quantities_are_priced_itemised_and_summed_by_service() -> None:
    priced = cost_model.priced(
        {
            "lambda.requests": Decimal(1_000_000),
            "lambda.gb_seconds": Decimal(100_000),
            "sqs.requests": Decimal(2_000_000),
            "dynamodb.read_request_units": Decimal(8_000_000),
        }
    )
    assert priced["by_quantity_usd"] == {
        "dynamodb.read_request_units": Decimal("1.000000"),
        "lambda.gb_seconds": Decimal("1.333340"),
        "lambda.requests": Decimal("0.200000"),
        "sqs.requests": Decimal("0.800000"),
    }
    assert priced["by_service_usd"] == {
        "dynamodb": Decimal("1.000000"),
        "lambda": Decimal("1.533340"),
        "sqs": Decimal("0.800000"),
    }
    assert priced["total_usd"] == Decimal("3.333340")
    with pytest.raises(KeyError, match=r"no price for s3\.requests"):
        cost_model.priced({"s3.requests": Decimal(1)})


def test_every_price_has_a_unit_and_is_positive() -> None:
    assert all(price > 0 for price in prices.UNIT_PRICES.values())
    assert {name.split(".")[0] for name in prices.UNIT_PRICES} == {
        "lambda",
        "apigateway",
        "dynamodb",
        "sqs",
        "kms",
        "secretsmanager",
        "events",
        "logs",
    }


# -- the month: activities times occurrences, lines through two bench sizes -----------------------------------------
def totals(**quantities: float) -> cost.Totals:
    result: cost.Totals = defaultdict(lambda: defaultdict(Decimal))
    for name, amount in quantities.items():
        result["SyncFunction"][name.replace("_", ".", 1)] = Decimal(str(amount))
    return result


def test_a_part_that_grows_with_size_is_read_off_the_line_through_two_sizes() -> None:
    low, high = totals(dynamodb_read_request_units=110), totals(dynamodb_read_request_units=310)
    # 400 listings: 110 units; 1,200: 310; so 10 + 0.25 a listing: 1,260 at 5,000.
    at_month = cost.extrapolate(low, high, 400, 1200, 5000)
    assert at_month["SyncFunction"]["dynamodb.read_request_units"] == 1260
    # Noise never turns into a negative cost.
    assert cost.extrapolate(high, low, 400, 1200, 5000)["SyncFunction"]["dynamodb.read_request_units"] == 0


def test_activities_add_up_times_their_occurrences() -> None:
    run, refresh = totals(sqs_requests=3), totals(sqs_requests=10)
    month = cost.combine((run, 2880), (refresh, 30))
    assert month["SyncFunction"]["sqs.requests"] == 3 * 2880 + 10 * 30
    assert cost.flat(month) == {"sqs.requests": Decimal(8940)}
