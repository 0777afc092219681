"""The rules template.yaml (and the files that go with it) must keep: they are what makes the system safe to run.

The template is read as plain YAML with the CloudFormation short-form tags (!Ref, !GetAtt, !Sub, ...)
turned into their long form, so nothing here needs AWS, SAM or Docker.
"""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
EVENTS = ROOT / "events"

# Contract (see ARCHITECTURE.md / CONTRACTS.md): function logical id -> CodeUri dir.
FUNCTIONS = {
    "ApiFunction": "api",
    "AuthorizerFunction": "authorizer",
    "TokenFunction": "token",
    "LocationsFunction": "locations",
    "SyncFunction": "sync",
    "BackfillFunction": "backfill",
    "ProfileRefreshFunction": "profile_refresh",
    "SchedulerFunction": "scheduler",
    "AdsReportsFunction": "ads_reports",
    "AdsWriteBackFunction": "ads_writeback",
    "AccountingFunction": "accounting",
}
WORKER_QUEUES = {
    "TokenQueue": "TokenFunction",
    "LocationsQueue": "LocationsFunction",
    "SyncQueue": "SyncFunction",
    "BackfillQueue": "BackfillFunction",
    "ProfileRefreshQueue": "ProfileRefreshFunction",
    "AdsReportQueue": "AdsReportsFunction",
    "AdsWriteBackQueue": "AdsWriteBackFunction",
    "AccountingQueue": "AccountingFunction",
}
GLOBAL_ENV = {
    "APP_ENV",
    "LOG_LEVEL",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_NAMESPACE",
    "APP_TABLE_NAME",
    "DATA_TABLE_NAME",
    "IDEMPOTENCY_TABLE_NAME",
    "TOKEN_QUEUE_URL",
    "LOCATIONS_QUEUE_URL",
    "SYNC_QUEUE_URL",
    "BACKFILL_QUEUE_URL",
    "PROFILE_REFRESH_QUEUE_URL",
    "ADS_REPORT_QUEUE_URL",
    "ADS_WRITEBACK_QUEUE_URL",
    "ACCOUNTING_QUEUE_URL",
    "ACCOUNTING_EVENT_BUS_NAME",
    "SECRETS_KEY_ID",
    "WALMART_SANDBOX_URL",
    "WALMART_PRODUCTION_URL",
    "WALMART_ADS_URL",
    "MAX_RECEIVE_COUNT",
    "RETRY_BASE_SECONDS",
    "WALMART_RATE_LIMIT_SCALE",
    "WALMART_RATE_LIMITS",
    "WALMART_ADS_SECRET_NAME",
    "WALMART_APP_SECRET_NAME",
    "WALMART_AUTHORIZE_URL",
    "WALMART_REDIRECT_URI",
    "WALMART_ADS_HOURLY_OPERATIONS",
    "ADS_BACKFILL_DAYS",
}
MESSAGE_KEYS = {  # required keys of each queue's message body
    "TokenQueue": {"tenant_id", "instance_id", "credentials_version"},
    "LocationsQueue": {"tenant_id", "instance_id", "run_id"},
    "SyncQueue": {"tenant_id", "instance_id", "run_id", "stream", "cursor"},
    "BackfillQueue": {"tenant_id", "instance_id", "run_id"},
    "ProfileRefreshQueue": {"refresh_id"},
    "AdsReportQueue": {"tenant_id", "account_id", "advertiser_id", "run_id", "key", "report_type", "start", "end"},
    "AdsWriteBackQueue": {"tenant_id", "account_id", "change_id"},
    "AccountingQueue": {"tenant_id", "instance_id"},
}
MIN_RECEIVE_COUNT = 5
VISIBILITY_FACTOR = 6
FOURTEEN_DAYS = 14 * 24 * 3600


