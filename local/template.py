"""template.yaml as the local stack sees it: SAM's own transform, then the three intrinsics its output needs.

``load_template(path, parameters)`` reads the template (short tags become their long form) and has
``samtranslator`` (the library ``sam deploy`` and CloudFormation use) turn it into plain CloudFormation, offline:
Globals merged, each ``AWS::Serverless::Function`` a ``AWS::Lambda::Function`` with its event source mappings,
rules and the ``AWS::ApiGateway::RestApi`` (an OpenAPI body) and ``Stage`` of its ``Api`` events. Local code
directories pass through the transform as ``s3://local/<directory>`` (as ``sam validate`` does).

``Resolver`` evaluates ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub`` (all the template and the transform's output use)
against parameter values, pseudo parameters and the resources created locally.
"""

from __future__ import annotations

import copy
import functools
import logging
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

SERVERLESS_PREFIX = "AWS::Serverless::"
FUNCTION_TYPE = "AWS::Lambda::Function"
LOCAL_BUCKET = "local"  # local code directories cross the transform as s3://local/<directory>


class TemplateError(Exception):
    """The template cannot be read or an intrinsic cannot be resolved."""


class UnresolvedReference(TemplateError):
    """A Ref/GetAtt to something that has no local value."""

    def __init__(self, target: str, attribute: str | None = None) -> None:
        self.target = target
        self.attribute = attribute
        super().__init__(f"cannot resolve {target}.{attribute}" if attribute else f"cannot resolve Ref {target}")


def load_yaml(text: str) -> dict[str, Any]:
    """A CloudFormation YAML document, short tags (``!Ref``, ``!GetAtt A.B``...) in their long form."""
    from samtranslator.yaml_helper import intrinsics_multi_constructor

    class Loader(yaml.CSafeLoader):
        pass

    Loader.add_multi_constructor("!", intrinsics_multi_constructor)
    data = yaml.load(text, Loader=Loader)  # noqa: S506 - a SafeLoader
    if not isinstance(data, dict):
        raise TemplateError("the template is not a mapping")
    return data


def sam_transform(raw: Mapping[str, Any], parameters: Mapping[str, Any], region: str = REGION) -> dict[str, Any]:
    """``raw`` after SAM's transform, as CloudFormation would run it with these parameter values."""
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    for chatter in ("samtranslator.feature_toggle", "samtranslator.metrics"):  # toggles and metrics of AWS's own use
        logging.getLogger(chatter).setLevel(logging.ERROR)
    template = copy.deepcopy(dict(raw))
    resources = (template.get("Resources") or {}).values()
    for properties in [
        (template.get("Globals") or {}).get("Function") or {},
        *(r.get("Properties") or {} for r in resources),
    ]:
        for key in ("CodeUri", "ContentUri"):
            if isinstance(properties.get(key), str) and not properties[key].startswith("s3://"):
                properties[key] = f"s3://{LOCAL_BUCKET}/{properties[key]}"
    translator = Translator(None, Parser(), boto_session=_session(region))
    try:
        return translator.translate(template, dict(parameters), get_managed_policy_map=dict)
    except InvalidDocumentException as error:
        raise TemplateError("; ".join(str(cause) for cause in error.causes)) from error


@functools.cache
def _session(region: str) -> Any:
    """The region (and partition) the transform writes into ARNs, without asking the machine's AWS configuration."""
    import boto3

    return boto3.session.Session(region_name=region)


