"""A local API Gateway (REST API, Lambda proxy integration) for the ``Api`` events of template.yaml.

Requests are matched to the template's resources as API Gateway does (literal segments before ``{param}``
before ``{proxy+}``; a path or method without a resource is 403 "Missing Authentication Token"), go through
the API's Lambda authorizer (REQUEST or TOKEN; identity sources checked first, results cached for
``ReauthorizeEvery``, the returned policy evaluated against the method ARN), and reach the function as a
REST API proxy event (payload v1). The function's proxy response becomes the HTTP response; errors are the
API's ``GatewayResponses`` (or API Gateway's defaults).
"""

from __future__ import annotations

import base64
import fnmatch
import json
import logging
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.wrappers import Request, Response

from local.runtime import InvocationResult
from local.template import ACCOUNT_ID, REGION, ApiRoute

log = logging.getLogger("local.gateway")

Invoke = Callable[[str, dict[str, Any]], InvocationResult]

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")

# responseType -> (status, message, x-amzn-ErrorType)
GATEWAY_RESPONSE_DEFAULTS: dict[str, tuple[int, str | None, str]] = {
    "UNAUTHORIZED": (401, "Unauthorized", "UnauthorizedException"),
    "ACCESS_DENIED": (403, "User is not authorized to access this resource", "AccessDeniedException"),
    "MISSING_AUTHENTICATION_TOKEN": (403, "Missing Authentication Token", "MissingAuthenticationTokenException"),
    "AUTHORIZER_CONFIGURATION_ERROR": (500, None, "AuthorizerConfigurationException"),
    "AUTHORIZER_FAILURE": (500, None, "AuthorizerFailureException"),
    "INTEGRATION_FAILURE": (502, "Internal server error", "InternalServerErrorException"),
    "INTEGRATION_TIMEOUT": (504, "Endpoint request timed out", "InternalServerErrorException"),
    "REQUEST_TOO_LARGE": (413, "Request Too Long", "RequestTooLargeException"),
}

_PROXY_RESPONSE_KEYS = {"statusCode", "headers", "multiValueHeaders", "body", "isBase64Encoded", "cookies"}
_HOP_BY_HOP = {"connection", "content-length", "transfer-encoding", "keep-alive"}
MAX_BODY_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class Authorizer:
    name: str
    function: str  # logical id of the authorizer function
    payload_type: str  # REQUEST | TOKEN
    headers: tuple[str, ...]
    query_strings: tuple[str, ...]
    ttl_seconds: int
    validation_expression: str | None = None


@dataclass
class ApiConfig:
    """What the gateway needs of one ``AWS::Serverless::Api`` (already resolved)."""

    logical_id: str
    api_id: str
    stage: str
    routes: list[ApiRoute]
    authorizers: dict[str, Authorizer] = field(default_factory=dict)
    gateway_responses: dict[str, Any] = field(default_factory=dict)
    cors: dict[str, str] | None = None
    binary_media_types: tuple[str, ...] = ()


def api_config(
    logical_id: str | None,
    properties: Mapping[str, Any],
    routes: list[ApiRoute],
    *,
    api_id: str,
    resolve: Callable[[Any], Any],
) -> ApiConfig:
    """Build the gateway's view of an Api resource from its (Globals-merged) template properties."""
    auth = properties.get("Auth") or {}
    authorizers: dict[str, Authorizer] = {}
    for name, spec in (auth.get("Authorizers") or {}).items():
        function_arn = spec.get("FunctionArn")
        if not (isinstance(function_arn, dict) and "Fn::GetAtt" in function_arn):
            log.warning("authorizer %s: FunctionArn is not !GetAtt <Function>.Arn; skipped", name)
            continue
        target = function_arn["Fn::GetAtt"]
        function = target.split(".", 1)[0] if isinstance(target, str) else target[0]
        identity = spec.get("Identity") or {}
        payload_type = str(spec.get("FunctionPayloadType", "TOKEN")).upper()
        default_headers = [identity.get("Header", "Authorization")] if payload_type == "TOKEN" else []
        headers = identity.get("Headers") or default_headers
        authorizers[name] = Authorizer(
            name=name,
            function=function,
            payload_type=payload_type,
            headers=tuple(str(h) for h in headers),
            query_strings=tuple(str(q) for q in identity.get("QueryStrings") or []),
            ttl_seconds=int(resolve(identity.get("ReauthorizeEvery", 300))),
            validation_expression=identity.get("ValidationExpression"),
        )
    cors = properties.get("Cors")
    cors_headers: dict[str, str] | None = None
    if cors:
        spec = {"AllowOrigin": cors} if isinstance(cors, str) else dict(cors)
        cors_headers = {
            key: _unquote(str(resolve(value)))
            for key, value in spec.items()
            if key in ("AllowOrigin", "AllowMethods", "AllowHeaders", "MaxAge", "AllowCredentials")
        }
    return ApiConfig(
        logical_id=logical_id or "ServerlessRestApi",
        api_id=api_id,
        stage=str(resolve(properties.get("StageName", "Prod"))),
        routes=routes,
        authorizers=authorizers,
        gateway_responses=dict(resolve(properties.get("GatewayResponses") or {})),
        cors=cors_headers,
        binary_media_types=tuple(str(t).replace("~1", "/") for t in properties.get("BinaryMediaTypes") or []),
    )


