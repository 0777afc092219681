"""The whole service on one machine, without Docker or an AWS account, driven by template.yaml.

    with LocalStack(api_port=0) as stack:
        stack.api_url, stack.token, stack.emulator, stack.aws_endpoint_url

Starts: a moto server with the template's plain resources (through moto's CloudFormation), the Walmart
emulator (unless both Walmart URLs are given), one Lambda-like runtime per function, the demo data
(``local.seed.seed_demo``), the API gateway, an SQS poller per SQS event and a timer per Schedule event.

Settings (constructor argument, else environment variable, else default):
    api_port          API_PORT                 3000 (0 = a free port)
    app_env           APP_ENV                  local  (the Stage parameter -> APP_ENV of every function)
    marketplace_url   WALMART_MARKETPLACE_URL  the emulator (WalmartSandboxUrl and WalmartProductionUrl; token endpoint
                                               at /v3/token)
    authorize_url     WALMART_AUTHORIZE_URL    the emulator's consent page <emulator>/authorize (WalmartAuthorizeUrl);
                                               Walmart's default when WALMART_MARKETPLACE_URL is set
    ads_url           WALMART_ADS_URL          the emulator (WalmartAdsUrl)
    schedule_seconds  LOCAL_SCHEDULE_SECONDS   60  (how often every Schedule event fires; also once at start)
    retry_seconds     LOCAL_RETRY_SECONDS      2   (visibility of a batch whose invocation failed or crashed)
    -                 ADS_POLL_INITIAL_SECONDS 2   (first snapshot poll; functions get it, deployed default 30)
    -                 ADS_POLL_MAX_SECONDS     10  (longest wait between polls; deployed default 120)
    -                 ADS_DISCOVERY_MIN_INTERVAL_SECONDS 5 (a refresh asked for sooner joins the last; deployed 300)
    -                 ADS_THROTTLE_SECONDS 600 (how long a Walmart Connect 429 defers the work)
    -                 TOKEN_REFRESH_MARGIN_SECONDS 60 (how early an access token is renewed)
    -                 LOCAL_CHAOS_*            chaos knobs, off by default: see local/chaos.py
Walmart Connect partner credentials: see local/partner.py. Our Walmart app's credentials (sellers authorize it):
WALMART_APP_CLIENT_ID and WALMART_APP_CLIENT_SECRET with WALMART_MARKETPLACE_URL, else made for the emulator: see
local/marketplace_app.py.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import threading
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, Self

from local import chaos
from local.aws import LocalAws, function_name
from local.chaos import Chaos
from local.gateway import ApiConfig, Gateway, api_config
from local.pollers import SqsPoller
from local.runtime import FunctionConfig, FunctionRuntime, InvocationResult
from local.schedules import Schedule
from local.template import ACCOUNT_ID, REGION, Resolver, Template, TemplateError, load_template

log = logging.getLogger("local.stack")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_TEMPLATE = ROOT / "template.yaml"
DEFAULT_STATE_FILE = ROOT / ".local" / "stack.json"

API_CONCURRENCY = 4  # worker processes of a function behind the API (and of an authorizer)
WARM_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 3.0  # schedules and pollers, all together

_stack_names: set[str] = set()
_stack_names_lock = threading.Lock()


def _setting(value: Any, env: Mapping[str, str], name: str, default: Any) -> Any:
    if value is not None:
        return value
    raw = env.get(name)
    return raw if raw not in (None, "") else default


def _unique_stack_name(base: str) -> str:
    """moto's state is per process: a second stack in the same process gets its own resource names."""
    with _stack_names_lock:
        name, counter = base, 1
        while name in _stack_names:
            counter += 1
            name = f"{base}-{counter}"
        _stack_names.add(name)
        return name


# Function settings that are not template parameters, with local defaults (the environment may override them).
LOCAL_FUNCTION_DEFAULTS = {
    "ADS_POLL_INITIAL_SECONDS": "2",
    "ADS_POLL_MAX_SECONDS": "10",
    "ADS_DISCOVERY_MIN_INTERVAL_SECONDS": "5",
    "ADS_THROTTLE_SECONDS": "600",
    "TOKEN_REFRESH_MARGIN_SECONDS": "60",  # as deployed; a benchmark with short-lived tokens scales it down
}