# ---------------------------------------------------------------------------------------------- references


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def references(value: Any) -> set[tuple[str, str | None]]:
    """Every (logical id or parameter, attribute or None) that ``value`` refers to with Ref, GetAtt or Sub."""
    found: set[tuple[str, str | None]] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict) and set(value) == {"Ref"} and isinstance(value["Ref"], str):
        found.add((value["Ref"], None))
    elif isinstance(value, dict) and set(value) == {"Fn::GetAtt"}:
        target, attribute = value["Fn::GetAtt"]
        found.add((str(target), str(attribute)))
    elif isinstance(value, dict) and set(value) == {"Fn::Sub"}:
        text, variables = (value["Fn::Sub"], {}) if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"]
        for name in _SUB_VARIABLE.findall(text):
            if not name.startswith("!") and name.strip() not in variables:
                target, _, attribute = name.strip().partition(".")
                found.add((target, attribute or None))
        found |= references(variables)
    elif isinstance(value, dict):
        for item in value.values():
            found |= references(item)
    return found


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class SqsSource:
    """An ``AWS::Lambda::EventSourceMapping`` (the template's are SQS events)."""

    function: str
    event: str  # logical id of the mapping
    queue: Any  # intrinsic (normally !GetAtt Queue.Arn)
    batch_size: int
    maximum_concurrency: int
    report_batch_item_failures: bool
    enabled: bool
    batching_window_seconds: int


@dataclass(frozen=True)
class ScheduleSource:
    """An ``AWS::Events::Rule`` with a schedule expression, targeting a function."""

    function: str
    event: str  # logical id of the rule
    schedule: str
    enabled: bool
    input: Any  # the target's Input (JSON string) or None
    name: str | None


@dataclass
class FunctionSpec:
    """An ``AWS::Lambda::Function`` of the transformed template (Globals merged in)."""

    logical_id: str
    properties: dict[str, Any]
    root: Path

    @property
    def code_dir(self) -> Path:
        return _local_dir(self.root, self.properties.get("Code"), self.logical_id)

    @property
    def handler(self) -> str:
        return str(self.properties.get("Handler", "app.handler"))

    @property
    def timeout(self) -> int:
        return int(self.properties.get("Timeout", 3))

    @property
    def memory_size(self) -> int:
        return int(self.properties.get("MemorySize", 128))

    @property
    def environment(self) -> dict[str, Any]:
        return dict(((self.properties.get("Environment") or {}).get("Variables")) or {})


def _local_dir(root: Path, location: Any, owner: str) -> Path:
    if not (isinstance(location, dict) and location.get("S3Bucket") == LOCAL_BUCKET):
        raise TemplateError(f"{owner}: only a local code directory is supported locally")
    return (root / str(location["S3Key"])).resolve()


