"""The instance API as a client sees it: the real api handler, DynamoDB/SQS/KMS emulated by moto."""

import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.support import api_event, response_json

SECRET = "s3cr3t-client-secret-canary"


def new_body(**overrides):
    body = {
        "name": "Walmart US",
        "integration_id": 1,
        "connection_settings": {"clientId": "demo-client-id", "clientSecret": SECRET},
        "integration_settings": {
            "start_date": "2026-06-01",
            "store_id": 1,
            "auto_link_products": True,
            "auto_create_products": False,
            "sales_nominal_code_id": 1,
            "cogs_nominal_code_id": 2,
        },
    }
    body.update(overrides)
    return body


def prepare_tenant(api, tenant):
    """A store and two nominal codes for a tenant other than the seeded demo tenant."""
    assert api("POST", "/api/stores", {"name": f"{tenant} store"}, tenant=tenant)["statusCode"] == 201
    for code in ("4000", "5000"):
        assert api("POST", "/api/nominal-codes", {"code": code, "name": code}, tenant=tenant)["statusCode"] == 201


def test_create_returns_201_with_defaults_masked_secret_status_and_jobs(api, stack):
    response = api("POST", "/api/walmart", new_body())
    assert response["statusCode"] == 201, response["body"]
    data = response_json(response)["data"]
    assert data["id"] and isinstance(data["id"], str)
    assert data["name"] == "Walmart US"
    assert data["environment"] == "sandbox"
    assert data["connection_settings"] == {
        "clientId": "demo-client-id",
        "clientSecret": "********",
        "authMethod": "client_credentials",
        "sellerId": None,
    }
    settings = data["integration_settings"]
    assert settings["sync_sales_order_invoices_to_accounting"] is True
    assert settings["sync_sales_credit_to_accounting"] is True
    assert settings["shipping_refund_nominal_code_id"] is None
    assert settings["batch_period_customer_returns"] is None
    assert data["is_automatic_sync_enabled"] is False
    assert data["status"] == "pending"
    assert data["jobs"]["token"]["status"] == "queued"
    assert {name: job["status"] for name, job in data["jobs"].items() if name != "token"} == {
        "locations": "pending",
        "products": "pending",
        "orders": "pending",
        "backfill": "pending",
        "settlements": "pending",
        "returns": "pending",
    }
    assert SECRET not in response["body"]
    messages = stack.messages("TokenQueue")
    assert [json.loads(m) for m in messages] == [
        {"tenant_id": "demo", "instance_id": data["id"], "credentials_version": 1}
    ]
    fetched = response_json(api("GET", f"/api/walmart/{data['id']}"))["data"]
    assert fetched == data


def test_credentials_are_stored_encrypted(api, stack):
    created = response_json(api("POST", "/api/walmart", new_body()))["data"]
    item = stack.raw_instance("demo", created["id"])
    assert SECRET.encode() not in json.dumps(item, default=repr).encode()
    assert "credentials" in item and "clientSecret" not in json.dumps(item, default=repr)


def test_without_credentials_the_instance_waits_and_no_token_job_runs(api, stack):
    response = api("POST", "/api/walmart", new_body(connection_settings=None))
    data = response_json(response)["data"]
    assert response["statusCode"] == 201
    assert data["status"] == "credentials_missing"
    assert data["connection_settings"] == {"clientId": None, "clientSecret": None, "authMethod": None, "sellerId": None}
    assert data["jobs"]["token"]["status"] == "skipped"
    assert stack.messages("TokenQueue") == []


def test_422_shape_for_a_missing_field_and_a_wrong_type(api):
    body = new_body()
    del body["name"]
    body["integration_settings"]["auto_link_products"] = "true"
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 422
    payload = response_json(response)
    assert payload["errors"] == {
        "name": ["This field is required."],
        "integration_settings.auto_link_products": ["Input should be a valid boolean"],
    }
    assert payload["message"] == "This field is required."


def test_422_for_unknown_references_all_at_once(api, stack):
    body = new_body(integration_id=99)
    body["integration_settings"].update(store_id=77, shipping_revenue_nominal_code_id=55)
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 422
    assert response_json(response)["errors"] == {
        "integration_id": ["Integration 99 is not a Walmart integration type."],
        "integration_settings.store_id": ["Store 77 does not exist."],
        "integration_settings.shipping_revenue_nominal_code_id": ["Nominal code 55 does not exist."],
    }
    assert stack.messages("TokenQueue") == []


def test_another_tenants_store_is_unknown(api):
    store = response_json(api("POST", "/api/stores", {"name": "Other shop"}, tenant="other"))["data"]
    assert store["id"] == 1  # ids are per tenant
    body = new_body()
    body["integration_settings"]["store_id"] = 2
    assert api("POST", "/api/walmart", body, tenant="other")["statusCode"] == 422


