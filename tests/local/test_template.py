"""local/template.py: template.yaml through SAM's own transform, and the intrinsics its output needs.

(tests/unit/test_template.py checks the rules template.yaml itself must keep; this is how the local stack reads it.)
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from local.gateway import Authorizer, api_config
from local.template import Resolver, TemplateError, load_template, load_yaml, pseudo_parameters
from tests.local.support import resolver_for, write_service

ROOT = Path(__file__).resolve().parents[2]


def test_short_tags_and_globals(tmp_path: Path) -> None:
    template = load_template(write_service(tmp_path))
    worker = template.functions()["WorkerFunction"]
    api = template.functions()["ApiFunction"]
    assert worker.timeout == 2 and api.timeout == 5  # function value over the Global one
    assert api.memory_size == 256 and api.handler == "app.handler"
    assert api.environment["ROLE"] == "api" and api.environment["TABLE_NAME"] == {"Ref": "Table"}  # maps merge
    assert api.environment["QUEUE_ARN"] == {"Fn::GetAtt": ["WorkQueue", "Arn"]}
    assert api.code_dir == (tmp_path / "functions" / "api").resolve()
    assert template.layer_dirs(api) == [(tmp_path / "layer").resolve()]
    config = api_config(template, resolve=resolver_for(template.parameter_values()).resolve)
    assert config is not None
    assert sorted((r.path, r.method, r.authorizer) for r in config.routes) == sorted(
        [
            ("/public", "GET", None),
            ("/hello/{proxy+}", "GET", "Bearer"),
            ("/items/{proxy+}", "ANY", "Bearer"),
        ]
    )
    (source,) = template.sqs_sources()
    assert (source.batch_size, source.maximum_concurrency, source.report_batch_item_failures) == (10, 2, True)
    assert [s.schedule for s in template.schedule_sources()] == ["rate(5 minutes)"]


def test_intrinsics_resolve() -> None:
    data = load_yaml(
        textwrap.dedent(
            """
            Value:
              ref: !Ref Stage
              number: !Ref Count
              region: !Ref AWS::Region
              arn: !GetAtt Queue.Arn
              getatt_list: !GetAtt [Queue, QueueName]
              sub: !Sub "${AWS::StackName}/${Queue}/${Queue.QueueName}/${!Literal}"
              sub_list: !Sub ["${Greeting} ${Who}", {Greeting: hello dear, Who: !Ref Stage}]
            Unsupported: !Join [",", [a, b]]
            """
        )
    )
    lookup = {("Queue", None): "https://queue/url", ("Queue", "Arn"): "arn:q", ("Queue", "QueueName"): "q"}
    resolver = Resolver(
        parameters={"Stage": "local", "Count": 5},
        pseudo=pseudo_parameters("my-stack"),
        lookup=lambda target, attribute: lookup[(target, attribute)],
    )
    assert resolver.resolve(data["Value"]) == {
        "ref": "local",
        "number": 5,
        "region": "us-east-1",
        "arn": "arn:q",
        "getatt_list": "q",
        "sub": "my-stack/https://queue/url/q/${Literal}",
        "sub_list": "hello dear local",
    }
    assert resolver.resolve_env({"N": {"Ref": "Count"}, "B": True}) == {"N": "5", "B": "true"}
    with pytest.raises(TemplateError, match="Fn::Join is not supported locally"):
        resolver.resolve(data["Unsupported"])
    with pytest.raises(TemplateError, match=r"cannot resolve Queue\.Missing"):
        resolver.resolve({"Fn::GetAtt": ["Queue", "Missing"]})


def test_template_yaml_as_the_local_stack_runs_it(monkeypatch: pytest.MonkeyPatch) -> None:
    """The transform runs offline, with no AWS region configured, and with the stack's parameter values."""
    for name in ("AWS_DEFAULT_REGION", "AWS_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    overrides = {"Stage": "local", "AuthorizerCacheSeconds": "2"}
    template = load_template(ROOT / "template.yaml", overrides)
    functions = template.functions()
    for name, function in functions.items():
        assert function.code_dir.parent == ROOT / "functions" and (function.code_dir / "app.py").is_file(), name
        assert template.layer_dirs(function) == [ROOT / "layers" / "shared"], name
        assert function.environment["APP_ENV"] == {"Ref": "Stage"}, name  # Globals
    assert functions["BackfillFunction"].timeout == 60 and functions["ApiFunction"].timeout == 30
    assert {(s.function, s.queue["Fn::GetAtt"][0]) for s in template.sqs_sources()} == {
        ("TokenFunction", "TokenQueue"),
        ("LocationsFunction", "LocationsQueue"),
        ("SyncFunction", "SyncQueue"),
        ("BackfillFunction", "BackfillQueue"),
        ("ProfileRefreshFunction", "ProfileRefreshQueue"),
        ("AdsReportsFunction", "AdsReportQueue"),
        ("AdsWriteBackFunction", "AdsWriteBackQueue"),
        ("AccountingFunction", "AccountingQueue"),
    }
    assert {(s.function, s.schedule) for s in template.schedule_sources()} == {
        ("ProfileRefreshFunction", "rate(15 minutes)"),
        ("SchedulerFunction", "rate(15 minutes)"),
    }

    api = api_config(template, resolve=resolver_for(template.parameter_values(overrides)).resolve)
    assert api is not None and (api.api_id, api.stage) == ("RestApi-id", "local")
    assert {(r.path, r.method, r.function, r.authorizer) for r in api.routes} == {
        ("/api/{proxy+}", "ANY", "ApiFunction", "BearerTokenAuthorizer"),
        ("/api/docs", "GET", "ApiFunction", None),
        ("/api/openapi.json", "GET", "ApiFunction", None),
        ("/api/walmart/oauth/callback", "GET", "ApiFunction", None),  # Walmart's redirect: no bearer token
    }
    assert api.authorizers == {
        "BearerTokenAuthorizer": Authorizer("BearerTokenAuthorizer", "AuthorizerFunction", ("Authorization",), 2)
    }
    unauthorized = api.gateway_responses["UNAUTHORIZED"]
    assert unauthorized["statusCode"] == "401"
    assert unauthorized["responseParameters"] == {"gatewayresponse.header.WWW-Authenticate": "'Bearer'"}
