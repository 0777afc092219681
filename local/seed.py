"""Demo data of the local stack: the demo tenant, its bearer token, a store, a set of nominal codes, and its claims of
the emulator's demo advertisers (assigned to it by the first profile discovery)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walmart_integration.config import Settings
from walmart_integration.models.advertising import ClaimCreate
from walmart_integration.models.common import iso, utcnow
from walmart_integration.models.reference import NominalCodeCreate, StoreCreate
from walmart_integration.services.auth import AuthService
from walmart_integration.services.profile_discovery import ProfileAssignment
from walmart_integration.services.reference import ReferenceService
from walmart_integration.store.advertising import AdvertisingRepository
from walmart_integration.store.reference import ReferenceRepository
from walmart_integration.store.tenants import TenantRepository

DEMO_TENANT = "demo"
DEMO_STORE = StoreCreate(name="Demo Store", currency="USD")
# One code per account of the accounting documents, ids 1-15 in the order of models.instance.ACCOUNTS (the instance
# setting <account>_nominal_code_id of each): the revenue and cost codes, then the control accounts.
DEMO_NOMINAL_CODES = (
    NominalCodeCreate(code="4000", name="Sales"),
    NominalCodeCreate(code="5000", name="Cost of goods sold"),
    NominalCodeCreate(code="4010", name="Shipping revenue"),
    NominalCodeCreate(code="4020", name="Shipping refunds"),
    NominalCodeCreate(code="4030", name="Sales returns and allowances"),
    NominalCodeCreate(code="1100", name="Walmart receivable (clearing)"),
    NominalCodeCreate(code="1000", name="Bank"),
    NominalCodeCreate(code="6100", name="Marketplace fees"),
    NominalCodeCreate(code="6110", name="Payment fees"),
    NominalCodeCreate(code="2200", name="Sales tax collected by Walmart (marketplace facilitator)"),
    NominalCodeCreate(code="1200", name="Inventory"),
    NominalCodeCreate(code="2100", name="Accrued marketplace costs"),
    NominalCodeCreate(code="6120", name="WFS fees"),
    NominalCodeCreate(code="6900", name="Marketplace adjustments"),
    NominalCodeCreate(code="1150", name="Reserves held by Walmart"),
)

# (advertiserId, name as the tenant's admin sees it in Walmart's console): see local/emulator DEMO_ADVERTISERS
DEMO_CLAIMS = (
    ClaimCreate(advertiser_id="600001", advertiser_name="Demo Brands Inc"),
    ClaimCreate(advertiser_id="600002", advertiser_name="Demo Marketplace Seller"),
    ClaimCreate(advertiser_id="600003", advertiser_name="Demo Read Only Co"),
)


def dynamodb_client(env: Mapping[str, str]) -> Any:
    """A DynamoDB client for the function environment ``env`` (endpoint and credentials included)."""
    import boto3

    return boto3.client(
        "dynamodb",
        region_name=env.get("AWS_DEFAULT_REGION") or env.get("AWS_REGION") or "us-east-1",
        endpoint_url=env.get("AWS_ENDPOINT_URL") or None,
        aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or None,
        aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or None,
    )


def seed_demo(env: Mapping[str, str]) -> str:
    """Create the demo tenant's data (once) and return a new bearer token for it."""
    settings = Settings.from_env(env)
    client = dynamodb_client(env)
    reference = ReferenceService(ReferenceRepository(settings.app_table_name, settings.region, client))
    stores, _ = reference.list_stores(DEMO_TENANT, 1, None)
    token = AuthService(TenantRepository(settings.app_table_name, settings.region, client)).issue_token(DEMO_TENANT)
    if not stores:
        reference.create_store(DEMO_TENANT, DEMO_STORE)
        advertising = AdvertisingRepository(settings.app_table_name, settings.region, client)
        for claim in DEMO_CLAIMS:
            advertising.put_claim(DEMO_TENANT, claim.advertiser_id, claim.advertiser_name, iso(utcnow()) or "")
            ProfileAssignment(advertising).apply(claim.advertiser_id)
    existing, _ = reference.list_nominal_codes(DEMO_TENANT, 100, None)
    have = {code.code for code in existing}
    for code in DEMO_NOMINAL_CODES:  # codes added since a local stack was first seeded are created too
        if code.code not in have:
            reference.create_nominal_code(DEMO_TENANT, code)
    return token
