"""A local API Gateway for the template's REST API: what API Gateway does for this API, nothing more.

It reads the ``AWS::ApiGateway::RestApi`` that SAM's transform makes of the ``Api`` events (its OpenAPI body:
each path's methods, their Lambda proxy integration and ``security``; the Lambda REQUEST authorizer of
``components.securitySchemes`` with its identity headers and ``authorizerResultTtlInSeconds``; the
``x-amazon-apigateway-gateway-responses``) and the ``AWS::ApiGateway::Stage``. A request goes to its literal
resource, else to the ``{proxy+}`` resource under which it falls (no resource or method: 403 "Missing
Authentication Token"); a method whose ``security`` names the authorizer first goes through it (no identity
header: 401 without a call; answers cached per identity for the TTL; the returned policy evaluated against the
method ARN), a method without one (``Auth: {Authorizer: NONE}``) reaches its function directly. The function gets
a REST API proxy event (payload v1); its proxy response becomes the HTTP response; errors are the API's gateway
responses (or API Gateway's defaults).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local.runtime import InvocationResult
from local.template import ACCOUNT_ID, REGION, Template, TemplateError

log = logging.getLogger("local.gateway")

Invoke = Callable[[str, dict[str, Any]], InvocationResult]

ANY_METHOD = "x-amazon-apigateway-any-method"
HEADER_SOURCE = "method.request.header."

# responseType -> (status, message, x-amzn-ErrorType)
GATEWAY_RESPONSE_DEFAULTS: dict[str, tuple[int, str | None, str]] = {
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None, "AuthorizerConfigurationException"),
    "INTEGRATION_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLargeException"),
}

_PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Route:
    """One method of a resource of the REST API."""

    path: str  # the resource, e.g. /api/{proxy+}
    method: str  # GET, POST... or ANY
    function: str  # logical id of the integration's function
    authorizer: str | None  # None: the method has no authorizer


@dataclass(frozen=True)
class Authorizer:
    """A Lambda REQUEST authorizer."""

    name: str
    function: str
    headers: tuple[str, ...]  # identity sources
    ttl_seconds: int


@dataclass
class ApiConfig:
    api_id: str
    stage: str
    routes: list[Route]
    authorizers: dict[str, Authorizer]
    gateway_responses: dict[str, Any]  # x-amazon-apigateway-gateway-responses

    def functions(self) -> set[str]:
        """The functions behind the API, and its authorizers'."""
        return {route.function for route in self.routes} | {a.function for a in self.authorizers.values()}


def api_config(template: Template, *, resolve: Callable[[Any], Any]) -> ApiConfig | None:
    """The template's REST API (None without one), from its OpenAPI body and its stage."""
    apis = template.of_type("AWS::ApiGateway::RestApi")
    if len(apis) > 1:
        raise TemplateError(f"one REST API is supported locally, not {', '.join(apis)}")
    if not apis:
        return None
    ((logical_id, properties),) = apis.items()
    body = properties["Body"]
    stages = template.of_type("AWS::ApiGateway::Stage").values()
    (stage,) = (stage for stage in stages if stage.get("RestApiId") == {"Ref": logical_id})
    schemes = (body.get("components") or {}).get("securitySchemes") or body.get("securityDefinitions") or {}
    authorizers: dict[str, Authorizer] = {}
    for name, scheme in schemes.items():
        spec = scheme.get("x-amazon-apigateway-authorizer") or {}
        sources = [source.strip() for source in str(spec.get("identitySource", "")).split(",") if source.strip()]
        if spec.get("type") != "request" or not all(source.startswith(HEADER_SOURCE) for source in sources):
            raise TemplateError(f"authorizer {name}: only Lambda REQUEST authorizers on headers are supported locally")
        authorizers[name] = Authorizer(
            name=name,
            function=template.function_of(spec["authorizerUri"]),
            headers=tuple(source.removeprefix(HEADER_SOURCE) for source in sources),
            ttl_seconds=int(resolve(spec.get("authorizerResultTtlInSeconds", 300))),
        )
    routes = [
        Route(
            path=path,
            method="ANY" if method == ANY_METHOD else method.upper(),
            function=template.function_of(operation["x-amazon-apigateway-integration"]["uri"]),
            authorizer=next(
                (name for need in operation.get("security") or [] for name in need if name in authorizers), None
            ),
        )
        for path, methods in (body.get("paths") or {}).items()
        for method, operation in methods.items()
    ]
    return ApiConfig(
        api_id=str(resolve({"Ref": logical_id})),
        stage=str(resolve(stage["StageName"])),
        routes=routes,
        authorizers=authorizers,
        gateway_responses=dict(resolve(body.get("x-amazon-apigateway-gateway-responses") or {})),
    )


