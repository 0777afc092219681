"""Bad input: schemathesis fuzzes every operation of ``openapi.json`` against a stack of this module's own.

The schema is the committed ``openapi.json`` (the first test proves it is what the stack serves at
/api/openapi.json). Every operation gets generated requests, valid (positive) and invalid (negative), once with
free path parameters (mostly unknown ids) and once with the ids of real resources (an instance that connected, a
company, an account linked to a write-access advertising profile), so the deeper code runs too. Then wrong content
types and empty bodies on every operation with a body, then schemathesis' state machine over the links it infers
(create a company, then read it, add an account, link a profile...): each scenario in a new tenant holding what the
demo tenant holds, so that what the API answers depends only on the scenario's own requests (see
``test_stateful_links``).

Every response is checked: no 5xx, the status code is documented for the operation, the body matches the documented
schema and content type, and invalid data is refused with a 4xx. Figures (section "fuzz"): HTTP requests sent,
operations, 5xx seen, schema violations and failures by check.
"""

from __future__ import annotations

import json
import re
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import httpx
import hypothesis
import hypothesis.configuration
import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, Phase
from hypothesis.errors import Unsatisfiable
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.errors import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from local.seed import DEMO_NOMINAL_CODES, DEMO_STORE, dynamodb_client
from tests.e2e.conftest import ROOT, RunningStack, canary
from tests.e2e.test_local_stack import body as instance_body
from tests.reliability.conftest import SOAK, Figures, scale
from walmart_integration.services.auth import AuthService
from walmart_integration.store.tenants import TenantRepository

pytestmark = pytest.mark.e2e

STACK_ENV: dict[str, str] = {}  # (the defaults: a stack of its own keeps the fuzzed data out of the shared one)

SCHEMA_PATH = ROOT / "openapi.json"
CHECKS = {
    "not_a_server_error": not_a_server_error,
    "status_code_conformance": status_code_conformance,
    "content_type_conformance": content_type_conformance,
    "response_schema_conformance": response_schema_conformance,
    "negative_data_rejection": negative_data_rejection,
}
EXAMPLES = scale(3, 25)  # per operation, mode (valid/invalid) and path variant (free/real ids)
MIN_REQUESTS = scale(200, 2000)
STATEFUL_SCENARIOS = scale(8, 40)
WRONG_BODIES: tuple[tuple[str, dict[str, Any]], ...] = (
    ("text/plain", {"headers": {"Content-Type": "text/plain"}}),
    ("application/xml", {"headers": {"Content-Type": "application/xml"}}),
    ("multipart without boundary", {"headers": {"Content-Type": "multipart/form-data"}}),
    ("form-urlencoded", {"headers": {"Content-Type": "application/x-www-form-urlencoded"}}),
    ("empty body", {"data": b""}),
)
DEMO_PROFILES = ("600001", "600002", "600003")  # the demo tenant's advertisers (local/seed.py)
WRITE_PROFILE = DEMO_PROFILES[0]  # first-party, write access
QUIET_TIMEOUT = 120  # seconds an instance may take to finish the work a request started (connect, sync)


@dataclass
class Fuzz:
    """Sends cases and checks their responses; keeps the figures."""

    session: requests.Session = field(default_factory=requests.Session)
    requests: int = 0
    by_operation: Counter[str] = field(default_factory=Counter)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: Counter[str] = field(default_factory=Counter)
    reports: list[str] = field(default_factory=list)
    phase_requests: Counter[str] = field(default_factory=Counter)
    linked_steps: int = 0  # stateful requests whose parameters came from an earlier response through a link

    def send(self, case: Case, phase: str, **kwargs: Any) -> schemathesis.Response | None:
        _fresh_idempotency_key(case)
        self.requests += 1
        self.phase_requests[phase] += 1
        self.by_operation[case.operation.label] += 1
        try:
            response = case.call(session=self.session, timeout=60, **kwargs)
        except requests.RequestException as error:
            self._fail("transport", f"{case.operation.label}: {type(error).__name__}: {error}")
            return None
        self.statuses[response.status_code] += 1
        return response

    def check(self, case: Case, response: schemathesis.Response | None) -> None:
        if response is None:
            return
        for name, check in CHECKS.items():
            try:
                case.validate_response(response, checks=[check])
            except FailureGroup as error:
                self._fail(name, str(error))

    def expect_4xx(self, case: Case, response: schemathesis.Response | None, what: str) -> None:
        if response is not None and not 400 <= response.status_code < 500:
            self._fail("bad_body_refused", f"{case.operation.label} with {what}: {response.status_code}")

    def _fail(self, name: str, report: str) -> None:
        self.failures[name] += 1
        if len(self.reports) < 12:
            self.reports.append(f"[{name}] {report[:3000]}")

    def verdict(self) -> str:
        return f"{dict(self.failures)} in {self.requests} requests:\n\n" + "\n\n".join(self.reports)


