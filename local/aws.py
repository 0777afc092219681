"""Embedded AWS: a moto server, and the template's plain resources created through a moto CloudFormation stack.

moto's CloudFormation creates ``AWS::DynamoDB::Table``, ``AWS::SQS::Queue`` (redrive policies included),
``AWS::KMS::Key``/``Alias``, ``AWS::SNS::Topic``... So the stack it gets is the template's own plain resources
(not what SAM's transform makes of the serverless ones: those run locally) of the types moto models (CloudWatch
alarms are not), with Outputs replaced by the ``!GetAtt`` values the rest of the template needs. Physical ids
come back from ``describe_stack_resources``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import threading
from dataclasses import dataclass, field
from typing import Any

from local.template import (
    ACCOUNT_ID,
    FUNCTION_TYPE,
    REGION,
    SERVERLESS_PREFIX,
    Resolver,
    Template,
    TemplateError,
    pseudo_parameters,
    references,
)

log = logging.getLogger("local.aws")

FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing", "AWS_SESSION_TOKEN": "testing"}

MOTO_START_TIMEOUT_SECONDS = 60.0
MOTO_STOP_TIMEOUT_SECONDS = 3.0

# Attributes worked out here rather than asked of moto (moto's CloudFormation does not know them).
_LOCAL_ATTRIBUTES = {("AWS::SQS::Queue", "QueueUrl")}


@dataclass
class LocalResource:
    logical_id: str
    type: str
    physical_id: str
    ref: str
    attributes: dict[str, str] = field(default_factory=dict)


def moto_supported_types() -> dict[str, Any]:
    """CloudFormation type -> moto model class, for every type moto's CloudFormation can create."""
    from moto.cloudformation.parsing import get_model_map

    return dict(get_model_map())