@dataclass
class Template:
    """template.yaml as written (``raw``) and as CloudFormation runs it (``data``: after SAM's transform)."""

    path: Path
    raw: dict[str, Any]
    overrides: Mapping[str, Any] = field(default_factory=dict)  # parameter values given to the transform
    data: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.data = sam_transform(self.raw, self.parameter_values(self.overrides))

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("Resources") or {})

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.raw.get("Parameters") or {})

    def of_type(self, resource_type: str) -> dict[str, dict[str, Any]]:
        """Properties of the resources of ``resource_type``, by logical id."""
        return {
            logical_id: dict(resource.get("Properties") or {})
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == resource_type
        }

    def functions(self) -> dict[str, FunctionSpec]:
        return {
            name: FunctionSpec(name, properties, self.root) for name, properties in self.of_type(FUNCTION_TYPE).items()
        }

    def function_of(self, value: Any) -> str:
        """The function an intrinsic names (``!Ref F``, ``!GetAtt F.Arn``, ``!Sub "...${F.Arn}..."``)."""
        names = {
            target for target, _ in references(value) if self.resources.get(target, {}).get("Type") == FUNCTION_TYPE
        }
        if len(names) != 1:
            raise TemplateError(f"{value!r} does not name one function")
        return names.pop()

    def layer_dirs(self, function: FunctionSpec) -> list[Path]:
        """Local directories of the function's layers."""
        layers = self.of_type("AWS::Lambda::LayerVersion")
        dirs: list[Path] = []
        for layer in function.properties.get("Layers") or []:
            target = layer.get("Ref") if isinstance(layer, dict) else None
            if target not in layers:
                raise TemplateError(f"{function.logical_id}: layer {layer!r} has no local directory")
            dirs.append(_local_dir(self.root, layers[target].get("Content"), str(target)))
        return dirs

    def sqs_sources(self) -> list[SqsSource]:
        return [
            SqsSource(
                function=self.function_of(properties["FunctionName"]),
                event=logical_id,
                queue=properties["EventSourceArn"],
                batch_size=int(properties.get("BatchSize", 10)),
                maximum_concurrency=int((properties.get("ScalingConfig") or {}).get("MaximumConcurrency", 2)),
                report_batch_item_failures="ReportBatchItemFailures" in (properties.get("FunctionResponseTypes") or []),
                enabled=str(properties.get("Enabled", True)).lower() == "true",
                batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
            )
            for logical_id, properties in self.of_type("AWS::Lambda::EventSourceMapping").items()
        ]

    def schedule_sources(self) -> list[ScheduleSource]:
        return [
            ScheduleSource(
                function=self.function_of(target["Arn"]),
                event=logical_id,
                schedule=str(properties["ScheduleExpression"]),
                enabled=properties.get("State", "ENABLED") != "DISABLED",
                input=target.get("Input"),
                name=properties.get("Name") if isinstance(properties.get("Name"), str) else None,
            )
            for logical_id, properties in self.of_type("AWS::Events::Rule").items()
            if "ScheduleExpression" in properties
            for target in properties.get("Targets") or []
        ]

    def parameter_values(self, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """Defaults of the Parameters section with ``overrides`` applied (unknown overrides are ignored)."""
        given = dict(overrides or {})
        return {
            name: given[name] if name in given else spec["Default"]
            for name, spec in self.parameters.items()
            if name in given or "Default" in spec
        }


def load_template(path: str | Path, parameters: Mapping[str, Any] | None = None) -> Template:
    """The template at ``path`` transformed with these parameter values (else the defaults)."""
    template_path = Path(path).resolve()
    try:
        raw = load_yaml(template_path.read_text())
    except yaml.YAMLError as error:
        raise TemplateError(f"{template_path}: {error}") from error
    return Template(template_path, raw, dict(parameters or {}))


# ---------------------------------------------------------------------------------------------- resolver


AttributeLookup = Callable[[str, str | None], Any]


def pseudo_parameters(stack_name: str, region: str = REGION, account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
    }


class Resolver:
    """Evaluates ``Ref``, ``Fn::GetAtt`` and ``Fn::Sub``.

    ``lookup(logical_id, attribute)`` answers for resources: attribute None is ``Ref``; it raises
    ``UnresolvedReference`` (or KeyError) for what it does not know.
    """

    def __init__(
        self, *, parameters: Mapping[str, Any], pseudo: Mapping[str, Any], lookup: AttributeLookup | None = None
    ) -> None:
        self.values = {**pseudo, **parameters}
        self._lookup = lookup

    def resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            name, argument = next(iter(value.items()))
            if name == "Ref":
                return self._ref(str(argument), None)
            if name == "Fn::GetAtt":
                return self._ref(str(argument[0]), str(argument[1]))
            if name == "Fn::Sub":
                return self._sub(argument)
            if name.startswith("Fn::") or name == "Condition":
                raise TemplateError(f"{name} is not supported locally")
        return {key: self.resolve(item) for key, item in value.items()}

    def resolve_env(self, variables: Mapping[str, Any]) -> dict[str, str]:
        """Environment variables as the function sees them (CloudFormation stringifies numbers and booleans)."""
        return {name: to_string(self.resolve(value)) for name, value in variables.items()}

    def _ref(self, target: str, attribute: str | None) -> Any:
        if attribute is None and target in self.values:
            return self.values[target]
        if self._lookup is None:
            raise UnresolvedReference(target, attribute)
        try:
            return self._lookup(target, attribute)
        except KeyError as error:
            raise UnresolvedReference(target, attribute) from error

    def _sub(self, argument: Any) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], self.resolve(argument[1]))

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name.strip() in variables:
                return to_string(variables[name.strip()])
            target, _, attribute = name.strip().partition(".")
            return to_string(self._ref(target, attribute or None))

        return _SUB_VARIABLE.sub(replace, text)


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