def _fresh_idempotency_key(case: Case) -> None:
    """A generated Idempotency-Key becomes a new one per request: a key that hypothesis reuses with another body is
    a (documented) 409 that would hide what the body itself does. A key that is invalid as such stays."""
    headers: Any = case.headers or {}
    for name in list(headers):
        if name.lower() == "idempotency-key":
            value = headers[name]
            if isinstance(value, str) and 1 <= len(value) <= 255:
                headers[name] = f"fuzz-{uuid.uuid4()}"


@pytest.fixture(scope="module")
def schema(module_stack: RunningStack) -> Iterator[schemathesis.BaseSchema]:
    # Hypothesis' caches (e.g. the characters of a codec: ~10 s to compute) stay out of the repository, in a directory
    # kept between runs; there is no example database (database=None).
    hypothesis.configuration.set_hypothesis_home_dir(Path(tempfile.gettempdir()) / "walmart-integration-hypothesis")
    loaded = schemathesis.openapi.from_path(SCHEMA_PATH, config=schemathesis.Config())
    loaded.config.update(base_url=module_stack.api_url, headers={"Authorization": f"Bearer {module_stack.token}"})
    # No generated Authorization header: every request is the demo tenant's (hostile tokens: test_hostile_tenants).
    loaded.config.generation.update(with_security_parameters=False)
    yield loaded


@pytest.fixture(scope="module")
def fuzz(figures: Figures) -> Iterator[Fuzz]:
    state = Fuzz()
    started = time.monotonic()
    yield state
    state.session.close()
    figures.record(
        "fuzz",
        schema="openapi.json (committed; equal to the stack's /api/openapi.json)",
        requests=state.requests,
        requests_by_phase=dict(state.phase_requests),
        stateful_linked_steps=state.linked_steps,
        operations=len(state.by_operation),
        server_errors=sum(n for status, n in state.statuses.items() if status >= 500),
        schema_violations=state.failures["response_schema_conformance"],
        failures_by_check={name: state.failures[name] for name in (*CHECKS, "bad_body_refused", "transport")},
        statuses={str(status): n for status, n in sorted(state.statuses.items())},
        seconds=round(time.monotonic() - started, 1),
    )


@pytest.fixture(scope="module")
def real_ids(module_stack: RunningStack) -> dict[str, str]:
    """Path parameters naming real resources of the demo tenant: a connected instance, a company and its account
    linked to a write-access advertising profile."""
    with module_stack.client() as client:
        created = client.post("/api/walmart", json=instance_body(f"fuzz {uuid.uuid4()}"))
        assert created.status_code == 201, created.text
        instance_id = created.json()["data"]["id"]
        company = client.post("/api/companies", json={"name": "Fuzz Co"})
        assert company.status_code == 201, company.text
        company_id = company.json()["data"]["id"]
        account = client.post(
            f"/api/companies/{company_id}/accounts", json={"name": "Fuzz", "channel": "walmart-1p", "geo": "US"}
        )
        assert account.status_code == 201, account.text
        account_id = account.json()["data"]["id"]
        _until(lambda: _has_profile(client, WRITE_PROFILE), 90, f"profile {WRITE_PROFILE} to be assigned")
        linked = client.put(f"/api/accounts/{account_id}/advertising-profile", json={"profile_id": WRITE_PROFILE})
        assert linked.status_code == 200, linked.text
    module_stack.wait_for(instance_id, lambda data: data["status"] == "connected", timeout=120)
    return {"instance_id": instance_id, "company_id": company_id, "account_id": account_id}