# --------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class Match:
    resource: str  # the template path, e.g. /api/{proxy+}
    path_parameters: dict[str, str]


def _segments(path: str) -> list[str]:
    return [segment for segment in path.split("/") if segment]


def match_resource(resources: list[str], path: str) -> Match | None:
    """The most specific resource for ``path``: literal > {param} > {proxy+}, segment by segment."""
    request = _segments(path)
    best: tuple[tuple[int, ...], Match] | None = None
    for resource in resources:
        template = _segments(resource)
        score: list[int] = []
        params: dict[str, str] = {}
        matched = True
        for index, part in enumerate(template):
            if part.startswith("{") and part.endswith("+}"):
                rest = request[index:]
                if not rest or index != len(template) - 1:
                    matched = False
                    break
                params[part[1:-2]] = "/".join(rest)
                score.append(0)
                break
            if index >= len(request):
                matched = False
                break
            if part.startswith("{") and part.endswith("}"):
                params[part[1:-1]] = request[index]
                score.append(1)
            elif part == request[index]:
                score.append(2)
            else:
                matched = False
                break
        else:
            if len(template) != len(request):
                matched = False
        if matched and (best is None or tuple(score) > best[0]):
            best = (tuple(score), Match(resource, params))
    return best[1] if best else None


# --------------------------------------------------------------------------------------------- policies


def policy_allows(policy: Mapping[str, Any], method_arn: str) -> bool:
    """IAM-style evaluation of an authorizer policy for ``execute-api:Invoke`` on ``method_arn``."""
    statements = policy.get("Statement") or []
    if isinstance(statements, dict):
        statements = [statements]
    allowed = False
    for statement in statements:
        actions = statement.get("Action") or []
        resources = statement.get("Resource") or []
        actions = [actions] if isinstance(actions, str) else actions
        resources = [resources] if isinstance(resources, str) else resources
        if not any(fnmatch.fnmatchcase("execute-api:Invoke", str(a)) for a in actions):
            continue
        if not any(fnmatch.fnmatchcase(method_arn, str(r)) for r in resources):
            continue
        effect = str(statement.get("Effect", "")).lower()
        if effect == "deny":
            return False
        if effect == "allow":
            allowed = True
    return allowed


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
    def __init__(self, response_type: str, message: str | None = None) -> None:
        super().__init__(response_type)
        self.response_type = response_type
        self.message = message


