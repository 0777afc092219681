"""Every handler invoked with its sample events from events/ (the Docker-free `sam local invoke`)."""

import json
from pathlib import Path

import pytest

from tests.support import FUNCTIONS, ROOT, LambdaContext, response_json

EVENTS = sorted((ROOT / "events").glob("*.json"))
FUNCTION_DIRS = sorted((p.name for p in FUNCTIONS.iterdir() if (p / "app.py").exists()), key=len, reverse=True)
SAMPLE_TOKEN = "wis_demo-token-for-sample-events-only"


def function_of(event_file: Path) -> str:
    return next(name for name in FUNCTION_DIRS if event_file.stem.startswith(name + "_"))


@pytest.mark.parametrize("event_file", [p for p in EVENTS if p.name != "env.json"], ids=lambda p: p.stem)
def test_handler_accepts_its_sample_event(stack, event_file):
    from walmart_integration.services.auth import hash_token
    from walmart_integration.store.tenants import TenantRepository

    TenantRepository(stack.env["APP_TABLE_NAME"], "us-east-1").put_token(hash_token(SAMPLE_TOKEN), "demo")
    event = json.loads(event_file.read_text())
    module = stack.handler(function_of(event_file))
    if "malformed" in event_file.stem:
        with pytest.raises(Exception, match="Unauthorized"):
            module.handler(event, LambdaContext())
        return
    result = module.handler(event, LambdaContext())
    json.dumps(result)
    if "statusCode" in result:
        assert result["statusCode"] < 500, result
        if event["httpMethod"] == "POST":
            assert result["statusCode"] == 201, response_json(result)
    elif "Records" in event:
        assert result == {"batchItemFailures": []}
    elif event.get("type") == "REQUEST":
        assert result["principalId"] == "demo"
        assert result["context"] == {"tenant_id": "demo"}
        assert result["policyDocument"]["Statement"][0]["Effect"] == "Allow"


def test_every_function_has_sample_events():
    covered = {function_of(p) for p in EVENTS if p.name != "env.json"}
    assert covered == set(FUNCTION_DIRS)


def test_env_file_names_every_function_of_the_template():
    env = json.loads((ROOT / "events" / "env.json").read_text())
    assert {"ApiFunction", "AuthorizerFunction", "TokenFunction", "LocationsFunction", "SyncFunction"} <= set(env)