@dataclass
class ScenarioTenants:
    """New tenants for the stateful scenarios, each holding what the operations phase finds in the demo tenant: its
    reference data (a store, its nominal codes: local/seed.py), a company with an account, an instance (without
    credentials: no worker runs for it). Every scenario starts from the same state, and the links from a list have
    something to pick from the first step on."""

    stack: RunningStack
    run: str = field(default_factory=lambda: uuid.uuid4().hex[:8])
    made: int = 0

    @cached_property
    def auth(self) -> AuthService:
        """What `make token` uses (scripts/issue_token.py), in this process: a token per scenario in milliseconds."""
        state = self.stack.state
        env = {**state["function_env"], "AWS_ENDPOINT_URL": state["aws_endpoint_url"]}
        env.setdefault("AWS_ACCESS_KEY_ID", "testing")
        env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
        region = state.get("region", "us-east-1")
        return AuthService(TenantRepository(env["APP_TABLE_NAME"], region, dynamodb_client(env)))

    def new(self) -> str:
        """A bearer token of a tenant nobody used yet."""
        self.made += 1
        token = canary(self.auth.issue_token(f"fuzz-{self.run}-{self.made}"))
        with self.stack.client(token) as client:

            def create(path: str, body: dict[str, Any]) -> dict[str, Any]:
                created = client.post(path, json=body)
                assert created.status_code == 201, created.text
                return dict(created.json()["data"])

            for path, model in (("/api/stores", DEMO_STORE), *(("/api/nominal-codes", c) for c in DEMO_NOMINAL_CODES)):
                create(path, model.model_dump())
            company = create("/api/companies", {"name": "Scenario Co"})
            create(f"/api/companies/{company['id']}/accounts", {"name": "Scenario", "channel": "walmart-1p"})
            create("/api/walmart", instance_body("Scenario instance", None))
        return token

    def wait_until_quiet(self, token: str, instance_id: str) -> None:
        """Until the instance's workers are done with what the last request started (the token job, a sync): the next
        request then meets the same instance however fast the workers ran."""
        with self.stack.client(token) as client:
            _until(lambda: _quiet(client, instance_id), QUIET_TIMEOUT, f"instance {instance_id} to be quiet")


def _quiet(client: httpx.Client, instance_id: str) -> bool:
    response = client.get(f"/api/walmart/{instance_id}")
    if response.status_code == 404:
        return True
    view = response.json()["data"]
    return view["status"] not in ("pending", "connecting") and not any(
        job["status"] in ("queued", "running") for job in view["jobs"].values()
    )


def _instance_at_work(case: Case, response: schemathesis.Response) -> str | None:
    """The instance a successful write may have started work for (POST /api/walmart, PATCH, POST .../sync)."""
    if case.method.upper() not in ("POST", "PATCH") or not 200 <= response.status_code < 300:
        return None
    if case.operation.path == "/api/walmart":
        return str(response.json()["data"]["id"])
    instance_id = (case.path_parameters or {}).get("instance_id")
    return str(instance_id) if case.operation.path.startswith("/api/walmart/{instance_id}") and instance_id else None


def _has_profile(client: httpx.Client, profile_id: str) -> bool:
    page = client.get("/api/advertising/profiles", params={"limit": 100})
    return page.status_code == 200 and any(p["profile_id"] == profile_id for p in page.json()["data"])


def _until(probe: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not probe():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.5)


def _settings(examples: int) -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=examples,
        database=None,  # no example database in the repository
        derandomize=not SOAK,  # `make test`: the same requests every run; `make soak`: new ones each time
        deadline=None,
        phases=[Phase.explicit, Phase.generate],  # failures are collected, not raised: nothing to shrink
        suppress_health_check=list(HealthCheck),
        stateful_step_count=scale(6, 10),
    )


def _operations(schema: schemathesis.BaseSchema) -> list[Any]:
    """Every operation of the schema; those that break the real resources run last: a PATCH of the instance may give
    it new (invalid) credentials, after which a sync is 409, and a DELETE removes the resource."""
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"an operation schemathesis cannot read: {result}"
        operations.append(result.ok())

    def rank(operation: Any) -> int:
        return 2 if operation.method.upper() == "DELETE" else int(operation.label == "PATCH /api/walmart/{instance_id}")

    return sorted(operations, key=rank)


def _use_real_references(case: Case) -> None:
    """A valid body names the demo tenant's real integration, store, nominal codes (ids 1-5) and advertising profiles
    (random ids are unknown, and refused before the code behind them runs)."""
    body: Any = case.body
    if not isinstance(body, dict):
        return
    if isinstance(body.get("integration_id"), int):
        body["integration_id"] = 1
    if isinstance(body.get("profile_id"), str):
        body["profile_id"] = DEMO_PROFILES[len(body["profile_id"]) % len(DEMO_PROFILES)]
    settings = body.get("integration_settings")
    if isinstance(settings, dict):
        for key, value in settings.items():
            if isinstance(value, int) and not isinstance(value, bool):
                if key == "store_id":
                    settings[key] = 1
                elif key.endswith("_nominal_code_id"):
                    settings[key] = value % 5 + 1


def _fuzz_operation(fuzz: Fuzz, operation: Any, mode: GenerationMode, real_ids: dict[str, str] | None) -> bool:
    """EXAMPLES generated requests for one operation; with ``real_ids``, its path names real resources and a valid
    body real references. False when there is no such data (e.g. invalid data for an operation without inputs)."""
    known = real_ids or {}
    pinned = {name: known[name] for name in re.findall(r"{(\w+)}", operation.path) if name in known}

    @_settings(EXAMPLES)
    @hypothesis.given(case=operation.as_strategy(generation_mode=mode, path_parameters=pinned or None))
    def run(case: Case) -> None:
        if real_ids is not None and mode is GenerationMode.POSITIVE:
            _use_real_references(case)
        fuzz.check(case, fuzz.send(case, "operations"))

    try:
        run()
    except Unsatisfiable:
        return False
    return True


