"""The key design of the app table, in one place.

AppTable (pk, sk; sparse GSI ``gsi1``):
  TENANT#<tenant>            TENANT                      tenant
  TENANT#<tenant>            INSTANCE#<ulid>             integration instance (credentials as KMS ciphertext)
  TENANT#<tenant>            INSTANCENAME#<casefolded>   name reservation (uniqueness under concurrency)
  TENANT#<tenant>            STORE#<000000000001>        store (integer ids from COUNTER#store)
  TENANT#<tenant>            NOMINALCODE#<000000000001>  nominal code (integer ids from COUNTER#nominalcode)
  TENANT#<tenant>            COUNTER#<kind>              last integer id handed out
  APITOKEN#<sha256>          APITOKEN                    bearer token (hash only) -> tenant
  TENANT#<tenant>            SKU#<sku>                   internal (SKU) product, integer id from COUNTER#skuproduct
  TENANT#<tenant>            RUN#<instance>#<stream>#<run>  progress of one sync run (TTL)
  TENANT#<tenant>            SYNCSTATE#<instance>        incremental watermarks per stream
  RATELIMIT#<seller>         BUCKET#<endpoint>           token bucket of one Walmart rate limit of a seller
                                                         (tokens, updated_at epoch s; TTL expires_at): rate_limits
  gsi1: AUTOSYNC / <tenant>#<instance>                   instances with automatic sync (no table scan)
DataTable (pk, sk; gsi1):
  INSTANCE#<tenant>#<instance>  LOCATION#<shipNode>      ship node
  INSTANCE#<tenant>#<instance>  PRODUCT#<sku>            Walmart listing
  INSTANCE#<tenant>#<instance>  ORDER#<purchaseOrderId>  order with its lines (one item)
  gsi1: ORDERS#<tenant>#<instance> / <orderDate>#<po>    orders newest first
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


PRODUCT_PREFIX = "PRODUCT#"
ORDER_PREFIX = "ORDER#"
SKU_PRODUCT_PREFIX = "SKU#"


def orders_index_pk(tenant_id: str, instance_id: str) -> str:
    return f"ORDERS#{tenant_id}#{instance_id}"


def sku_product_sk(sku: str) -> str:
    return f"{SKU_PRODUCT_PREFIX}{sku}"


def run_sk(instance_id: str, stream: str, run_id: str) -> str:
    return f"RUN#{instance_id}#{stream}#{run_id}"


def sync_state_sk(instance_id: str) -> str:
    return f"SYNCSTATE#{instance_id}"


RATE_LIMIT_PREFIX = "RATELIMIT#"
BUCKET_PREFIX = "BUCKET#"


def rate_limit_pk(seller_key: str) -> str:
    """Partition of a Walmart seller's rate-limit buckets (shared by every tenant/instance of that seller)."""
    return f"{RATE_LIMIT_PREFIX}{seller_key}"


def bucket_sk(endpoint: str) -> str:
    return f"{BUCKET_PREFIX}{endpoint}"
