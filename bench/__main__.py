"""`make bench`: every benchmark's figures as one JSON document (stdout holds nothing else)."""

import contextlib
import json
import sys

from bench import (
    ads_backfill,
    aws_calls,
    catalogue,
    cold_start,
    cost,
    marketplace_sync,
    oauth,
    settlement_posting,
    settlements,
)

if __name__ == "__main__":
    # In-process handlers may print (Powertools flushes metrics on its own past 100 values): keep it off stdout.
    with contextlib.redirect_stdout(sys.stderr):
        figures = {
            "aws_calls": aws_calls.run(),
            "cold_start": cold_start.run(),
            "marketplace_sync": marketplace_sync.run(),
            "settlements": settlements.run(),
            "catalogue": catalogue.run(),
            "ads_backfill": ads_backfill.run(),
            "oauth": oauth.run(),
            "settlement_posting": settlement_posting.run(),
            "cost": cost.run(),
        }
    print(json.dumps(figures, indent=2))
