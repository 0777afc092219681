"""The one builder of DynamoDB expressions: what it hands to boto3 (no sockets, no moto)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from walmart_integration.store.expressions import Expression, Update


def test_set_remove_and_add_become_one_update_expression_with_placeholders():
    update = Update().set("status", "done").remove("error").add("attempts", 1)
    assert update.params() == {
        "UpdateExpression": "SET #n0 = :v0 REMOVE #n1 ADD #n2 :v1",
        "ExpressionAttributeNames": {"#n0": "status", "#n1": "error", "#n2": "attempts"},
        "ExpressionAttributeValues": {":v0": {"S": "done"}, ":v1": {"N": "1"}},
    }


def test_a_name_used_twice_keeps_its_placeholder_and_paths_are_split_into_names():
    update = Update().set("backfill.status", "running").set("refresh.status", "queued")
    params = update.params()
    assert params["UpdateExpression"] == "SET #n0.#n1 = :v0, #n2.#n1 = :v1"
    assert params["ExpressionAttributeNames"] == {"#n0": "backfill", "#n1": "status", "#n2": "refresh"}


def test_a_tuple_path_keeps_each_segment_whole_even_with_dots_or_reserved_words():
    update = Update().set(("units", "orders|2026-01-01.5|x"), "pending")
    params = update.params()
    assert params["UpdateExpression"] == "SET #n0.#n1 = :v0"
    assert params["ExpressionAttributeNames"] == {"#n0": "units", "#n1": "orders|2026-01-01.5|x"}


def test_if_not_exists_keeps_a_value_that_is_there():
    params = Update().set("created_at", "2026-01-01T00:00:00Z", if_not_exists=True).params()
    assert params["UpdateExpression"] == "SET #n0 = if_not_exists(#n0, :v0)"


def test_append_adds_items_at_the_end_of_the_list():
    params = Update().append("lines", [{"sku": "A"}]).params()
    assert params["UpdateExpression"] == "SET #n0 = list_append(#n0, :v0)"
    assert params["ExpressionAttributeValues"] == {":v0": {"L": [{"M": {"sku": {"S": "A"}}}]}}


def test_set_all_removes_the_attributes_given_as_none():
    params = Update().set_all({"status": "active", "revoked_at": None}).params()
    assert params["UpdateExpression"] == "SET #n0 = :v0 REMOVE #n1"
    assert params["ExpressionAttributeNames"] == {"#n0": "status", "#n1": "revoked_at"}


def test_values_are_serialised_as_dynamodb_stores_them_floats_exactly_and_typed_values_as_given():
    update = Update().set("price", 0.1).set("cost", Decimal("12.50")).set("flag", True).set("nothing", None)
    update.set_typed("tokens", {"N": "0.0000001"})
    assert update.params()["ExpressionAttributeValues"] == {
        ":v0": {"N": "0.1"},
        ":v1": {"N": "12.50"},
        ":v2": {"BOOL": True},
        ":v3": {"NULL": True},
        ":v4": {"N": "0.0000001"},  # not re-serialised as 1E-7
    }


def test_a_condition_shares_the_placeholders_of_its_update():
    update = Update().set("status", "succeeded")
    condition = (
        f"{update.exists('pk')} AND {update.compare('status', '=', 'queued')} "
        f"AND NOT {update.one_of(('reports', 'adGroup', 'status'), ['succeeded', 'failed'])}"
    )
    params = update.params(condition)
    assert params["ConditionExpression"] == ("attribute_exists(#n1) AND #n0 = :v1 AND NOT #n2.#n3.#n0 IN (:v2, :v3)")
    assert params["ExpressionAttributeNames"] == {"#n0": "status", "#n1": "pk", "#n2": "reports", "#n3": "adGroup"}
    assert params["ExpressionAttributeValues"] == {
        ":v0": {"S": "succeeded"},
        ":v1": {"S": "queued"},
        ":v2": {"S": "succeeded"},
        ":v3": {"S": "failed"},
    }


def test_an_expression_without_update_gives_the_condition_of_a_put_or_delete():
    guard = Expression()
    assert guard.params(guard.not_exists("pk")) == {
        "ConditionExpression": "attribute_not_exists(#n0)",
        "ExpressionAttributeNames": {"#n0": "pk"},
    }
    # No empty placeholder maps: DynamoDB refuses them.
    assert Expression().params() == {}
    projection = Expression()
    assert f"{projection.name('type')}, {projection.name('id')}" == "#n0, #n1"
    assert projection.attributes() == {"ExpressionAttributeNames": {"#n0": "type", "#n1": "id"}}


def test_missing_is_an_absent_attribute_or_a_stored_null():
    update = Update().set("refreshed_for", "2026-01-02")
    assert update.missing(("backfill", "window_end")) == (
        "(attribute_not_exists(#n1.#n2) OR attribute_type(#n1.#n2, :v1))"
    )
    assert update.params()["ExpressionAttributeValues"][":v1"] == {"S": "NULL"}  # DynamoDB's name of the null type


def test_compare_takes_the_comparators_dynamodb_knows():
    update = Update().set("watermark", "2026-01-02")
    assert update.compare("watermark", "<", "2026-01-02") == "#n0 < :v1"
    assert update.compare("watermark", "<=", "x") == "#n0 <= :v2"


def test_an_update_without_parts_is_refused_before_it_reaches_dynamodb():
    with pytest.raises(ValueError, match="at least one"):
        Update().params()
