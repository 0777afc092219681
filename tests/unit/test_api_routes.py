"""The API's routes with in-memory services swapped in through Powertools' ``dependency_overrides`` (no AWS, no moto):
the tenant dependency, the mapping of errors to statuses, and JSON-only request bodies."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from tests.support import LambdaContext, api_event, response_json
from walmart_integration.api import app, dependencies
from walmart_integration.errors import Conflict, Forbidden, NotFound, ValidationFailed
from walmart_integration.models.advertising import ChangeView, RefreshView
from walmart_integration.models.reference import Store, StoreCreate

PROVIDERS: tuple[Callable[[], Any], ...] = (
    dependencies.instance_service,
    dependencies.reference_service,
    dependencies.synced_data_service,
    dependencies.advertising_service,
    dependencies.accounting_service,
)


class FakeReference:
    """Stores kept per tenant in memory, as ReferenceService keeps them in DynamoDB."""

    def __init__(self) -> None:
        self.stores: dict[str, list[Store]] = {}

    def create_store(self, tenant_id: str, body: StoreCreate) -> Store:
        store = Store(id=len(self.stores.get(tenant_id, [])) + 1, name=body.name, currency=body.currency)
        self.stores.setdefault(tenant_id, []).append(store)
        return store

    def list_stores(self, tenant_id: str, limit: int, cursor: str | None) -> tuple[list[Store], str | None]:
        return self.stores.get(tenant_id, [])[:limit], None


class FakeInstances:
    """One instance ``i-1`` of tenant ``demo``; others are not found; writes fail as the domain says they may."""

    def __init__(self, create_error: Exception | None = None, update_error: Exception | None = None) -> None:
        self.ids = {("demo", "i-1")}
        self.create_error = create_error
        self.update_error = update_error

    def get(self, tenant_id: str, instance_id: str) -> Any:
        raise NotFound("Instance not found")

    def update(self, tenant_id: str, instance_id: str, patch: Any) -> Any:
        if (tenant_id, instance_id) not in self.ids:
            raise NotFound("Instance not found")
        raise self.update_error or AssertionError("no update expected")

    def delete(self, tenant_id: str, instance_id: str) -> None:
        if (tenant_id, instance_id) not in self.ids:
            raise NotFound("Instance not found")
        self.ids.remove((tenant_id, instance_id))

    def create(self, tenant_id: str, body: Any, idempotency_key: str | None, lambda_context: Any) -> Any:
        raise self.create_error or AssertionError("no create expected")


class FakeAdvertising:
    def __init__(self) -> None:
        self.refreshes = 0

    def change(self, tenant_id: str, account_id: str, entity: str, entity_id: str, body: Any) -> ChangeView:
        raise Forbidden("The advertiser granted read-only access.")

    def refresh(self) -> RefreshView:
        self.refreshes += 1
        return RefreshView(refresh_id="r-1", status="requested", requested_at="2026-06-01T00:00:00Z")


def _unexpected_service() -> Any:
    raise AssertionError("this test did not expect the route to reach a service")


@pytest.fixture
def overrides() -> Iterator[dict[Callable[..., Any], Callable[..., Any]]]:
    """Every service provider overridden (a test swaps in the fakes it needs; nothing reaches AWS)."""
    app.dependency_overrides.update(dict.fromkeys(PROVIDERS, _unexpected_service))
    yield app.dependency_overrides
    app.dependency_overrides.clear()


def call(method: str, path: str, body: Any = None, **kwargs: Any) -> dict[str, Any]:
    return resolve(api_event(method, path, body, **kwargs))


def resolve(event: dict[str, Any]) -> dict[str, Any]:
    """The API's answer to an API Gateway event, as the api function's handler returns it."""
    return app.resolve(event, cast(Any, LambdaContext()))


def test_the_tenant_comes_from_the_authorizer_context(overrides):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    assert call("POST", "/api/stores", {"name": "Acme store"}, tenant="acme")["statusCode"] == 201
    acme = response_json(call("GET", "/api/stores", tenant="acme"))
    demo = response_json(call("GET", "/api/stores", tenant="demo"))
    assert [store["name"] for store in acme["data"]] == ["Acme store"]
    assert demo == {"data": [], "next_cursor": None}


def test_no_tenant_is_401_and_nothing_is_stored(overrides):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    for method, path, body in (("GET", "/api/stores", None), ("POST", "/api/stores", {"name": "Store"})):
        response = call(method, path, body, tenant=None)
        assert response["statusCode"] == 401, response["body"]
        assert response_json(response) == {"message": "Unauthorized"}
    assert reference.stores == {}


def test_the_tenant_dependency_can_be_overridden(overrides):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    overrides[dependencies.current_tenant] = lambda: "tenant-from-override"
    assert call("POST", "/api/stores", {"name": "Store"}, tenant=None)["statusCode"] == 201
    assert [store.name for store in reference.stores["tenant-from-override"]] == ["Store"]


def test_domain_errors_become_their_statuses(overrides):
    instances = FakeInstances(update_error=Conflict("The instance changed concurrently; read it and retry."))
    overrides[dependencies.instance_service] = lambda: instances
    overrides[dependencies.advertising_service] = FakeAdvertising

    missing = call("GET", "/api/walmart/nope")
    assert missing["statusCode"] == 404 and response_json(missing) == {"message": "Instance not found"}
    another_tenant = call("DELETE", "/api/walmart/i-1", tenant="acme")
    assert another_tenant["statusCode"] == 404
    conflict = call("PATCH", "/api/walmart/i-1", {"name": "Renamed"})
    assert conflict["statusCode"] == 409
    assert response_json(conflict) == {"message": "The instance changed concurrently; read it and retry."}
    forbidden = call("PATCH", "/api/accounts/a-1/campaigns/123", {"status": "paused"})
    assert forbidden["statusCode"] == 403
    assert response_json(forbidden) == {"message": "The advertiser granted read-only access."}
    deleted = call("DELETE", "/api/walmart/i-1")
    assert deleted["statusCode"] == 204 and deleted["body"] == ""
    assert instances.ids == set()


def test_a_field_error_of_a_service_is_the_422_shape(overrides):
    invalid = ValidationFailed({"integration_settings.store_id": ["Unknown store for this tenant."]})
    overrides[dependencies.instance_service] = lambda: FakeInstances(update_error=invalid)
    response = call("PATCH", "/api/walmart/i-1", {"name": "Renamed"})
    assert response["statusCode"] == 422
    assert response_json(response) == {
        "message": "Unknown store for this tenant.",
        "errors": {"integration_settings.store_id": ["Unknown store for this tenant."]},
    }


def test_request_validation_is_422_before_any_service(overrides):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    response = call("POST", "/api/stores", {"name": 5, "colour": "red"})
    assert response["statusCode"] == 422
    assert response_json(response)["errors"] == {
        "name": ["Input should be a valid string"],
        "colour": ["This field is not allowed (unknown field)."],
    }
    limit = call("GET", "/api/stores", query={"limit": "0"})
    assert limit["statusCode"] == 422 and list(response_json(limit)["errors"]) == ["limit"]
    assert reference.stores == {}


@pytest.mark.parametrize(
    ("error", "message"),
    [
        (IdempotencyValidationError(), "This Idempotency-Key was already used with a different request body."),
        (
            IdempotencyAlreadyInProgressError(),
            "A request with this Idempotency-Key is still in progress; retry shortly.",
        ),
    ],
)
def test_idempotency_errors_are_409(overrides, error, message):
    overrides[dependencies.instance_service] = lambda: FakeInstances(create_error=error)
    response = call("POST", "/api/walmart", _instance_body(), headers={"Idempotency-Key": "k-1"})
    assert response["statusCode"] == 409, response["body"]
    assert response_json(response) == {"message": message}


def test_an_unexpected_error_is_a_500_that_shows_nothing(overrides):
    overrides[dependencies.instance_service] = lambda: FakeInstances(create_error=RuntimeError("secret detail"))
    response = call("POST", "/api/walmart", _instance_body())
    assert response["statusCode"] == 500
    assert response_json(response) == {"message": "Internal server error"}


def test_no_route_and_control_characters_are_404(overrides):
    for path in ("/api/nothing-here", "/api/stores\n"):
        response = call("GET", path)
        assert response["statusCode"] == 404, path
        assert response_json(response) == {"message": "Not found"}


MULTIPART = '--b\r\nContent-Disposition: form-data; name="name"\r\n\r\nForm store\r\n--b--\r\n'


@pytest.mark.parametrize(
    ("content_type", "body"),
    [
        ("text/plain", '{"name": "Text store"}'),
        ("Text/Plain; x=1", '{"name": "Text store"}'),
        ("application/xml", "<name>XML store</name>"),
        ("application/x-www-form-urlencoded", "name=Form+store"),
        ("multipart/form-data", '{"name": "Multipart store"}'),
        ("multipart/form-data; boundary=b", MULTIPART),  # Powertools would read it as a valid store
    ],
)
def test_a_body_that_is_not_json_is_415_and_nothing_is_created(overrides, content_type, body):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    response = call("POST", "/api/stores", body, headers={"Content-Type": content_type})
    assert response["statusCode"] == 415, response["body"]
    assert response_json(response) == {"message": "The request body must be JSON (Content-Type: application/json)."}
    patch = call("PATCH", "/api/walmart/i-1", "name=Renamed", headers={"Content-Type": content_type})
    assert patch["statusCode"] == 415, patch["body"]
    assert reference.stores == {}


@pytest.mark.parametrize("headers", [{"Content-Type": "application/json; charset=utf-8"}, {}])
def test_json_bodies_are_read(overrides, headers):
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    event = api_event("POST", "/api/stores", {"name": "JSON store"})
    event["headers"], event["multiValueHeaders"] = headers, {k: [v] for k, v in headers.items()}
    response = resolve(event)
    assert response["statusCode"] == 201, response["body"]
    assert [store.name for store in reference.stores["demo"]] == ["JSON store"]


def test_a_route_without_a_body_ignores_the_content_type(overrides):
    advertising = FakeAdvertising()
    overrides[dependencies.advertising_service] = lambda: advertising
    response = call("POST", "/api/advertising/refresh", "ignored", headers={"Content-Type": "text/plain"})
    assert response["statusCode"] == 202, response["body"]
    assert advertising.refreshes == 1


def _instance_body() -> dict[str, Any]:
    return {
        "name": "Walmart US",
        "integration_id": 1,
        "integration_settings": {
            "start_date": "2026-01-01",
            "store_id": 1,
            "auto_link_products": True,
            "auto_create_products": False,
            "sales_nominal_code_id": 1,
            "cogs_nominal_code_id": 2,
        },
    }


@pytest.mark.parametrize("body", [[{"name": "Array store"}, 42], [{"name": "Array store"}], [], "Array store", 7])
def test_a_json_body_that_is_not_an_object_is_422_and_nothing_is_created(overrides, body):
    """Powertools (3.37) reads the first element of a JSON array as the body model: a request body must be an object."""
    reference = FakeReference()
    overrides[dependencies.reference_service] = lambda: reference
    event = api_event("POST", "/api/stores", None)
    event["body"] = json.dumps(body)
    response = resolve(event)
    assert response["statusCode"] == 422, response["body"]
    assert response_json(response) == {
        "message": "The request body must be a JSON object.",
        "errors": {"body": ["The request body must be a JSON object."]},
    }
    assert reference.stores == {}
