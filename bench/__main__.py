"""`make bench`: every benchmark's figures as one JSON document."""

import json

from bench import aws_calls, cold_start, marketplace_sync

if __name__ == "__main__":
    figures = {"aws_calls": aws_calls.run(), "cold_start": cold_start.run(), "marketplace_sync": marketplace_sync.run()}
    print(json.dumps(figures, indent=2))
