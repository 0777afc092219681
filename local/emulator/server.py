"""A threaded werkzeug server for the emulator (background thread or foreground).

Werkzeug's dev server silently drops request headers whose name contains "_" (anti-spoofing),
which would lose every Walmart header (WM_SVC.NAME, WM_QOS.CORRELATION_ID, WM_SEC.ACCESS_TOKEN).
:class:`WalmartRequestHandler` puts them back into the WSGI environ.
"""

from __future__ import annotations

import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

WSGIApp = Any


class WalmartRequestHandler(WSGIRequestHandler):
    quiet = True

    def make_environ(self) -> dict[str, Any]:
        environ: dict[str, Any] = super().make_environ()
        for name, value in self.headers.items():
            if "_" not in name:
                continue  # already handled by werkzeug
            key = name.upper().replace("-", "_")
            if key in ("CONTENT_TYPE", "CONTENT_LENGTH"):
                continue
            key = f"HTTP_{key}"
            clean = value.replace("\r\n", "")
            environ[key] = f"{environ[key]},{clean}" if key in environ else clean
        return environ

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        if not self.quiet:
            super().log_request(code, size)


class _VerboseHandler(WalmartRequestHandler):
    quiet = False


def _display_host(host: str) -> str:
    if host in ("", "0.0.0.0"):
        return "127.0.0.1"
    if host == "::":
        return "[::1]"
    if ":" in host and not host.startswith("["):
        return f"[{host}]"
    return host


class EmulatorServer:
    """Owns one werkzeug server. ``port=0`` binds a free port (see ``.port`` / ``.url``)."""

    def __init__(
        self,
        app: WSGIApp,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        quiet: bool = True,
    ) -> None:
        handler = WalmartRequestHandler if quiet else _VerboseHandler
        self._server: BaseWSGIServer = make_server(host, port, app, threaded=True, request_handler=handler)
        self.host = host
        self.port: int = self._server.server_port
        self.url = f"http://{_display_host(host)}:{self.port}"
        self._thread: threading.Thread | None = None

    def start(self) -> str:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._server.serve_forever,
                name=f"walmart-emulator:{self.port}",
                daemon=True,
            )
            self._thread.start()
        return self.url

    def serve_forever(self) -> None:
        """Serve in the calling thread until interrupted, then close the socket."""
        try:
            self._server.serve_forever()
        finally:
            self._server.server_close()

    def stop(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._server.server_close()
