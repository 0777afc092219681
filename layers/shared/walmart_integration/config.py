"""Settings read from the environment once; everything else receives them as values.

This is the only module below ``functions/`` that reads ``os.environ``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

AppEnv = Literal["local", "test", "dev", "staging", "production"]

DEFAULT_SANDBOX_URL = "https://sandbox.walmartapis.com"
DEFAULT_PRODUCTION_URL = "https://marketplace.walmartapis.com"
DEFAULT_ADS_URL = "https://developer.api.walmart.com/api-proxy/service/WPA/Api/v1"
# Walmart's authorize page for a seller's OAuth 2.0 consent (docs/walmart/FACTS.md, "Seller authorization for a
# platform": the page "Log in and authorize app scope" shows this host and path).
DEFAULT_AUTHORIZE_URL = "https://login.account.wal-mart.com/authorize"


class Settings(BaseModel):
    """Deployment settings. Field names are the environment variable names, lower-cased."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    app_env: AppEnv = "local"
    region: str = "us-east-1"
    app_table_name: str = "app"
    data_table_name: str = "data"
    idempotency_table_name: str = "idempotency"
    token_queue_url: str = ""
    locations_queue_url: str = ""
    sync_queue_url: str = ""
    backfill_queue_url: str = ""
    profile_refresh_queue_url: str = ""
    ads_report_queue_url: str = ""
    ads_writeback_queue_url: str = ""
    accounting_queue_url: str = ""
    accounting_event_bus_name: str = ""
    secrets_key_id: str = ""
    walmart_sandbox_url: str = DEFAULT_SANDBOX_URL
    walmart_production_url: str = DEFAULT_PRODUCTION_URL
    walmart_ads_url: str = DEFAULT_ADS_URL
    walmart_service_name: str = "Walmart Integration Service"
    walmart_http_timeout_seconds: float = Field(default=10.0, gt=0)
    walmart_http_attempts: int = Field(default=3, ge=1, le=10)
    # Seller authorization (OAuth 2.0 authorization code grant) through our solution provider app
    walmart_app_secret_name: str = ""  # Secrets Manager: {"client_id", "client_secret"} of our registered app
    walmart_authorize_url: str = DEFAULT_AUTHORIZE_URL
    walmart_redirect_uri: str = ""  # the callback URL registered with Walmart; empty: derived from the request
    oauth_state_ttl_seconds: int = Field(default=600, ge=30, le=3600)  # how long an authorization URL works
    token_refresh_margin_seconds: float = Field(default=60, ge=0, le=600)  # refresh an access token this early
    max_receive_count: int = Field(default=5, ge=1)
    retry_base_seconds: float = Field(default=10.0, ge=0)
    retry_max_seconds: float = Field(default=900.0, ge=0)
    tracing_enabled: bool = False
    page_size_default: int = Field(default=50, ge=1, le=200)
    # Marketplace sync
    orders_page_size: int = Field(default=200, ge=1, le=200)
    items_page_size: int = Field(default=200, ge=1, le=1000)
    # GET /v3/items serves offsets up to 10,000 (item-management spec, parameter offset); past it, the ITEM report
    items_max_offset: int = Field(default=10_000, ge=1, le=10_000)
    item_cursor_restarts: int = Field(default=3, ge=0)  # listings started again after expired cursors, then the report
    item_report_version: str = "v4"  # ITEM takes v1-v4 (on-request-reports spec, generateReport, reportVersion)
    item_report_poll_initial_seconds: float = Field(default=60, ge=0, le=900)  # Walmart: 15-45 minutes to generate
    item_report_poll_max_seconds: float = Field(default=300, ge=0, le=900)
    item_report_rows_per_page: int = Field(default=5000, ge=1)  # report rows stored per invocation
    item_report_attempts: int = Field(default=3, ge=1)  # report requests that ended in ERROR before the run fails
    # Settlements and returns
    recon_rows_per_page: int = Field(default=1000, ge=1, le=1000)  # reconFileJson noOfRecords: "max limit 1000"
    returns_page_size: int = Field(default=200, ge=1, le=200)  # GET /v3/returns limit: "Cannot be larger than 200"
    # A pending report is fetched again at most this often: Walmart recommends not retrieving it "more frequently than
    # once every two hours" (docs/walmart/specs/marketplace__reports.openapi.yml, getReconReportV1)
    recon_refetch_minutes: float = Field(default=120, ge=0)
    orders_max_per_query: int = Field(default=10_000, ge=1)
    order_history_days: int = Field(default=180, ge=1)
    backfill_window_days: float = Field(default=15, gt=0)
    incremental_overlap_minutes: float = Field(default=15, ge=0)
    ship_node_types: str = "SellerFulfilled,WFSFulfilled,3PLFulfilled"
    walmart_rate_limit_scale: float = Field(default=1.0, gt=0)
    pacing_wait_seconds: float = Field(default=1.0, ge=0, le=5)  # longer waits for our budget go through SQS
    walmart_rate_limits: str = ""  # JSON: {"orders": 5000, ...} per-minute budgets overriding the published ones
    # Walmart Connect (advertising)
    walmart_ads_secret_name: str = ""  # Secrets Manager: {"consumer_id", "key_version", "private_key", "auth_token"}
    walmart_ads_hourly_operations: int = Field(default=10_000, ge=1)  # the partner's hourly budget, all tenants
    ads_insight_type: Literal["advertiserAttributes", "advertiserAttributesV2"] = "advertiserAttributes"
    ads_backfill_days: int = Field(default=60, ge=1, le=90)  # Walmart serves the last 90 days
    ads_report_max_days: int = Field(default=62, ge=1, le=62)  # days one report snapshot may span
    ads_report_types: str = "adGroup,keyword"
    ads_refresh_trailing_days: int = Field(default=14, ge=1, le=62)  # recent days Walmart restates: re-pulled daily
    ads_report_dates_max_age_seconds: float = Field(default=900, ge=0)  # Walmart's latest report days, cached
    ads_poll_initial_seconds: float = Field(default=30, ge=0, le=900)
    ads_poll_max_seconds: float = Field(default=120, ge=0, le=900)  # SQS delays stop at 15 minutes
    ads_throttle_seconds: float = Field(default=600, ge=0, le=900)  # Walmart: after a 429, retry in 10 minutes
    ads_discovery_min_interval_seconds: float = Field(default=300, ge=0)  # a refresh asked for sooner joins the last

    def rate_limit_overrides(self) -> dict[str, float]:
        """Per-minute budgets per endpoint from ``WALMART_RATE_LIMITS`` (empty: Walmart's published limits)."""
        if not self.walmart_rate_limits.strip():
            return {}
        data = json.loads(self.walmart_rate_limits)
        if not isinstance(data, dict) or not all(isinstance(v, int | float) and v > 0 for v in data.values()):
            raise ValueError("WALMART_RATE_LIMITS must be a JSON object of positive per-minute numbers")
        return {str(k): float(v) for k, v in data.items()}

    @property
    def ads_report_type_list(self) -> list[str]:
        return [kind.strip() for kind in self.ads_report_types.split(",") if kind.strip()]

    @property
    def ship_node_type_list(self) -> list[str]:
        return [kind.strip() for kind in self.ship_node_types.split(",") if kind.strip()]

    @property
    def is_production(self) -> bool:
        return self.app_env == "production"

    def marketplace_url(self, environment: str) -> str:
        """Base URL of the Walmart Marketplace API for an instance's environment."""
        url = self.walmart_production_url if environment == "production" else self.walmart_sandbox_url
        return url.rstrip("/")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for name in cls.model_fields:
            raw = env.get(name.upper())
            if raw not in (None, ""):
                values[name] = raw
        if "region" not in values:
            region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION")
            if region:
                values["region"] = region
        if "tracing_enabled" not in values:
            values["tracing_enabled"] = env.get("POWERTOOLS_TRACE_DISABLED", "true").lower() in ("0", "false")
        return cls.model_validate(values)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once."""
    return Settings.from_env()