# ------------------------------------------------------------------ loading


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that accepts CloudFormation short-form intrinsic functions."""


def _intrinsic(loader: yaml.SafeLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    name = "Ref" if tag_suffix == "Ref" else f"Fn::{tag_suffix}"
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
        if tag_suffix == "GetAtt":  # !GetAtt Resource.Attribute
            value = value.split(".", 1)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    return {name: value}


CfnLoader.add_multi_constructor("!", _intrinsic)


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return yaml.load(TEMPLATE.read_text(), Loader=CfnLoader)


@pytest.fixture(scope="module")
def resources(template: dict[str, Any]) -> dict[str, Any]:
    return template["Resources"]


@pytest.fixture(scope="module")
def functions(resources: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Serverless::Function"}


def _global(template: dict[str, Any], key: str) -> Any:
    return template.get("Globals", {}).get("Function", {}).get(key)


def _timeout(template: dict[str, Any], props: dict[str, Any]) -> int:
    return int(props.get("Timeout", _global(template, "Timeout") or 3))


def _param_value(template: dict[str, Any], value: Any) -> Any:
    """A literal, or the default of the parameter a !Ref points to."""
    if isinstance(value, dict) and "Ref" in value:
        return template["Parameters"][value["Ref"]]["Default"]
    return value


def _sqs_events(props: dict[str, Any]) -> list[dict[str, Any]]:
    return [e["Properties"] for e in (props.get("Events") or {}).values() if e["Type"] == "SQS"]


def _queue_of(event: dict[str, Any]) -> str:
    ref = event["Queue"]["Fn::GetAtt"]
    assert ref[1] == "Arn"
    return str(ref[0])


def _policy_templates(props: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    policies = props.get("Policies") or []
    assert all(isinstance(p, dict) and len(p) == 1 for p in policies), "only SAM policy templates"
    return [(name, args) for p in policies for name, args in p.items()]


# ------------------------------------------------------------------ functions, layer, globals


def test_functions_are_the_contract(functions: dict[str, dict[str, Any]]) -> None:
    assert set(functions) == set(FUNCTIONS)
    for logical_id, directory in FUNCTIONS.items():
        props = functions[logical_id]
        assert props["Handler"] == "app.handler"
        assert props["CodeUri"].rstrip("/") == f"functions/{directory}"
        assert (ROOT / "functions" / directory / "app.py").is_file()


def test_runtime_is_python311_on_arm64(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    assert _global(template, "Runtime") == "python3.11"
    assert _global(template, "Architectures") == ["arm64"]
    assert _global(template, "Layers") == [{"Ref": "SharedLayer"}]
    for props in functions.values():
        assert props.get("Runtime", "python3.11") == "python3.11"
        assert props.get("Architectures", ["arm64"]) == ["arm64"]


def test_shared_layer_is_built_for_python311_arm64(resources: dict[str, Any]) -> None:
    layer = resources["SharedLayer"]
    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Metadata"] == {"BuildMethod": "python3.11", "BuildArchitecture": "arm64"}
    assert layer["Properties"]["ContentUri"].rstrip("/") == "layers/shared"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Properties"]["CompatibleArchitectures"] == ["arm64"]
    assert (ROOT / "layers" / "shared" / "requirements.txt").is_file()


def test_environment_is_the_contract(template: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    variables = _global(template, "Environment")["Variables"]
    assert set(variables) == GLOBAL_ENV
    assert variables["APP_ENV"] == {"Ref": "Stage"}
    assert template["Parameters"]["Stage"]["AllowedValues"] == ["local", "dev", "staging", "production"]
    assert variables["MAX_RECEIVE_COUNT"] == {"Ref": "MaxReceiveCount"}
    for logical_id, props in functions.items():
        service = props["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        assert service == FUNCTIONS[logical_id], logical_id


# ------------------------------------------------------------------ queues


def test_every_worker_queue_has_a_dead_letter_queue(template: dict[str, Any], resources: dict[str, Any]) -> None:
    for queue in WORKER_QUEUES:
        props = resources[queue]["Properties"]
        redrive = props["RedrivePolicy"]
        dlq = redrive["deadLetterTargetArn"]["Fn::GetAtt"]
        assert dlq == [queue.replace("Queue", "DeadLetterQueue"), "Arn"]
        assert resources[dlq[0]]["Type"] == "AWS::SQS::Queue"
        assert int(_param_value(template, redrive["maxReceiveCount"])) >= MIN_RECEIVE_COUNT
        if "Ref" in redrive["maxReceiveCount"]:
            assert int(template["Parameters"][redrive["maxReceiveCount"]["Ref"]]["MinValue"]) >= MIN_RECEIVE_COUNT
        dlq_props = resources[dlq[0]]["Properties"]
        assert dlq_props["MessageRetentionPeriod"] == FOURTEEN_DAYS
        # A message keeps its original enqueue time in the DLQ: the DLQ must keep messages longer.
        assert props.get("MessageRetentionPeriod", 345600) < dlq_props["MessageRetentionPeriod"]


def test_queues_are_encrypted(resources: dict[str, Any]) -> None:
    queues = [r for r in resources.values() if r["Type"] == "AWS::SQS::Queue"]
    assert len(queues) == 2 * len(WORKER_QUEUES)
    for queue in queues:
        assert queue["Properties"].get("SqsManagedSseEnabled") is True


def test_visibility_timeout_is_six_times_the_consumer_timeout(
    template: dict[str, Any], resources: dict[str, Any], functions: dict[str, dict[str, Any]]
) -> None:
    for queue, consumer in WORKER_QUEUES.items():
        visibility = int(resources[queue]["Properties"]["VisibilityTimeout"])
        assert visibility >= VISIBILITY_FACTOR * _timeout(template, functions[consumer]), queue


def test_each_worker_queue_has_exactly_its_consumer(functions: dict[str, dict[str, Any]]) -> None:
    consumers: dict[str, list[str]] = {}
    for logical_id, props in functions.items():
        for event in _sqs_events(props):
            consumers.setdefault(_queue_of(event), []).append(logical_id)
    assert consumers == {queue: [fn] for queue, fn in WORKER_QUEUES.items()}


def test_sqs_events_report_partial_failures_and_cap_concurrency(functions: dict[str, dict[str, Any]]) -> None:
    events = [e for props in functions.values() for e in _sqs_events(props)]
    assert len(events) == len(WORKER_QUEUES)
    for event in events:
        assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"], event
        assert 2 <= int(event["ScalingConfig"]["MaximumConcurrency"]) <= 10, event
        assert 1 <= int(event["BatchSize"]) <= 10, event


def test_workers_may_delay_redelivery_on_their_own_queue(functions: dict[str, dict[str, Any]]) -> None:
    """Backoff changes the message visibility: each consumer needs SQSPollerPolicy on its queue."""
    for queue, consumer in WORKER_QUEUES.items():
        pollers = [a for n, a in _policy_templates(functions[consumer]) if n == "SQSPollerPolicy"]
        assert pollers == [{"QueueName": {"Fn::GetAtt": [queue, "QueueName"]}}], consumer


def test_every_dead_letter_queue_has_an_alarm(resources: dict[str, Any]) -> None:
    alarmed = {}
    for resource in resources.values():
        if resource["Type"] != "AWS::CloudWatch::Alarm":
            continue
        props = resource["Properties"]
        assert props["Namespace"] == "AWS/SQS"
        assert props["MetricName"] == "ApproximateNumberOfMessagesVisible"
        assert props["ComparisonOperator"] == "GreaterThanOrEqualToThreshold"
        assert float(props["Threshold"]) == 1
        assert props["AlarmActions"] == [{"Ref": "AlarmTopic"}]
        (dimension,) = props["Dimensions"]
        alarmed[dimension["Value"]["Fn::GetAtt"][0]] = props
    assert set(alarmed) == {q.replace("Queue", "DeadLetterQueue") for q in WORKER_QUEUES}
    assert resources["AlarmTopic"]["Type"] == "AWS::SNS::Topic"


# ------------------------------------------------------------------ tables, key


@pytest.mark.parametrize("table", ["AppTable", "DataTable", "IdempotencyTable"])
def test_tables_are_on_demand_with_pitr_and_sse(resources: dict[str, Any], table: str) -> None:
    resource = resources[table]
    assert resource["Type"] == "AWS::DynamoDB::Table"
    assert resource["DeletionPolicy"] == "Retain"
    assert resource["UpdateReplacePolicy"] == "Retain"
    props = resource["Properties"]
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert props["SSESpecification"]["SSEEnabled"] is True


def test_table_keys_and_ttl(resources: dict[str, Any]) -> None:
    for table in ("AppTable", "DataTable"):
        props = resources[table]["Properties"]
        assert props["KeySchema"] == [
            {"AttributeName": "pk", "KeyType": "HASH"},
            {"AttributeName": "sk", "KeyType": "RANGE"},
        ]
        (gsi,) = props["GlobalSecondaryIndexes"]
        assert gsi["IndexName"] == "gsi1"
        assert gsi["Projection"] == {"ProjectionType": "ALL"}
    assert resources["IdempotencyTable"]["Properties"]["KeySchema"] == [{"AttributeName": "id", "KeyType": "HASH"}]
    ttl = {t: resources[t]["Properties"].get("TimeToLiveSpecification") for t in ("AppTable", "IdempotencyTable")}
    assert ttl == {
        "AppTable": {"AttributeName": "expires_at", "Enabled": True},
        "IdempotencyTable": {"AttributeName": "expiration", "Enabled": True},
    }


def test_secrets_key_rotates(resources: dict[str, Any]) -> None:
    assert resources["SecretsKey"]["Properties"]["EnableKeyRotation"] is True
    assert resources["SecretsKeyAlias"]["Properties"]["TargetKeyId"] == {"Ref": "SecretsKey"}


# ------------------------------------------------------------------ least privilege

ALLOWED_POLICY_TEMPLATES = {
    "DynamoDBCrudPolicy",
    "DynamoDBReadPolicy",
    "SQSSendMessagePolicy",
    "SQSPollerPolicy",
    "KMSEncryptPolicy",
    "KMSDecryptPolicy",
    "AWSSecretsManagerGetSecretValuePolicy",
    "EventBridgePutEventsPolicy",
}


def test_functions_use_only_scoped_policy_templates(functions: dict[str, dict[str, Any]]) -> None:
    for logical_id, props in functions.items():
        for name, args in _policy_templates(props):
            assert name in ALLOWED_POLICY_TEMPLATES, (logical_id, name)
            assert args, (logical_id, name)  # every template is scoped to one resource


def test_authorizer_reads_only_and_the_scheduler_only_touches_the_app_table(
    functions: dict[str, dict[str, Any]],
) -> None:
    assert _policy_templates(functions["AuthorizerFunction"]) == [
        ("DynamoDBReadPolicy", {"TableName": {"Ref": "AppTable"}})
    ]
    # The scheduler starts the daily advertising refresh runs (one conditional write per account that is due).
    assert _policy_templates(functions["SchedulerFunction"]) == [
        ("DynamoDBCrudPolicy", {"TableName": {"Ref": "AppTable"}}),
        ("SQSSendMessagePolicy", {"QueueName": {"Fn::GetAtt": ["SyncQueue", "QueueName"]}}),
        ("SQSSendMessagePolicy", {"QueueName": {"Fn::GetAtt": ["AdsReportQueue", "QueueName"]}}),
        ("EventBridgePutEventsPolicy", {"EventBusName": {"Ref": "AccountingEventBus"}}),
    ]


def _secrets_read(props: dict[str, Any]) -> set[str]:
    """The template parameters naming the secrets a function may read."""
    return {
        name
        for policy, args in _policy_templates(props)
        if policy == "AWSSecretsManagerGetSecretValuePolicy"
        for name in ("WalmartAdsSecretName", "WalmartAppSecretName")
        if "${" + name + "}-*" in json.dumps(args)
    }


def test_only_functions_that_call_walmart_connect_read_the_partner_secret(
    functions: dict[str, dict[str, Any]],
) -> None:
    reading = {fn for fn, props in functions.items() if "WalmartAdsSecretName" in _secrets_read(props)}
    assert reading == {"ProfileRefreshFunction", "AdsReportsFunction", "AdsWriteBackFunction"}


def test_only_functions_that_exchange_or_refresh_seller_tokens_read_the_app_secret(
    functions: dict[str, dict[str, Any]],
) -> None:
    """The API exchanges a seller's authorization code; the workers that call the Marketplace refresh its token."""
    reading = {fn for fn, props in functions.items() if "WalmartAppSecretName" in _secrets_read(props)}
    assert reading == {"ApiFunction", "TokenFunction", "LocationsFunction", "SyncFunction", "BackfillFunction"}
    for fn, props in functions.items():  # and no function reads any other secret
        policies = [args for n, args in _policy_templates(props) if n == "AWSSecretsManagerGetSecretValuePolicy"]
        assert len(policies) == len(_secrets_read(props)), fn


