"""The Walmart Connect partner credentials: one Secrets Manager secret per deployment, cached for a while."""

from __future__ import annotations

from typing import Any

from walmart_integration.store.base import AwsAdapter

CACHE_SECONDS = 300  # a rotated secret is picked up within five minutes


class PartnerSecret(AwsAdapter):
    """Reads ``{"consumer_id", "key_version", "private_key", "auth_token"}`` through Powertools' secrets provider."""

    service = "secretsmanager"

    def __init__(self, name: str, region: str, client: Any | None = None) -> None:
        super().__init__(region, client)
        self.name = name
        self._provider: Any = None

    def values(self) -> dict[str, Any]:
        if not self.name:
            raise RuntimeError("WALMART_ADS_SECRET_NAME is not set: Walmart Connect partner credentials are missing")
        if self._provider is None:
            from aws_lambda_powertools.utilities.parameters import SecretsProvider

            self._provider = SecretsProvider(boto3_client=self.client)
        data = self._provider.get(self.name, transform="json", max_age=CACHE_SECONDS)
        if not isinstance(data, dict):
            raise RuntimeError(f"Secret {self.name} must hold a JSON object")
        return data
