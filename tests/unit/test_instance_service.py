"""InstanceService's rules on in-memory stores (tests/unit/fakes.py): what is stored, sealed and queued."""

from __future__ import annotations

from typing import Any

import pytest

from tests.unit.fakes import FakeInstances, FakeQueues, FakeReference, FakeVault
from walmart_integration.config import Settings
from walmart_integration.errors import NotFound, ValidationFailed
from walmart_integration.models.instance import InstanceCreate, InstanceUpdate
from walmart_integration.services.instances import ENVIRONMENT_IMMUTABLE, InstanceService, open_credentials

TOKENS = "https://sqs/token"
ACCOUNTING = "https://sqs/accounting"
TENANT = "t1"


class World:
    def __init__(self, app_env: str = "local") -> None:
        self.instances = FakeInstances()
        self.reference = FakeReference(stores={TENANT: {1, 2}}, codes={TENANT: {1: "4000", 2: "5000", 3: "4010"}})
        self.vault = FakeVault()
        self.queues = FakeQueues()
        settings = Settings.model_validate(
            {"app_env": app_env, "token_queue_url": TOKENS, "accounting_queue_url": ACCOUNTING}
        )
        self.service = InstanceService(settings, self.instances, self.reference, self.vault, self.queues)

    def create(self, **fields: Any) -> Any:
        return self.service.create(TENANT, InstanceCreate.model_validate(body(**fields)))

    def patch(self, instance_id: str, **fields: Any) -> Any:
        return self.service.update(TENANT, instance_id, InstanceUpdate.model_validate(fields))


def body(**fields: Any) -> dict[str, Any]:
    settings = {"start_date": "2026-01-01", "store_id": 1, "auto_link_products": False, "auto_create_products": False}
    return {
        "name": "Main store",
        "integration_id": 1,
        "connection_settings": {"clientId": "client-1", "clientSecret": "secret-1"},
        "integration_settings": {**settings, **fields.pop("settings", {})},
        **fields,
    }


@pytest.fixture
def world() -> World:
    return World()


def test_create_seals_the_credentials_queues_the_token_job_and_shows_the_secret_masked(world: World) -> None:
    view = world.create()
    record = world.instances.get(TENANT, view.id)
    assert view.status == "pending" and view.environment == "sandbox"
    assert view.connection_settings == {
        "authMethod": "client_credentials",
        "clientId": "client-1",
        "clientSecret": "********",
        "sellerId": None,
    }
    assert {name: job.status for name, job in view.jobs.items()} == {
        "token": "queued",
        "locations": "pending",
        "products": "pending",
        "orders": "pending",
        "backfill": "pending",
        "settlements": "pending",
        "returns": "pending",
    }
    assert record.credentials is not None and b"secret-1" not in record.credentials
    assert open_credentials(world.vault, record) == ("client-1", "secret-1")
    with pytest.raises(PermissionError):  # sealed for this tenant and instance only
        world.vault.decrypt(record.credentials, {"tenant_id": "t2", "instance_id": view.id, "purpose": "x"})
    assert world.queues.bodies(TOKENS) == [{"tenant_id": TENANT, "instance_id": view.id, "credentials_version": 1}]


def test_without_both_credentials_nothing_is_queued(world: World) -> None:
    view = world.create(connection_settings={"clientId": "client-1"})
    assert view.status == "credentials_missing"
    assert view.jobs["token"].status == "skipped" and "No Walmart credentials" in str(view.jobs["token"].error)
    assert world.instances.get(TENANT, view.id).credentials is None
    assert world.queues.sent == []


def test_unknown_references_are_reported_together_and_nothing_is_stored(world: World) -> None:
    with pytest.raises(ValidationFailed) as caught:
        world.create(integration_id=99, settings={"store_id": 7, "sales_nominal_code_id": 1, "cogs_nominal_code_id": 9})
    assert caught.value.errors == {
        "integration_id": ["Integration 99 is not a Walmart integration type."],
        "integration_settings.store_id": ["Store 7 does not exist."],
        "integration_settings.cogs_nominal_code_id": ["Nominal code 9 does not exist."],
    }
    assert world.instances.records == {} and world.queues.sent == []


def test_a_name_is_taken_once_per_tenant_whatever_its_case(world: World) -> None:
    world.create()
    with pytest.raises(ValidationFailed) as caught:
        world.create(name="  MAIN STORE ")
    assert caught.value.errors == {"name": ["The name has already been taken."]}
    assert len(world.queues.sent) == 1