@pytest.mark.parametrize(
    ("raw", "path"),
    [("{not json", "body"), ("[1, 2]", "body"), ('"text"', "body")],
)
def test_422_for_a_body_that_is_not_a_json_object(api, raw, path):
    response = api("POST", "/api/walmart", raw)
    assert response["statusCode"] == 422
    assert list(response_json(response)["errors"]) == [path]


@pytest.mark.parametrize(
    "content_type",
    ["text/plain", "application/xml", "multipart/form-data", "application/x-www-form-urlencoded", "Text/Plain; x=1"],
)
def test_415_for_a_body_that_is_not_json(api, content_type):
    """Found by fuzzing (tests/reliability/test_fuzz.py): these were 500s, or form fields parsed as the body."""
    response = api("POST", "/api/stores", '{"name": "Form store"}', headers={"Content-Type": content_type})
    assert response["statusCode"] == 415, response["body"]
    assert response_json(response) == {"message": "The request body must be JSON (Content-Type: application/json)."}
    ok = api("POST", "/api/stores", {"name": "JSON store"}, headers={"Content-Type": "application/json; charset=utf-8"})
    assert ok["statusCode"] == 201


def test_numbers_the_store_cannot_hold_are_422(api):
    """Found by fuzzing: costs and percentages beyond DynamoDB's numbers were 500s; 1E+2 was shown as "1E+2"."""
    for cost in ("1e200", 1e308, "1e-200", "0.1234567", 4.378175050522845e16):
        response = api("POST", "/api/products", {"sku": "S1", "name": "P", "cost": cost})
        assert response["statusCode"] == 422, (cost, response["body"])
        assert list(response_json(response)["errors"]) == ["cost"]
    created = api("POST", "/api/products", {"sku": "S1", "name": "P", "cost": "1E+2"})
    assert created["statusCode"] == 201 and response_json(created)["data"]["cost"] == "100"
    for percentage in (5e-324, 1e-300, 33.333333333333336):
        body = new_body()
        body["integration_settings"]["proforma_marketplace_cost_percentage"] = percentage
        response = api("POST", "/api/walmart", body)
        assert response_json(response)["errors"] == {
            "integration_settings.proforma_marketplace_cost_percentage": ["At most four decimal places."]
        }
    body = new_body()
    body["integration_settings"]["proforma_marketplace_cost_percentage"] = 12.3456
    assert api("POST", "/api/walmart", body)["statusCode"] == 201


def test_start_date_is_a_calendar_date_in_the_documented_format(api):
    """Found while documenting start_date as a date for the fuzzer: 2026-W01-1 (an ISO week date) was accepted."""
    body = new_body()
    body["integration_settings"]["start_date"] = "2026-W01-1"
    response = api("POST", "/api/walmart", body)
    assert response_json(response)["errors"] == {
        "integration_settings.start_date": ["The start date must be a date in the format YYYY-MM-DD."]
    }


def test_422_for_a_future_start_date(api):
    body = new_body()
    body["integration_settings"]["start_date"] = (datetime.now(UTC) + timedelta(days=5)).date().isoformat()
    response = api("POST", "/api/walmart", body)
    assert response_json(response)["errors"] == {
        "integration_settings.start_date": ["The start date must not be in the future."]
    }


def test_name_is_unique_in_the_tenant_but_not_across_tenants(api):
    assert api("POST", "/api/walmart", new_body())["statusCode"] == 201
    again = api("POST", "/api/walmart", new_body(name=" walmart us "))
    assert again["statusCode"] == 422
    assert response_json(again)["errors"] == {"name": ["The name has already been taken."]}
    prepare_tenant(api, "tenant-b")
    assert api("POST", "/api/walmart", new_body(), tenant="tenant-b")["statusCode"] == 201


def test_environment_defaults_to_sandbox_and_is_immutable(api):
    created = response_json(api("POST", "/api/walmart", new_body(environment="production")))["data"]
    assert created["environment"] == "production"
    response = api("PATCH", f"/api/walmart/{created['id']}", {"environment": "sandbox"})
    assert response["statusCode"] == 422
    assert list(response_json(response)["errors"]) == ["environment"]
    same = api("PATCH", f"/api/walmart/{created['id']}", {"environment": "production", "name": "Renamed"})
    assert same["statusCode"] == 200
    assert response_json(same)["data"]["name"] == "Renamed"


def test_production_servers_force_production(api_factory):
    api = api_factory(APP_ENV="production")
    created = response_json(api("POST", "/api/walmart", new_body(environment="sandbox")))["data"]
    assert created["environment"] == "production"
    assert api("PATCH", f"/api/walmart/{created['id']}", {"environment": "sandbox"})["statusCode"] == 200


