"""Where the operator scripts act: the running local stack (.local/stack.json) or a deployed stack."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def local_target() -> tuple[str, dict[str, str]]:
    state_file = Path(os.environ.get("LOCAL_STATE_FILE") or ROOT / ".local" / "stack.json")
    if not state_file.exists():
        sys.exit("The local stack is not running (no .local/stack.json): start it with `make run`, or pass --stack.")
    state = json.loads(state_file.read_text())
    env = {k: str(v) for k, v in (state.get("function_env") or {}).items()}
    env.setdefault("AWS_ENDPOINT_URL", state["aws_endpoint_url"])
    env.setdefault("AWS_DEFAULT_REGION", state.get("region", "us-east-1"))
    env.setdefault("AWS_ACCESS_KEY_ID", "testing")
    env.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    return env["APP_TABLE_NAME"], env


def deployed_target(stack: str, region: str | None) -> tuple[str, dict[str, str]]:
    import boto3

    cloudformation = boto3.client("cloudformation", region_name=region)
    outputs = cloudformation.describe_stacks(StackName=stack)["Stacks"][0].get("Outputs", [])
    table = next((o["OutputValue"] for o in outputs if o["OutputKey"] == "AppTableName"), None)
    if not table:
        sys.exit(f"Stack {stack} has no AppTableName output.")
    return table, {"AWS_DEFAULT_REGION": region or cloudformation.meta.region_name}


def target(stack: str | None, region: str | None) -> tuple[str, dict[str, str]]:
    """(app table name, environment for the AWS clients) of a deployed stack, or of the local one."""
    return deployed_target(stack, region) if stack else local_target()