def test_the_committed_schema_is_what_the_stack_serves(module_stack: RunningStack):
    with module_stack.client(token="") as anonymous:
        served = anonymous.get("/api/openapi.json")
    assert served.status_code == 200
    assert served.json() == json.loads(SCHEMA_PATH.read_text())


def test_every_operation_with_valid_and_invalid_data(
    schema: schemathesis.BaseSchema, fuzz: Fuzz, real_ids: dict[str, str]
):
    operations = _operations(schema)
    unsatisfiable = []
    for operation in operations:
        names = re.findall(r"{(\w+)}", operation.path)
        with_real = any(name in real_ids for name in names) or operation.label == "POST /api/walmart"
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for real in (None, real_ids) if with_real else (None,):
                if not _fuzz_operation(fuzz, operation, mode, real):
                    unsatisfiable.append(f"{operation.label} {mode.value}")
    assert not fuzz.failures, fuzz.verdict()
    assert set(fuzz.by_operation) == {operation.label for operation in operations}
    assert all(label.endswith(GenerationMode.NEGATIVE.value) for label in unsatisfiable), unsatisfiable
    assert fuzz.phase_requests["operations"] >= MIN_REQUESTS


def test_wrong_content_types_and_empty_bodies_are_refused(
    schema: schemathesis.BaseSchema, fuzz: Fuzz, real_ids: dict[str, str]
):
    with_body = [operation for operation in _operations(schema) if operation.body]
    assert len(with_body) >= 10
    for operation in with_body:
        names = re.findall(r"{(\w+)}", operation.path)
        pinned = {name: real_ids.get(name, "1") for name in names}

        @_settings(1)
        @hypothesis.given(case=operation.as_strategy(path_parameters=pinned or None))
        def run(case: Case) -> None:
            for what, kwargs in WRONG_BODIES:
                response = fuzz.send(case, "wrong_bodies", **kwargs)
                fuzz.check(case, response)
                fuzz.expect_4xx(case, response, what)

        run()
    assert not fuzz.failures, fuzz.verdict()


def test_stateful_links(schema: schemathesis.BaseSchema, fuzz: Fuzz, module_stack: RunningStack):
    """Sequences of valid requests where an id from one response goes into the next, along the links schemathesis
    infers from the schema (POST /api/companies -> GET /api/companies/{company_id}, POST .../accounts -> PUT its
    advertising profile, POST /api/stores -> POST /api/walmart with that store...).

    Which rule hypothesis can draw next, and what it draws, depends on the responses so far (a 201 puts the created
    resource into the bundle its links draw from; a list's items are what a link picks from). Hypothesis replays
    the choices of earlier scenarios (a prefix, then simpler or mutated continuations) and requires the same draws
    each time, else FlakyStrategyDefinition. So a scenario's responses must follow from its own requests alone: each
    scenario runs as a new tenant (nothing that earlier scenarios or tests created, no name they took, per-tenant
    ids counting from 1 again), and after a request that starts work on an instance the next one waits until the
    workers are done (no answer depends on how far they got)."""
    schema.config.generation.update(modes=[GenerationMode.POSITIVE])
    tenants = ScenarioTenants(module_stack)

    class Workflow(schema.as_state_machine()):  # type: ignore[misc]
        def setup(self) -> None:
            self.token = tenants.new()

        def get_call_kwargs(self, case: Case) -> dict[str, Any]:
            return {"headers": {"Authorization": f"Bearer {self.token}"}}

        def after_call(self, response: schemathesis.Response, case: Case) -> None:
            super().after_call(response, case)
            instance_id = _instance_at_work(case, response)
            if instance_id is not None:
                tenants.wait_until_quiet(self.token, instance_id)

        def step(self, input: Any) -> Any:
            fuzz.linked_steps += bool(input.transition is not None and input.is_applied)
            return super().step(input)

        def call(self, case: Case, **kwargs: Any) -> schemathesis.Response:
            response = fuzz.send(case, "stateful", **kwargs)
            if response is None:
                raise AssertionError(fuzz.verdict())
            return response

        def validate_response(self, response: schemathesis.Response, case: Case, *_: Any, **__: Any) -> None:
            fuzz.check(case, response)

    Workflow.run(settings=_settings(STATEFUL_SCENARIOS))
    assert fuzz.phase_requests["stateful"] >= STATEFUL_SCENARIOS
    assert fuzz.linked_steps > 0
    assert not fuzz.failures, fuzz.verdict()
