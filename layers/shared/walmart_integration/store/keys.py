"""The key design of the app table, in one place.

AppTable (pk, sk; sparse GSI ``gsi1``):
  TENANT#<tenant>            TENANT                      tenant
  TENANT#<tenant>            INSTANCE#<ulid>             integration instance (credentials as KMS ciphertext)
  TENANT#<tenant>            INSTANCENAME#<casefolded>   name reservation (uniqueness under concurrency)
  TENANT#<tenant>            STORE#<000000000001>        store (integer ids from COUNTER#store)
  TENANT#<tenant>            NOMINALCODE#<000000000001>  nominal code (integer ids from COUNTER#nominalcode)
  TENANT#<tenant>            COUNTER#<kind>              last integer id handed out
  APITOKEN#<sha256>          APITOKEN                    bearer token (hash only) -> tenant
  gsi1: AUTOSYNC / <tenant>#<instance>                   instances with automatic sync (no table scan)
DataTable (pk, sk):
  INSTANCE#<tenant>#<instance>  LOCATION#<shipNode>      ship node
"""

from __future__ import annotations

ID_WIDTH = 12


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


TENANT_SK = "TENANT"
INSTANCE_PREFIX = "INSTANCE#"
STORE_PREFIX = "STORE#"
NOMINAL_CODE_PREFIX = "NOMINALCODE#"
AUTOSYNC_GSI_PK = "AUTOSYNC"


def instance_sk(instance_id: str) -> str:
    return f"{INSTANCE_PREFIX}{instance_id}"


def instance_name_sk(name: str) -> str:
    return f"INSTANCENAME#{name.strip().casefold()}"


def numbered_sk(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{ID_WIDTH}d}"


def counter_sk(kind: str) -> str:
    return f"COUNTER#{kind}"


def api_token_pk(token_hash: str) -> str:
    return f"APITOKEN#{token_hash}"


API_TOKEN_SK = "APITOKEN"  # noqa: S105 (a key, not a secret)


def instance_data_pk(tenant_id: str, instance_id: str) -> str:
    return f"INSTANCE#{tenant_id}#{instance_id}"


LOCATION_PREFIX = "LOCATION#"


def location_sk(ship_node_id: str) -> str:
    return f"{LOCATION_PREFIX}{ship_node_id}"