def test_only_functions_that_read_secrets_may_decrypt(functions: dict[str, dict[str, Any]]) -> None:
    decrypting = {
        fn for fn, props in functions.items() if any(n == "KMSDecryptPolicy" for n, _ in _policy_templates(props))
    }
    # The API re-seals the stored client secret when a PATCH changes only the client id.
    assert decrypting == {"ApiFunction", "TokenFunction", "LocationsFunction", "SyncFunction", "BackfillFunction"}


# ------------------------------------------------------------------ API, schedules, outputs


def test_api_is_behind_the_request_authorizer(resources: dict[str, Any], functions: dict[str, dict[str, Any]]) -> None:
    api = resources["RestApi"]
    assert api["Type"] == "AWS::Serverless::Api"
    auth = api["Properties"]["Auth"]
    authorizer = auth["Authorizers"][auth["DefaultAuthorizer"]]
    assert authorizer["FunctionPayloadType"] == "REQUEST"
    assert authorizer["FunctionArn"] == {"Fn::GetAtt": ["AuthorizerFunction", "Arn"]}
    assert authorizer["Identity"]["Headers"] == ["Authorization"]
    assert api["Properties"]["StageName"] == {"Ref": "Stage"}
    for response in ("UNAUTHORIZED", "ACCESS_DENIED"):
        body = api["Properties"]["GatewayResponses"][response]["ResponseTemplates"]["application/json"]
        assert body.startswith('{"message":')

    routes = {}
    for event in functions["ApiFunction"]["Events"].values():
        assert event["Type"] == "Api"
        props = event["Properties"]
        assert props["RestApiId"] == {"Ref": "RestApi"}
        routes[(props["Method"].upper(), props["Path"])] = props.get("Auth", {}).get("Authorizer")
    assert routes == {
        ("ANY", "/api/{proxy+}"): None,  # the default authorizer
        ("GET", "/api/docs"): "NONE",
        ("GET", "/api/openapi.json"): "NONE",
        ("GET", "/api/walmart/oauth/callback"): "NONE",  # Walmart sends the seller's browser: the state is the proof
    }
    for logical_id, props in functions.items():
        if logical_id != "ApiFunction":
            assert all(e["Type"] != "Api" for e in (props.get("Events") or {}).values()), logical_id


