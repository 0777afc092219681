"""Chaos knobs of the local stack (all off by default): workers killed after DynamoDB writes, duplicate deliveries.

- **Kills.** In every function worker of an SQS batch, right after a *successful* DynamoDB write call (PutItem,
  UpdateItem, DeleteItem, TransactWriteItems, BatchWriteItem) the process dies (``os._exit``) with probability
  ``kill_rate``: between a write and its checkpoint, or mid-batch. The runtime treats it as a crashed invocation
  and the batch comes back after LOCAL_RETRY_SECONDS, as Lambda's would after its visibility timeout. A hook on
  botocore's event system (``after-call.dynamodb``, on every client any botocore session creates) decides it,
  so every client of the product code is covered. Only batches whose every record is at most at delivery
  ``kill_max_receives`` are killed, so the chaos alone never drives a message to its dead-letter queue.
  API, authorizer and scheduled invocations are never killed (nothing would retry them locally).
- **Duplicate deliveries.** In the pollers, a message whose invocation succeeded is, with probability
  ``duplicate_rate``, left on the queue and made visible at once: SQS delivers it again, as its at-least-once
  delivery may (only messages at delivery ``kill_max_receives`` or earlier).

Settings, from the stack's environment (function workers inherit every ``LOCAL_CHAOS_*`` variable):

    LOCAL_CHAOS_KILL_RATE          0..1 (0)
    LOCAL_CHAOS_DUPLICATE_RATE     0..1 (0)
    LOCAL_CHAOS_KILL_MAX_RECEIVES  2
    LOCAL_CHAOS_SEED               seed of the draws (each process has its own generator derived from it)
    LOCAL_CHAOS_FILE               a JSON file {"kill_rate", "duplicate_rate", "kill_max_receives", "seed"} whose
                                   values replace the variables; re-read whenever it changes, so chaos can be
                                   switched on and off while the stack runs (a missing file: the variables)
    LOCAL_CHAOS_LOG                JSON lines, one per injected fault ({"fault": "kill" | "duplicate", ...});
                                   default LOCAL_CHAOS_FILE + ".log". ``counts(path)`` sums them.

Every injected fault is also logged on stderr with the marker ``CHAOS``.

Imported by worker processes through ``local/runtime.py`` (by path): standard library only at import time.
"""

from __future__ import annotations

import json
import os
import random
import sys
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

PREFIX = "LOCAL_CHAOS_"
WRITE_OPERATIONS = frozenset({"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"})
KILL_EXIT_STATUS = 137  # as if killed with SIGKILL
MARKER = "CHAOS"


@dataclass(frozen=True)
class Knobs:
    kill_rate: float = 0.0
    duplicate_rate: float = 0.0
    kill_max_receives: int = 2
    seed: str = ""

    @property
    def active(self) -> bool:
        return self.kill_rate > 0 or self.duplicate_rate > 0


def _rate(value: Any, name: str) -> float:
    rate = float(value)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"{name} must be within 0..1, not {value!r}")
    return rate


def _knobs(values: Mapping[str, Any], base: Knobs) -> Knobs:
    changes: dict[str, Any] = {}
    for name in ("kill_rate", "duplicate_rate"):
        if values.get(name) not in (None, ""):
            changes[name] = _rate(values[name], name)
    if values.get("kill_max_receives") not in (None, ""):
        changes["kill_max_receives"] = int(values["kill_max_receives"])
    if values.get("seed") not in (None, ""):
        changes["seed"] = str(values["seed"])
    return replace(base, **changes)


def enabled(environ: Mapping[str, str] | None = None) -> bool:
    """Whether any chaos setting is given (the runtime installs the worker hook only then)."""
    env = os.environ if environ is None else environ
    return any(name.startswith(PREFIX) and value for name, value in env.items())


