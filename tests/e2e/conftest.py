"""End-to-end: the local stack as `make run` starts it (a separate process), driven over HTTP.

``launch_stack`` starts one (with extra environment, e.g. the chaos knobs of local/chaos.py); the session's
``local_stack`` fixture is one of them, shared by every e2e and reliability test of a pytest worker.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 90


@dataclass
class RunningStack:
    api_url: str
    token: str
    state_file: Path
    process: subprocess.Popen[str]
    log_path: Path

    @property
    def state(self) -> dict[str, Any]:
        return json.loads(self.state_file.read_text())

    def client(self, token: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token or self.token}"} if token != "" else {}
        return httpx.Client(base_url=self.api_url, headers=headers, timeout=30)

    def emulator(self) -> httpx.Client:
        return httpx.Client(base_url=self.state["emulator_url"], timeout=10)

    def log_text(self) -> str:
        """Everything the stack (gateway, pollers, every function process) has logged so far."""
        return self.log_path.read_text(errors="replace")

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
        try:
            yield RunningStack(fields["api"], fields["token"], state_file, process, log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


@pytest.fixture(scope="session")
def local_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningStack]:
    with launch_stack(tmp_path_factory.mktemp("stack")) as stack:
        yield stack