def test_a_create_whose_token_job_cannot_be_queued_is_undone(world: World) -> None:
    world.queues.fail = RuntimeError("SQS unavailable")
    with pytest.raises(RuntimeError, match="SQS unavailable"):
        world.create()
    assert world.instances.records == {}  # no instance left waiting for a job nobody runs
    world.create()  # and the name is free for the retry
    assert len(world.queues.sent) == 1


def test_environment_is_sandbox_by_default_forced_in_production_and_immutable() -> None:
    local = World()
    assert local.create(environment="production").environment == "production"
    view = local.create(name="Other")
    with pytest.raises(ValidationFailed) as caught:
        local.patch(view.id, environment="production")
    assert caught.value.errors == {"environment": [ENVIRONMENT_IMMUTABLE]}
    assert local.patch(view.id, environment="sandbox").environment == "sandbox"  # unchanged is no change
    production = World(app_env="production")
    assert production.create(environment="sandbox").environment == "production"


def test_new_credentials_reconnect_with_a_new_version(world: World) -> None:
    view = world.create()
    world.instances.save_progress(TENANT, view.id, 1, {}, status="connected", extra={"access_token": b"old"})
    patched = world.patch(view.id, connection_settings={"clientSecret": "secret-2"})
    record = world.instances.get(TENANT, view.id)
    assert patched.status == "pending" and patched.jobs["token"].status == "queued"
    assert record.credentials_version == 2 and record.access_token is None
    assert open_credentials(world.vault, record) == ("client-1", "secret-2")
    assert [b["credentials_version"] for b in world.queues.bodies(TOKENS)] == [1, 2]


def test_the_same_client_id_alone_changes_nothing_and_a_new_one_keeps_the_secret(world: World) -> None:
    view = world.create()
    world.patch(view.id, connection_settings={"clientId": "client-1"})
    assert world.instances.get(TENANT, view.id).version == 1 and len(world.queues.sent) == 1
    world.patch(view.id, connection_settings={"clientId": "client-2"})
    record = world.instances.get(TENANT, view.id)
    assert open_credentials(world.vault, record) == ("client-2", "secret-1")
    assert record.credentials_version == 2


def test_removing_the_credentials_leaves_the_instance_waiting(world: World) -> None:
    view = world.create()
    patched = world.patch(view.id, connection_settings=None)
    assert patched.status == "credentials_missing"
    assert patched.connection_settings == {
        "authMethod": None,
        "clientId": None,
        "clientSecret": None,
        "sellerId": None,
    }
    assert len(world.queues.bodies(TOKENS)) == 1


def test_accounting_settings_release_held_lines_and_other_settings_do_not(world: World) -> None:
    view = world.create()
    world.service.update(TENANT, view.id, InstanceUpdate.model_validate({"integration_settings": {"store_id": 2}}))
    assert world.queues.bodies(ACCOUNTING) == []
    world.service.update(
        TENANT, view.id, InstanceUpdate.model_validate({"integration_settings": {"sales_nominal_code_id": 3}})
    )
    assert world.queues.bodies(ACCOUNTING) == [
        {"tenant_id": TENANT, "instance_id": view.id, "purchase_order_ids": [], "release": True, "settlement_ids": []}
    ]
    settings = world.instances.get(TENANT, view.id).integration_settings
    assert (settings["store_id"], settings["sales_nominal_code_id"], settings["start_date"]) == (2, 3, "2026-01-01")


def test_a_patch_is_validated_like_a_create(world: World) -> None:
    view = world.create()
    with pytest.raises(ValidationFailed) as caught:
        world.service.update(
            TENANT,
            view.id,
            InstanceUpdate.model_validate({"integration_settings": {"shipping_refund_nominal_code_id": 8}}),
        )
    assert caught.value.errors == {
        "integration_settings.shipping_refund_nominal_code_id": ["Nominal code 8 does not exist."]
    }
    assert world.instances.get(TENANT, view.id).version == 1


def test_delete_removes_the_instance_and_another_tenant_finds_nothing(world: World) -> None:
    view = world.create()
    with pytest.raises(NotFound):
        world.service.delete("t2", view.id)
    world.service.delete(TENANT, view.id)
    with pytest.raises(NotFound):
        world.service.get(TENANT, view.id)
    assert world.service.page(TENANT, 10, None) == ([], None)
