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
  OAUTHSTATE#<sha256>        OAUTHSTATE                  a seller authorization in progress: its state's hash -> tenant,
                                                         instance (single use, TTL expires_at): authorizations
  RATELIMIT#<seller>         BUCKET#<endpoint>           token bucket of one Walmart rate limit of a seller
                                                         (tokens, updated_at epoch s; TTL expires_at): rate_limits
  gsi1: AUTOSYNC / <tenant>#<instance>                   instances with automatic sync (no table scan)
  -- Walmart Connect (advertising) --
  TENANT#<tenant>            COMPANY#<ulid>              company
  TENANT#<tenant>            ACCOUNT#<ulid>              account: company, channel, geo, linked profile, report runs
  TENANT#<tenant>            ADCHANGE#<account>#<ulid>   a campaign/keyword change sent back to Walmart, with its result
  ADPROFILES                 PROFILE#<advertiserId>      profile as Walmart lists it: type, access, status, owner, link
  ADCLAIM#<advertiserId>     TENANT#<tenant>             a tenant's claim of an advertiser (name as shown in Walmart)
  ADDISCOVERY                STATE                       the latest profile discovery run (shared by every tenant)
  gsi1: ADLINKS / <tenant>#<account>                     linked accounts (daily report refresh, no table scan)
  gsi1: TENANT#<tenant>#ADPROFILES / <advertiserId>       the profiles assigned to a tenant
  gsi1: TENANT#<tenant>#ADCLAIMS / <advertiserId>         a tenant's claims
DataTable (pk, sk; gsi1):
  INSTANCE#<tenant>#<instance>  LOCATION#<shipNode>      ship node
  INSTANCE#<tenant>#<instance>  PRODUCT#<sku>            Walmart listing
  INSTANCE#<tenant>#<instance>  ORDER#<purchaseOrderId>  order with its lines (one item)
  gsi1: ORDERS#<tenant>#<instance> / <orderDate>#<po>    orders newest first
  ADPERF#<advertiserId>#<reportType>  <date>#<campaignId>#<adGroupId>[#<keywordId>]  one day of one entity (a re-pull
                                                         of a day overwrites it: never duplicated)
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


def oauth_state_pk(state_hash: str) -> str:
    return f"OAUTHSTATE#{state_hash}"


OAUTH_STATE_SK = "OAUTHSTATE"

RATE_LIMIT_PREFIX = "RATELIMIT#"
BUCKET_PREFIX = "BUCKET#"


def rate_limit_pk(seller_key: str) -> str:
    """Partition of a Walmart seller's rate-limit buckets (shared by every tenant/instance of that seller)."""
    return f"{RATE_LIMIT_PREFIX}{seller_key}"


def bucket_sk(endpoint: str) -> str:
    return f"{BUCKET_PREFIX}{endpoint}"


# -- Walmart Connect (advertising) --
COMPANY_PREFIX = "COMPANY#"
ACCOUNT_PREFIX = "ACCOUNT#"
PROFILES_PK = "ADPROFILES"
PROFILE_PREFIX = "PROFILE#"
DISCOVERY_PK = "ADDISCOVERY"
DISCOVERY_SK = "STATE"
LINKS_GSI_PK = "ADLINKS"


def company_sk(company_id: str) -> str:
    return f"{COMPANY_PREFIX}{company_id}"


def account_sk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def change_prefix(account_id: str) -> str:
    return f"ADCHANGE#{account_id}#"


def profile_sk(advertiser_id: str) -> str:
    return f"{PROFILE_PREFIX}{advertiser_id}"


def tenant_profiles_gsi_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#ADPROFILES"


def claim_pk(advertiser_id: str) -> str:
    return f"ADCLAIM#{advertiser_id}"


def tenant_claims_gsi_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}#ADCLAIMS"


def performance_pk(advertiser_id: str, report_type: str) -> str:
    return f"ADPERF#{advertiser_id}#{report_type}"