def test_idempotency_key_replays_the_first_response(api, stack):
    headers = {"Idempotency-Key": "create-1"}
    first = api("POST", "/api/walmart", new_body(), headers=headers)
    second = api("POST", "/api/walmart", new_body(), headers=headers)
    assert first["statusCode"] == second["statusCode"] == 201
    assert response_json(first) == response_json(second)
    listed = response_json(api("GET", "/api/walmart"))["data"]
    assert len(listed) == 1
    assert len(stack.messages("TokenQueue")) == 1
    reused = api("POST", "/api/walmart", new_body(name="Different"), headers=headers)
    assert reused["statusCode"] == 409
    prepare_tenant(api, "t2")
    # The key is scoped to the tenant: another tenant's same key creates its own instance.
    assert api("POST", "/api/walmart", new_body(), headers=headers, tenant="t2")["statusCode"] == 201


def test_failed_create_with_idempotency_key_can_be_retried(api):
    headers = {"Idempotency-Key": "retry-me"}
    bad = new_body()
    bad["integration_settings"]["store_id"] = 999
    assert api("POST", "/api/walmart", bad, headers=headers)["statusCode"] == 422
    assert api("POST", "/api/walmart", new_body(), headers=headers)["statusCode"] == 201


def test_list_is_paginated_and_scoped_to_the_tenant(api):
    ids = [response_json(api("POST", "/api/walmart", new_body(name=f"I{n}")))["data"]["id"] for n in range(3)]
    prepare_tenant(api, "b")
    assert api("POST", "/api/walmart", new_body(name="B's"), tenant="b")["statusCode"] == 201
    seen, cursor = [], None
    while True:
        query = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        page = response_json(api("GET", "/api/walmart", query=query))
        assert len(page["data"]) <= 2
        seen += [item["id"] for item in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(ids)


@pytest.mark.parametrize("query", [{"limit": "0"}, {"limit": "500"}, {"limit": "x"}, {"cursor": "garbage!"}])
def test_list_rejects_bad_paging(api, query):
    response = api("GET", "/api/walmart", query=query)
    assert response["statusCode"] == 422
    assert list(response_json(response)["errors"]) == [next(iter(query))]


def test_a_cursor_cannot_reach_another_listing(api):
    api("POST", "/api/walmart", new_body(name="A1"))
    api("POST", "/api/walmart", new_body(name="A2"))
    cursor = response_json(api("GET", "/api/walmart", query={"limit": "1"}))["next_cursor"]
    assert api("GET", "/api/stores", query={"cursor": cursor})["statusCode"] == 422


def test_another_tenant_gets_404_and_changes_nothing(api):
    created = response_json(api("POST", "/api/walmart", new_body()))["data"]
    path = f"/api/walmart/{created['id']}"
    assert api("GET", path, tenant="intruder")["statusCode"] == 404
    assert api("PATCH", path, {"name": "Hijacked"}, tenant="intruder")["statusCode"] == 404
    assert api("DELETE", path, tenant="intruder")["statusCode"] == 404
    assert response_json(api("GET", "/api/walmart", tenant="intruder"))["data"] == []
    assert response_json(api("GET", path))["data"]["name"] == "Walmart US"


def test_patch_settings_validates_and_keeps_other_fields(api, stack):
    created = response_json(api("POST", "/api/walmart", new_body()))["data"]
    path = f"/api/walmart/{created['id']}"
    bad = api("PATCH", path, {"integration_settings": {"proforma_payment_cost_percentage": 101}})
    assert bad["statusCode"] == 422
    assert list(response_json(bad)["errors"]) == ["integration_settings.proforma_payment_cost_percentage"]
    missing_code = api("PATCH", path, {"integration_settings": {"cogs_nominal_code_id": 404}})
    assert response_json(missing_code)["errors"] == {
        "integration_settings.cogs_nominal_code_id": ["Nominal code 404 does not exist."]
    }
    ok = api(
        "PATCH",
        path,
        {"integration_settings": {"proforma_payment_cost_percentage": 2.5, "sales_nominal_code_id": None}},
    )
    assert ok["statusCode"] == 200
    settings = response_json(ok)["data"]["integration_settings"]
    assert settings["proforma_payment_cost_percentage"] == 2.5
    assert settings["sales_nominal_code_id"] is None
    assert settings["cogs_nominal_code_id"] == 2
    nulled = api("PATCH", path, {"integration_settings": {"store_id": None}})
    assert list(response_json(nulled)["errors"]) == ["integration_settings.store_id"]
    assert len(stack.messages("TokenQueue")) == 1  # settings changes do not reconnect


def test_patch_new_credentials_reconnects(api, stack):
    created = response_json(api("POST", "/api/walmart", new_body(connection_settings=None)))["data"]
    path = f"/api/walmart/{created['id']}"
    response = api("PATCH", path, {"connection_settings": {"clientId": "demo-client-id", "clientSecret": "new-secret"}})
    data = response_json(response)["data"]
    assert data["status"] == "pending"
    assert data["jobs"]["token"]["status"] == "queued"
    assert data["connection_settings"]["clientSecret"] == "********"
    assert [json.loads(m)["credentials_version"] for m in stack.messages("TokenQueue")] == [2]
    secret_only = api("PATCH", path, {"connection_settings": {"clientSecret": "newer"}})
    assert response_json(secret_only)["data"]["connection_settings"]["clientId"] == "demo-client-id"
    assert [json.loads(m)["credentials_version"] for m in stack.messages("TokenQueue")] == [3]


def test_rename_frees_the_old_name(api):
    first = response_json(api("POST", "/api/walmart", new_body(name="Old")))["data"]
    api("POST", "/api/walmart", new_body(name="Taken"))
    assert api("PATCH", f"/api/walmart/{first['id']}", {"name": "Taken"})["statusCode"] == 422
    assert api("PATCH", f"/api/walmart/{first['id']}", {"name": "New"})["statusCode"] == 200
    assert api("POST", "/api/walmart", new_body(name="Old"))["statusCode"] == 201


def test_delete_removes_instance_secrets_and_name(api, stack):
    created = response_json(api("POST", "/api/walmart", new_body()))["data"]
    path = f"/api/walmart/{created['id']}"
    response = api("DELETE", path)
    assert response["statusCode"] == 204
    assert api("GET", path)["statusCode"] == 404
    assert api("DELETE", path)["statusCode"] == 404
    assert stack.raw_instance("demo", created["id"]) is None
    assert api("POST", "/api/walmart", new_body())["statusCode"] == 201


def test_unknown_instance_and_route(api):
    assert api("GET", "/api/walmart/nope")["statusCode"] == 404
    assert api("GET", "/api/nothing-here")["statusCode"] == 404


@pytest.mark.parametrize("path", ["/api/companies/\n", "/api/walmart/\n", "/api/walmart/a\tb", "/api/stores/\x7f"])
def test_an_id_of_control_characters_is_not_found_rather_than_the_list(api, path):
    """(Found by fuzzing: a route pattern's ``$`` also matches before a final newline, so ``/api/companies/%0A``
    answered with the list of companies.)"""
    response = api("GET", path)
    assert response["statusCode"] == 404, response["body"]
    assert response_json(response) == {"message": "Not found"}


def test_no_tenant_in_the_request_context_is_401(api):
    assert api("GET", "/api/walmart", tenant=None)["statusCode"] == 401


def test_reference_data(api):
    integrations = response_json(api("GET", "/api/integrations"))
    assert integrations["data"][0]["id"] == 1 and integrations["next_cursor"] is None
    created = api("POST", "/api/stores", {"name": "Second store", "currency": "CAD"})
    assert created["statusCode"] == 201
    assert response_json(created)["data"]["id"] == 2
    stores = response_json(api("GET", "/api/stores"))["data"]
    assert [s["name"] for s in stores] == ["Demo Store", "Second store"]
    code = response_json(api("POST", "/api/nominal-codes", {"code": "4100", "name": "Other sales"}))["data"]
    assert isinstance(code["id"], int)
    assert api("POST", "/api/nominal-codes", {"code": "", "name": "x"})["statusCode"] == 422
    assert api("POST", "/api/stores", {"name": "x", "currency": "usd"})["statusCode"] == 422


def test_secrets_never_reach_the_logs(api, capsys):
    created = response_json(api("POST", "/api/walmart", new_body()))["data"]
    api("PATCH", f"/api/walmart/{created['id']}", {"connection_settings": {"clientSecret": SECRET + "2"}})
    api("POST", "/api/walmart", new_body(name="Bad", integration_id="1"))
    captured = capsys.readouterr()
    assert SECRET not in captured.out + captured.err


def test_openapi_and_swagger_are_served(api):
    schema = api("GET", "/api/openapi.json")
    assert schema["statusCode"] == 200
    assert "/api/walmart" in json.loads(schema["body"])["paths"]
    docs = api("GET", "/api/docs")
    assert docs["statusCode"] == 200 and "swagger" in docs["body"].lower()


def test_event_shape_is_api_gateways():
    event = api_event("GET", "/api/walmart")
    assert event["requestContext"]["authorizer"]["tenant_id"] == "demo"