def test_authorizer_cache_is_a_parameter_bounding_revocation(
    template: dict[str, Any], resources: dict[str, Any]
) -> None:
    """A revoked token works until API Gateway's cached answer expires: that time is the AuthorizerCacheSeconds
    parameter (documented), within API Gateway's bounds (0 = no cache, at most an hour)."""
    auth = resources["RestApi"]["Properties"]["Auth"]
    identity = auth["Authorizers"][auth["DefaultAuthorizer"]]["Identity"]
    assert identity["ReauthorizeEvery"] == {"Ref": "AuthorizerCacheSeconds"}
    parameter = template["Parameters"]["AuthorizerCacheSeconds"]
    assert (parameter["Type"], parameter["Default"], parameter["MinValue"], parameter["MaxValue"]) == (
        "Number",
        300,
        0,
        3600,
    )
    assert "revoked" in parameter["Description"]


@pytest.mark.parametrize("function", ["ProfileRefreshFunction", "SchedulerFunction"])
def test_runs_every_15_minutes(functions: dict[str, dict[str, Any]], function: str) -> None:
    schedules = [e["Properties"]["Schedule"] for e in functions[function]["Events"].values() if e["Type"] == "Schedule"]
    assert schedules == ["rate(15 minutes)"]


def test_outputs(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert outputs["ApiUrl"]["Value"] == {
        "Fn::Sub": "https://${RestApi}.execute-api.${AWS::Region}.${AWS::URLSuffix}/${Stage}"
    }
    assert outputs["AppTableName"]["Value"] == {"Ref": "AppTable"}
    assert outputs["DataTableName"]["Value"] == {"Ref": "DataTable"}
    for queue in WORKER_QUEUES:
        assert outputs[f"{queue}Url"]["Value"] == {"Ref": queue}


# ------------------------------------------------------------------ events/


def _event_files() -> list[Path]:
    return sorted(p for p in EVENTS.glob("*.json") if p.name != "env.json")


def _function_dir_of(path: Path) -> str:
    matches = [d for d in FUNCTIONS.values() if path.stem.startswith(f"{d}_")]
    assert matches, f"{path.name} is not named <function dir>_<case>.json"
    return max(matches, key=len)


@pytest.mark.parametrize("path", _event_files(), ids=lambda p: p.name)
def test_event_file_is_json_for_a_function(path: Path) -> None:
    event = json.loads(path.read_text())
    assert isinstance(event, dict) and event
    _function_dir_of(path)


def test_every_function_has_a_sample_event() -> None:
    covered = {_function_dir_of(p) for p in _event_files()}
    assert covered == set(FUNCTIONS.values())


def test_sqs_sample_events_carry_contract_messages() -> None:
    queue_of_dir = {FUNCTIONS[fn]: queue for queue, fn in WORKER_QUEUES.items()}
    for path in _event_files():
        event = json.loads(path.read_text())
        if "Records" not in event:
            continue
        queue = queue_of_dir[_function_dir_of(path)]
        for record in event["Records"]:
            assert record["eventSource"] == "aws:sqs"
            assert int(record["attributes"]["ApproximateReceiveCount"]) >= 1
            assert record["messageId"] and record["receiptHandle"]
            assert f"-{queue}-" in record["eventSourceARN"]
            body = json.loads(record["body"])
            assert MESSAGE_KEYS.get(queue, {"tenant_id"}) <= set(body), path.name


def test_authorized_api_sample_events_name_their_tenant() -> None:
    for path in EVENTS.glob("api_*.json"):
        event = json.loads(path.read_text())
        assert re.fullmatch(r"/api/.*", event["path"]), path.name
        if event["resource"] == "/api/{proxy+}":
            assert event["requestContext"]["authorizer"]["tenant_id"] == "demo", path.name
            assert event["headers"]["Authorization"].startswith("Bearer "), path.name


def test_env_json_matches_the_template(template: dict[str, Any]) -> None:
    env = json.loads((EVENTS / "env.json").read_text())
    assert set(env) == set(FUNCTIONS)
    for logical_id, variables in env.items():
        assert set(variables) == GLOBAL_ENV | {"POWERTOOLS_SERVICE_NAME"}, logical_id
        assert all(isinstance(v, str) for v in variables.values()), logical_id


# ------------------------------------------------------------------ samconfig.toml


def test_samconfig_environments() -> None:
    config = tomllib.loads((ROOT / "samconfig.toml").read_text())
    assert str(config["version"]) == "0.1"
    for env in ("default", "dev", "staging", "production"):
        deploy = config[env]["deploy"]["parameters"]
        stage = "dev" if env == "default" else env
        assert deploy["stack_name"] == f"walmart-integration-{stage}"
        assert deploy["parameter_overrides"] == f"Stage={stage}"
        assert deploy["capabilities"] == "CAPABILITY_IAM"
        assert deploy["resolve_s3"] is True
        assert deploy["confirm_changeset"] is (env == "production")
        assert config[env]["validate"]["parameters"]["lint"] is True
