"""template.yaml as the local stack sees it: CloudFormation short tags, SAM Globals, intrinsic functions.

``load_template(path)`` reads the template (``!Ref``, ``!GetAtt``, ``!Sub``... become their long forms) and
merges ``Globals`` into every ``AWS::Serverless::Function`` / ``Api`` the way SAM does (maps merged, lists
added, scalars overridden). ``Resolver`` evaluates intrinsics against parameter values, pseudo parameters,
conditions, mappings and the attributes of the resources created locally.
"""

from __future__ import annotations

import base64
import copy
import json
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REGION = "us-east-1"
ACCOUNT_ID = "123456789012"

SERVERLESS_PREFIX = "AWS::Serverless::"
FUNCTION_TYPE = "AWS::Serverless::Function"
API_TYPE = "AWS::Serverless::Api"
LAYER_TYPES = ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion")

INTRINSICS = (
    "Ref",
    "Condition",
    "Fn::GetAtt",
    "Fn::Sub",
    "Fn::Join",
    "Fn::Select",
    "Fn::Split",
    "Fn::If",
    "Fn::Equals",
    "Fn::And",
    "Fn::Or",
    "Fn::Not",
    "Fn::FindInMap",
    "Fn::Base64",
    "Fn::GetAZs",
    "Fn::ImportValue",
    "Fn::Cidr",
    "Fn::Length",
    "Fn::ToJsonString",
)


class TemplateError(Exception):
    """The template cannot be read or an intrinsic cannot be resolved."""


class UnresolvedReference(TemplateError):
    """A Ref/GetAtt to something that has no local value."""

    def __init__(self, target: str, attribute: str | None = None) -> None:
        self.target = target
        self.attribute = attribute
        super().__init__(f"cannot resolve {target}.{attribute}" if attribute else f"cannot resolve Ref {target}")


# ---------------------------------------------------------------------------------------------- YAML


class CfnLoader(yaml.SafeLoader):
    """A SafeLoader that turns CloudFormation short tags into their long (JSON) form."""


def _tag_constructor(tag: str) -> Callable[[yaml.SafeLoader, yaml.Node], Any]:
    name = tag if tag in ("Ref", "Condition") else f"Fn::{tag}"

    def construct(loader: yaml.SafeLoader, node: yaml.Node) -> Any:
        value: Any
        if isinstance(node, yaml.ScalarNode):
            value = loader.construct_scalar(node)
            if name == "Fn::GetAtt":
                target, _, attribute = str(value).partition(".")
                value = [target, attribute]
        elif isinstance(node, yaml.SequenceNode):
            value = loader.construct_sequence(node, deep=True)
        elif isinstance(node, yaml.MappingNode):
            value = loader.construct_mapping(node, deep=True)
        else:  # pragma: no cover - yaml has no other node kinds
            raise TemplateError(f"unsupported node for !{tag}")
        return {name: value}

    return construct


for _tag in (
    "Ref",
    "Condition",
    "GetAtt",
    "Sub",
    "Join",
    "Select",
    "Split",
    "If",
    "Equals",
    "And",
    "Or",
    "Not",
    "FindInMap",
    "Base64",
    "GetAZs",
    "ImportValue",
    "Cidr",
    "Length",
    "ToJsonString",
):
    CfnLoader.add_constructor(f"!{_tag}", _tag_constructor(_tag))


def load_yaml(text: str) -> dict[str, Any]:
    data = yaml.load(text, Loader=CfnLoader)  # noqa: S506 - CfnLoader is a SafeLoader
    if not isinstance(data, dict):
        raise TemplateError("the template is not a mapping")
    return data


# ---------------------------------------------------------------------------------------------- Globals


