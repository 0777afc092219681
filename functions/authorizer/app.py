"""Authorizer function: a bearer token becomes its tenant in the request context (or 401)."""

from typing import Any

from walmart_integration import composition
from walmart_integration.observability import logger

auth = composition.current().auth


def _any_route(method_arn: str) -> str:
    """arn:...:api-id/stage/* — the policy is cached per token, so it must cover every route."""
    arn, _, path = method_arn.partition("/")
    stage = path.split("/", 1)[0] if path else "*"
    return f"{arn}/{stage}/*"


@logger.inject_lambda_context(clear_state=True)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
    tenant = auth.authenticate(headers.get("authorization"))
    if tenant is None:
        logger.info("Request refused: missing, malformed, unknown or revoked token")
        raise Exception("Unauthorized")  # API Gateway answers 401
    return {
        "principalId": tenant,
        "policyDocument": {
            "Version": "2012-10-17",
            "Statement": [
                {"Action": "execute-api:Invoke", "Effect": "Allow", "Resource": _any_route(event.get("methodArn", "*"))}
            ],
        },
        "context": {"tenant_id": tenant},
    }
