"""Print a new bearer token for a tenant (creating the tenant if needed) as the last line, or revoke a token.

python scripts/issue_token.py TENANT                  # against the running local stack (.local/stack.json)
python scripts/issue_token.py TENANT --stack NAME     # against a deployed stack (AWS credentials from the environment)
python scripts/issue_token.py --revoke TOKEN          # revoke a token ("-": read it from stdin); --stack as above

A revoked token is refused by the authorizer at once; API Gateway may still answer from the authorizer's cached
result for a token used within the last AuthorizerCacheSeconds (template parameter, default 300).
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
from walmart_integration.services.auth import AuthService, bearer_token, hash_token  # noqa: E402
from walmart_integration.store.tenants import TenantRepository  # noqa: E402


def revoke(repository: TenantRepository, token: str) -> None:
    token = token.strip()
    if bearer_token(f"Bearer {token}") is None:
        sys.exit("That is not a bearer token of this service (wis_...).")
    record = repository.get_token(hash_token(token))
    if record is None:
        sys.exit("Unknown token: nothing revoked.")
    if not record.revoked:
        AuthService(repository).revoke(token)
    print(
        f"Revoked a token of tenant {record.tenant_id}: it stops working within AuthorizerCacheSeconds "
        "(API Gateway's cached answer), at once if it was not used within that time.",
        file=sys.stderr,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("tenant", nargs="?", help="the tenant to issue a token for")
    parser.add_argument("--revoke", metavar="TOKEN", help='revoke this token instead ("-": read it from stdin)')
    parser.add_argument("--stack", help="name of a deployed CloudFormation stack (default: the local stack)")
    parser.add_argument("--region", help="AWS region of the deployed stack")
    args = parser.parse_args()
    if (args.tenant is None) == (args.revoke is None):
        parser.error("give either a TENANT or --revoke TOKEN")
    table, env = target(args.stack, args.region)
    repository = TenantRepository(table, env.get("AWS_DEFAULT_REGION", "us-east-1"), dynamodb_client(env))
    if args.revoke is not None:
        revoke(repository, sys.stdin.readline() if args.revoke == "-" else args.revoke)
        return
    try:
        token = AuthService(repository).issue_token(args.tenant)
    except ValidationFailed as error:
        sys.exit(str(error))
    print(f"Bearer token for tenant {args.tenant}:", file=sys.stderr)
    print(token)


if __name__ == "__main__":
    main()
