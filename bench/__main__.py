"""`make bench`: every benchmark's figures as one JSON document."""

import json

from bench import aws_calls, cold_start

if __name__ == "__main__":
    print(json.dumps({"aws_calls": aws_calls.run(), "cold_start": cold_start.run()}, indent=2))