class Chaos:
    """The knobs (environment, then the file, re-read when it changes), the draws and the fault log."""

    def __init__(self, environ: Mapping[str, str] | None = None, *, role: str = "stack") -> None:
        env = dict(os.environ if environ is None else environ)
        self.base = _knobs(
            {
                "kill_rate": env.get(PREFIX + "KILL_RATE"),
                "duplicate_rate": env.get(PREFIX + "DUPLICATE_RATE"),
                "kill_max_receives": env.get(PREFIX + "KILL_MAX_RECEIVES"),
                "seed": env.get(PREFIX + "SEED"),
            },
            Knobs(),
        )
        file = env.get(PREFIX + "FILE") or ""
        self.file = Path(file) if file else None
        log = env.get(PREFIX + "LOG") or (f"{file}.log" if file else "")
        self.log_path = Path(log) if log else None
        self.role = role
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._knobs = self.base
        self._rng = random.Random(f"{self.base.seed}|{role}|{os.getpid()}")
        self._seeded = self.base.seed

    # -- knobs ---------------------------------------------------------------------------------------------
    def knobs(self) -> Knobs:
        """The knobs now: the file's values over the environment's, re-read when the file changed."""
        if self.file is None:
            return self._knobs
        try:
            stat = self.file.stat()
            stamp: tuple[int, int, int] | None = (stat.st_ino, stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if stamp != self._stamp:
                self._stamp = stamp
                self._knobs = self.base
                if stamp is not None:
                    try:
                        values = json.loads(self.file.read_text() or "{}")
                        self._knobs = _knobs(values if isinstance(values, dict) else {}, self.base)
                    except (OSError, ValueError) as error:
                        print(f"{MARKER}: ignoring {self.file}: {error}", file=sys.stderr, flush=True)
                if self._knobs.seed != self._seeded:
                    self._seeded = self._knobs.seed
                    self._rng = random.Random(f"{self._seeded}|{self.role}|{os.getpid()}")
            return self._knobs

    def draw(self, probability: float) -> bool:
        if probability <= 0:
            return False
        with self._lock:
            return self._rng.random() < probability

    # -- the fault log ---------------------------------------------------------------------------------------
    def record(self, fault: str, **details: Any) -> None:
        entry = {"fault": fault, "ts": round(time.time(), 3), "pid": os.getpid(), **details}
        line = json.dumps(entry, sort_keys=True, default=str)
        print(f"{MARKER} {line}", file=sys.stderr, flush=True)
        if self.log_path is not None:
            # One short O_APPEND write per fault: lines of concurrent processes do not interleave.
            fd = os.open(self.log_path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, (line + "\n").encode())
            finally:
                os.close(fd)

    # -- duplicate deliveries (the pollers) --------------------------------------------------------------------
    def duplicate(self, queue: str, message: Mapping[str, Any]) -> bool:
        """Whether this successfully processed message is to be delivered again (and then log it)."""
        knobs = self.knobs()
        if knobs.duplicate_rate <= 0 or _receive_count(message.get("Attributes")) > knobs.kill_max_receives:
            return False
        if not self.draw(knobs.duplicate_rate):
            return False
        self.record("duplicate", queue=queue, message_id=message.get("MessageId"))
        return True


def _receive_count(attributes: Any) -> int:
    if not isinstance(attributes, Mapping):
        return 1
    try:
        return int(attributes.get("ApproximateReceiveCount") or 1)
    except (TypeError, ValueError):
        return 1


# ------------------------------------------------------------------------------------------- worker side


class WorkerChaos:
    """Kills a function worker after successful DynamoDB writes, while an SQS batch is being handled."""

    def __init__(
        self,
        function: str,
        chaos: Chaos | None = None,
        exit: Callable[[int], Any] = os._exit,
    ) -> None:
        self.function = function
        self.chaos = chaos or Chaos(role=function)
        self.exit = exit
        self.writes = 0
        self._batch: tuple[int, str] | None = None  # (highest receive count, first message id) of the batch

    def begin(self, event: Any) -> None:
        """Called before the handler: kills apply only to SQS batches, within ``kill_max_receives``."""
        records = event.get("Records") if isinstance(event, dict) else None
        sqs = [r for r in records or [] if isinstance(r, dict) and r.get("eventSource") == "aws:sqs"]
        if not sqs:
            self._batch = None
            return
        self._batch = (max(_receive_count(r.get("attributes")) for r in sqs), str(sqs[0].get("messageId")))

    def end(self) -> None:
        self._batch = None

    def after_call(self, http_response: Any = None, model: Any = None, **_: Any) -> None:
        """botocore ``after-call.dynamodb`` handler."""
        operation = getattr(model, "name", "")
        if operation not in WRITE_OPERATIONS or self._batch is None:
            return
        if http_response is None or not 200 <= int(getattr(http_response, "status_code", 500)) < 300:
            return
        self.writes += 1
        knobs = self.chaos.knobs()
        receives, message_id = self._batch
        if knobs.kill_rate <= 0 or receives > knobs.kill_max_receives or not self.chaos.draw(knobs.kill_rate):
            return
        self.chaos.record(
            "kill",
            function=self.function,
            operation=operation,
            write=self.writes,
            receive_count=receives,
            message_id=message_id,
        )
        self.exit(KILL_EXIT_STATUS)

    def install(self) -> None:
        """Register ``after_call`` on every DynamoDB client created from now on (any botocore session)."""
        import botocore.session

        original = botocore.session.Session.create_client
        if getattr(original, "_local_chaos", False):
            return
        hook = self

        def create_client(session: Any, service_name: str, *args: Any, **kwargs: Any) -> Any:
            client = original(session, service_name, *args, **kwargs)
            if service_name == "dynamodb":
                client.meta.events.register("after-call.dynamodb", hook.after_call, unique_id="local-chaos")
            return client

        create_client._local_chaos = True  # type: ignore[attr-defined]
        botocore.session.Session.create_client = create_client  # type: ignore[method-assign,assignment]


def install_worker(function: str) -> WorkerChaos:
    """The worker bootstrap's entry point (only when ``enabled()``)."""
    worker = WorkerChaos(function)
    worker.install()
    return worker


# ------------------------------------------------------------------------------------------- for tests


def counts(path: str | Path) -> dict[str, int]:
    """Faults injected so far, from the fault log: {"kills": n, "duplicates": m}."""
    result = {"kills": 0, "duplicates": 0}
    try:
        lines = Path(path).read_text().splitlines()
    except FileNotFoundError:
        return result
    for line in lines:
        try:
            fault = json.loads(line).get("fault")
        except ValueError:
            continue  # a line being written
        if fault == "kill":
            result["kills"] += 1
        elif fault == "duplicate":
            result["duplicates"] += 1
    return result


def configure(path: str | Path, **knobs: Any) -> None:
    """Write the chaos file atomically (the stack and its workers pick it up on their next check)."""
    target = Path(path)
    temporary = target.with_name(target.name + ".tmp")
    temporary.write_text(json.dumps(knobs, sort_keys=True))
    temporary.replace(target)
