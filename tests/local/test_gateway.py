"""local/gateway.py: what API Gateway does for this API, on a small template shaped like template.yaml's.

The API of ``API_TEMPLATE`` is the service's (``/api/{proxy+}`` behind the Lambda REQUEST authorizer, its cache and
the 401/403 gateway responses) plus the public route of issue #11: ``GET /api/walmart/oauth/callback``, its own
``Api`` event with ``Auth: {Authorizer: NONE}``. The gateway runs in this process; its functions are Python stand-ins
that answer like the real ones and remember what they were given.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
from werkzeug.test import Client

from local.gateway import ApiConfig, Gateway, api_config, match_resource, policy_allows
from local.runtime import InvocationResult
from local.template import load_template
from tests.local.support import resolver_for

API_TEMPLATE = """
AWSTemplateFormatVersion: "2010-09-09"
Transform: AWS::Serverless-2016-10-31
Parameters:
  Stage: {Type: String, Default: dev}
  AuthorizerCacheSeconds: {Type: Number, Default: 300}
Globals:
  Function: {Runtime: python3.11, Handler: app.handler}
Resources:
  RestApi:
    Type: AWS::Serverless::Api
    Properties:
      StageName: !Ref Stage
      OpenApiVersion: "3.0.1"
      Auth:
        DefaultAuthorizer: BearerTokenAuthorizer
        Authorizers:
          BearerTokenAuthorizer:
            FunctionPayloadType: REQUEST
            FunctionArn: !GetAtt AuthorizerFunction.Arn
            Identity: {Headers: [Authorization], ReauthorizeEvery: !Ref AuthorizerCacheSeconds}
      GatewayResponses:
        UNAUTHORIZED:
          StatusCode: 401
          ResponseParameters: {Headers: {WWW-Authenticate: "'Bearer'"}}
          ResponseTemplates: {application/json: '{"message": $context.error.messageString}'}
        ACCESS_DENIED:
          StatusCode: 403
          ResponseTemplates: {application/json: '{"message": $context.error.messageString}'}
  ApiFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/api/
      Events:
        Proxy: {Type: Api, Properties: {RestApiId: !Ref RestApi, Path: "/api/{proxy+}", Method: ANY}}
        OAuthCallback:
          Type: Api
          Properties:
            RestApiId: !Ref RestApi
            Path: /api/walmart/oauth/callback
            Method: GET
            Auth: {Authorizer: NONE}
  AuthorizerFunction:
    Type: AWS::Serverless::Function
    Properties:
      CodeUri: functions/authorizer/
