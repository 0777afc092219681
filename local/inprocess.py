"""The template's resources and function environments inside an active in-process moto mock.

For tests and benchmarks that invoke handlers in this interpreter (``moto.mock_aws``): the same
plain resources and the same resolved environment variables as the local stack, from template.yaml.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from local.aws import LocalAws
from local.template import Template, load_template

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class InProcessStack:
    template: Template
    aws: LocalAws
    environments: dict[str, dict[str, str]]

    def function_env(self, function: str) -> dict[str, str]:
        """The template's environment of a function (logical id, e.g. ``ApiFunction``)."""
        return dict(self.environments[function])

    def ref(self, logical_id: str, attribute: str | None = None) -> str:
        """Ref (or GetAtt ``attribute``) of a resource, e.g. the URL of ``TokenQueue``."""
        return str(self.aws.lookup(logical_id, attribute))


def provision(
    parameters: Mapping[str, str] | None = None,
    *,
    template_path: str | Path | None = None,
    stack_name: str = "walmart-integration-test",
) -> InProcessStack:
    """Create the template's plain resources in the active moto mock; resolve every function's env."""
    template = load_template(template_path or ROOT / "template.yaml")
    aws = LocalAws(template, stack_name=stack_name)
    values = template.parameter_values({"Stage": "local", **(parameters or {})})
    aws.create_resources(values)
    resolver = aws.resolver(values)
    environments = {name: resolver.resolve_env(spec.environment) for name, spec in template.functions().items()}
    return InProcessStack(template, aws, environments)
