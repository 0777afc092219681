"""The reliability and security suite: bad input, hostile tenants, faults, load and races against the local stack.

Every test runs in `make test` in a fast variant and in `make soak` (SOAK=1) in a longer one; ``scale(fast, soak)``
picks the size. Figures go through the ``figures`` fixture to a JSON-lines file (SOAK_FIGURES_FILE, else one in
pytest's temporary directory); ``python -m tests.reliability.summary FILE`` turns them into the soak summary.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import RunningStack, launch_stack, local_stack  # noqa: F401 (the session's stack)
from tests.support import SOAK
from walmart_integration.models.instance import NOMINAL_CODE_FIELDS

pytestmark = pytest.mark.e2e


# The demo tenant's nominal codes (local/seed.py: ids 1-15 in ACCOUNTS' order) for every accounting setting.
ACCOUNTING_CODES = {field: number for number, field in enumerate(NOMINAL_CODE_FIELDS, start=1)}


def instance_body(
    name: str, client_id: str | None, client_secret: str | None, start_date: str, **settings: Any
) -> dict[str, Any]:
    """A POST /api/walmart body for a seller of the emulator (no credentials: ``None``): demo store 1, no product
    linking unless ``settings`` say otherwise (e.g. ``**ACCOUNTING_CODES``)."""
    credentials = {"clientId": client_id, "clientSecret": client_secret} if client_id else None
    return {
        "name": name,
        "integration_id": 1,
        **({"connection_settings": credentials} if credentials else {}),
        "integration_settings": {
            "start_date": start_date,
            "store_id": 1,
            "auto_link_products": False,
            "auto_create_products": False,
            **settings,
        },
    }


def scale(fast: int, soak: int) -> int:
    """How many of something this run makes: ``fast`` in `make test`, ``soak`` in `make soak`."""
    return soak if SOAK else fast


class Figures:
    """Appends one JSON line per ``record`` call; sections are named by the test that measured them."""

    _lock = threading.Lock()

    def __init__(self, path: Path) -> None:
        self.path = path

    def record(self, section: str, **values: Any) -> None:
        line = json.dumps({"section": section, "soak": SOAK, **values}, default=str, sort_keys=True)
        with self._lock, self.path.open("a") as file:
            file.write(line + "\n")


@pytest.fixture(scope="session")
def figures(tmp_path_factory: pytest.TempPathFactory) -> Figures:
    configured = os.environ.get("SOAK_FIGURES_FILE")
    path = Path(configured) if configured else tmp_path_factory.getbasetemp() / "reliability-figures.jsonl"
    path.parent.mkdir(parents=True, exist_ok=True)
    return Figures(path)


@pytest.fixture(scope="module")
def module_stack(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    """The stack a module's tests run on: one of the module's own, started with its ``STACK_ENV`` (knobs that change
    the whole stack; ``{}`` for a stack of its own with the defaults), or, for a module that sets no ``STACK_ENV``,
    the session's (``local_stack``: the same defaults, one start and one secret search fewer)."""
    if not hasattr(request.module, "STACK_ENV"):
        yield request.getfixturevalue("local_stack")
        return
    env = dict(request.module.STACK_ENV)
    with launch_stack(tmp_path_factory.mktemp(request.module.__name__.rsplit(".", 1)[-1]), env) as stack:
        yield stack
