"""Public list prices of the AWS services the service uses: us-east-1, on-demand, USD, free tiers excluded.

Looked up on 2026-12-04 (``search`` over the public pages; the newest copies found are dated March-June 2026). Each
price carries its source. Free tiers (Lambda's 1 M requests and 400,000 GB-s, DynamoDB's 25 GB, SQS's 1 M requests,
KMS's 20,000 requests, API Gateway's first-year 1 M calls, CloudWatch Logs' 5 GB) are left out on purpose: a seller
costs what it costs once the account is past them. Volume tiers are ignored too: every figure is the first tier's.
Money is ``Decimal``.
"""

from __future__ import annotations

from decimal import Decimal

MILLION = Decimal(1_000_000)

# -- AWS Lambda, arm64 -------------------------------------------------------------------------------------------
# https://aws.amazon.com/lambda/pricing/ (copy of 2026-06-18; Arm price, first 7.5 billion GB-seconds a month):
# $0.0000133334 per GB-second, $0.20 per 1 M requests. Duration is billed per 1 ms.
LAMBDA_ARM_GB_SECOND = Decimal("0.0000133334")
LAMBDA_REQUEST = Decimal("0.20") / MILLION
# https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html: CPU is allocated in proportion to memory;
# at 1,769 MB a function has the equivalent of one vCPU (one vCPU-second of credits per second).
LAMBDA_ONE_VCPU_MB = 1769

# -- Amazon API Gateway, REST API ----------------------------------------------------------------------------------
# https://aws.amazon.com/api-gateway/pricing/ and the API Gateway private-APIs whitepaper's cost table
# (docs.aws.amazon.com/whitepapers/latest/best-practices-api-gateway-private-apis-integration/cost-optimization.html):
# $3.50 per million REST API calls (first 333 million a month).
API_GATEWAY_REST_REQUEST = Decimal("3.50") / MILLION

# -- Amazon DynamoDB, on-demand, Standard table class -------------------------------------------------------------
# https://aws.amazon.com/dynamodb/pricing/on-demand/ (after the 1 November 2024 cut, confirmed by airbyte.com's and
# jusdb.com's 2025 write-ups): $0.625 per million write request units, $0.125 per million read request units.
# Storage: https://aws.amazon.com/dynamodb/pricing/ "$0.25 per GB-month" (after the free 25 GB).
# Continuous backups (point-in-time recovery, on for every table in template.yaml): $0.20 per GB-month of table size
# (https://aws.amazon.com/dynamodb/pricing/on-demand/, "Continuous backups"; finops.com.py's DynamoDB backups page).
DYNAMODB_WRITE_REQUEST_UNIT = Decimal("0.625") / MILLION
DYNAMODB_READ_REQUEST_UNIT = Decimal("0.125") / MILLION
DYNAMODB_STORAGE_GB_MONTH = Decimal("0.25")
DYNAMODB_PITR_GB_MONTH = Decimal("0.20")

# -- Amazon SQS, standard queues ------------------------------------------------------------------------------------
# https://aws.amazon.com/sqs/pricing/ (factualminds.com's copy of June 2026, cloudburn.io's of March 2026):
# $0.40 per million requests (first 100 billion a month); every 64 KB chunk of a payload is one request.
SQS_REQUEST = Decimal("0.40") / MILLION
SQS_CHUNK_BYTES = 64 * 1024

# -- AWS KMS ---------------------------------------------------------------------------------------------------------
# https://aws.amazon.com/kms/pricing/: $1 per customer managed key per month (each rotated backing key adds $1/month:
# template.yaml's key rotates yearly, so $1 in the first year); $0.03 per 10,000 symmetric requests.
KMS_KEY_MONTH = Decimal("1.00")
KMS_REQUEST = Decimal("0.03") / Decimal(10_000)

# -- AWS Secrets Manager -----------------------------------------------------------------------------------------------
# https://aws.amazon.com/secrets-manager/pricing/ (hivebook.wiki's 2026 summary): $0.40 per secret per month,
# $0.05 per 10,000 API calls.
SECRETS_MANAGER_SECRET_MONTH = Decimal("0.40")
SECRETS_MANAGER_REQUEST = Decimal("0.05") / Decimal(10_000)

# -- Amazon EventBridge ----------------------------------------------------------------------------------------------
# https://aws.amazon.com/eventbridge/pricing/ (factualminds.com's copy of June 2026, cloudburn.io's of March 2026):
# custom events $1.00 per million, each 64 KB chunk of an event counted as one; events from AWS services (the
# schedules' rate(15 minutes) rules) are free.
EVENTBRIDGE_CUSTOM_EVENT = Decimal("1.00") / MILLION
EVENTBRIDGE_CHUNK_BYTES = 64 * 1024

# -- Amazon CloudWatch Logs ------------------------------------------------------------------------------------------
# https://aws.amazon.com/cloudwatch/pricing/ (c3x.dev's and hykell.com's 2026 summaries; duckbillgroup.com on the
# Lambda log tiers: the first tier is unchanged): standard logs ingestion $0.50 per GB.
CLOUDWATCH_LOGS_INGESTED_GB = Decimal("0.50")

GB = Decimal(1024**3)

# What one unit of each quantity the cost bench counts costs; the service is the name's prefix.
UNIT_PRICES: dict[str, Decimal] = {
    "lambda.requests": LAMBDA_REQUEST,
    "lambda.gb_seconds": LAMBDA_ARM_GB_SECOND,
    "apigateway.requests": API_GATEWAY_REST_REQUEST,
    "dynamodb.write_request_units": DYNAMODB_WRITE_REQUEST_UNIT,
    "dynamodb.read_request_units": DYNAMODB_READ_REQUEST_UNIT,
    "dynamodb.storage_gb_months": DYNAMODB_STORAGE_GB_MONTH,
    "dynamodb.pitr_gb_months": DYNAMODB_PITR_GB_MONTH,
    "sqs.requests": SQS_REQUEST,
    "kms.requests": KMS_REQUEST,
    "kms.key_months": KMS_KEY_MONTH,
    "secretsmanager.requests": SECRETS_MANAGER_REQUEST,
    "secretsmanager.secret_months": SECRETS_MANAGER_SECRET_MONTH,
    "events.custom_events": EVENTBRIDGE_CUSTOM_EVENT,
    "logs.ingested_gb": CLOUDWATCH_LOGS_INGESTED_GB,
}
