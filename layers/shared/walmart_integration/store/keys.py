"""The key design of both tables, in one place: every pk/sk/gsi1pk/gsi1sk is built here and nowhere else.

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
  ADDISCOVERY                REPORTDATES                 Walmart's latest published report day per report type
  gsi1: ADLINKS / <tenant>#<account>                     linked accounts (daily report refresh, no table scan)
  gsi1: TENANT#<tenant>#ADPROFILES / <advertiserId>       the profiles assigned to a tenant
  gsi1: TENANT#<tenant>#ADCLAIMS / <advertiserId>         a tenant's claims
  -- accounting --
  TENANT#<tenant>            ACCTPOST#<instance>#<po>    what an order has posted so far (per line), with a version
  TENANT#<tenant>            ACCTDOC#<instance>#<ulid>   a document: issued (immutable) or an open period batch
  TENANT#<tenant>            ACCTBATCH#<instance>#<type>#<period>#<period key>#<reason>
                                                         which document is the open batch of a period
  gsi1: ACCTHELD#<tenant>#<instance> / <po>              orders with held lines (the holds live on their posting item)
  gsi1: ACCTOPEN / <period end>#<tenant>#<document>      open batches (closed by the scheduler)
  gsi1: ACCTOUTBOX / <issued at>#<tenant>#<document>     issued documents not yet published (the publisher's outbox)
  TENANT#<tenant>            ACCTSETTLED#<instance>#<settlement id>  the settlement's document, once issued (its guard)
  TENANT#<tenant>            ACCTSETHOLD#<instance>#<settlement id>  the settlement's held lines and unexplained amount
  TENANT#<tenant>            ACCTCLEAR#<instance>#<po>   proforma fee accruals of an order cleared, per settlement
DataTable (pk, sk; gsi1):
  INSTANCE#<tenant>#<instance>  LOCATION#<shipNode>      ship node
  INSTANCE#<tenant>#<instance>  PRODUCT#<sku>            Walmart listing
  INSTANCE#<tenant>#<instance>  ORDER#<purchaseOrderId>  order with its lines (one item)
  gsi1: ORDERS#<tenant>#<instance> / <orderDate>#<po>    orders newest first
  INSTANCE#<tenant>#<instance>  SETTLEMENT#<yyyy-mm-dd>  settlement period (one reconciliation report): dates, deposit,
                                                         status, accounting's ``unexplained``
  SETTLEMENTLINES#<tenant>#<instance>#<yyyy-mm-dd>  LINE#<position 9 digits>
                                                         one report row (a re-fetch overwrites by position: never
                                                         twice); a period's rows have a partition of their own, so
                                                         that tens of thousands of them never share the instance
                                                         partition's throughput with the order sync
  INSTANCE#<tenant>#<instance>  RETURN#<returnOrderId>   return order with its lines (one item)
  RETURNSOF#<tenant>#<instance>  <po>                     the returns of a sales order (``return_order_ids``, a
                                                         string set; the returns are above): accounting reads them
                                                         for a batch of orders with one BatchGetItem
  gsi1: RETURNS#<tenant>#<instance> / <returnOrderDate>#<returnOrderId>  returns newest first
  ADPERF#<advertiserId>#<reportType>  <date>#<campaignId>#<adGroupId>[#<keywordId>]  one day of one entity (a re-pull
                                                         of a day overwrites it: never duplicated)
IdempotencyTable: Powertools' own keys (``store/idempotency``), not designed here.
"""

from __future__ import annotations

ID_WIDTH = 12

# -- tenants, tokens, counters ----------------------------------------------------------------------------
TENANT_PREFIX = "TENANT#"
TENANT_SK = "TENANT"
API_TOKEN_SK = "APITOKEN"  # noqa: S105 (a key, not a secret)


def tenant_pk(tenant_id: str) -> str:
    return f"{TENANT_PREFIX}{tenant_id}"


def tenant_of(pk: str) -> str:
    """The tenant id of a tenant partition key (``tenant_pk``'s inverse)."""
    if not pk.startswith(TENANT_PREFIX):
        raise ValueError(f"{pk!r} is not a tenant partition key")
    return pk.removeprefix(TENANT_PREFIX)


def api_token_pk(token_hash: str) -> str:
    return f"APITOKEN#{token_hash}"