class LocalStack:
    def __init__(
        self,
        *,
        template_path: str | Path | None = None,
        api_port: int | None = None,
        app_env: str | None = None,
        marketplace_url: str | None = None,
        ads_url: str | None = None,
        authorize_url: str | None = None,
        schedule_seconds: float | None = None,
        retry_seconds: int | None = None,
        parameters: Mapping[str, str] | None = None,
        stack_name: str | None = None,
        seed: bool | Callable[[dict[str, str]], str] = True,
        schedules: bool = True,
        warm: bool = True,
        emulator_seed: int = 0,
        state_file: str | Path | None = None,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        env = os.environ if environ is None else environ
        self.template: Template = load_template(template_path or DEFAULT_TEMPLATE)
        self.api_port = int(_setting(api_port, env, "API_PORT", 3000))
        self.app_env = str(_setting(app_env, env, "APP_ENV", "local"))
        self.marketplace_url: str | None = _setting(marketplace_url, env, "WALMART_MARKETPLACE_URL", None)
        self.ads_url: str | None = _setting(ads_url, env, "WALMART_ADS_URL", None)
        self.authorize_url: str | None = _setting(authorize_url, env, "WALMART_AUTHORIZE_URL", None)
        self.app_env_vars = {
            name: env[name] for name in ("WALMART_APP_CLIENT_ID", "WALMART_APP_CLIENT_SECRET") if name in env
        }
        self.schedule_seconds = float(_setting(schedule_seconds, env, "LOCAL_SCHEDULE_SECONDS", 60))
        self.retry_seconds = int(_setting(retry_seconds, env, "LOCAL_RETRY_SECONDS", 2))
        # Snapshot polls: Walmart's reports take minutes, the emulator's are ready at once (unless told otherwise).
        self.function_overrides = {
            name: str(env.get(name) or default) for name, default in LOCAL_FUNCTION_DEFAULTS.items()
        }
        self.extra_parameters = dict(parameters or {})
        self.stack_name = _unique_stack_name(stack_name or f"walmart-integration-{self.app_env}")
        self.seed_option = seed
        self.schedules_enabled = schedules
        self.warm_enabled = warm
        self.emulator_seed = emulator_seed
        self.state_file = Path(state_file) if state_file else None
        self.region = REGION
        self.account_id = ACCOUNT_ID

        self.emulator: Any = None
        self.emulator_url: str | None = None
        self.marketplace_app: Any = None  # local.marketplace_app.MarketplaceApp, when the stack has one
        self.aws = LocalAws(self.template, stack_name=self.stack_name, region=self.region)
        self.aws_endpoint_url = ""
        self.parameters: dict[str, Any] = {}
        self.resolver: Resolver | None = None
        self.api: ApiConfig | None = None
        self.runtimes: dict[str, FunctionRuntime] = {}
        self.gateway: Gateway | None = None
        self.pollers: list[SqsPoller] = []
        self.chaos = Chaos(env) if chaos.enabled(env) else None
        self.schedules: list[Schedule] = []
        self.api_url = ""
        self.token = ""
        self.startup_seconds = 0.0
        self._started = False
        self._closed = False

    # -- lifecycle ----------------------------------------------------------------------------------------

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def start(self) -> Self:
        if self._started:
            return self
        self._started = True
        began = time.monotonic()
        try:
            self._start()
        except BaseException:
            self.close()
            raise
        self.startup_seconds = time.monotonic() - began
        log.info("local stack ready in %.1f s", self.startup_seconds)
        return self

    def _start(self) -> None:
        step = time.monotonic()
        self.aws_endpoint_url = self.aws.start()
        if not (self.marketplace_url and self.ads_url):
            from local.emulator import Emulator

            self.emulator = Emulator(seed=self.emulator_seed)
            self.emulator_url = self.emulator.start(host="127.0.0.1", port=0)
        log.info("moto %s, emulator %s (%.1f s)", self.aws_endpoint_url, self.emulator_url or "-", _since(step))

        step = time.monotonic()
        self.parameters = self.template.parameter_values(self._parameter_overrides())
        # SAM's transform puts some parameter values in its output (the authorizer's cache time): run it with them.
        self.template = self.aws.template = load_template(self.template.path, self.parameters)
        self.aws.create_resources(self.parameters)
        self._install_partner()
        self._install_marketplace_app()
        self.resolver = self.aws.resolver(self.parameters)
        self.api = api_config(self.template, resolve=self.resolver.resolve)
        log.info(
            "created %d resources from %s (%.1f s)", len(self.aws.resources), self.template.path.name, _since(step)
        )

        self._build_runtimes()
        warming: list[threading.Thread] = []
        if self.warm_enabled:  # the API's functions: the first requests should not pay a cold start
            for name in sorted(self.api.functions() if self.api else ()):
                warming += self.runtimes[name].warm(1)

        step = time.monotonic()
        self.token = self._seed()
        self._build_gateway()
        self._allow_callback()
        self._build_pollers()
        for poller in self.pollers:
            poller.start()
        deadline = time.monotonic() + WARM_TIMEOUT_SECONDS
        for thread in warming:
            thread.join(max(0.0, deadline - time.monotonic()))
        log.info("api %s, %d poller(s), functions warm (%.1f s)", self.api_url, len(self.pollers), _since(step))
        if self.state_file:
            self._write_state()
        if self.schedules_enabled:
            self._build_schedules()
            for schedule in self.schedules:
                schedule.start(fire_now=True)

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for schedule in self.schedules:
            schedule._stop.set()
        for poller in self.pollers:
            poller._stop.set()
        if self.gateway is not None:
            with contextlib.suppress(Exception):
                self.gateway.stop()
        for runtime in self.runtimes.values():
            runtime.close()
        # Every loop was told to stop above; they are daemon threads, so one short wait for all of them is enough
        # (a poller may sit in a long poll of SQS).
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for schedule in self.schedules:
            schedule.stop(timeout=max(0.0, deadline - time.monotonic()))
        for poller in self.pollers:
            poller.stop(timeout=max(0.0, deadline - time.monotonic()))
        if self.emulator is not None:
            with contextlib.suppress(Exception):
                self.emulator.stop()
        self.aws.stop()
        if self.state_file and self.state_file.exists():
            with contextlib.suppress(OSError):
                self.state_file.unlink()

    # -- queries --------------------------------------------------------------------------------------------

    def invoke(self, function: str, event: dict[str, Any]) -> InvocationResult:
        """Invoke a function (template logical id) like ``aws lambda invoke`` would."""
        return self.runtimes[function].invoke(event)

    def function_env(self, function: str) -> dict[str, str]:
        """The environment of a function as its process sees it (Lambda's own variables aside)."""
        config = self.runtimes[function].config
        return {**config.env, "AWS_LAMBDA_FUNCTION_NAME": config.function_name}

    def client(self, service: str) -> Any:
        """A boto3 client for the embedded AWS."""
        return self.aws.client(service)

    def physical_id(self, logical_id: str, attribute: str | None = None) -> str:
        """Ref (or GetAtt ``attribute``) of a template resource, e.g. ``stack.physical_id("TokenQueue")``."""
        return str(self.aws.lookup(logical_id, attribute))

    # -- building blocks ------------------------------------------------------------------------------------

    def _parameter_overrides(self) -> dict[str, str]:
        marketplace = self.marketplace_url or self.emulator_url or ""
        ads = self.ads_url or self.emulator_url or ""
        # The emulator plays Walmart's authorize page too, unless a real Walmart is used.
        authorize = self.authorize_url or ("" if self.marketplace_url else f"{self.emulator_url}/authorize")
        overrides = {
            "Stage": self.app_env,
            "WalmartSandboxUrl": marketplace,
            "WalmartProductionUrl": marketplace,
            "WalmartAdsUrl": ads,
            "WalmartAuthorizeUrl": authorize,
            "RetryBaseSeconds": "1",
        }
        overrides.update(self.extra_parameters)
        declared = self.template.parameters
        return {key: value for key, value in overrides.items() if key in declared and value != ""}

    def _function_concurrency(self) -> dict[str, int]:
        concurrency: dict[str, int] = dict.fromkeys(self.template.functions(), 0)
        for source in self.template.sqs_sources():
            concurrency[source.function] += source.maximum_concurrency
        for schedule in self.template.schedule_sources():
            concurrency[schedule.function] += 1
        for name in self.api.functions() if self.api else ():
            concurrency[name] += API_CONCURRENCY
        return {name: max(1, count) for name, count in concurrency.items()}

    def _install_partner(self) -> None:
        """The Walmart Connect partner secret; the built-in emulator (when it serves Connect) gets the public key
        and its demo advertisers."""
        from local.partner import install_partner

        emulator = self.emulator if self.emulator is not None and not self.ads_url else None
        secret_name = str(self.parameters.get("WalmartAdsSecretName") or "")
        if not secret_name:
            return
        install_partner(self.aws.client("secretsmanager"), secret_name, emulator, os.environ)
        if emulator is not None:
            emulator.seed_demo_advertisers()

    def _install_marketplace_app(self) -> None:
        """Our Walmart app's secret; the built-in emulator (when it serves the Marketplace) gets the app."""
        from local.marketplace_app import install_app

        emulator = self.emulator if self.emulator is not None and not self.marketplace_url else None
        secret_name = str(self.parameters.get("WalmartAppSecretName") or "")
        if secret_name:
            self.marketplace_app = install_app(
                self.aws.client("secretsmanager"), secret_name, emulator, self.app_env_vars
            )

    def _allow_callback(self) -> None:
        """The emulator's app accepts this stack's callback as its redirect URI (known once the API listens)."""
        from local.marketplace_app import CALLBACK_PATH, allow_redirect

        if self.marketplace_app is not None and self.emulator is not None and not self.marketplace_url:
            allow_redirect(self.emulator, self.marketplace_app, f"{self.api_url}{CALLBACK_PATH}")
            if "://127.0.0.1:" in self.api_url:  # the same API as a browser may name it
                local = self.api_url.replace("://127.0.0.1:", "://localhost:")
                allow_redirect(self.emulator, self.marketplace_app, f"{local}{CALLBACK_PATH}")

    def _build_runtimes(self) -> None:
        assert self.resolver is not None
        concurrency = self._function_concurrency()
        aws_env = self.aws.environment()
        for name, spec in self.template.functions().items():
            try:
                env = self.resolver.resolve_env(spec.environment)
            except TemplateError as error:
                raise TemplateError(f"{name}: environment: {error}") from error
            config = FunctionConfig(
                name=name,
                function_name=function_name(self.template, self.stack_name, name),
                handler=spec.handler,
                code_dir=str(spec.code_dir),
                layer_dirs=tuple(str(d) for d in self.template.layer_dirs(spec)),
                env={**env, **self.function_overrides, **aws_env},
                timeout=float(spec.timeout),
                memory_size=spec.memory_size,
                region=self.region,
                account_id=self.account_id,
            )
            self.runtimes[name] = FunctionRuntime(config, concurrency[name])

    def _seed(self) -> str:
        if self.seed_option is False or self.api is None:
            return ""
        api_function = self.api.routes[0].function
        env = self.function_env(api_function)
        if callable(self.seed_option):
            return str(self.seed_option(env))
        for directory in reversed(self.runtimes[api_function].config.layer_dirs):
            if directory not in sys.path:
                sys.path.insert(0, directory)
        from local.seed import seed_demo

        return str(seed_demo(env))

    def _build_gateway(self) -> None:
        if self.api is not None:
            self.gateway = Gateway(self.api, self.invoke, region=self.region, account_id=self.account_id)
            self.api_url = self.gateway.start("127.0.0.1", self.api_port)

    def _build_pollers(self) -> None:
        assert self.resolver is not None
        sqs = self.client("sqs")
        for source in self.template.sqs_sources():
            if not source.enabled or source.function not in self.runtimes:
                continue
            queue_arn = str(self.resolver.resolve(source.queue))
            self.pollers.append(
                SqsPoller(
                    function=source.function,
                    queue_url=self.aws.queue_url_for_arn(queue_arn),
                    queue_arn=queue_arn,
                    sqs=sqs,
                    invoke=self.invoke,
                    batch_size=source.batch_size,
                    maximum_concurrency=source.maximum_concurrency,
                    report_batch_item_failures=source.report_batch_item_failures,
                    batching_window_seconds=source.batching_window_seconds,
                    retry_seconds=self.retry_seconds,
                    region=self.region,
                    chaos=self.chaos,
                )
            )

    def _build_schedules(self) -> None:
        assert self.resolver is not None
        for source in self.template.schedule_sources():
            if not source.enabled or source.function not in self.runtimes:
                continue
            input_json = self.resolver.resolve(source.input) if source.input is not None else None
            self.schedules.append(
                Schedule(
                    source.function,
                    source.name or f"{self.stack_name}-{source.event}"[:64],
                    source.schedule,
                    self.invoke,
                    interval=self.schedule_seconds,
                    input_json=str(input_json) if input_json is not None else None,
                    region=self.region,
                    account_id=self.account_id,
                )
            )

    def _write_state(self) -> None:
        assert self.state_file is not None
        state = {
            "api_url": self.api_url,
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": self.region,
            "emulator_url": self.emulator_url,
            "stack_name": self.stack_name,
            "pid": os.getpid(),
            "function_env": self.function_env(self.api.routes[0].function) if self.api else {},
        }
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state, indent=2) + "\n")
        temporary.replace(self.state_file)


def _since(started: float) -> float:
    return time.monotonic() - started
