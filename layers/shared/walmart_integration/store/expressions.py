"""DynamoDB expressions built from parts, with generated placeholders: no attribute name or value is spliced in.

``Update`` builds an UpdateExpression (SET, REMOVE, ADD) and the ConditionExpression that guards it; ``Expression``
alone holds the placeholders of a request without an update (a conditional put or delete, a projection). Conditions
are written with the placeholders the builder hands out (``exists``, ``missing``, ``compare``, ``one_of``, or
``name``/``value`` for anything else), so names and values of the condition and the update share one set of
placeholders::

    update = Update().set("status", "done").add("attempts", 1)
    condition = f"{update.exists('pk')} AND {update.compare('status', '=', 'queued')}"
    client.update_item(TableName=..., Key=..., **update.params(condition))

A path is a dotted string (``"backfill.reports.adGroup"``) or a tuple of segments taken as they are (for map keys
that may hold a dot: ``("units", unit)``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from walmart_integration.store import dynamo

Path = str | tuple[str, ...]
Comparator = Literal["=", "<>", "<", "<=", ">", ">="]


class Expression:
    """Placeholders of the attribute names (``#n0``) and values (``:v0``) one request's expressions use."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}
        self.values: dict[str, Any] = {}

    def name(self, path: Path) -> str:
        """``a.b.c`` (or ``("a", "b", "c")``) as ``#n0.#n1.#n2``; a name used before keeps its placeholder."""
        parts = path.split(".") if isinstance(path, str) else path
        placeholders = []
        for part in parts:
            placeholder = next((key for key, value in self.names.items() if value == part), None)
            if placeholder is None:
                placeholder = f"#n{len(self.names)}"
                self.names[placeholder] = part
            placeholders.append(placeholder)
        return ".".join(placeholders)

    def value(self, value: Any) -> str:
        """A placeholder for a Python value (serialised as DynamoDB stores it: floats become exact numbers)."""
        return self.typed(dynamo.value(value))

    def typed(self, attribute_value: Mapping[str, Any]) -> str:
        """A placeholder for a value already in DynamoDB's typed form, e.g. ``{"N": "1.5"}`` as it was read."""
        placeholder = f":v{len(self.values)}"
        self.values[placeholder] = dict(attribute_value)
        return placeholder

    # -- conditions -----------------------------------------------------------------------------------------
    def exists(self, path: Path) -> str:
        return f"attribute_exists({self.name(path)})"

    def not_exists(self, path: Path) -> str:
        return f"attribute_not_exists({self.name(path)})"

    def missing(self, path: Path) -> str:
        """The attribute is absent or holds null (a value stored as None), in parentheses."""
        name = self.name(path)
        return f"(attribute_not_exists({name}) OR attribute_type({name}, {self.value('NULL')}))"

    def compare(self, path: Path, comparator: Comparator, value: Any) -> str:
        return f"{self.name(path)} {comparator} {self.value(value)}"

    def one_of(self, path: Path, values: Iterable[Any]) -> str:
        return f"{self.name(path)} IN ({', '.join(self.value(value) for value in values)})"

    def attributes(self) -> dict[str, Any]:
        """ExpressionAttributeNames/-Values, each only when it has entries (DynamoDB refuses empty maps)."""
        params: dict[str, Any] = {}
        if self.names:
            params["ExpressionAttributeNames"] = self.names
        if self.values:
            params["ExpressionAttributeValues"] = self.values
        return params

    def params(self, condition: str | None = None) -> dict[str, Any]:
        """Request parameters: the ConditionExpression (if any) with the placeholders."""
        params = self.attributes()
        if condition:
            params["ConditionExpression"] = condition
        return params


class Update(Expression):
    """An UpdateExpression built from SET, REMOVE and ADD parts."""

    def __init__(self) -> None:
        super().__init__()
        self.sets: list[str] = []
        self.removes: list[str] = []
        self.adds: list[str] = []

    def set(self, path: Path, value: Any, *, if_not_exists: bool = False) -> Update:
        """``path = value`` (``if_not_exists``: only when the attribute is missing, else it keeps its value)."""
        target = self.name(path)
        expression = f"if_not_exists({target}, {self.value(value)})" if if_not_exists else self.value(value)
        self.sets.append(f"{target} = {expression}")
        return self

    def set_typed(self, path: Path, attribute_value: Mapping[str, Any]) -> Update:
        """``path = value`` for a value in DynamoDB's typed form (see ``typed``)."""
        self.sets.append(f"{self.name(path)} = {self.typed(attribute_value)}")
        return self

    def set_all(self, values: Mapping[str, Any]) -> Update:
        """``set`` each entry; an entry whose value is None removes its attribute."""
        for path, value in values.items():
            if value is None:
                self.remove(path)
            else:
                self.set(path, value)
        return self

    def append(self, path: Path, items: list[Any]) -> Update:
        """``path = list_append(path, items)``: the items at the end of an existing list."""
        target = self.name(path)
        self.sets.append(f"{target} = list_append({target}, {self.value(items)})")
        return self

    def add(self, path: Path, number: int | float) -> Update:
        """``ADD path number``: an atomic counter (a missing attribute counts from 0)."""
        self.adds.append(f"{self.name(path)} {self.value(number)}")
        return self

    def remove(self, path: Path) -> Update:
        self.removes.append(self.name(path))
        return self

    def params(self, condition: str | None = None) -> dict[str, Any]:
        """UpdateExpression, ConditionExpression (if any) and the placeholders, as ``update_item`` takes them."""
        if not (self.sets or self.removes or self.adds):
            raise ValueError("An update needs at least one SET, REMOVE or ADD part.")
        clauses = []
        if self.sets:
            clauses.append("SET " + ", ".join(self.sets))
        if self.removes:
            clauses.append("REMOVE " + ", ".join(self.removes))
        if self.adds:
            clauses.append("ADD " + ", ".join(self.adds))
        return {"UpdateExpression": " ".join(clauses), **super().params(condition)}


def new_item(guard: Expression) -> str:
    """The condition of a Put that must not overwrite an item: none with its key exists yet."""
    return guard.not_exists("pk")
