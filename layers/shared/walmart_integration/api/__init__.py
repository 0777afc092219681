"""The REST API: the resolver with its OpenAPI document and Swagger UI, made of one Powertools Router per area.

- ``instances``, ``synced``, ``settlements``, ``accounting``, ``advertising``, ``reference``: the routes, one Router
  each
- ``dependencies``: what routes receive through ``Depends`` (the tenant, the services); tests override them
- ``errors``: every error status, documented and mapped from exceptions in one place
- ``middlewares``: what runs around every route (JSON bodies only, validation, control characters)

The api function's handler (``functions/api/app.py``) is a thin shell around ``app``; ``openapi.json`` is generated
from it (``scripts/openapi.py``).
"""

from __future__ import annotations

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares.openapi_validation import (
    OpenAPIRequestValidationMiddleware,
    OpenAPIResponseValidationMiddleware,
)
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from walmart_integration.api import accounting, advertising, errors, instances, reference, settlements, synced
from walmart_integration.api.middlewares import json_bodies_only, no_control_characters

TITLE = "Walmart Integration Service API"
VERSION = "1.0.0"
DESCRIPTION = (
    "Connect Walmart Marketplace sellers (integration instances) and keep their data in sync. "
    "Link Walmart Connect advertising profiles to accounts and read their performance. "
    "Every route needs `Authorization: Bearer <token>`; another tenant's resource answers 404."
)

# Validation is Powertools' own, registered as middlewares after the JSON check (see ``middlewares``).
app = APIGatewayRestResolver(enable_validation=False)
app.use(
    middlewares=[
        json_bodies_only,
        OpenAPIRequestValidationMiddleware(),
        no_control_characters,
        OpenAPIResponseValidationMiddleware(),
    ]
)
errors.register(app)
app.configure_openapi(
    title=TITLE,
    version=VERSION,
    description=DESCRIPTION,
    security_schemes={"bearerAuth": HTTPBearer(description="Opaque bearer token of a tenant")},
    security=[{"bearerAuth": []}],
)
app.enable_swagger(path="/api/docs", title=TITLE, version=VERSION, description=DESCRIPTION)

for area in (reference, instances, synced, settlements, advertising, accounting):
    app.include_router(area.router)


@app.get("/api/openapi.json", include_in_schema=False)
def openapi_document():  # type: ignore[no-untyped-def]
    return Response(200, content_types.APPLICATION_JSON, openapi_json())


def openapi_json() -> str:
    return app.get_openapi_json_schema(title=TITLE, version=VERSION, description=DESCRIPTION)


__all__ = ["app", "openapi_json"]