def counter_sk(kind: str) -> str:
    return f"COUNTER#{kind}"


def numbered_sk(prefix: str, number: int) -> str:
    return f"{prefix}{number:0{ID_WIDTH}d}"


# -- instances ----------------------------------------------------------------------------------------------
INSTANCE_PREFIX = "INSTANCE#"
AUTOSYNC_GSI_PK = "AUTOSYNC"


def instance_sk(instance_id: str) -> str:
    return f"{INSTANCE_PREFIX}{instance_id}"


def instance_name_sk(name: str) -> str:
    return f"INSTANCENAME#{name.strip().casefold()}"


def autosync_gsi_sk(tenant_id: str, instance_id: str) -> str:
    return f"{tenant_id}#{instance_id}"


# -- reference data and internal products -------------------------------------------------------------------
STORE_PREFIX = "STORE#"
NOMINAL_CODE_PREFIX = "NOMINALCODE#"
SKU_PRODUCT_PREFIX = "SKU#"


def sku_product_sk(sku: str) -> str:
    return f"{SKU_PRODUCT_PREFIX}{sku}"


# -- sync runs -------------------------------------------------------------------------------------------------
def run_sk(instance_id: str, stream: str, run_id: str) -> str:
    return f"RUN#{instance_id}#{stream}#{run_id}"


def sync_state_sk(instance_id: str) -> str:
    return f"SYNCSTATE#{instance_id}"


# -- OAuth 2.0 app authorizations -------------------------------------------------------------------------------
def oauth_state_pk(state_hash: str) -> str:
    return f"OAUTHSTATE#{state_hash}"


OAUTH_STATE_SK = "OAUTHSTATE"


# -- rate limits ---------------------------------------------------------------------------------------------
RATE_LIMIT_PREFIX = "RATELIMIT#"
BUCKET_PREFIX = "BUCKET#"


def rate_limit_pk(seller_key: str) -> str:
    """Partition of a Walmart seller's rate-limit buckets (shared by every tenant/instance of that seller)."""
    return f"{RATE_LIMIT_PREFIX}{seller_key}"


def bucket_sk(endpoint: str) -> str:
    return f"{BUCKET_PREFIX}{endpoint}"


# -- synced Marketplace data (DataTable) -------------------------------------------------------------------------
LOCATION_PREFIX = "LOCATION#"
PRODUCT_PREFIX = "PRODUCT#"
ORDER_PREFIX = "ORDER#"


def instance_data_pk(tenant_id: str, instance_id: str) -> str:
    return f"INSTANCE#{tenant_id}#{instance_id}"


def location_sk(ship_node_id: str) -> str:
    return f"{LOCATION_PREFIX}{ship_node_id}"


def product_sk(sku: str) -> str:
    return f"{PRODUCT_PREFIX}{sku}"


def order_sk(purchase_order_id: str) -> str:
    return f"{ORDER_PREFIX}{purchase_order_id}"


def orders_index_pk(tenant_id: str, instance_id: str) -> str:
    return f"ORDERS#{tenant_id}#{instance_id}"


def orders_index_sk(order_date: str, purchase_order_id: str) -> str:
    return f"{order_date}#{purchase_order_id}"


# -- settlements and returns (DataTable) ------------------------------------------------------------------------
SETTLEMENT_PREFIX = "SETTLEMENT#"
RETURN_PREFIX = "RETURN#"
LINE_POSITION_WIDTH = 9


def settlement_sk(settlement_id: str) -> str:
    return f"{SETTLEMENT_PREFIX}{settlement_id}"


def settlement_lines_pk(tenant_id: str, instance_id: str, settlement_id: str) -> str:
    return f"SETTLEMENTLINES#{tenant_id}#{instance_id}#{settlement_id}"


SETTLEMENT_LINE_PREFIX = "LINE#"


def settlement_line_sk(position: int) -> str:
    return f"{SETTLEMENT_LINE_PREFIX}{position:0{LINE_POSITION_WIDTH}d}"


def return_sk(return_order_id: str) -> str:
    return f"{RETURN_PREFIX}{return_order_id}"


def return_links_pk(tenant_id: str, instance_id: str) -> str:
    return f"RETURNSOF#{tenant_id}#{instance_id}"


