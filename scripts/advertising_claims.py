"""Advertising profiles that wait for an operator, and the operator's decisions.

A profile is assigned to a tenant automatically when exactly one tenant claims the advertiser under the name Walmart
shows. A contested claim (several tenants) or a mismatched name waits here:

python scripts/advertising_claims.py list                          # what waits, with every claim
python scripts/advertising_claims.py assign ADVERTISER_ID TENANT   # give the profile to TENANT; other claims rejected
python scripts/advertising_claims.py reject ADVERTISER_ID TENANT   # refuse TENANT's claim; the others are re-applied
Add --stack NAME [--region R] to act on a deployed stack (AWS credentials from the environment).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "layers" / "shared")]

from local.seed import dynamodb_client  # noqa: E402
from scripts.stack_target import target  # noqa: E402
from walmart_integration.errors import DomainError  # noqa: E402
from walmart_integration.services.profile_discovery import ProfileAssignment  # noqa: E402
from walmart_integration.store.advertising import AdvertisingRepository  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["list", "assign", "reject"])
    parser.add_argument("advertiser_id", nargs="?")
    parser.add_argument("tenant", nargs="?")
    parser.add_argument("--stack", help="name of a deployed CloudFormation stack (default: the local stack)")
    parser.add_argument("--region", help="AWS region of the deployed stack")
    args = parser.parse_args(argv)
    table, env = target(args.stack, args.region)
    repo = AdvertisingRepository(table, env.get("AWS_DEFAULT_REGION", "us-east-1"), dynamodb_client(env))
    assignment = ProfileAssignment(repo)
    if args.action == "list":
        print(json.dumps(assignment.waiting(), indent=2))
        return 0
    if not (args.advertiser_id and args.tenant):
        parser.error(f"{args.action} needs ADVERTISER_ID and TENANT")
    try:
        if args.action == "assign":
            assignment.resolve(args.advertiser_id, args.tenant)
        else:
            assignment.reject(args.advertiser_id, args.tenant)
    except DomainError as error:
        print(str(error), file=sys.stderr)
        return 1
    print(f"{args.action}: advertiser {args.advertiser_id}, tenant {args.tenant}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
