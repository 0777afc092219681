"""Secrets at rest: KMS encryption bound to the owning tenant and instance (encryption context)."""

from __future__ import annotations

from typing import Any

from walmart_integration.store.base import AwsAdapter


class Vault(AwsAdapter):
    service = "kms"

    def __init__(self, key_id: str, region: str, client: Any | None = None) -> None:
        super().__init__(region, client)
        self.key_id = key_id

    def encrypt(self, plaintext: bytes, context: dict[str, str]) -> bytes:
        response = self.client.encrypt(KeyId=self.key_id, Plaintext=plaintext, EncryptionContext=context)
        return bytes(response["CiphertextBlob"])

    def decrypt(self, ciphertext: bytes, context: dict[str, str]) -> bytes:
        """Fails unless the context matches the one used to encrypt: another tenant's blob does not open."""
        response = self.client.decrypt(CiphertextBlob=ciphertext, EncryptionContext=context, KeyId=self.key_id)
        return bytes(response["Plaintext"])
