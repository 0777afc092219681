"""AWS calls made by one POST /api/walmart (the api handler, warm), counted at botocore's API-call level."""

from __future__ import annotations

import json
import os
from collections import Counter
from typing import Any

from bench import QUIET, in_process_environment

TARGET = 4


def run() -> dict[str, Any]:
    in_process_environment()
    import botocore.client
    from moto import mock_aws

    from local.harness import LambdaContext, api_event, load_handler, new_container
    from local.inprocess import provision
    from local.seed import seed_demo

    calls: Counter[str] = Counter()
    original = botocore.client.BaseClient._make_api_call  # type: ignore[attr-defined]

    def counting(self: Any, operation: str, params: dict[str, Any]) -> Any:
        calls[f"{self.meta.service_model.service_name}:{operation}"] += 1
        return original(self, operation, params)

    with mock_aws():
        env = provision().function_env("ApiFunction")
        os.environ.update({**env, **QUIET})
        new_container()
        seed_demo({**env, "AWS_DEFAULT_REGION": "us-east-1"})
        api = load_handler("api")

        def create(name: str, headers: dict[str, str] | None = None) -> Counter[str]:
            body = {
                "name": name,
                "integration_id": 1,
                "connection_settings": {"clientId": "id", "clientSecret": "secret"},
                "integration_settings": {
                    "start_date": "2026-06-01",
                    "store_id": 1,
                    "auto_link_products": True,
                    "auto_create_products": False,
                    "sales_nominal_code_id": 1,
                    "cogs_nominal_code_id": 2,
                },
            }
            calls.clear()
            botocore.client.BaseClient._make_api_call = counting  # type: ignore[attr-defined,method-assign]
            try:
                response = api.handler(api_event("POST", "/api/walmart", body, headers=headers), LambdaContext())
            finally:
                botocore.client.BaseClient._make_api_call = original  # type: ignore[attr-defined,method-assign]
            assert response["statusCode"] == 201, response["body"]
            return Counter(calls)

        create("warm-up")  # the first request of a container also creates its clients
        plain = create("measured")
        with_key = create("measured with key", {"Idempotency-Key": "bench-1"})
    return {
        "post_api_walmart": {"aws_calls": sum(plain.values()), "by_operation": dict(plain), "target": TARGET},
        "post_api_walmart_with_idempotency_key": {
            "aws_calls": sum(with_key.values()),
            "by_operation": dict(with_key),
        },
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