def plain_stack_template(template: Template, supported: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The template moto can create (Outputs left out) and the logical ids left out."""
    written = template.raw.get("Resources") or {}
    kept = {
        logical_id: resource
        for logical_id, resource in sorted(template.resources.items())
        if logical_id in written
        and not str(written[logical_id].get("Type")).startswith(SERVERLESS_PREFIX)
        and resource.get("Type") in supported
    }
    body = {"AWSTemplateFormatVersion": "2010-09-09", "Parameters": template.parameters, "Resources": kept}
    return body, sorted(set(template.resources) - set(kept))


class LocalAws:
    """A moto server on 127.0.0.1 (free port) holding the template's plain resources."""

    def __init__(self, template: Template, *, stack_name: str, region: str = REGION) -> None:
        self.template = template
        self.stack_name = stack_name
        self.region = region
        self.account_id = ACCOUNT_ID
        self.endpoint_url = ""
        self.resources: dict[str, LocalResource] = {}
        self._server: Any = None
        self._pipe: Any = None
        self._session: Any = None
        self._clients: dict[str, Any] = {}
        self._lock = threading.Lock()

    # -- server ---------------------------------------------------------------------------------------

    def start(self) -> str:
        """The moto server in a process of its own: it answers every function, poller and the gateway, one request
        at a time, so it gets a core of its own rather than sharing the stack's interpreter lock."""
        context = multiprocessing.get_context("spawn")
        ours, theirs = context.Pipe()
        self._server = context.Process(target=_serve_moto, args=(theirs,), name="moto", daemon=True)
        self._server.start()
        theirs.close()
        if not ours.poll(MOTO_START_TIMEOUT_SECONDS):
            self.stop()
            raise RuntimeError("the moto server did not start")
        host, port = ours.recv()
        self._pipe = ours
        self.endpoint_url = f"http://{host}:{port}"
        return self.endpoint_url

    def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            if self._pipe is not None:
                with contextlib.suppress(OSError):
                    self._pipe.close()  # the server process stops when its pipe closes
            server.join(MOTO_STOP_TIMEOUT_SECONDS)
            if server.is_alive():  # pragma: no cover - best effort at shutdown
                server.kill()
                server.join(1.0)

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded AWS (thread-safe once created; cached per service)."""
        with self._lock:
            if service not in self._clients:
                import boto3
                from botocore.config import Config

                if self._session is None:
                    self._session = boto3.session.Session(
                        aws_access_key_id=FAKE_CREDENTIALS["AWS_ACCESS_KEY_ID"],
                        aws_secret_access_key=FAKE_CREDENTIALS["AWS_SECRET_ACCESS_KEY"],
                        region_name=self.region,
                    )
                self._clients[service] = self._session.client(
                    service,
                    endpoint_url=self.endpoint_url or None,  # None: an in-process moto mock
                    config=Config(retries={"max_attempts": 2, "mode": "standard"}, max_pool_connections=50),
                )
            return self._clients[service]

    def environment(self) -> dict[str, str]:
        """What a function process needs to reach the embedded AWS."""
        return {
            "AWS_ENDPOINT_URL": self.endpoint_url,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_REGION": self.region,
            **FAKE_CREDENTIALS,
        }

    # -- resources -------------------------------------------------------------------------------------

    def create_resources(self, parameters: dict[str, Any]) -> dict[str, LocalResource]:
        supported = moto_supported_types()
        body, dropped = plain_stack_template(self.template, supported)
        if dropped:
            log.debug("not created in moto: %s", ", ".join(dropped))
        kept = body["Resources"]
        outputs: dict[str, tuple[str, str]] = {}
        for target, attribute in sorted(references(self._consumers(kept)), key=lambda r: (r[0], r[1] or "")):
            if attribute is None or target not in kept:
                continue
            resource_type = kept[target]["Type"]
            if (resource_type, attribute) in _LOCAL_ATTRIBUTES:
                continue
            if not supported[resource_type].has_cfn_attr(attribute):
                log.warning("moto cannot give %s.%s (%s); it stays unresolved", target, attribute, resource_type)
                continue
            outputs[f"Attr{len(outputs)}"] = (target, attribute)
        if outputs:
            body["Outputs"] = {key: {"Value": {"Fn::GetAtt": list(ref)}} for key, ref in outputs.items()}

        declared = body.get("Parameters") or {}
        cloudformation = self.client("cloudformation")
        cloudformation.create_stack(
            StackName=self.stack_name,
            TemplateBody=json.dumps(body),
            Parameters=[
                {"ParameterKey": key, "ParameterValue": str(value)}
                for key, value in parameters.items()
                if key in declared
            ],
            Capabilities=["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"],
        )
        stack = cloudformation.describe_stacks(StackName=self.stack_name)["Stacks"][0]
        if stack.get("StackStatus") != "CREATE_COMPLETE":
            raise TemplateError(f"moto could not create the stack: {stack.get('StackStatusReason', stack)}")
        output_values = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs") or []}

        resources: dict[str, LocalResource] = {}
        for item in cloudformation.describe_stack_resources(StackName=self.stack_name)["StackResources"]:
            logical_id = item.get("LogicalResourceId")
            if not logical_id:
                continue
            physical_id = str(item.get("PhysicalResourceId", ""))
            resource = LocalResource(logical_id, item["ResourceType"], physical_id, physical_id)
            if resource.type == "AWS::SQS::Queue":
                # moto names the queue URL after the real SQS host; use the local endpoint's URL instead.
                queue_name = physical_id.rstrip("/").rsplit("/", 1)[-1]
                resource.ref = self.client("sqs").get_queue_url(QueueName=queue_name)["QueueUrl"]
                resource.attributes["QueueUrl"] = resource.ref
                resource.attributes.setdefault("QueueName", queue_name)
            if resource.type == "AWS::Events::EventBus" and not physical_id:
                # moto's CloudFormation leaves an event bus without a physical id: its Ref is the bus name.
                resource.ref = resource.physical_id = self._event_bus_name(logical_id, parameters)
                resource.attributes["Name"] = resource.ref
            resources[logical_id] = resource
        for key, (target, attribute) in outputs.items():
            if key in output_values and target in resources:
                resources[target].attributes[attribute] = output_values[key]
        self.resources = resources
        self._fix_key_policies(parameters)
        return resources

    def resolver(self, parameters: dict[str, Any]) -> Resolver:
        """Resolves the template's intrinsics against ``parameters`` and the resources created here."""
        return Resolver(
            parameters=parameters,
            pseudo=pseudo_parameters(self.stack_name, self.region, self.account_id),
            lookup=self.lookup,
        )

    def _event_bus_name(self, logical_id: str, parameters: dict[str, Any]) -> str:
        resolver = self.resolver(parameters)
        name = (self.template.resources[logical_id].get("Properties") or {}).get("Name")
        return str(resolver.resolve(name)) if name is not None else logical_id

    def _fix_key_policies(self, parameters: dict[str, Any]) -> None:
        """moto's CloudFormation stores a KMS KeyPolicy as a dict, and DescribeKey then fails (a JSON string is
        expected): put the template's policy back as JSON."""
        resolver = self.resolver(parameters)
        kms = None
        for resource in self.resources.values():
            if resource.type != "AWS::KMS::Key":
                continue
            policy = (self.template.resources[resource.logical_id].get("Properties") or {}).get("KeyPolicy")
            if policy is None:
                continue
            try:
                document = policy if isinstance(policy, str) else json.dumps(resolver.resolve(policy))
            except TemplateError as error:
                log.warning("%s: key policy left as moto made it (%s)", resource.logical_id, error)
                continue
            kms = kms or self.client("kms")
            kms.put_key_policy(KeyId=resource.physical_id, PolicyName="default", Policy=document)

    def _consumers(self, kept: dict[str, Any]) -> dict[str, Any]:
        """Everything of the template that is not created by moto but may refer to what is."""
        return {
            "Resources": {k: v for k, v in self.template.resources.items() if k not in kept},
            "Outputs": self.template.data.get("Outputs") or {},
        }

    # -- lookups -----------------------------------------------------------------------------------------

    def lookup(self, logical_id: str, attribute: str | None) -> str:
        """Ref (attribute None) / GetAtt of a resource, for ``local.template.Resolver``."""
        if logical_id in self.resources:
            resource = self.resources[logical_id]
            return resource.ref if attribute is None else resource.attributes[attribute]
        resource_type = self.template.resources.get(logical_id, {}).get("Type")
        if resource_type == FUNCTION_TYPE and attribute in (None, "Arn"):
            name = function_name(self.template, self.stack_name, logical_id)
            return name if attribute is None else f"arn:aws:lambda:{self.region}:{ACCOUNT_ID}:function:{name}"
        if resource_type == "AWS::ApiGateway::RestApi" and attribute is None:
            return api_id(self.stack_name, logical_id)
        raise KeyError(f"{logical_id}.{attribute}")

    def queue_url_for_arn(self, arn: str) -> str:
        for resource in self.resources.values():
            if resource.type == "AWS::SQS::Queue" and resource.attributes.get("Arn") == arn:
                return resource.ref
        # Not one of ours (or no Arn output): ask SQS by name.
        return str(self.client("sqs").get_queue_url(QueueName=arn.rsplit(":", 1)[-1])["QueueUrl"])


def _serve_moto(pipe: Any) -> None:
    """The moto server process: sends (host, port) when serving, stops when the stack's end of ``pipe`` closes
    (the stack stopped, or died)."""
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto logs every request otherwise
    from local.speedups import speed_up_moto

    speed_up_moto()  # the same answers for less CPU: this process serves every AWS call of the stack
    server = _serialized_moto_server()
    server.start()
    pipe.send(server.get_host_and_port())
    with contextlib.suppress(EOFError, OSError):
        pipe.recv()
    with contextlib.suppress(Exception):
        server.stop()


def _serialized_moto_server() -> Any:
    """``ThreadedMotoServer(ip_address="127.0.0.1", port=0)`` handling one request at a time.

    moto's backends are not thread-safe: concurrent DynamoDB writes fail ("dictionary changed size during
    iteration") or race (two conditional puts both succeeding). Real DynamoDB applies each request atomically;
    so does this server. Only SQS ReceiveMessage runs outside the lock: it may long-poll (moto's SQS queues
    have their own condition), and holding the lock through its wait would stall every other caller.
    """
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from moto.server import ThreadedMotoServer
    from werkzeug.serving import make_server

    class SerializedMotoServer(ThreadedMotoServer):
        def _server_entry(self) -> None:
            app = _OneAtATime(DomainDispatcherApplication(create_backend_app))
            self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
            self._server_ready_event.set()
            self._server.serve_forever()

    return SerializedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)


class _OneAtATime:
    def __init__(self, app: Any) -> None:
        self.app = app
        self.lock = threading.RLock()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if _may_long_poll(environ):
            return self.app(environ, start_response)
        with self.lock:
            return list(self.app(environ, start_response))


def _may_long_poll(environ: dict[str, Any]) -> bool:
    target = str(environ.get("HTTP_X_AMZ_TARGET", ""))
    if target:
        return target.endswith(".ReceiveMessage")
    if "Action=ReceiveMessage" in str(environ.get("QUERY_STRING", "")):
        return True
    if str(environ.get("CONTENT_TYPE", "")).startswith("application/x-www-form-urlencoded"):
        import io

        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return b"Action=ReceiveMessage" in body
    return False


def api_id(stack_name: str, logical_id: str) -> str:
    """A REST API's id (what CloudFormation would give as its Ref): stable for a stack name."""
    return hashlib.sha256(f"{stack_name}/{logical_id}".encode()).hexdigest()[:10]


def function_name(template: Template, stack_name: str, logical_id: str) -> str:
    properties = template.resources[logical_id].get("Properties") or {}
    name = properties.get("FunctionName")
    return name if isinstance(name, str) else f"{stack_name}-{logical_id}"[:64]
