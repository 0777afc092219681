"""Token and locations workers: real handlers, moto for AWS, the Walmart emulator on loopback."""

import json

from local.emulator import DEMO_CLIENT_ID, DEMO_CLIENT_SECRET, DEMO_SELLER_ID
from tests.support import response_json


def create_instance(api, secret=DEMO_CLIENT_SECRET, name="Seller", environment=None):
    body = {
        "name": name,
        "integration_id": 1,
        "connection_settings": {"clientId": DEMO_CLIENT_ID, "clientSecret": secret},
        "integration_settings": {
            "start_date": "2026-06-01",
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
        },
    }
    if environment:
        body["environment"] = environment
    response = api("POST", "/api/walmart", body)
    assert response["statusCode"] == 201, response["body"]
    return response_json(response)["data"]


def instance(api, instance_id):
    return response_json(api("GET", f"/api/walmart/{instance_id}"))["data"]


def test_token_job_connects_and_queues_the_sync_jobs(api, stack, emulator):
    created = create_instance(api)
    result = stack.drain("TokenQueue", "token")
    assert result == [{"batchItemFailures": []}]
    data = instance(api, created["id"])
    assert data["status"] == "connected"
    assert data["jobs"]["token"]["status"] == "succeeded"
    assert data["jobs"]["token"]["finished_at"]
    for name in ("locations", "products", "orders", "backfill", "settlements", "returns"):
        assert data["jobs"][name]["status"] == "queued", name
    assert len(stack.messages("LocationsQueue")) == 1
    assert sorted(json.loads(m)["stream"] for m in stack.messages("SyncQueue")) == [
        "orders",
        "products",
        "returns",
        "settlements",
    ]
    assert len(stack.messages("BackfillQueue")) == 1
    issued = emulator.tokens(DEMO_SELLER_ID)
    assert len(issued) == 1
    item = stack.raw_instance("demo", created["id"])
    assert issued[0].access_token.encode() not in json.dumps(item, default=repr).encode()  # stored encrypted


def test_wrong_credentials_mark_the_instance_without_retrying(api, stack, emulator):
    created = create_instance(api, secret="wrong")
    result = stack.drain("TokenQueue", "token")
    assert result == [{"batchItemFailures": []}]
    data = instance(api, created["id"])
    assert data["status"] == "credentials_invalid"
    assert data["jobs"]["token"]["status"] == "failed"
    assert data["jobs"]["token"]["error"] == "Unauthorized"
    assert stack.messages("LocationsQueue") == []
    assert emulator.calls(DEMO_SELLER_ID, "POST /v3/token", status=401) == 1  # no retry storm


def test_walmart_5xx_is_retried_with_backoff_then_the_instance_shows_error(api, stack, emulator):
    created = create_instance(api)
    emulator.faults.fail_next("/v3/token", 503, count=100)
    message = stack.messages("TokenQueue", keep=True)[0]
    token = stack.handler("token")
    first = token.handler(stack.sqs_event([message], receive_count=1), stack.context())
    assert len(first["batchItemFailures"]) == 1
    data = instance(api, created["id"])
    assert data["status"] == "connecting"
    assert data["jobs"]["token"]["status"] == "queued"
    assert data["jobs"]["token"]["error"].startswith("Retrying:")
    last = token.handler(stack.sqs_event([message], receive_count=5), stack.context())
    assert len(last["batchItemFailures"]) == 1  # the DLQ takes it from here
    data = instance(api, created["id"])
    assert data["status"] == "error"
    assert data["jobs"]["token"]["status"] == "failed"
    assert stack.messages("LocationsQueue") == []


def test_a_duplicate_delivery_does_not_start_the_jobs_twice(api, stack, emulator):
    create_instance(api)
    message = stack.messages("TokenQueue", keep=True)[0]
    token = stack.handler("token")
    token.handler(stack.sqs_event([message]), stack.context())
    token.handler(stack.sqs_event([message]), stack.context())
    assert len(stack.messages("LocationsQueue")) == 1
    assert len(stack.messages("SyncQueue")) == 4  # products, orders, settlements, returns: once each
    assert len(emulator.tokens(DEMO_SELLER_ID)) == 1


def test_work_of_a_deleted_or_reconfigured_instance_is_dropped(api, stack, emulator):
    gone = create_instance(api, name="Gone")
    changed = create_instance(api, name="Changed")
    api("DELETE", f"/api/walmart/{gone['id']}")
    api("PATCH", f"/api/walmart/{changed['id']}", {"connection_settings": {"clientSecret": DEMO_CLIENT_SECRET}})
    messages = stack.messages("TokenQueue")
    result = stack.handler("token").handler(stack.sqs_event(messages), stack.context())
    assert result == {"batchItemFailures": []}
    assert instance(api, changed["id"])["status"] == "connected"  # only the current credentials' job ran
    assert len(emulator.tokens(DEMO_SELLER_ID)) == 1


def test_a_malformed_message_fails_alone(api, stack, emulator):
    create_instance(api)
    good = stack.messages("TokenQueue")[0]
    result = stack.handler("token").handler(stack.sqs_event(["{oops", good]), stack.context())
    assert len(result["batchItemFailures"]) == 1
    assert len(stack.messages("LocationsQueue")) == 1


def test_locations_are_stored_and_vanished_nodes_turn_inactive(api, stack, emulator):
    created = create_instance(api)
    stack.drain("TokenQueue", "token")
    locations_message = stack.messages("LocationsQueue", keep=True)[0]
    assert stack.drain("LocationsQueue", "locations") == [{"batchItemFailures": []}]
    data = instance(api, created["id"])
    assert data["jobs"]["locations"]["status"] == "succeeded"
    assert data["jobs"]["locations"]["records"] == 3
    stored = stack.locations("demo", created["id"])
    assert len(stored) == 3 and all(loc["status"] in ("ACTIVE", "INACTIVE") for loc in stored.values())
    seller = emulator.seller(DEMO_SELLER_ID)
    removed = seller.ship_nodes.pop()
    emulator.expire_tokens(DEMO_SELLER_ID)  # the cached token is refused: one new token, one retry
    result = stack.handler("locations").handler(stack.sqs_event([locations_message]), stack.context())
    assert result == {"batchItemFailures": []}
    stored = stack.locations("demo", created["id"])
    assert stored[removed["shipNode"]]["status"] == "INACTIVE"
    assert stored[removed["shipNode"]]["removed_at"]
    assert instance(api, created["id"])["jobs"]["locations"]["records"] == 2


def test_locations_429_defers_the_message_until_replenishment(api, stack, emulator):
    create_instance(api)
    stack.drain("TokenQueue", "token")
    emulator.faults.fail_next("/v3/settings/shipping/shipnodes", 429, count=1)
    message = stack.messages("LocationsQueue")[0]
    result = stack.handler("locations").handler(stack.sqs_event([message]), stack.context())
    # Waiting for Walmart's budget is not a failure: the same job comes back later, its receive count fresh.
    assert result == {"batchItemFailures": []}
    assert stack.messages("LocationsQueue") == []  # delayed until Walmart replenishes
    stack.pump(timeout=90)
    assert response_json(api("GET", "/api/walmart"))["data"][0]["jobs"]["locations"]["status"] == "succeeded"
