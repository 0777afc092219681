"""Per-file worker-seconds of a pytest run, from its JUnit XML report (setup, call and teardown of every test):

    python -m tests.timings .pytest_cache/junit.xml [how many]

`make test` prints the slowest files this way after the run (pytest-xdist spreads files over workers, so these sums
say which files decide the wall time)."""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ElementTree
from collections import defaultdict
from pathlib import Path


def per_file(report: Path) -> tuple[dict[str, float], dict[str, int]]:
    seconds: dict[str, float] = defaultdict(float)
    tests: dict[str, int] = defaultdict(int)
    for case in ElementTree.parse(report).getroot().iter("testcase"):
        module = case.get("classname", "").split("::")[0]
        path = module.replace(".", "/")
        while path and not Path(f"{path}.py").exists() and "/" in path:
            path = path.rsplit("/", 1)[0]  # a test class: drop it
        name = f"{path}.py"
        seconds[name] += float(case.get("time") or 0)
        tests[name] += 1
    return seconds, tests


def main(argv: list[str]) -> int:
    if not argv or not Path(argv[0]).exists():
        print("usage: python -m tests.timings JUNIT_XML [how many]", file=sys.stderr)
        return 2
    seconds, tests = per_file(Path(argv[0]))
    limit = int(argv[1]) if len(argv) > 1 else len(seconds)
    print(f"worker-seconds per file ({sum(seconds.values()):.1f} s in all, {sum(tests.values())} tests):")
    for name, total in sorted(seconds.items(), key=lambda item: -item[1])[:limit]:
        print(f"  {total:7.1f}  {name} ({tests[name]})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