"""


class Functions:
    """Stand-ins for the API function and the authorizer (a token is valid while it is in ``tokens``)."""

    def __init__(self) -> None:
        self.tokens = {"Bearer good": "tenant-a", "Bearer denied": "tenant-d"}
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def authorizer_calls(self) -> int:
        return sum(1 for function, _ in self.calls if function == "AuthorizerFunction")

    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult:
        self.calls.append((function, event))
        if function == "AuthorizerFunction":
            token = (event.get("headers") or {}).get("Authorization")
            if token not in self.tokens:
                return InvocationResult("r", error={"errorType": "Exception", "errorMessage": "Unauthorized"})
            api_arn = event["methodArn"].split("/", 1)[0]
            effect = "Deny" if token == "Bearer denied" else "Allow"
            statement = {"Action": "execute-api:Invoke", "Effect": effect, "Resource": f"{api_arn}/local/*"}
            return InvocationResult(
                "r",
                payload={
                    "principalId": self.tokens[token],
                    "policyDocument": {"Version": "2012-10-17", "Statement": [statement]},
                    "context": {"tenant_id": self.tokens[token]},
                },
            )
        body = {
            "resource": event["resource"],
            "path": event["path"],
            "stage": event["requestContext"]["stage"],
            "query": event["queryStringParameters"],
            "tenant": (event["requestContext"].get("authorizer") or {}).get("tenant_id"),
        }
        return InvocationResult("r", payload={"statusCode": 200, "body": json.dumps(body)})


def api(tmp_path: Path, cache_seconds: int) -> ApiConfig:
    path = tmp_path / "template.yaml"
    path.write_text(API_TEMPLATE)
    overrides = {"Stage": "local", "AuthorizerCacheSeconds": cache_seconds}
    template = load_template(path, overrides)
    config = api_config(template, resolve=resolver_for(template.parameter_values(overrides)).resolve)
    assert config is not None
    return config


@pytest.fixture
def functions() -> Functions:
    return Functions()


@pytest.fixture
def client(tmp_path: Path, functions: Functions) -> Client:
    return Client(Gateway(api(tmp_path, cache_seconds=300), functions.invoke))


def test_resource_matching_prefers_literals_then_greedy() -> None:
    resources = ["/api/{proxy+}", "/api/docs", "/api", "/api/walmart/{proxy+}"]
    assert match_resource(resources, "/api/docs").resource == "/api/docs"  # type: ignore[union-attr]
    match = match_resource(resources, "/api/a/b")
    assert match is not None and (match.resource, match.path_parameters) == ("/api/{proxy+}", {"proxy": "a/b"})
    match = match_resource(resources, "/api/walmart/1/items")
    assert match is not None and (match.resource, match.path_parameters) == (
        "/api/walmart/{proxy+}",
        {"proxy": "1/items"},
    )
    assert match_resource(resources, "/api").resource == "/api"  # type: ignore[union-attr]
    assert match_resource(resources, "/api/").resource == "/api"  # type: ignore[union-attr]
    assert match_resource(resources, "/other") is None


def test_policy_evaluation() -> None:
    arn = "arn:aws:execute-api:us-east-1:123456789012:abc/local/GET/api/x"
    allow = {"Statement": [{"Effect": "Allow", "Action": "execute-api:Invoke", "Resource": "arn:*:abc/local/*"}]}
    deny = {"Statement": [*allow["Statement"], {"Effect": "Deny", "Action": "*", "Resource": [arn]}]}
    assert policy_allows(allow, arn)
    assert not policy_allows(deny, arn)
    assert not policy_allows(allow, arn.replace("/local/", "/prod/"))


def test_the_public_route_reaches_its_function_with_no_authorizer_call(client: Client, functions: Functions) -> None:
    response = client.get("/api/walmart/oauth/callback?code=abc&state=xyz")
    assert response.status_code == 200
    assert response.get_json() == {
        "resource": "/api/walmart/oauth/callback",
        "path": "/api/walmart/oauth/callback",
        "stage": "local",
        "query": {"code": "abc", "state": "xyz"},
        "tenant": None,
    }
    assert functions.authorizer_calls() == 0
    (function, event) = functions.calls[0]
    assert function == "ApiFunction" and "authorizer" not in event["requestContext"]

    # The literal resource has only GET: API Gateway does not hand its other methods to {proxy+}.
    posted = client.post("/api/walmart/oauth/callback")
    assert posted.status_code == 403 and posted.get_json() == {"message": "Missing Authentication Token"}
    # Next to it, the proxy route still needs a token.
    refused = client.get("/api/walmart/oauth")
    assert refused.status_code == 401 and refused.headers["WWW-Authenticate"] == "Bearer"
    assert functions.authorizer_calls() == 0  # no identity header: refused without calling the authorizer


def test_the_proxy_route_goes_through_the_authorizer(client: Client, functions: Functions) -> None:
    allowed = client.get("/api/walmart", headers={"Authorization": "Bearer good"})
    assert allowed.status_code == 200
    assert allowed.get_json()["resource"] == "/api/{proxy+}" and allowed.get_json()["tenant"] == "tenant-a"
    (_, authorizer_event), (_, api_event) = functions.calls
    assert authorizer_event["type"] == "REQUEST"
    assert authorizer_event["methodArn"].endswith("/local/GET/api/walmart")
    assert api_event["requestContext"]["authorizer"]["principalId"] == "tenant-a"

    unknown = client.get("/api/walmart", headers={"Authorization": "Bearer nope"})
    assert unknown.status_code == 401 and unknown.get_json() == {"message": "Unauthorized"}
    assert unknown.headers["WWW-Authenticate"] == "Bearer"
    denied = client.get("/api/walmart", headers={"Authorization": "Bearer denied"})
    assert denied.status_code == 403
    assert denied.get_json() == {"message": "User is not authorized to access this resource"}


def test_the_authorizer_answer_is_cached_per_token_for_its_ttl(tmp_path: Path, functions: Functions) -> None:
    client = Client(Gateway(api(tmp_path, cache_seconds=1), functions.invoke))
    good = {"Authorization": "Bearer good"}
    assert client.get("/api/walmart", headers=good).status_code == 200
    assert client.post("/api/walmart/1", headers=good).status_code == 200  # one policy for every route
    assert functions.authorizer_calls() == 1
    assert client.get("/api/walmart", headers={"Authorization": "Bearer denied"}).status_code == 403
    assert functions.authorizer_calls() == 2  # another token, another answer

    del functions.tokens["Bearer good"]  # revoked: the cached answer still admits it until the TTL is over
    assert client.get("/api/walmart", headers=good).status_code == 200
    time.sleep(1.1)
    assert client.get("/api/walmart", headers=good).status_code == 401
    assert functions.authorizer_calls() == 3


def test_no_cache_when_the_ttl_is_zero(tmp_path: Path, functions: Functions) -> None:
    client = Client(Gateway(api(tmp_path, cache_seconds=0), functions.invoke))
    for _ in range(2):
        assert client.get("/api/walmart", headers={"Authorization": "Bearer good"}).status_code == 200
    assert functions.authorizer_calls() == 2
    del functions.tokens["Bearer good"]
    assert client.get("/api/walmart", headers={"Authorization": "Bearer good"}).status_code == 401
