"""Lambda-like function runtimes: each function runs in its own interpreters (spawned processes).

A ``FunctionRuntime`` keeps up to ``concurrency`` worker processes ("execution environments"), started on
demand like Lambda's cold starts and reused while warm. A worker gets exactly the function's environment
(template Globals + Environment, plus what Lambda itself sets), ``sys.path = [CodeUri, layer dirs,
site-packages]``, the working directory of its code, and imports ``app`` from ``Handler`` once. Events and
results cross the process boundary as JSON, as with Lambda. A worker that dies (``os._exit``, segfault, out of
memory) or runs past the template ``Timeout`` is discarded and the invocation fails; the next one starts a new
worker. Handler exceptions come back as ``{"errorMessage", "errorType", "stackTrace"}`` and are logged.

This module is imported by every worker: keep its imports to the standard library.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
import uuid
from dataclasses import asdict, dataclass
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

log = logging.getLogger("local.runtime")

INIT_TIMEOUT_SECONDS = 60.0  # Lambda gives 10 s; a cold local interpreter on a busy machine can need more
# Interpreters starting at once, stack-wide (a cold start is CPU-bound; more only slows every one of them).
_COLD_START_PERMITS = threading.BoundedSemaphore(max(2, os.cpu_count() or 2))


@dataclass(frozen=True)
class FunctionConfig:
    """Everything a worker process needs (picklable)."""

    name: str  # template logical id
    function_name: str  # the Lambda function name
    handler: str  # "app.handler"
    code_dir: str
    layer_dirs: tuple[str, ...]
    env: dict[str, str]
    timeout: float
    memory_size: int = 512
    region: str = "us-east-1"
    account_id: str = "123456789012"

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"


@dataclass
class InvocationResult:
    """The outcome of one invocation: ``payload`` (the handler's return value) or ``error``."""

    request_id: str
    payload: Any = None
    error: dict[str, Any] | None = None
    duration_ms: float = 0.0
    init_ms: float | None = None  # set when this invocation paid a cold start
    crashed: bool = False  # the worker process died (or was killed on timeout)

    @property
    def ok(self) -> bool:
        return self.error is None


# ------------------------------------------------------------------------------------------- worker side


class LambdaContext:
    """The context object a Python Lambda handler receives."""

    def __init__(self, config: FunctionConfig, request_id: str, deadline: float) -> None:
        self.function_name = config.function_name
        self.function_version = "$LATEST"
        self.invoked_function_arn = config.arn
        self.memory_limit_in_mb = config.memory_size
        self.aws_request_id = request_id
        self.log_group_name = f"/aws/lambda/{config.function_name}"
        self.log_stream_name = f"local/[$LATEST]{uuid.uuid4().hex}"
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def lambda_environment(config: FunctionConfig) -> dict[str, str]:
    """The function's variables plus what the Lambda service sets for every function."""
    return {
        "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
        "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_size),
        "AWS_LAMBDA_FUNCTION_TIMEOUT": str(int(config.timeout)),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
        "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
        "AWS_EXECUTION_ENV": "AWS_Lambda_python3.11",
        "AWS_REGION": config.region,
        "AWS_DEFAULT_REGION": config.region,
        "LAMBDA_TASK_ROOT": config.code_dir,
        "LAMBDA_RUNTIME_DIR": str(Path(sys.executable).parent),
        "_HANDLER": config.handler,
        "TZ": "UTC",
        **config.env,
    }


def _error(exc: BaseException) -> dict[str, Any]:
    return {
        "errorMessage": str(exc),
        "errorType": type(exc).__name__,
        "stackTrace": traceback.format_tb(exc.__traceback__),
    }


def _worker_main(fd: int) -> None:
    """Entry point of a worker process: init (import the handler), then serve invocations until told to stop.

    Started as ``python -I -u -c BOOTSTRAP <this file> <fd>`` with the function's environment, stdout on the
    stack's stderr, and a socket ``fd`` to the stack. The first message is the ``FunctionConfig`` (as a dict).
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the stack's to handle; it stops us cleanly
    conn = Connection(fd)
    config = FunctionConfig(**conn.recv())
    sys.argv = ["bootstrap"]
    sys.path[:0] = [config.code_dir, *config.layer_dirs]
    with contextlib.suppress(AttributeError):
        time.tzset()

    chaos = _worker_chaos(config.name)
    started = time.monotonic()
    module_name, _, function_name = config.handler.rpartition(".")
    try:
        import importlib

        module = importlib.import_module(module_name)
        handler = getattr(module, function_name)
    except BaseException as exc:
        error = _error(exc)
        error["errorType"] = f"Runtime.ImportModuleError: {error['errorType']}"
        print(f"[{config.name}] init failed:\n{traceback.format_exc()}", file=sys.stderr, flush=True)
        with contextlib.suppress(Exception):
            conn.send(("init_error", error))
        return
    conn.send(("ready", (time.monotonic() - started) * 1000))

    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return  # the stack went away
        if message is None:
            return
        request_id, event_json = message
        context = LambdaContext(config, request_id, time.monotonic() + config.timeout)
        reply: tuple[str, Any]
        try:
            event = json.loads(event_json)
            if chaos is not None:
                chaos.begin(event)
            result = handler(event, context)
            try:
                reply = ("ok", json.dumps(result))
            except (TypeError, ValueError) as exc:
                reply = (
                    "error",
                    {"errorMessage": f"Unable to marshal response: {exc}", "errorType": "Runtime.MarshalError"},
                )
        except Exception as exc:
            if str(exc) == "Unauthorized":  # an authorizer's way of saying 401: not a failure worth a traceback
                print(f"[{config.name}] {request_id} raised Unauthorized", file=sys.stderr, flush=True)
            else:
                print(
                    f"[{config.name}] {request_id} handler raised:\n{traceback.format_exc()}",
                    file=sys.stderr,
                    flush=True,
                )
            reply = ("error", _error(exc))
        finally:
            if chaos is not None:
                chaos.end()
        conn.send(reply)


def _worker_chaos(function: str) -> Any:
    """local/chaos.py's worker hook (kills after DynamoDB writes) when a LOCAL_CHAOS_* setting is given, else None.

    Loaded by path, as this module is: the worker's ``sys.path`` is the function's, without ``local``."""
    if not any(name.startswith("LOCAL_CHAOS_") and value for name, value in os.environ.items()):
        return None
    import importlib.util

    spec = importlib.util.spec_from_file_location("_local_chaos", Path(__file__).with_name("chaos.py"))
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.install_worker(function)


_BOOTSTRAP = (
    "import importlib.util, sys\n"
    "spec = importlib.util.spec_from_file_location('_local_lambda_runtime', sys.argv[1])\n"
    "module = importlib.util.module_from_spec(spec)\n"
    "sys.modules[spec.name] = module\n"
    "spec.loader.exec_module(module)\n"
    "module._worker_main(int(sys.argv[2]))\n"
)

# What a worker inherits from the stack's own environment (the rest is the function's, as on Lambda).
_INHERITED = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "SYSTEMROOT")


def worker_environment(config: FunctionConfig) -> dict[str, str]:
    base = {name: os.environ[name] for name in _INHERITED if name in os.environ}
    base.setdefault("LANG", "C.UTF-8")
    base.update({name: value for name, value in os.environ.items() if name.startswith("LOCAL_CHAOS_")})  # chaos.py
    return {**base, **lambda_environment(config)}


# ------------------------------------------------------------------------------------------- parent side


class _Process:
    """A worker interpreter (``subprocess.Popen``) with the few ``multiprocessing.Process`` verbs used here."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self.popen = popen

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def exitcode(self) -> int | None:
        return self.popen.poll()

    def is_alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            self.popen.kill()

    def join(self, timeout: float) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(timeout)


@dataclass
class _Worker:
    process: _Process
    conn: Connection
    init_ms: float
    invocations: int = 0


class FunctionRuntime:
    """Up to ``concurrency`` warm worker processes for one function; ``invoke`` blocks for a free one."""

    def __init__(self, config: FunctionConfig, concurrency: int) -> None:
        self.config = config
        self.concurrency = max(1, concurrency)
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._idle: list[_Worker] = []
        self._workers: dict[int, _Worker] = {}
        self._lock = threading.Lock()
        self._idle_ready = threading.Condition(self._lock)
        self._closed = False

    @property
    def name(self) -> str:
        return self.config.name

    # -- public --------------------------------------------------------------------------------------------

    def invoke(self, event: Any, *, request_id: str | None = None) -> InvocationResult:
        """Run the handler on ``event`` in a worker process (a cold one if none is idle)."""
        request_id = request_id or str(uuid.uuid4())
        if self._closed:
            return InvocationResult(request_id, error={"errorType": "Runtime.Shutdown", "errorMessage": "stopped"})
        self._slots.acquire()
        try:
            return self._invoke(event, request_id)
        finally:
            self._slots.release()

    def warm(self, count: int = 1) -> list[threading.Thread]:
        """Start up to ``count`` workers now (in the background) so the first invocations are warm."""

        def start_one() -> None:
            if not self._slots.acquire(blocking=False):
                return
            try:
                with _COLD_START_PERMITS:
                    worker = self._start_worker()
                self._release(worker)
            except _InitError as error:
                log.error("%s: init failed: %s", self.name, error)
            except Exception:
                log.exception("%s: warm-up failed", self.name)
            finally:
                self._slots.release()

        threads = [
            threading.Thread(target=start_one, name=f"warm-{self.name}", daemon=True)
            for _ in range(min(count, self.concurrency))
        ]
        for thread in threads:
            thread.start()
        return threads

    def close(self, timeout: float = 2.0) -> None:
        """Stop every worker: idle ones are asked to exit, busy ones are killed."""
        with self._lock:
            self._closed = True
            workers = list(self._workers.values())
            idle = list(self._idle)
            self._idle.clear()
        for worker in idle:
            with contextlib.suppress(Exception):
                worker.conn.send(None)
        deadline = time.monotonic() + timeout
        idle_ids = {id(worker) for worker in idle}
        for worker in workers:
            if id(worker) in idle_ids:
                worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join(1.0)
            with contextlib.suppress(Exception):
                worker.conn.close()
        with self._lock:
            self._workers.clear()

    # -- internals ------------------------------------------------------------------------------------------

    def _acquire_worker(self) -> tuple[_Worker | None, InvocationResult | None]:
        """An idle worker, else a new one. Cold starts are CPU-bound: at most ``COLD_START_PERMITS`` run at a
        time across the stack, and a worker of this function that turns idle meanwhile is taken instead (a
        burst on a small machine then starts fewer interpreters; the concurrency limit is the same)."""
        while True:
            with self._idle_ready:
                while self._idle:
                    worker = self._idle.pop()
                    if worker.process.is_alive():
                        return worker, None
                    self._discard(worker)
                if self._closed:
                    error = {"errorType": "Runtime.Shutdown", "errorMessage": "the stack is stopping"}
                    return None, InvocationResult("", error=error)
                if not _COLD_START_PERMITS.acquire(blocking=False):
                    self._idle_ready.wait(0.05)
                    continue
            try:
                return self._start_worker(), None
            except _InitError as exc:
                return None, InvocationResult("", error=exc.error, crashed=exc.crashed)
            finally:
                _COLD_START_PERMITS.release()

    def _start_worker(self) -> _Worker:
        parent_sock, child_sock = socket.socketpair()
        parent_conn = Connection(parent_sock.detach())
        started = time.monotonic()
        try:
            popen = subprocess.Popen(
                [sys.executable, "-I", "-u", "-c", _BOOTSTRAP, str(Path(__file__).resolve()), str(child_sock.fileno())],
                env=worker_environment(self.config),
                cwd=self.config.code_dir,
                stdin=subprocess.DEVNULL,
                stdout=2,  # function output goes to the stack's stderr, like CloudWatch Logs
                pass_fds=(child_sock.fileno(),),
                start_new_session=True,  # Ctrl-C reaches the stack only; it stops its workers itself
            )
        finally:
            child_sock.close()
        process = _Process(popen)
        try:
            return self._await_init(process, parent_conn, started)
        except BaseException:
            parent_conn.close()
            if process.is_alive():
                process.kill()
                process.join(1.0)
            raise

    def _await_init(self, process: _Process, parent_conn: Connection, started: float) -> _Worker:
        parent_conn.send(asdict(self.config))
        if not parent_conn.poll(INIT_TIMEOUT_SECONDS):
            process.kill()
            process.join(1.0)
            raise _InitError({"errorType": "Runtime.InitTimeout", "errorMessage": "init timed out"}, crashed=True)
        try:
            kind, payload = parent_conn.recv()
        except (EOFError, OSError) as exc:
            process.join(1.0)
            raise _InitError(
                {"errorType": "Runtime.ExitError", "errorMessage": f"exited during init (code {process.exitcode})"},
                crashed=True,
            ) from exc
        if kind != "ready":
            process.join(1.0)
            raise _InitError(payload, crashed=False)
        worker = _Worker(process, parent_conn, (time.monotonic() - started) * 1000)
        with self._lock:
            closed = self._closed
            if not closed:
                self._workers[id(worker)] = worker
        if closed:  # stopped while this one was starting: it must not outlive the stack
            process.kill()
            process.join(1.0)
            raise _InitError({"errorType": "Runtime.Shutdown", "errorMessage": "the stack is stopping"}, crashed=False)
        log.debug("%s: cold start in %.0f ms (pid %s)", self.name, worker.init_ms, process.pid)
        return worker

    def _release(self, worker: _Worker) -> None:
        with self._idle_ready:
            if self._closed:
                closing = True
            else:
                closing = False
                self._idle.append(worker)
                self._idle_ready.notify()
        if closing:
            with contextlib.suppress(Exception):
                worker.conn.send(None)

    def _discard(self, worker: _Worker) -> None:
        """Forget a dead or killed worker (caller may hold the lock)."""
        self._workers.pop(id(worker), None)
        with contextlib.suppress(Exception):
            worker.conn.close()

    def _invoke(self, event: Any, request_id: str) -> InvocationResult:
        started = time.monotonic()
        worker, failure = self._acquire_worker()
        if worker is None:
            assert failure is not None
            failure.request_id = request_id
            failure.duration_ms = (time.monotonic() - started) * 1000
            log.error("%s %s: init failed: %s", self.name, request_id, (failure.error or {}).get("errorMessage"))
            return failure
        cold = worker.invocations == 0
        worker.invocations += 1
        result = InvocationResult(request_id, init_ms=worker.init_ms if cold else None)
        try:
            worker.conn.send((request_id, json.dumps(event)))
            if not worker.conn.poll(self.config.timeout):
                worker.process.kill()
                worker.process.join(1.0)
                raise _Crash("Sandbox.Timedout", f"Task timed out after {self.config.timeout:.2f} seconds")
            kind, payload = worker.conn.recv()
        except _Crash as crash:
            result.error, result.crashed = {"errorType": crash.error_type, "errorMessage": str(crash)}, True
        except (EOFError, OSError, BrokenPipeError):
            worker.process.join(1.0)
            code = worker.process.exitcode
            result.error = {
                "errorType": "Runtime.ExitError",
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
            }
            result.crashed = True
        else:
            if kind == "ok":
                result.payload = json.loads(payload)
            else:
                result.error = payload
        result.duration_ms = (time.monotonic() - started) * 1000
        if result.crashed:
            log.log(
                logging.DEBUG if self._closed else logging.ERROR,
                "%s %s: %s (worker replaced)",
                self.name,
                request_id,
                (result.error or {}).get("errorMessage"),
            )
            with self._lock:
                self._discard(worker)
        else:
            self._release(worker)
        return result


class _InitError(Exception):
    def __init__(self, error: dict[str, Any], *, crashed: bool) -> None:
        super().__init__(error.get("errorMessage"))
        self.error = error
        self.crashed = crashed


class _Crash(Exception):
    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
