"""Write openapi.json from the API's code, or check (--check) that the committed one has not drifted."""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "layers" / "shared"))

from walmart_integration.api import openapi_json  # noqa: E402

TARGET = ROOT / "openapi.json"


def render() -> str:
    return json.dumps(json.loads(openapi_json()), indent=2, sort_keys=True) + "\n"


def main() -> int:
    document = render()
    if "--check" in sys.argv[1:]:
        if not TARGET.exists() or TARGET.read_text() != document:
            print("openapi.json is out of date with the code: run `make openapi` and commit it.", file=sys.stderr)
            return 1
        print("openapi.json matches the code.")
        return 0
    TARGET.write_text(document)
    print(f"wrote {TARGET.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
