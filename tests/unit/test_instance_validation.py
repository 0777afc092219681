"""The seed's field rules, as a client sees them: the 422 field paths and messages."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pydantic import ValidationError

from walmart_integration.errors import field_errors
from walmart_integration.models.instance import InstanceCreate, InstanceUpdate


def body(**overrides) -> dict[str, Any]:
    base: dict[str, Any] = {
        "name": "My Walmart",
        "integration_id": 1,
        "connection_settings": {"clientId": "id", "clientSecret": "secret"},
        "integration_settings": {
            "start_date": "2026-01-01",
            "store_id": 1,
            "auto_link_products": True,
            "auto_create_products": False,
        },
    }
    for key, value in overrides.items():
        target: Any = base
        parts = key.split("__")
        for part in parts[:-1]:
            target = target[part]
        if value is ...:
            target.pop(parts[-1])
        else:
            target[parts[-1]] = value
    return base


def errors_of(payload, model=InstanceCreate):
    with pytest.raises(ValidationError) as caught:
        model.model_validate(payload)
    return field_errors(list(caught.value.errors()), drop_prefix=())


def test_defaults_are_applied():
    instance = InstanceCreate.model_validate(body())
    settings = instance.integration_settings
    assert instance.environment is None
    assert instance.is_automatic_sync_enabled is False
    assert settings.sync_sales_order_invoices_to_accounting is True
    assert settings.sync_sales_credit_to_accounting is True
    assert settings.sales_nominal_code_id is None
    assert settings.batch_period_customer_returns is None


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("name", "name"),
        ("integration_id", "integration_id"),
        ("integration_settings", "integration_settings"),
        ("integration_settings__start_date", "integration_settings.start_date"),
        ("integration_settings__store_id", "integration_settings.store_id"),
        ("integration_settings__auto_link_products", "integration_settings.auto_link_products"),
        ("integration_settings__auto_create_products", "integration_settings.auto_create_products"),
    ],
)
def test_required_fields(field, path):
    assert errors_of(body(**{field: ...})) == {path: ["This field is required."]}


@pytest.mark.parametrize(
    ("field", "value", "path"),
    [
        ("integration_settings__auto_link_products", "true", "integration_settings.auto_link_products"),
        ("integration_settings__store_id", "5", "integration_settings.store_id"),
        ("integration_settings__store_id", 1.5, "integration_settings.store_id"),
        ("integration_settings__store_id", True, "integration_settings.store_id"),
        ("integration_id", "1", "integration_id"),
        ("is_automatic_sync_enabled", 1, "is_automatic_sync_enabled"),
        ("name", 42, "name"),
        ("connection_settings__clientId", 123, "connection_settings.clientId"),
        (
            "integration_settings__proforma_payment_cost_percentage",
            "5",
            "integration_settings.proforma_payment_cost_percentage",
        ),
    ],
)
def test_json_types_are_not_coerced(field, value, path):
    assert list(errors_of(body(**{field: value}))) == [path]


@pytest.mark.parametrize(
    ("field", "path"),
    [
        ("integration_setting", "integration_setting"),
        ("integration_settings__auto_link_product", "integration_settings.auto_link_product"),
    ],
)
def test_unknown_fields_are_refused(field, path):
    assert errors_of(body(**{field: True})) == {path: ["This field is not allowed (unknown field)."]}


@pytest.mark.parametrize("value", ["2026-13-01", "2026-02-30", "01/02/2026", "2026-1-1", "yesterday", ""])
def test_invalid_start_date(value):
    errors = errors_of(body(integration_settings__start_date=value))
    assert errors == {"integration_settings.start_date": ["The start date must be a date in the format YYYY-MM-DD."]}


def test_future_start_date():
    future = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    errors = errors_of(body(integration_settings__start_date=future))
    assert errors == {"integration_settings.start_date": ["The start date must not be in the future."]}


def test_today_is_a_valid_start_date():
    today = datetime.now(UTC).date().isoformat()
    assert InstanceCreate.model_validate(body(integration_settings__start_date=today))


@pytest.mark.parametrize("value", [-0.01, 100.5, 1000])
def test_percentages_outside_0_to_100(value):
    errors = errors_of(body(integration_settings__proforma_marketplace_cost_percentage=value))
    assert list(errors) == ["integration_settings.proforma_marketplace_cost_percentage"]


@pytest.mark.parametrize("value", [0, 15, 12.5, 100, None])
def test_percentages_inside_0_to_100(value):
    model = InstanceCreate.model_validate(body(integration_settings__proforma_marketplace_cost_percentage=value))
    assert model.integration_settings.proforma_marketplace_cost_percentage == value


@pytest.mark.parametrize("value", ["yearly", "Daily", "", 1])
def test_batch_period_values(value):
    errors = errors_of(body(integration_settings__batch_period_sales_order_fulfillments=value))
    assert list(errors) == ["integration_settings.batch_period_sales_order_fulfillments"]


@pytest.mark.parametrize("value", ["immediate", "daily", "weekly", "monthly", None])
def test_batch_periods_accepted(value):
    assert InstanceCreate.model_validate(body(integration_settings__batch_period_customer_returns=value))


@pytest.mark.parametrize("value", ["staging", "Production", "", 1])
def test_environment_values(value):
    assert list(errors_of(body(environment=value))) == ["environment"]


def test_blank_name_is_refused():
    assert errors_of(body(name="   ")) == {"name": ["The name must not be blank."]}


def test_nullable_booleans_are_not_nullable():
    errors = errors_of(body(integration_settings__sync_sales_credit_to_accounting=None))
    assert list(errors) == ["integration_settings.sync_sales_credit_to_accounting"]


def test_update_accepts_a_subset_and_refuses_unknown_fields():
    assert InstanceUpdate.model_validate({"name": "x"}).model_fields_set == {"name"}
    assert list(errors_of({"nmae": "x"}, InstanceUpdate)) == ["nmae"]
