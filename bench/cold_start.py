"""Cold start: median time to import each function's handler in a fresh interpreter, as a ratio to
the floor `import boto3; boto3.client("dynamodb")` measured in the same run."""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LAYER = ROOT / "layers" / "shared"
FLOOR = 'import boto3; boto3.client("dynamodb")'
TARGET_RATIO = 1.25

# What a deployed function's environment looks like (no endpoint is contacted by an import).
ENV = {
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "APP_ENV": "dev",
    "APP_TABLE_NAME": "app",
    "DATA_TABLE_NAME": "data",
    "IDEMPOTENCY_TABLE_NAME": "idempotency",
    "TOKEN_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/token",
    "LOCATIONS_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/locations",
    "SYNC_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/sync",
    "BACKFILL_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/backfill",
    "SECRETS_KEY_ID": "00000000-0000-0000-0000-000000000000",
    "POWERTOOLS_METRICS_NAMESPACE": "WalmartIntegration",
}

_PROBE = """
import sys, time
start = time.perf_counter()
{statement}
print(time.perf_counter() - start)
"""


def _time(statement: str, function: str | None) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "PYTHONPATH"))}
    env.update(ENV)
    paths = [str(LAYER)] + ([str(ROOT / "functions" / function)] if function else [])
    env["PYTHONPATH"] = os.pathsep.join(paths)
    env["POWERTOOLS_SERVICE_NAME"] = function or "floor"
    output = subprocess.run(
        [sys.executable, "-c", _PROBE.format(statement=statement)],
        env=env,
        cwd=str(ROOT),
        capture_output=True,
        text=True,
        check=True,
    )
    return float(output.stdout.strip().splitlines()[-1])


def functions() -> list[str]:
    return sorted(p.name for p in (ROOT / "functions").iterdir() if (p / "app.py").exists())


def run(repeats: int = 7) -> dict[str, object]:
    names = functions()
    samples: dict[str, list[float]] = {name: [] for name in ["floor", *names]}
    for _ in range(repeats):  # interleaved, so drift on a busy machine hits every function alike
        samples["floor"].append(_time(FLOOR, None))
        for name in names:
            samples[name].append(_time("import app", name))
    floor = statistics.median(samples["floor"])
    result = {
        name: {
            "median_ms": round(statistics.median(samples[name]) * 1000, 1),
            "ratio_to_floor": round(statistics.median(samples[name]) / floor, 2),
        }
        for name in names
    }
    return {
        "floor_ms": round(floor * 1000, 1),
        "floor": FLOOR,
        "repeats": repeats,
        "target_ratio": TARGET_RATIO,
        "functions": result,
        "all_within_target": all(r["ratio_to_floor"] <= TARGET_RATIO for r in result.values()),
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
