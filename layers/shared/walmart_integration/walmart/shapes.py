"""Shapes of Walmart's JSON that every reader of it must accept (no I/O, no third-party imports)."""

from __future__ import annotations

from typing import Any


def as_list(value: Any) -> list[Any]:
    """A JSON list, also when Walmart sent its one element as the element itself: Walmart writes its JSON from the
    same model as its XML, where a one-element sequence and the element look alike, and public clients normalise both
    (docs/walmart/FACTS.md, "Checked behaviours" 4). Never drop the record: ``None`` and ``""`` are empty."""
    if value is None or value == "":
        return []
    return list(value) if isinstance(value, list) else [value]