def return_link_sk(purchase_order_id: str) -> str:
    return purchase_order_id


def returns_index_pk(tenant_id: str, instance_id: str) -> str:
    return f"RETURNS#{tenant_id}#{instance_id}"


def returns_index_sk(return_order_date: str, return_order_id: str) -> str:
    return f"{return_order_date}#{return_order_id}"


# -- Walmart Connect (advertising) -------------------------------------------------------------------------------
COMPANY_PREFIX = "COMPANY#"
ACCOUNT_PREFIX = "ACCOUNT#"
PROFILES_PK = "ADPROFILES"
PROFILE_PREFIX = "PROFILE#"
CLAIM_PREFIX = "ADCLAIM#"
DISCOVERY_PK = "ADDISCOVERY"
DISCOVERY_SK = "STATE"
REPORT_DATES_SK = "REPORTDATES"
LINKS_GSI_PK = "ADLINKS"


def company_sk(company_id: str) -> str:
    return f"{COMPANY_PREFIX}{company_id}"


def account_sk(account_id: str) -> str:
    return f"{ACCOUNT_PREFIX}{account_id}"


def links_gsi_sk(tenant_id: str, account_id: str) -> str:
    return f"{tenant_id}#{account_id}"


def change_prefix(account_id: str) -> str:
    return f"ADCHANGE#{account_id}#"


def change_sk(account_id: str, change_id: str) -> str:
    return f"{change_prefix(account_id)}{change_id}"


def profile_sk(advertiser_id: str) -> str:
    return f"{PROFILE_PREFIX}{advertiser_id}"


def tenant_profiles_gsi_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#ADPROFILES"


def claim_pk(advertiser_id: str) -> str:
    return f"{CLAIM_PREFIX}{advertiser_id}"


def tenant_claims_gsi_pk(tenant_id: str) -> str:
    return f"{tenant_pk(tenant_id)}#ADCLAIMS"


def performance_pk(advertiser_id: str, report_type: str) -> str:
    return f"ADPERF#{advertiser_id}#{report_type}"


def performance_sk(day: str, campaign_id: str, ad_group_id: str, keyword_id: str | None = None) -> str:
    sk = f"{day}#{campaign_id}#{ad_group_id}"
    return sk if keyword_id is None else f"{sk}#{keyword_id}"


def performance_days(start: str, end: str) -> tuple[str, str]:
    """The sort-key range (inclusive) holding every row of the days ``start``..``end`` (yyyy-mm-dd)."""
    return start, end + "#\uffff"


# -- accounting ----------------------------------------------------------------------------------------------------
OPEN_GSI_PK = "ACCTOPEN"
OUTBOX_GSI_PK = "ACCTOUTBOX"


def posting_sk(instance_id: str, purchase_order_id: str) -> str:
    return f"ACCTPOST#{instance_id}#{purchase_order_id}"


def document_prefix(instance_id: str) -> str:
    return f"ACCTDOC#{instance_id}#"


def document_sk(instance_id: str, document_id: str) -> str:
    return f"{document_prefix(instance_id)}{document_id}"


def batch_sk(instance_id: str, doc_type: str, period: str, period_key: str, reason: str) -> str:
    return f"ACCTBATCH#{instance_id}#{doc_type}#{period}#{period_key}#{reason}"


def held_index_pk(tenant_id: str, instance_id: str) -> str:
    return f"ACCTHELD#{tenant_id}#{instance_id}"


def open_gsi_sk(period_end: str, tenant_id: str, document_id: str) -> str:
    return f"{period_end}#{tenant_id}#{document_id}"


def outbox_gsi_sk(issued_at: str, tenant_id: str, document_id: str) -> str:
    return f"{issued_at}#{tenant_id}#{document_id}"


def settled_sk(instance_id: str, settlement_id: str) -> str:
    return f"ACCTSETTLED#{instance_id}#{settlement_id}"


def settlement_hold_prefix(instance_id: str) -> str:
    return f"ACCTSETHOLD#{instance_id}#"


def settlement_hold_sk(instance_id: str, settlement_id: str) -> str:
    return f"{settlement_hold_prefix(instance_id)}{settlement_id}"


def clearing_sk(instance_id: str, purchase_order_id: str) -> str:
    return f"ACCTCLEAR#{instance_id}#{purchase_order_id}"
