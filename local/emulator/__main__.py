"""``python -m local.emulator --port 8081 --seed 0``: serve the emulator in the foreground."""

from __future__ import annotations

import argparse
import contextlib
import signal
import sys
from types import FrameType

from .app import Emulator
from .server import EmulatorServer
from .state import DEMO_CLIENT_ID, DEMO_SELLER_ID


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    signal.signal(signal.SIGTERM, _raise_interrupt)  # stop cleanly (exit 0) on SIGTERM
    parser = argparse.ArgumentParser(prog="python -m local.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--latency-ms", type=int, default=0, help="added delay per API call")
    parser.add_argument("--quiet", action="store_true", help="no request log")
    args = parser.parse_args(argv)

    emulator = Emulator(seed=args.seed)
    emulator.faults.latency_ms = args.latency_ms
    server = EmulatorServer(emulator.wsgi_app, args.host, args.port, quiet=args.quiet)
    print(
        f"walmart-emulator listening on {server.url} "
        f"(seed={args.seed}, demo client_id={DEMO_CLIENT_ID}, seller_id={DEMO_SELLER_ID})",
        flush=True,
    )
    with contextlib.suppress(KeyboardInterrupt):
        server.serve_forever()
    return 0


if __name__ == "__main__":
    sys.exit(main())
