"""Walmart Connect advertising: claims and profiles, companies and accounts, links, performance and changes."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query

from walmart_integration.api.dependencies import Advertising, Tenant
from walmart_integration.api.errors import responses
from walmart_integration.api.parameters import Cursor, Limit, ResourceId
from walmart_integration.models.advertising import (
    AccountCreate,
    AccountView,
    CampaignChange,
    ChangeView,
    ClaimCreate,
    ClaimView,
    Company,
    CompanyCreate,
    GroupBy,
    KeywordChange,
    LinkRequest,
    PerformanceRow,
    ProfileView,
    RefreshView,
)
from walmart_integration.models.common import DataResponse, ListResponse

router = Router()

TAGS = ["Advertising"]

WalmartEntityId = Annotated[str, Path(pattern=r"^[0-9]{1,20}$", description="Walmart's numeric id")]


@router.post("/api/companies", tags=TAGS, summary="Create a company", responses=responses(body=True, created="201"))
def create_company(body: CompanyCreate, tenant: Tenant, advertising: Advertising) -> tuple[DataResponse[Company], int]:
    return DataResponse(data=advertising.create_company(tenant, body)), 201


@router.get("/api/companies", tags=TAGS, summary="The tenant's companies", responses=responses())
def list_companies(
    tenant: Tenant, advertising: Advertising, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[Company]:
    items, next_cursor = advertising.list_companies(tenant, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.get("/api/companies/<company_id>", tags=TAGS, summary="One company", responses=responses(404))
def get_company(company_id: ResourceId, tenant: Tenant, advertising: Advertising) -> DataResponse[Company]:
    return DataResponse(data=advertising.get_company(tenant, company_id))


@router.post(
    "/api/companies/<company_id>/accounts",
    tags=TAGS,
    summary="Create an account of a company (channel walmart-1p or walmart-3p)",
    responses=responses(404, body=True, created="201"),
)
def create_account(
    company_id: ResourceId, body: AccountCreate, tenant: Tenant, advertising: Advertising
) -> tuple[DataResponse[AccountView], int]:
    return DataResponse(data=advertising.create_account(tenant, company_id, body)), 201


@router.get(
    "/api/companies/<company_id>/accounts", tags=TAGS, summary="The company's accounts", responses=responses(404)
)
def list_accounts(company_id: ResourceId, tenant: Tenant, advertising: Advertising) -> ListResponse[AccountView]:
    return ListResponse(data=advertising.list_accounts(tenant, company_id), next_cursor=None)


@router.get(
    "/api/accounts/<account_id>",
    tags=TAGS,
    summary="One account: its linked profile and the progress of its backfill and daily refresh",
    responses=responses(404),
)
def get_account(account_id: ResourceId, tenant: Tenant, advertising: Advertising) -> DataResponse[AccountView]:
    return DataResponse(data=advertising.get_account(tenant, account_id))


@router.put(
    "/api/accounts/<account_id>/advertising-profile",
    tags=TAGS,
    summary="Link an advertising profile to the account; starts the backfill",
    description=(
        "A profile links to one account at most (409 names the account holding it). The account's channel must "
        "match the profile's type (1p: walmart-1p, 3p: walmart-3p), else 422. A profile not assigned to the "
        "tenant is 404."
    ),
    responses=responses(404, 409, body=True),
)
def link_profile(
    account_id: ResourceId, body: LinkRequest, tenant: Tenant, advertising: Advertising
) -> DataResponse[AccountView]:
    return DataResponse(data=advertising.link(tenant, account_id, body.profile_id))


@router.delete(
    "/api/accounts/<account_id>/advertising-profile",
    tags=TAGS,
    summary="Unlink the account's advertising profile (its stored data stays)",
    responses=responses(404, 409),
)
def unlink_profile(account_id: ResourceId, tenant: Tenant, advertising: Advertising) -> DataResponse[AccountView]:
    return DataResponse(data=advertising.unlink(tenant, account_id))


@router.get(
    "/api/accounts/<account_id>/performance",
    tags=TAGS,
    summary="Daily spend, impressions, clicks and attributed sales (14-day attribution)",
    description="`from`/`to` (yyyy-mm-dd) default to the backfill window; grouped by date, campaign or ad group.",
    responses=responses(404, 409),
)
def account_performance(
    account_id: ResourceId,
    tenant: Tenant,
    advertising: Advertising,
    from_: Annotated[str | None, Query(alias="from", description="First day, yyyy-mm-dd")] = None,
    to: Annotated[str | None, Query(description="Last day, yyyy-mm-dd")] = None,
    group_by: Annotated[GroupBy, Query()] = "date",
) -> ListResponse[PerformanceRow]:
    rows = advertising.performance(tenant, account_id, from_, to, group_by)
    return ListResponse(data=rows, next_cursor=None)


@router.patch(
    "/api/accounts/<account_id>/campaigns/<campaign_id>",
    tags=TAGS,
    summary="Change a campaign's daily budget or status (queued, sent to Walmart)",
    responses=responses(403, 404, 409, body=True, accepted="202"),
)
def change_campaign(
    account_id: ResourceId, campaign_id: WalmartEntityId, body: CampaignChange, tenant: Tenant, advertising: Advertising
) -> tuple[DataResponse[ChangeView], int]:
    return DataResponse(data=advertising.change(tenant, account_id, "campaign", campaign_id, body)), 202


@router.patch(
    "/api/accounts/<account_id>/keywords/<keyword_id>",
    tags=TAGS,
    summary="Change a keyword's bid or state (queued, sent to Walmart)",
    responses=responses(403, 404, 409, body=True, accepted="202"),
)
def change_keyword(
    account_id: ResourceId, keyword_id: WalmartEntityId, body: KeywordChange, tenant: Tenant, advertising: Advertising
) -> tuple[DataResponse[ChangeView], int]:
    return DataResponse(data=advertising.change(tenant, account_id, "keyword", keyword_id, body)), 202


@router.get(
    "/api/accounts/<account_id>/changes",
    tags=TAGS,
    summary="The account's changes sent to Walmart, with their results (oldest first)",
    responses=responses(404),
)
def list_changes(
    account_id: ResourceId, tenant: Tenant, advertising: Advertising, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ChangeView]:
    items, next_cursor = advertising.list_changes(tenant, account_id, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.get(
    "/api/advertising/profiles",
    tags=TAGS,
    summary="The advertising profiles assigned to the tenant, with their linked account",
    responses=responses(),
)
def list_profiles(
    tenant: Tenant, advertising: Advertising, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ProfileView]:
    items, next_cursor = advertising.list_profiles(tenant, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.post(
    "/api/advertising/claims",
    tags=TAGS,
    summary="Claim an advertiser (id and name as shown in Walmart's console)",
    description=(
        "Honoured automatically when this tenant alone claims the advertiser and the name matches Walmart's; "
        "otherwise the claim waits for an operator. Claiming again updates the name."
    ),
    responses=responses(body=True, created="201"),
)
def create_claim(body: ClaimCreate, tenant: Tenant, advertising: Advertising) -> tuple[DataResponse[ClaimView], int]:
    return DataResponse(data=advertising.claim(tenant, body)), 201


@router.get("/api/advertising/claims", tags=TAGS, summary="The tenant's claims", responses=responses())
def list_claims(
    tenant: Tenant, advertising: Advertising, limit: Limit = 50, cursor: Cursor = None
) -> ListResponse[ClaimView]:
    items, next_cursor = advertising.list_claims(tenant, limit, cursor)
    return ListResponse(data=items, next_cursor=next_cursor)


@router.post(
    "/api/advertising/refresh",
    tags=TAGS,
    summary="Discover advertising profiles now (joins a run in progress)",
    responses=responses(accepted="202"),
)
def refresh_profiles(tenant: Tenant, advertising: Advertising) -> tuple[DataResponse[RefreshView], int]:
    return DataResponse(data=advertising.refresh()), 202