class Gateway:
    """A WSGI app (and its threaded server) fronting the functions of one or more APIs."""

    def __init__(
        self,
        apis: list[ApiConfig],
        invoke: Invoke,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
        integration_timeout_seconds: float = 29.0,
    ) -> None:
        self.apis = apis
        self.invoke = invoke
        self.region = region
        self.account_id = account_id
        self.integration_timeout_seconds = integration_timeout_seconds
        self._routes: dict[str, dict[str, tuple[ApiConfig, ApiRoute]]] = {}
        for api in apis:
            for route in api.routes:
                methods = self._routes.setdefault(route.path, {})
                if route.method in methods:
                    log.warning("%s %s is defined twice; the first wins", route.method, route.path)
                    continue
                methods[route.method] = (api, route)
        self._auth_cache: dict[tuple[Any, ...], tuple[float, dict[str, Any]]] = {}
        self._cache_lock = threading.Lock()
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    # -- server -----------------------------------------------------------------------------------------

    def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = make_server(host, port, self, threaded=True, request_handler=_RequestHandler)
        self._server.daemon_threads = True  # type: ignore[attr-defined]
        self.url = f"http://{host}:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name="api-gateway", daemon=True)
        self._thread.start()
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
            response = self.gateway_response(self._api_for_errors(), error.response_type, request_id, error.message)
        except Exception:
            log.exception("gateway failure on %s %s", request.method, request.path)
            response = self.gateway_response(self._api_for_errors(), "INTEGRATION_FAILURE", request_id)
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
        if match is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
        methods = self._routes[match.resource]
        method = request.method.upper()
        entry = methods.get(method) or methods.get("ANY")
        if method == "OPTIONS" and "OPTIONS" not in methods:
            api = next(iter(methods.values()))[0]
            if api.cors is not None:
                return self._preflight(api, methods)
        if entry is None:
            raise GatewayError("MISSING_AUTHENTICATION_TOKEN")
        api, route = entry
        event = self._proxy_event(api, route, match, request, request_id)
        if route.auth:
            authorizer = api.authorizers.get(route.auth)
            if authorizer is None:
                log.error("route %s %s: unknown authorizer %s", route.method, route.path, route.auth)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
            try:
                event["requestContext"]["authorizer"] = self._authorize(api, authorizer, event)
            except GatewayError as error:
                return self.gateway_response(api, error.response_type, request_id, error.message)
        result = self.invoke(route.function, event)
        if not result.ok:
            failure = result.error or {}
            if failure.get("errorType") == "Sandbox.Timedout":
                return self.gateway_response(api, "INTEGRATION_TIMEOUT", request_id)
            log.error("%s failed: %s: %s", route.function, failure.get("errorType"), failure.get("errorMessage"))
            return self.gateway_response(api, "INTEGRATION_FAILURE", request_id)
        return self._proxy_response(api, route, result.payload, request_id)

    def _method_arn(self, api: ApiConfig, method: str, path: str) -> str:
        return f"arn:aws:execute-api:{self.region}:{self.account_id}:{api.api_id}/{api.stage}/{method}{path}"

    def _proxy_event(
        self, api: ApiConfig, route: ApiRoute, match: Match, request: Request, request_id: str
    ) -> dict[str, Any]:
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
        content_type = (request.mimetype or "").lower()
        binary = bool(raw) and any(fnmatch.fnmatchcase(content_type, t) for t in api.binary_media_types)
        body: str | None
        if not raw:
            body = None
        elif binary:
            body = base64.b64encode(raw).decode()
        else:
            body = raw.decode("utf-8", errors="replace")
        now = datetime.now(UTC)
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
            "body": body,
            "isBase64Encoded": binary,
        }

    # -- authorizer -----------------------------------------------------------------------------------------

    def _authorize(self, api: ApiConfig, authorizer: Authorizer, event: dict[str, Any]) -> dict[str, Any]:
        headers = {k.lower(): v for k, v in (event.get("headers") or {}).items()}
        query = event.get("queryStringParameters") or {}
        identity: list[str] = []
        for name in authorizer.headers:
            value = headers.get(name.lower())
            if not value:
                raise GatewayError("UNAUTHORIZED")
            identity.append(value)
        for name in authorizer.query_strings:
            value = query.get(name)
            if not value:
                raise GatewayError("UNAUTHORIZED")
            identity.append(value)
        if (
            authorizer.payload_type == "TOKEN"
            and authorizer.validation_expression
            and not re.fullmatch(authorizer.validation_expression, identity[0])
        ):
            raise GatewayError("UNAUTHORIZED")
        method_arn = self._method_arn(api, event["httpMethod"], event["path"])
        cache_key = (api.logical_id, authorizer.name, *identity)
        cacheable = authorizer.ttl_seconds > 0 and bool(identity)
        response: dict[str, Any] | None = None
        started = time.monotonic()
        if cacheable:
            with self._cache_lock:
                cached = self._auth_cache.get(cache_key)
            if cached and cached[0] > time.monotonic():
                response = cached[1]
        if response is None:
            if authorizer.payload_type == "TOKEN":
                auth_event: dict[str, Any] = {
                    "type": "TOKEN",
                    "authorizationToken": identity[0],
                    "methodArn": method_arn,
                }
            else:
                auth_event = {
                    "type": "REQUEST",
                    "methodArn": method_arn,
                    **{k: v for k, v in event.items() if k not in ("body", "isBase64Encoded")},
                }
            result = self.invoke(authorizer.function, auth_event)
            if not result.ok:
                message = (result.error or {}).get("errorMessage")
                if message == "Unauthorized":
                    raise GatewayError("UNAUTHORIZED")
                log.error("authorizer %s failed: %s", authorizer.name, result.error)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
            response = result.payload
            if not _valid_authorizer_response(response):
                log.error("authorizer %s returned an invalid response: %r", authorizer.name, response)
                raise GatewayError("AUTHORIZER_CONFIGURATION_ERROR")
            if cacheable:
                with self._cache_lock:
                    self._auth_cache[cache_key] = (time.monotonic() + authorizer.ttl_seconds, response)
        assert response is not None
        if not policy_allows(response["policyDocument"], method_arn):
            raise GatewayError("ACCESS_DENIED")
        context = dict(response.get("context") or {})
        return {
            "principalId": response["principalId"],
            **context,
            "integrationLatency": int((time.monotonic() - started) * 1000),
        }

    def clear_authorizer_cache(self) -> None:
        with self._cache_lock:
            self._auth_cache.clear()

    # -- responses --------------------------------------------------------------------------------------------

    def _proxy_response(self, api: ApiConfig, route: ApiRoute, payload: Any, request_id: str) -> Response:
        if not isinstance(payload, dict) or set(payload) - _PROXY_RESPONSE_KEYS or "statusCode" not in payload:
            log.error("%s: malformed Lambda proxy response: %.300r", route.function, payload)
            return self.gateway_response(api, "INTEGRATION_FAILURE", request_id)
        try:
            status = int(payload["statusCode"])
        except (TypeError, ValueError):
            log.error("%s: malformed Lambda proxy response (statusCode %r)", route.function, payload["statusCode"])
            return self.gateway_response(api, "INTEGRATION_FAILURE", request_id)
        body = payload.get("body")
        if body is not None and not isinstance(body, str):
            log.error("%s: malformed Lambda proxy response (body is %s)", route.function, type(body).__name__)
            return self.gateway_response(api, "INTEGRATION_FAILURE", request_id)
        data = base64.b64decode(body) if body and payload.get("isBase64Encoded") else (body or "").encode()
        response = Response(data, status=status)
        response.headers.remove("Content-Type")
        multi = {k: [str(v) for v in values] for k, values in (payload.get("multiValueHeaders") or {}).items()}
        for name, value in (payload.get("headers") or {}).items():
            if name not in multi:
                multi[name] = [str(value)]
            elif str(value) not in multi[name]:
                multi[name].append(str(value))
        for name, values in multi.items():
            if name.lower() in _HOP_BY_HOP:
                continue
            for value in values:
                response.headers.add(name, value)
        if "Content-Type" not in response.headers:
            response.headers["Content-Type"] = "application/json"
        return response

    def _api_for_errors(self) -> ApiConfig | None:
        return self.apis[0] if len(self.apis) == 1 else None

    def gateway_response(
        self, api: ApiConfig | None, response_type: str, request_id: str, message: str | None = None
    ) -> Response:
        """API Gateway's answer for ``response_type``, customised by the API's GatewayResponses."""
        status, default_message, error_type = GATEWAY_RESPONSE_DEFAULTS.get(
            response_type, (500, "Internal server error", "InternalServerErrorException")
        )
        message = message if message is not None else default_message
        responses = api.gateway_responses if api else {}
        specific = responses.get(response_type)
        config = specific or responses.get("DEFAULT_4XX" if status < 500 else "DEFAULT_5XX") or {}
        if specific and specific.get("StatusCode"):
            status = int(specific["StatusCode"])
        template = (config.get("ResponseTemplates") or {}).get("application/json")
        if template is None:
            body = json.dumps({"message": message}, separators=(",", ":"))
        else:
            body = _render_template(str(template), response_type, request_id, message)
        response = Response(body, status=status, content_type="application/json")
        response.headers["x-amzn-ErrorType"] = error_type
        parameters = config.get("ResponseParameters") or {}
        for name, value in (parameters.get("Headers") or {}).items():
            response.headers[name] = _unquote(str(value))
        for key, value in parameters.items():
            if key.startswith("gatewayresponse.header."):
                response.headers[key.removeprefix("gatewayresponse.header.")] = _unquote(str(value))
        return response

    def _preflight(self, api: ApiConfig, methods: Mapping[str, Any]) -> Response:
        cors = api.cors or {}
        allowed = sorted(set(METHODS) if "ANY" in methods else {*methods, "OPTIONS"})
        response = Response(b"", status=200, content_type="application/json")
        response.headers["Access-Control-Allow-Origin"] = cors.get("AllowOrigin", "*")
        response.headers["Access-Control-Allow-Methods"] = cors.get("AllowMethods", ",".join(allowed))
        if "AllowHeaders" in cors:
            response.headers["Access-Control-Allow-Headers"] = cors["AllowHeaders"]
        if "MaxAge" in cors:
            response.headers["Access-Control-Max-Age"] = cors["MaxAge"]
        if cors.get("AllowCredentials", "").lower() == "true":
            response.headers["Access-Control-Allow-Credentials"] = "true"
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


def _render_template(template: str, response_type: str, request_id: str, message: str | None) -> str:
    values = {
        "error.messageString": json.dumps(message),
        "error.message": "" if message is None else message,
        "error.responseType": response_type,
        "requestId": request_id,
        "extendedRequestId": request_id[:16],
    }

    def replace(match: re.Match[str]) -> str:
        return values.get(match.group(1) or match.group(2), "")

    return re.sub(r"\$\{context\.([A-Za-z.]+)\}|\$context\.([A-Za-z]+(?:\.[A-Za-z]+)*)", replace, template)
