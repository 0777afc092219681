"""Walmart Connect partner credentials for a local stack (or an in-process one).

The functions read the credentials from the Secrets Manager secret ``WALMART_ADS_SECRET_NAME`` (as deployed), so
the stack writes that secret into its embedded AWS:
- with ``WALMART_ADS_URL`` pointing at a real Walmart: from ``WALMART_ADS_CONSUMER_ID``, ``WALMART_ADS_KEY_VERSION``,
  ``WALMART_ADS_PRIVATE_KEY_FILE`` (PEM) and ``WALMART_ADS_AUTH_TOKEN``;
- otherwise: a key pair made now, whose public half the built-in emulator is given.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from local.emulator import Emulator
from local.emulator.connect_keys import PartnerKeyPair, generate_partner

ENV_NAMES = (
    "WALMART_ADS_CONSUMER_ID",
    "WALMART_ADS_KEY_VERSION",
    "WALMART_ADS_PRIVATE_KEY_FILE",
    "WALMART_ADS_AUTH_TOKEN",
)


def partner_from_env(env: Mapping[str, str]) -> dict[str, str] | None:
    """Credentials of a real partner from the environment (None when none are given)."""
    given = [name for name in ENV_NAMES if env.get(name)]
    if not given:
        return None
    missing = [name for name in ENV_NAMES if not env.get(name)]
    if missing:
        raise ValueError(f"Walmart Connect partner credentials are incomplete: set {', '.join(missing)}")
    return {
        "consumer_id": env["WALMART_ADS_CONSUMER_ID"],
        "key_version": env["WALMART_ADS_KEY_VERSION"],
        "private_key": Path(env["WALMART_ADS_PRIVATE_KEY_FILE"]).read_text(),
        "auth_token": env["WALMART_ADS_AUTH_TOKEN"],
    }


def secret_value(pair: PartnerKeyPair) -> dict[str, str]:
    return {
        "consumer_id": pair.consumer_id,
        "key_version": pair.key_version,
        "private_key": pair.private_key_pem,
        "auth_token": pair.auth_token,
    }


def install_partner(
    secretsmanager: Any, secret_name: str, emulator: Emulator | None, env: Mapping[str, str] | None = None
) -> PartnerKeyPair | None:
    """Write the partner secret; when the built-in emulator serves Connect, make a key pair and give it the
    public half (and seed its demo advertisers). The pair made, if any."""
    real = partner_from_env(env or {}) if emulator is None else None
    pair = None
    if real is None:
        pair = generate_partner()
        real = secret_value(pair)
        if emulator is not None:
            emulator.configure_partner(pair.consumer_id, pair.key_version, pair.public_key_pem, pair.auth_token)
    body = json.dumps(real)
    try:
        secretsmanager.create_secret(Name=secret_name, SecretString=body)
    except secretsmanager.exceptions.ResourceExistsException:
        secretsmanager.put_secret_value(SecretId=secret_name, SecretString=body)
    return pair
