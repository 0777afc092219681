"""Print a new bearer token for a tenant (creating the tenant if needed) as the last line.

python scripts/issue_token.py TENANT                  # against the running local stack (.local/stack.json)
python scripts/issue_token.py TENANT --stack NAME     # against a deployed stack (AWS credentials from the environment)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]

from local.seed import dynamodb_client  # noqa: E402
from walmart_integration.errors import ValidationFailed  # noqa: E402
from walmart_integration.services.auth import AuthService  # noqa: E402
from walmart_integration.store.tenants import TenantRepository  # noqa: E402


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tenant")
    parser.add_argument("--stack", help="name of a deployed CloudFormation stack (default: the local stack)")
    parser.add_argument("--region", help="AWS region of the deployed stack")
    args = parser.parse_args()
    table, env = deployed_target(args.stack, args.region) if args.stack else local_target()
    repository = TenantRepository(table, env.get("AWS_DEFAULT_REGION", "us-east-1"), dynamodb_client(env))
    try:
        token = AuthService(repository).issue_token(args.tenant)
    except ValidationFailed as error:
        sys.exit(str(error))
    print(f"Bearer token for tenant {args.tenant}:", file=sys.stderr)
    print(token)


if __name__ == "__main__":
    main()