def is_intrinsic(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and next(iter(value)) in INTRINSICS


def merge_globals(global_value: Any, local_value: Any) -> Any:
    """SAM's Globals rule: maps merge (local wins per key), lists add (global first), anything else is replaced."""
    if isinstance(global_value, dict) and isinstance(local_value, dict):
        if is_intrinsic(global_value) or is_intrinsic(local_value):
            return copy.deepcopy(local_value)
        merged = copy.deepcopy(global_value)
        for key, value in local_value.items():
            merged[key] = merge_globals(merged[key], value) if key in merged else copy.deepcopy(value)
        return merged
    if isinstance(global_value, list) and isinstance(local_value, list):
        return copy.deepcopy(global_value) + copy.deepcopy(local_value)
    return copy.deepcopy(local_value)


_GLOBAL_SECTIONS = {"Function": FUNCTION_TYPE, "Api": API_TYPE, "HttpApi": "AWS::Serverless::HttpApi"}


def apply_globals(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of ``template`` with its Globals merged into the serverless resources (Globals removed)."""
    result = copy.deepcopy(template)
    globals_section = result.pop("Globals", None) or {}
    for section, resource_type in _GLOBAL_SECTIONS.items():
        defaults = globals_section.get(section)
        if not defaults:
            continue
        for resource in (result.get("Resources") or {}).values():
            if resource.get("Type") == resource_type:
                resource["Properties"] = merge_globals(defaults, resource.get("Properties") or {})
    return result


# ---------------------------------------------------------------------------------------------- references


_SUB_VARIABLE = re.compile(r"\$\{([^}]*)\}")


def sub_references(text: str) -> list[str]:
    """The variables of a Fn::Sub string (``${X}`` / ``${X.Attr}``; ``${!Literal}`` excluded)."""
    return [name.strip() for name in _SUB_VARIABLE.findall(text) if not name.startswith("!")]


def references(value: Any) -> set[tuple[str, str | None]]:
    """Every (logical id or parameter, attribute or None) that ``value`` refers to."""
    found: set[tuple[str, str | None]] = set()

    def walk(node: Any) -> None:
        if isinstance(node, list):
            for item in node:
                walk(item)
            return
        if not isinstance(node, dict):
            return
        if is_intrinsic(node):
            name, argument = next(iter(node.items()))
            if name == "Ref" and isinstance(argument, str):
                found.add((argument, None))
                return
            if name == "Fn::GetAtt":
                parts = argument.split(".", 1) if isinstance(argument, str) else list(argument)
                if len(parts) == 2 and isinstance(parts[0], str):
                    found.add((parts[0], parts[1] if isinstance(parts[1], str) else None))
                return
            if name == "Fn::Sub":
                text, variables = (argument, {}) if isinstance(argument, str) else (argument[0], argument[1])
                for variable in sub_references(text):
                    if variable in variables:
                        continue
                    target, _, attribute = variable.partition(".")
                    found.add((target, attribute or None))
                walk(variables)
                return
            walk(argument)
            return
        for item in node.values():
            walk(item)

    walk(value)
    return found


# ---------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class ApiRoute:
    """One Api event of a function: a path/method on a REST API."""

    function: str
    event: str
    api: str | None
    path: str
    method: str
    auth: str | None  # authorizer name, or None for Auth NONE / no authorizer


@dataclass(frozen=True)
class SqsSource:
    function: str
    event: str
    queue: Any  # intrinsic (normally !GetAtt Queue.Arn)
    batch_size: int
    maximum_concurrency: int
    report_batch_item_failures: bool
    enabled: bool
    batching_window_seconds: int


@dataclass(frozen=True)
class ScheduleSource:
    function: str
    event: str
    schedule: str
    enabled: bool
    input: Any  # raw Input (JSON string) or None
    name: str | None


@dataclass
class FunctionSpec:
    logical_id: str
    properties: dict[str, Any]
    root: Path

    @property
    def code_dir(self) -> Path:
        code_uri = self.properties.get("CodeUri") or self.properties.get("InlineCode")
        if not isinstance(code_uri, str):
            raise TemplateError(f"{self.logical_id}: only a local CodeUri directory is supported locally")
        return (self.root / code_uri).resolve()

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
    def runtime(self) -> str:
        return str(self.properties.get("Runtime", "python3.11"))

    @property
    def environment(self) -> dict[str, Any]:
        return dict(((self.properties.get("Environment") or {}).get("Variables")) or {})

    @property
    def events(self) -> dict[str, dict[str, Any]]:
        return dict(self.properties.get("Events") or {})

    @property
    def reserved_concurrency(self) -> int | None:
        value = self.properties.get("ReservedConcurrentExecutions")
        return int(value) if isinstance(value, int | str) and str(value).isdigit() else None


@dataclass
class Template:
    """A loaded template.yaml with its Globals applied."""

    path: Path
    raw: dict[str, Any]
    data: dict[str, Any] = field(init=False)

    def __post_init__(self) -> None:
        self.data = apply_globals(self.raw)

    @property
    def root(self) -> Path:
        return self.path.parent

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("Resources") or {})

    @property
    def parameters(self) -> dict[str, dict[str, Any]]:
        return dict(self.data.get("Parameters") or {})

    @property
    def conditions(self) -> dict[str, Any]:
        return dict(self.data.get("Conditions") or {})

    @property
    def mappings(self) -> dict[str, Any]:
        return dict(self.data.get("Mappings") or {})

    def resource_type(self, logical_id: str) -> str | None:
        resource = self.resources.get(logical_id)
        return str(resource.get("Type")) if resource else None

    def functions(self) -> dict[str, FunctionSpec]:
        return {
            logical_id: FunctionSpec(logical_id, dict(resource.get("Properties") or {}), self.root)
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == FUNCTION_TYPE
        }

    def apis(self) -> dict[str, dict[str, Any]]:
        return {
            logical_id: dict(resource.get("Properties") or {})
            for logical_id, resource in self.resources.items()
            if resource.get("Type") == API_TYPE
        }

    def layer_dirs(self, function: FunctionSpec) -> list[Path]:
        """Local directories of the function's layers (``!Ref`` of a layer resource with a local ContentUri)."""
        dirs: list[Path] = []
        for layer in function.properties.get("Layers") or []:
            if isinstance(layer, dict) and set(layer) == {"Ref"}:
                resource = self.resources.get(layer["Ref"]) or {}
                if resource.get("Type") in LAYER_TYPES:
                    properties = resource.get("Properties") or {}
                    content = properties.get("ContentUri") or properties.get("Content")
                    if isinstance(content, str):
                        dirs.append((self.root / content).resolve())
                        continue
            raise TemplateError(f"{function.logical_id}: layer {layer!r} has no local directory")
        return dirs

    def api_routes(self) -> list[ApiRoute]:
        apis = self.apis()
        routes: list[ApiRoute] = []
        for name, function in self.functions().items():
            for event_name, event in function.events.items():
                if event.get("Type") != "Api":
                    continue
                properties = event.get("Properties") or {}
                api_ref = properties.get("RestApiId")
                api = api_ref["Ref"] if isinstance(api_ref, dict) and "Ref" in api_ref else None
                if api is None and len(apis) == 1:
                    api = next(iter(apis))
                api_auth = (apis.get(api or "") or {}).get("Auth") or {}
                auth = (properties.get("Auth") or {}).get("Authorizer", api_auth.get("DefaultAuthorizer"))
                if auth in ("NONE", "AWS_IAM"):
                    auth = None
                routes.append(
                    ApiRoute(
                        function=name,
                        event=event_name,
                        api=api,
                        path=str(properties["Path"]),
                        method=str(properties.get("Method", "ANY")).upper(),
                        auth=auth,
                    )
                )
        return routes

    def sqs_sources(self) -> list[SqsSource]:
        sources: list[SqsSource] = []
        for name, function in self.functions().items():
            for event_name, event in function.events.items():
                if event.get("Type") != "SQS":
                    continue
                properties = event.get("Properties") or {}
                scaling = properties.get("ScalingConfig") or {}
                sources.append(
                    SqsSource(
                        function=name,
                        event=event_name,
                        queue=properties["Queue"],
                        batch_size=int(properties.get("BatchSize", 10)),
                        maximum_concurrency=int(scaling.get("MaximumConcurrency", 2)),
                        report_batch_item_failures="ReportBatchItemFailures"
                        in (properties.get("FunctionResponseTypes") or []),
                        enabled=_truthy(properties.get("Enabled", True)),
                        batching_window_seconds=int(properties.get("MaximumBatchingWindowInSeconds", 0)),
                    )
                )
        return sources

    def schedule_sources(self) -> list[ScheduleSource]:
        sources: list[ScheduleSource] = []
        for name, function in self.functions().items():
            for event_name, event in function.events.items():
                if event.get("Type") not in ("Schedule", "ScheduleV2"):
                    continue
                properties = event.get("Properties") or {}
                enabled = _truthy(properties.get("Enabled", True)) and properties.get("State", "ENABLED") != "DISABLED"
                sources.append(
                    ScheduleSource(
                        function=name,
                        event=event_name,
                        schedule=str(properties.get("Schedule") or properties.get("ScheduleExpression")),
                        enabled=enabled,
                        input=properties.get("Input"),
                        name=properties.get("Name") if isinstance(properties.get("Name"), str) else None,
                    )
                )
        return sources

    def parameter_values(self, overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
        """Defaults of the Parameters section with ``overrides`` applied (unknown overrides are ignored)."""
        values: dict[str, Any] = {}
        for name, spec in self.parameters.items():
            if name in (overrides or {}):
                values[name] = (overrides or {})[name]
            elif "Default" in spec:
                values[name] = spec["Default"]
            param_type = str(spec.get("Type", ""))
            if name in values and (param_type.startswith("List<") or param_type == "CommaDelimitedList"):
                raw = values[name]
                values[name] = raw if isinstance(raw, list) else [item.strip() for item in str(raw).split(",")]
        return values


def load_template(path: str | Path) -> Template:
    template_path = Path(path).resolve()
    try:
        raw = load_yaml(template_path.read_text())
    except yaml.YAMLError as error:
        raise TemplateError(f"{template_path}: {error}") from error
    return Template(template_path, raw)


def _truthy(value: Any) -> bool:
    return value if isinstance(value, bool) else str(value).lower() == "true"


# ---------------------------------------------------------------------------------------------- resolver


_NO_VALUE = object()

AttributeLookup = Callable[[str, str | None], Any]


def pseudo_parameters(stack_name: str, region: str = REGION, account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::StackName": stack_name,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{stack_name}/{uuid.UUID(int=0)}",
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::NotificationARNs": [],
    }


class Resolver:
    """Evaluates CloudFormation intrinsics.

    ``lookup(logical_id, attribute)`` answers for resources: attribute None is ``Ref``; it raises
    ``UnresolvedReference`` (or KeyError) for what it does not know.
    """

    def __init__(
        self,
        *,
        parameters: Mapping[str, Any],
        pseudo: Mapping[str, Any],
        lookup: AttributeLookup | None = None,
        conditions: Mapping[str, Any] | None = None,
        mappings: Mapping[str, Any] | None = None,
    ) -> None:
        self.parameters = dict(parameters)
        self.pseudo = dict(pseudo)
        self._lookup = lookup
        self._condition_specs = dict(conditions or {})
        self._condition_values: dict[str, bool] = {}
        self.mappings = dict(mappings or {})

    # -- entry points ----------------------------------------------------------------------------

    def resolve(self, value: Any) -> Any:
        result = self._resolve(value)
        return None if result is _NO_VALUE else result

    def resolve_string(self, value: Any) -> str:
        """The value as an environment variable (CloudFormation stringifies numbers and booleans)."""
        return to_string(self.resolve(value))

    def resolve_env(self, variables: Mapping[str, Any]) -> dict[str, str]:
        env: dict[str, str] = {}
        for name, value in variables.items():
            resolved = self._resolve(value)
            if resolved is _NO_VALUE:
                continue
            env[name] = to_string(resolved)
        return env

    def condition(self, name: str) -> bool:
        if name not in self._condition_values:
            if name not in self._condition_specs:
                raise TemplateError(f"unknown condition {name}")
            self._condition_values[name] = bool(self._resolve(self._condition_specs[name]))
        return self._condition_values[name]

    # -- intrinsics --------------------------------------------------------------------------------

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not _NO_VALUE]
        if not isinstance(value, dict):
            return value
        if is_intrinsic(value):
            name, argument = next(iter(value.items()))
            return self._intrinsic(name, argument)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not _NO_VALUE}

    def _intrinsic(self, name: str, argument: Any) -> Any:
        handler = getattr(self, "_fn_" + name.removeprefix("Fn::").lower(), None)
        if handler is None:
            raise TemplateError(f"{name} is not supported locally")
        return handler(argument)

    def _fn_ref(self, target: Any) -> Any:
        target = self._resolve(target)
        if target == "AWS::NoValue":
            return _NO_VALUE
        if target in self.parameters:
            return self.parameters[target]
        if target in self.pseudo:
            return self.pseudo[target]
        return self._attribute(str(target), None)

    def _fn_getatt(self, argument: Any) -> Any:
        if isinstance(argument, str):
            target, _, attribute = argument.partition(".")
        else:
            target, attribute = self._resolve(argument[0]), self._resolve(argument[1])
        return self._attribute(str(target), str(attribute))

    def _attribute(self, target: str, attribute: str | None) -> Any:
        if self._lookup is None:
            raise UnresolvedReference(target, attribute)
        try:
            return self._lookup(target, attribute)
        except KeyError as error:
            raise UnresolvedReference(target, attribute) from error

    def _fn_sub(self, argument: Any) -> str:
        if isinstance(argument, str):
            text, variables = argument, {}
        else:
            text, variables = argument[0], {k: self._resolve(v) for k, v in (argument[1] or {}).items()}

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            name = name.strip()
            if name in variables:
                return to_string(variables[name])
            target, _, attribute = name.partition(".")
            if attribute:
                return to_string(self._fn_getatt([target, attribute]))
            return to_string(self._fn_ref(target))

        return _SUB_VARIABLE.sub(replace, text)

    def _fn_join(self, argument: Any) -> str:
        delimiter, items = argument[0], self._resolve(argument[1])
        return str(delimiter).join(to_string(item) for item in items)

    def _fn_select(self, argument: Any) -> Any:
        index, items = self._resolve(argument[0]), self._resolve(argument[1])
        return items[int(index)]

    def _fn_split(self, argument: Any) -> list[str]:
        delimiter, text = argument[0], self._resolve(argument[1])
        return str(text).split(str(delimiter))

    def _fn_if(self, argument: Any) -> Any:
        condition, if_true, if_false = argument
        return self._resolve(if_true if self.condition(str(condition)) else if_false)

    def _fn_condition(self, name: Any) -> bool:
        return self.condition(str(name))

    def _fn_equals(self, argument: Any) -> bool:
        left, right = (self._resolve(item) for item in argument)
        return to_string(left) == to_string(right)

    def _fn_and(self, argument: Iterable[Any]) -> bool:
        return all(bool(self._resolve(item)) for item in argument)

    def _fn_or(self, argument: Iterable[Any]) -> bool:
        return any(bool(self._resolve(item)) for item in argument)

    def _fn_not(self, argument: Any) -> bool:
        return not bool(self._resolve(argument[0]))

    def _fn_findinmap(self, argument: Any) -> Any:
        name, top, second = (self._resolve(item) for item in argument[:3])
        try:
            return self.mappings[name][top][second]
        except KeyError as error:
            raise TemplateError(f"Fn::FindInMap: no {name}.{top}.{second}") from error

    def _fn_base64(self, argument: Any) -> str:
        return base64.b64encode(to_string(self._resolve(argument)).encode()).decode()

    def _fn_getazs(self, argument: Any) -> list[str]:
        region = self._resolve(argument) or self.pseudo.get("AWS::Region", REGION)
        return [f"{region}{zone}" for zone in "abc"]

    def _fn_length(self, argument: Any) -> int:
        return len(self._resolve(argument))

    def _fn_tojsonstring(self, argument: Any) -> str:
        return json.dumps(self._resolve(argument), separators=(",", ":"))

    def _fn_importvalue(self, argument: Any) -> Any:
        raise TemplateError(f"Fn::ImportValue {argument!r} has no local value")


def to_string(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(to_string(item) for item in value)
    if isinstance(value, dict):
        return json.dumps(value)
    return "" if value is None else str(value)