# --------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Match:
    resource: str  # the template path, e.g. /api/{proxy+}
    path_parameters: dict[str, str]


def match_resource(resources: list[str], path: str) -> Match | None:
    """API Gateway's choice among this API's resources: the literal one, else the deepest ``{proxy+}`` above."""
    path = "/" + "/".join(segment for segment in path.split("/") if segment)
    if path in resources:
        return Match(path, {})
    best: Match | None = None
    for resource in resources:
        parent, _, greedy = resource.rpartition("/")
        is_greedy = greedy.startswith("{") and greedy.endswith("+}")
        under = path.startswith(parent + "/") and path != parent + "/"
        if is_greedy and under and (best is None or len(resource) > len(best.resource)):
            best = Match(resource, {greedy[1:-2]: path[len(parent) + 1 :]})
    return best


def policy_allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM-style evaluation of an authorizer policy for ``execute-api:Invoke`` on ``method_arn``."""
    statements = policy.get("Statement") or []
    allowed = False
    for statement in [statements] if isinstance(statements, dict) else statements:
        actions, resources = statement.get("Action") or [], statement.get("Resource") or []
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", str(a)) for a in _listed(actions)):
            continue
        if not any(fnmatch.fnmatchcase(method_arn, str(r)) for r in _listed(resources)):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        allowed = allowed or effect == "allow"
    return allowed


def _listed(value: Any) -> list[Any]:
    return [value] if isinstance(value, str) else list(value)


# --------------------------------------------------------------------------------------------- server


RAW_HEADERS_KEY = "local.raw_headers"


class _RequestHandler(WSGIRequestHandler):
    """Quiet, keep-alive, and keeps the request headers as sent (names with "_" and their case, lost in WSGI)."""

    protocol_version = "HTTP/1.1"

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        environ[RAW_HEADERS_KEY] = [(name, value.replace("\r\n", "")) for name, value in self.headers.items()]
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class GatewayError(Exception):
    def __init__(self, response_type: str) -> None:
        super().__init__(response_type)
        self.response_type = response_type


class Gateway:
    """A WSGI app (and its threaded server) fronting the functions of the REST API."""

    def __init__(self, api: ApiConfig, invoke: Invoke, *, region: str = REGION, account_id: str = ACCOUNT_ID) -> None:
        self.api = api
        self.invoke = invoke
        self.region = region
        self.account_id = account_id
        self._routes: dict[str, dict[str, Route]] = {}
        for route in api.routes:
            self._routes.setdefault(route.path, {})[route.method] = route
        self._auth_cache: dict[tuple[str, ...], tuple[float, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self.url = ""

    # -- server -----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = make_server(host, port, self, threaded=True, request_handler=_RequestHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_port}"
        threading.Thread(target=self._server.serve_forever, name="api-gateway", daemon=True).start()
        return self.url

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        started = time.monotonic()
        request_id = str(uuid.uuid4())
        try:
            response = self.handle(request, request_id)
        except GatewayError as error:
            response = self.gateway_response(error.response_type, request_id)
        except Exception:
            log.exception("gateway failure on %s %s", request.method, request.path)
            response = self.gateway_response("INTEGRATION_FAILURE", request_id)
        response.headers.setdefault("x-amzn-RequestId", request_id)
        log.info(
            "%s %s -> %s (%.0f ms)",
            request.method,
            request.full_path.rstrip("?"),
            response.status_code,
            (time.monotonic() - started) * 1000,
        )
        return response(environ, start_response)

    # -- request handling -----------------------------------------------------------------------------------

    def handle(self, request: Request, request_id: str) -> Response:
        if request.content_length and request.content_length > MAX_BODY_BYTES:
            raise GatewayError("REQUEST_TOO_LARGE")
        match = match_resource(list(self._routes), request.path)
        methods = self._routes[match.resource] if match else {}
        route = methods.get(request.method.upper()) or methods.get("ANY")
        if match is None or route is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
        event = self._proxy_event(route, match, request, request_id)
        if route.authorizer:
            event["requestContext"]["authorizer"] = self._authorize(self.api.authorizers[route.authorizer], event)
        result = self.invoke(route.function, event)
        if not result.ok:
            failure = result.error or {}
            if failure.get("errorType") == "Sandbox.Timedout":
                raise GatewayError("INTEGRATION_TIMEOUT")
            log.error("%s failed: %s: %s", route.function, failure.get("errorType"), failure.get("errorMessage"))
            raise GatewayError("INTEGRATION_FAILURE")
        return self._proxy_response(route, result.payload)

    def _proxy_event(self, route: Route, match: Match, request: Request, request_id: str) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        raw_headers = request.environ.get(RAW_HEADERS_KEY) or list(request.headers.items())
        for name, value in raw_headers:
            headers[name] = value
            multi_headers.setdefault(name, []).append(value)
        remote = request.remote_addr or "127.0.0.1"
        for name, value in (
            ("X-Forwarded-For", remote),
            ("X-Forwarded-Port", str(request.environ.get("SERVER_PORT", ""))),
            ("X-Forwarded-Proto", request.scheme),
        ):
            if name not in headers:
                headers[name] = value
                multi_headers[name] = [value]
        query = {key: values[-1] for key, values in request.args.lists()}
        multi_query = {key: list(values) for key, values in request.args.lists()}
        raw = request.get_data(cache=True)
        now = datetime.now(UTC)
        api = self.api
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": match.path_parameters or None,
            "stageVariables": None,
            "requestContext": {
                "resourceId": uuid.uuid5(uuid.NAMESPACE_URL, route.path).hex[:6],
                "resourcePath": route.path,
                "httpMethod": request.method.upper(),
                "extendedRequestId": request_id[:16],
                "requestTime": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
                "path": f"/{api.stage}{request.path}",
                "accountId": self.account_id,
                "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
                "stage": api.stage,
                "domainPrefix": api.api_id,
                "requestTimeEpoch": int(now.timestamp() * 1000),
                "requestId": request_id,
                "identity": {
                    "cognitoIdentityPoolId": None,
                    "accountId": None,
                    "cognitoIdentityId": None,
                    "caller": None,
                    "sourceIp": remote,
                    "principalOrgId": None,
                    "accessKey": None,
                    "cognitoAuthenticationType": None,
                    "cognitoAuthenticationProvider": None,
                    "userArn": None,
                    "userAgent": request.headers.get("User-Agent"),
                    "user": None,
                },
                "domainName": request.host,
                "apiId": api.api_id,
            },
            "body": raw.decode("utf-8", errors="replace") if raw else None,
            "isBase64Encoded": False,
        }

    # -- authorizer -----------------------------------------------------------------------------------------

    def _authorize(self, authorizer: Authorizer, event: dict[str, Any]) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        identity = tuple(headers.get(name.lower()) or "" for name in authorizer.headers)
        if not all(identity):
            raise GatewayError("UNAUTHORIZED")
        method_arn = (
            f"arn:aws:execute-api:{self.region}:{self.account_id}:{self.api.api_id}/{self.api.stage}"
            f"/{event['httpMethod']}{event['path']}"
        )
        cache_key = (authorizer.name, *identity)
        started = time.monotonic()
        with self._cache_lock:
            expires, response = self._auth_cache.get(cache_key, (0.0, {}))
        if expires <= time.monotonic():
            auth_event = {"type": "REQUEST", "methodArn": method_arn}
            auth_event.update((k, v) for k, v in event.items() if k not in ("body", "isBase64Encoded"))
            result = self.invoke(authorizer.function, auth_event)
            if not result.ok:
                if (result.error or {}).get("errorMessage") == "Unauthorized":
                    raise GatewayError("UNAUTHORIZED")
                log.error("authorizer %s failed: %s", authorizer.name, result.error)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
            response = result.payload
            if not _valid_authorizer_response(response):
                log.error("authorizer %s returned an invalid response: %r", authorizer.name, response)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
            if authorizer.ttl_seconds > 0 and identity:
                with self._cache_lock:
                    self._auth_cache[cache_key] = (time.monotonic() + authorizer.ttl_seconds, response)
        if not policy_allows(response["policyDocument"], method_arn):
            raise GatewayError("ACCESS_DENIED")
        return {
            "principalId": response["principalId"],
            **(response.get("context") or {}),
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }

    # -- responses --------------------------------------------------------------------------------------------

    def _proxy_response(self, route: Route, payload: Any) -> Response:
        body = payload.get("body") if isinstance(payload, dict) else None
        if (
            not isinstance(payload, dict)
            or set(payload) - _PROXY_RESPONSE_KEYS
            or not str(payload.get("statusCode")).isdigit()
            or not isinstance(body, str | None)
        ):
            log.error("%s: malformed Lambda proxy response: %.300r", route.function, payload)
            raise GatewayError("INTEGRATION_FAILURE")
        data = base64.b64decode(body) if body and payload.get("isBase64Encoded") else (body or "").encode()
        response = Response(data, status=int(payload["statusCode"]))
        response.headers.remove("Content-Type")
        multi = {k: [str(v) for v in values] for k, values in (payload.get("multiValueHeaders") or {}).items()}
        for name, value in (payload.get("headers") or {}).items():
            if str(value) not in multi.setdefault(name, []):
                multi[name].append(str(value))
        for name, values in multi.items():
            if name.lower() not in _HOP_BY_HOP:
                for value in values:
                    response.headers.add(name, value)
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"
        return response

    def gateway_response(self, response_type: str, request_id: str) -> Response:
        """API Gateway's answer for ``response_type``, customised by the API's gateway responses."""
        status, message, error_type = GATEWAY_RESPONSE_DEFAULTS[response_type]
        specific = self.api.gateway_responses.get(response_type)
        config = specific or self.api.gateway_responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX") or {}
        if specific and specific.get("statusCode"):
            status = int(specific["statusCode"])
        template = (config.get("responseTemplates") or {}).get("application/json")
        if template is None:
            body = json.dumps({"message": message}, separators=(",", ":"))
        else:
            body = str(template).replace("$context.error.messageString", json.dumps(message))
        response = Response(body, status=status, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = error_type
        for key, value in (config.get("responseParameters") or {}).items():
            if key.startswith("gatewayresponse.header."):
                response.headers[key.removeprefix("gatewayresponse.header.")] = _unquote(str(value))
        return response


def _valid_authorizer_response(response: Any) -> bool:
    if not isinstance(response, dict) or "principalId" not in response:
        return False
    if not isinstance(response.get("policyDocument"), dict):
        return False
    context = response.get("context") or {}
    return isinstance(context, dict) and all(
        isinstance(v, str | int | float | bool) or v is None for v in context.values()
    )


def _unquote(value: str) -> str:
    return value[1:-1] if len(value) >= 2 and value[0] == value[-1] == "'" else value
