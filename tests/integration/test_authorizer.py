"""The authorizer: bearer tokens (stored hashed) become tenants; everything else is 401."""

import pytest

from tests.support import LambdaContext

ARN = "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/GET/api/walmart"


def request(authorization=None):
    headers = {"Authorization": authorization} if authorization is not None else {}
    return {"type": "REQUEST", "methodArn": ARN, "headers": headers, "httpMethod": "GET", "path": "/api/walmart"}


@pytest.fixture
def auth(stack):
    from walmart_integration.services.auth import AuthService
    from walmart_integration.store.tenants import TenantRepository

    return AuthService(TenantRepository(stack.env["APP_TABLE_NAME"], "us-east-1"))


def test_a_valid_token_allows_every_route_for_its_tenant(stack, auth):
    token = auth.issue_token("acme")
    policy = stack.handler("authorizer").handler(request(f"Bearer {token}"), LambdaContext())
    assert policy["principalId"] == "acme"
    assert policy["context"] == {"tenant_id": "acme"}
    statement = policy["policyDocument"]["Statement"][0]
    assert statement["Effect"] == "Allow"
    assert statement["Resource"] == "arn:aws:execute-api:us-east-1:123456789012:abc123/dev/*"


def test_tokens_are_stored_hashed(stack, auth):
    import boto3

    token = auth.issue_token("acme")
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=stack.env["APP_TABLE_NAME"])["Items"]
    assert token not in str(items)


@pytest.mark.parametrize(
    "authorization",
    [
        None,
        "",
        "Bearer",
        "Basic abc",
        "Bearer wis_unknown_token_000000000000000000000",
        "Bearer not-our-format",
        "wis_x",
    ],
)
def test_missing_malformed_or_unknown_tokens_are_401(stack, authorization):
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        stack.handler("authorizer").handler(request(authorization), LambdaContext())


def test_a_revoked_token_is_401(stack, auth):
    token = auth.issue_token("acme")
    auth.revoke(token)
    with pytest.raises(Exception, match=r"^Unauthorized$"):
        stack.handler("authorizer").handler(request(f"Bearer {token}"), LambdaContext())


def test_tenant_names_are_validated(auth):
    from walmart_integration.errors import ValidationFailed

    with pytest.raises(ValidationFailed):
        auth.issue_token("bad name with spaces")
