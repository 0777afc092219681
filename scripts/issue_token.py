"""Print a new bearer token for a tenant (creating the tenant if needed) as the last line.

python scripts/issue_token.py TENANT                  # against the running local stack (.local/stack.json)
python scripts/issue_token.py TENANT --stack NAME     # against a deployed stack (AWS credentials from the environment)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]

from local.seed import dynamodb_client  # noqa: E402
from scripts.stack_target import target  # noqa: E402
from walmart_integration.errors import ValidationFailed  # noqa: E402
from walmart_integration.services.auth import AuthService  # noqa: E402
from walmart_integration.store.tenants import TenantRepository  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tenant")
    parser.add_argument("--stack", help="name of a deployed CloudFormation stack (default: the local stack)")
    parser.add_argument("--region", help="AWS region of the deployed stack")
    args = parser.parse_args()
    table, env = target(args.stack, args.region)
    repository = TenantRepository(table, env.get("AWS_DEFAULT_REGION", "us-east-1"), dynamodb_client(env))
    try:
        token = AuthService(repository).issue_token(args.tenant)
    except ValidationFailed as error:
        sys.exit(str(error))
    print(f"Bearer token for tenant {args.tenant}:", file=sys.stderr)
    print(token)


if __name__ == "__main__":
    main()
