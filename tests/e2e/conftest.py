"""End-to-end: the local stack as `make run` starts it (a separate process), driven over HTTP.

``launch_stack`` starts one (with extra environment, e.g. the chaos knobs of local/chaos.py); the session's
``local_stack`` fixture is one of them, shared by every e2e and reliability test of a pytest worker.

Secrets never leave the service: every body the API answers through ``RunningStack.client`` is recorded (in the
stack's directory), and when a stack stops, ``launch_stack`` searches those bodies and every line of the stack's
log for every secret of the run (``RunningStack.secrets``: Walmart client secrets and the access tokens the
emulator issued, the refresh tokens of sellers' authorizations, our Walmart app's client secret, the Walmart Connect
partner key and auth token, our bearer tokens, and whatever a test registered with ``canary``). One hit fails the run.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import SETTLEMENT_HISTORY_DAYS

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90
CANARY_MIN_LENGTH = 12  # shorter secrets (e.g. a test seller's "e2e-secret") could match by chance: not searched
_CANARIES: set[str] = set()  # registered by tests: searched for in every stack of the run
_STACKS: list[RunningStack] = []  # the stacks of this process that are running


def canary(value: str) -> str:
    """Register a secret that no response body and no log line of any stack of the run may contain; returns it."""
    if len(value) < CANARY_MIN_LENGTH:
        raise ValueError(f"a canary needs at least {CANARY_MIN_LENGTH} characters to be searched for")
    _CANARIES.add(value)
    return value


def _search_strings(value: str) -> list[str]:
    """What is searched for to find ``value``: itself, and for a long secret its beginning and a few pieces of its
    body (a PEM key's lines, a JWE's ciphertext), so that a truncated or re-wrapped copy is found too."""
    if len(value) <= 64:
        return [value]
    if "-----BEGIN" in value:
        lines = [line.strip() for line in value.splitlines() if len(line.strip()) >= 40 and "-----" not in line]
        return [value, *lines[:: max(1, len(lines) // 4)]]
    body = max(value.split("."), key=len)
    pieces = [body[n : n + 32] for n in range(0, max(1, len(body) - 32), max(32, len(body) // 3))]
    return [value, value[:32], *(p for p in pieces if len(p) == 32)]


@dataclass
class CanaryReport:
    """A search of a stack's recorded response bodies and log lines for the run's secrets."""

    canaries: int  # secrets searched for
    responses: int  # response bodies scanned
    log_lines: int
    hits: list[str]  # "<which secret> in <where>" (never the secret itself)

    def __add__(self, other: CanaryReport) -> CanaryReport:
        return CanaryReport(
            self.canaries + other.canaries,
            self.responses + other.responses,
            self.log_lines + other.log_lines,
            self.hits + other.hits,
        )


class _RecordingTransport(httpx.HTTPTransport):
    """Hands every response body to ``record`` before the client sees it."""

    def __init__(self, record: Any) -> None:
        super().__init__()
        self._record = record

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        try:
            raw = b"".join(response.iter_raw())
        finally:
            response.close()
        recorded = httpx.Response(
            response.status_code, headers=response.headers, content=raw, request=request, extensions=response.extensions
        )
        self._record(recorded.read())
        return recorded


@dataclass
class RunningStack:
    api_url: str
    token: str
    state_file: Path
    process: subprocess.Popen[str]
    log_path: Path
    responses_path: Path | None = None  # every body the API answered through ``client`` (None: not recorded)
    responses_recorded: int = 0
    _record_lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        transport = _RecordingTransport(self._record_response) if self.responses_path else None
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30, transport=transport)

    def _record_response(self, body: bytes) -> None:
        assert self.responses_path is not None
        with self._record_lock, self.responses_path.open("ab") as file:
            file.write(body + b"\n\x1e\n")
            self.responses_recorded += 1

    def responses_text(self) -> str:
        """Every response body recorded so far (separated by a record separator line)."""
        if self.responses_path is None or not self.responses_path.exists():
            return ""
        with self._record_lock:
            return self.responses_path.read_bytes().decode(errors="replace")

    def issue_token(self, tenant: str) -> str:
        """A new bearer token for ``tenant`` (``make token``), registered as a canary."""
        issued = self._token_script(tenant)
        return canary(issued.stdout.strip().splitlines()[-1])

    def revoke_token(self, token: str) -> None:
        """``make revoke-token TOKEN=...`` (the token goes through stdin, as a careful operator would pass it)."""
        self._token_script("--revoke", "-", stdin=token)

    def _token_script(
        self, *args: str, stdin: str | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "scripts/issue_token.py", *args],
            cwd=ROOT,
            env={"LOCAL_STATE_FILE": str(self.state_file), "PATH": "/usr/bin:/bin"},
            input=stdin,
            capture_output=True,
            text=True,
            check=check,
        )

    def emulator(self) -> httpx.Client:
        return httpx.Client(base_url=self.state["emulator_url"], timeout=10)

    def log_text(self) -> str:
        """Everything the stack (gateway, pollers, every function process) has logged so far."""
        return self.log_path.read_text(errors="replace")

    def secrets(self) -> dict[str, str]:
        """Every secret of the run this stack knows (description -> value), read while it runs: the canaries tests
        registered, the demo tenant's bearer token, the Walmart client secrets of the emulator's sellers and every
        access and refresh token it issued, our Walmart app's client secret, and the Walmart Connect partner's private
        key and auth token."""
        found = {f"registered canary #{n}": value for n, value in enumerate(sorted(_CANARIES))}
        found["the demo tenant's bearer token"] = self.token
        if self.process.poll() is not None:
            return found  # (it died: what is known without it)
        state = self.state
        if state.get("emulator_url"):
            with self.emulator() as emulator:
                for seller in emulator.get("/__emulator/sellers").json():
                    found[f"client secret of seller {seller['seller_id']}"] = seller["client_secret"]
                issued = emulator.get("/__emulator/tokens").json()
                for n, token in enumerate(issued["tokens"]):
                    found[f"access token #{n} of seller {token['seller_id']}"] = token["access_token"]
                for n, token in enumerate(issued.get("refresh_tokens") or []):
                    found[f"refresh token #{n} of seller {token['seller_id']}"] = token["refresh_token"]
        env = state.get("function_env") or {}
        if env.get("WALMART_ADS_SECRET_NAME") or env.get("WALMART_APP_SECRET_NAME"):
            import boto3

            secrets_manager = boto3.client(
                "secretsmanager",
                region_name=state.get("region", "us-east-1"),
                endpoint_url=state["aws_endpoint_url"],
                aws_access_key_id=env.get("AWS_ACCESS_KEY_ID") or "testing",
                aws_secret_access_key=env.get("AWS_SECRET_ACCESS_KEY") or "testing",
            )
            if env.get("WALMART_ADS_SECRET_NAME"):
                secret = json.loads(
                    secrets_manager.get_secret_value(SecretId=env["WALMART_ADS_SECRET_NAME"])["SecretString"]
                )
                found["the Walmart Connect partner's private key"] = secret["private_key"]
                found["the Walmart Connect partner's auth token"] = secret["auth_token"]
            if env.get("WALMART_APP_SECRET_NAME"):
                try:
                    app = secrets_manager.get_secret_value(SecretId=env["WALMART_APP_SECRET_NAME"])["SecretString"]
                except secrets_manager.exceptions.ResourceNotFoundException:
                    app = "{}"  # (a stack against a real Walmart without app credentials)
                found["our Walmart app's client secret"] = json.loads(app).get("client_secret")
        return {name: value for name, value in found.items() if isinstance(value, str) and value}

    def scan(self, secrets: Mapping[str, str] | None = None) -> CanaryReport:
        """Search every recorded response body and every log line for ``secrets`` (default: ``self.secrets()``)."""
        searched = {
            name: value
            for name, value in (self.secrets() if secrets is None else secrets).items()
            if len(value) >= CANARY_MIN_LENGTH
        }
        log = self.log_text()
        responses = self.responses_text()
        hits: list[str] = []
        for name, value in searched.items():
            needles = _search_strings(value)
            in_log = next((log.index(needle) for needle in needles if needle in log), None)
            if in_log is not None:
                hits.append(f"{name} in line {log.count(chr(10), 0, in_log) + 1} of {self.log_path}")
            in_responses = next((responses.index(needle) for needle in needles if needle in responses), None)
            if in_responses is not None:
                number = responses.count("\n\x1e\n", 0, in_responses) + 1
                hits.append(f"{name} in response body #{number} of {self.responses_path}")
        return CanaryReport(len(searched), self.responses_recorded, log.count("\n"), hits)

    def wait_for(self, instance_id: str, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        with self.client() as client:
            while True:
                data = client.get(f"/api/walmart/{instance_id}").json()["data"]
                if predicate(data):
                    return data
                if time.monotonic() > deadline:
                    raise AssertionError(f"instance never reached the expected state: {json.dumps(data)[:2000]}")
                time.sleep(0.2)


@contextlib.contextmanager
def launch_stack(directory: Path, env: Mapping[str, str] | None = None) -> Iterator[RunningStack]:
    """``python -m local`` in a process of its own, logging to ``directory/local-stack.log``."""
    directory.mkdir(parents=True, exist_ok=True)
    state_file = directory / "stack.json"
    log_path = directory / "local-stack.log"
    environment = {
        **os.environ,
        "API_PORT": "0",
        "LOCAL_STATE_FILE": str(state_file),
        "LOCAL_SCHEDULE_SECONDS": "3600",
        "LOCAL_RETRY_SECONDS": "1",
    }
    for name in ("AWS_ENDPOINT_URL", "WALMART_MARKETPLACE_URL", "WALMART_ADS_URL", "APP_ENV"):
        environment.pop(name, None)
    environment.update(env or {})
    with log_path.open("w") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "local"],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=log_file,
            text=True,
        )
        assert process.stdout is not None
        deadline = time.monotonic() + READY_TIMEOUT
        line = ""
        while time.monotonic() < deadline:
            line = process.stdout.readline()
            if line.startswith("READY ") or not line:
                break
        if not line.startswith("READY "):
            process.kill()
            raise RuntimeError(f"the local stack did not print READY; see {log_path}")
        fields = dict(part.split("=", 1) for part in line.split()[1:])
        stack = RunningStack(fields["api"], fields["token"], state_file, process, log_path, directory / "responses.log")
        _STACKS.append(stack)
        secrets: dict[str, str] = {}
        unreadable: Exception | None = None
        try:
            if stack.state.get("emulator_url"):
                with stack.emulator() as emulator:
                    history = {"settlement_history_days": SETTLEMENT_HISTORY_DAYS}
                    knobs = emulator.post("/__emulator/faults", json=history)
                    assert knobs.status_code == 200, knobs.text
            yield stack
        finally:
            _STACKS.remove(stack)
            try:
                secrets = stack.secrets()  # (the emulator and the embedded AWS go with the process)
            except Exception as error:
                unreadable = error
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
    # Only when the stack's users are done (an error of theirs is not hidden by this one): the whole log, every body.
    if unreadable is not None:
        raise AssertionError("the stack's secrets could not be read for the canary check") from unreadable
    report = stack.scan(secrets)
    assert report.canaries and not report.hits, f"secrets leaked: {report.hits}"


def running_stacks() -> list[RunningStack]:
    """The stacks this process has running (e.g. the session's and a module's own)."""
    return list(_STACKS)


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with launch_stack(tmp_path_factory.mktemp("stack")) as stack:
        yield stack
