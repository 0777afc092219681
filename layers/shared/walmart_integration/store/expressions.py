"""DynamoDB update expressions built from parts, with generated placeholder names (no name is spliced in)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from walmart_integration.store import dynamo


class Update:
    """An UpdateExpression built from SET/REMOVE parts with generated placeholder names."""

    def __init__(self) -> None:
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, path: str) -> str:
        """``a.b.c`` as ``#n0.#n1.#n2`` (attribute names are never spliced into expressions)."""
        parts = []
        for part in path.split("."):
            placeholder = f"#n{len(self.names)}"
            existing = next((k for k, v in self.names.items() if v == part), None)
            if existing is None:
                self.names[placeholder] = part
            else:
                placeholder = existing
            parts.append(placeholder)
        return ".".join(parts)

    def value(self, value: Any) -> str:
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = dynamo.value(value)
        return placeholder

    def set(self, path: str, value: Any, *, if_not_exists: bool = False) -> Update:
        target = self.name(path)
        expression = f"if_not_exists({target}, {self.value(value)})" if if_not_exists else self.value(value)
        self.sets.append(f"{target} = {expression}")
        return self

    def set_all(self, values: Mapping[str, Any]) -> Update:
        for path, value in values.items():
            if value is None:
                self.remove(path)
            else:
                self.set(path, value)
        return self

    def remove(self, path: str) -> Update:
        self.removes.append(self.name(path))
        return self

    def params(self, condition: str | None = None) -> dict[str, Any]:
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        params: dict[str, Any] = {"UpdateExpression": " ".join(clauses), "ExpressionAttributeNames": self.names}
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        if condition:
            params["ConditionExpression"] = condition
        return params
