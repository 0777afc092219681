"""``python -m local``: the whole service in the foreground; prints ``READY api=... token=...`` when serving.

Environment: API_PORT (3000; 0 = free port), APP_ENV (local), WALMART_MARKETPLACE_URL, WALMART_ADS_URL,
LOCAL_SCHEDULE_SECONDS (60), LOCAL_RETRY_SECONDS (2), LOCAL_LOG_LEVEL (INFO), LOCAL_STATE_FILE (.local/stack.json:
api_url, aws_endpoint_url, region, emulator_url, function_env of the API function), LOCAL_PARAMETERS (template
parameter overrides as ``sam deploy --parameter-overrides`` takes them: ``AuthorizerCacheSeconds=2 LogLevel=DEBUG``).
Logs go to stderr.
Ctrl-C or SIGTERM stops everything (function processes included).
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import time
from types import FrameType


def _configure_logging() -> None:
    level = os.environ.get("LOCAL_LOG_LEVEL", "INFO").upper()
    logging.basicConfig(
        stream=sys.stderr,
        level=level,
        format="%(asctime)s.%(msecs)03d %(levelname)-5s %(name)s: %(message)s",
        datefmt="%H:%M:%S",
    )
    for noisy in ("botocore", "boto3", "urllib3", "werkzeug", "moto", "httpx"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def _parameters(raw: str) -> dict[str, str]:
    """``Name=Value Name2=Value2`` (shell-quoted values allowed) as a dict."""
    import shlex

    pairs = [word.partition("=") for word in shlex.split(raw)]
    bad = [name for name, equals, _ in pairs if not name or not equals]
    if bad:
        raise SystemExit(f"LOCAL_PARAMETERS: expected Name=Value pairs, got {' '.join(bad)!r}")
    return {name: value for name, _, value in pairs}


def _stop(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main() -> int:
    began = time.monotonic()
    _configure_logging()
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)  # even when started with SIGINT ignored (background jobs)
    import warnings

    warnings.filterwarnings("ignore")  # moto/botocore deprecation chatter

    from local.stack import DEFAULT_STATE_FILE, LocalStack

    stack = LocalStack(
        state_file=os.environ.get("LOCAL_STATE_FILE") or DEFAULT_STATE_FILE,
        parameters=_parameters(os.environ.get("LOCAL_PARAMETERS", "")),
    )
    unknown = sorted(set(stack.extra_parameters) - set(stack.template.parameters))
    if unknown:
        raise SystemExit(f"LOCAL_PARAMETERS: {', '.join(unknown)} not a parameter of {stack.template.path.name}")
    try:
        stack.start()
        logging.getLogger("local").info("startup took %.1f s (process start to READY)", time.monotonic() - began)
        print(f"READY api={stack.api_url} token={stack.token}", flush=True)
        threading.Event().wait()
    except KeyboardInterrupt:
        logging.getLogger("local").info("stopping")
    except Exception:
        logging.getLogger("local").exception("the local stack failed")
        return 1
    finally:
        stack.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
