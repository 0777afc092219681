"""`python -m tests.reliability.summary FIGURES_FILE [PYTEST_EXIT_STATUS] [SECONDS]`: the soak summary as JSON.

Reads the JSON lines the ``figures`` fixture wrote; a section recorded more than once (e.g. by two rounds) keeps
every record as a list.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any


def summarize(path: Path, exit_status: int | None = None, seconds: float | None = None) -> dict[str, Any]:
    sections: dict[str, Any] = {}
    soak = False
    if path.exists():
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            record = json.loads(line)
            section = record.pop("section")
            soak = soak or bool(record.pop("soak", False))
            if section in sections:
                previous = sections[section]
                sections[section] = [*(previous if isinstance(previous, list) else [previous]), record]
            else:
                sections[section] = record
    summary: dict[str, Any] = {"mode": "soak" if soak else "fast"}
    if exit_status is not None:
        summary["tests_passed"] = exit_status == 0
    if seconds is not None:
        summary["wall_seconds"] = round(seconds, 1)
    summary.update(sorted(sections.items()))
    return summary


def main(argv: list[str]) -> int:
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    status = int(argv[1]) if len(argv) > 1 else None
    seconds = float(argv[2]) if len(argv) > 2 else None
    print(json.dumps(summarize(Path(argv[0]), status, seconds), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
