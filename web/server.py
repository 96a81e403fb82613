"""Serves the website chat page and the widget bundle (no CDN, nothing fetched from outside).

    .venv/bin/python web/server.py [--host 127.0.0.1] [--port 8080] [--rasa-url URL]

Environment (flags win): WEB_HOST (127.0.0.1), WEB_PORT (8080), RASA_PORT (5005: the browser
talks to the Rasa server on the page's own host name at that port), IOM_RASA_PUBLIC_URL (the
Rasa server's full URL as the browser sees it, when it is elsewhere, e.g. behind a proxy).

Only a fixed list of files is served: the page, its script and style, and the rasa-webchat
bundle from web/node_modules (installed by `make install` with `npm ci`). Every response, error
pages included, carries a Content-Security-Policy that forbids inline scripts and event handlers
(a second line of defence behind the widget's own escaping of message text), nosniff, a
Permissions-Policy that turns off camera, microphone, location and the like, and
Cross-Origin-Opener-Policy.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Optional, Tuple
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
WEB = ROOT / "web"
BUNDLE = WEB / "node_modules" / "rasa-webchat" / "lib" / "index.js"
# The bundle's CSS imports a web font from Google; the page uses system fonts and fetches
# nothing from outside, so that one import is cut out when serving (the CSP would block it too).
EXTERNAL_FONT_IMPORT = re.compile(rb"@import url\(https://fonts\.googleapis\.com/[^)]*\);")

FILES: Dict[str, Tuple[Path, str]] = {
    "/": (WEB / "index.html", "text/html; charset=utf-8"),
    "/index.html": (WEB / "index.html", "text/html; charset=utf-8"),
    "/static/chat.css": (WEB / "static" / "chat.css", "text/css; charset=utf-8"),
    "/static/chat.js": (WEB / "static" / "chat.js", "text/javascript; charset=utf-8"),
    "/static/favicon.svg": (WEB / "static" / "favicon.svg", "image/svg+xml"),
    "/vendor/rasa-webchat.js": (BUNDLE, "text/javascript; charset=utf-8"),
}


PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), microphone=(), "
    "payment=(), usb=(), interest-cohort=()"
)


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def csp(rasa_url: Optional[str]) -> str:
    # The socket goes to the Rasa server: same host name as the page (any port) unless a public
    # URL is configured. `ws:`/`http:` with a host and no port are not expressible, so list both.
    if rasa_url:
        origin = _origin(rasa_url)
        ws = origin.replace("https://", "wss://").replace("http://", "ws://")
        connect = f"'self' {origin} {ws}"
    else:
        connect = "'self' http://127.0.0.1:* ws://127.0.0.1:* http://localhost:* ws://localhost:*"
    return (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        f"img-src 'self' data:; connect-src {connect}; font-src 'self' data:; base-uri 'none'; "
        "form-action 'none'; frame-ancestors 'self'"
    )


def make_handler(rasa_url: Optional[str], rasa_port: int) -> type:
    config = {"socketUrl": rasa_url, "rasaPort": rasa_port}
    config_js = f"window.IOM_CHAT_CONFIG = {json.dumps(config)};\n".encode()
    security_headers = {
        "Content-Security-Policy": csp(rasa_url),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        # The page uses none of these; nothing it loads may either.
        "Permissions-Policy": PERMISSIONS_POLICY,
        # No other window (a page that opened this one, or one it opens) gets a handle on it.
        "Cross-Origin-Opener-Policy": "same-origin",
    }

    class Handler(BaseHTTPRequestHandler):
        server_version = "iom-chat-page"
        sys_version = ""

        def end_headers(self) -> None:
            # Every answer, http.server's own error pages (501 for other methods, 400) included.
            for name, value in security_headers.items():
                self.send_header(name, value)
            super().end_headers()

        def _send(self, status: int, body: bytes, content_type: str, head: bool = False) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            if not head:
                self.wfile.write(body)

        def _serve(self, head: bool) -> None:
            path = urlsplit(self.path).path
            if path == "/config.js":
                self._send(200, config_js, "text/javascript; charset=utf-8", head)
                return
            if path == "/health":
                self._send(200, b'{"status": "ok"}', "application/json", head)
                return
            entry = FILES.get(path)
            if entry is None:
                self._send(404, b"Not found\n", "text/plain; charset=utf-8", head)
                return
            file, content_type = entry
            try:
                body = file.read_bytes()
            except FileNotFoundError:
                hint = b" (run `make install`: the widget is installed with npm ci)" if file == BUNDLE else b""
                self._send(500, b"Missing " + file.name.encode() + hint + b"\n", "text/plain", head)
                return
            if file == BUNDLE:
                body = EXTERNAL_FONT_IMPORT.sub(b"", body)
            self._send(200, body, content_type, head)

        def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
            self._serve(head=False)

        def do_HEAD(self) -> None:  # noqa: N802
            self._serve(head=True)

        def log_message(self, format: str, *args: object) -> None:  # noqa: A002
            if os.environ.get("WEB_QUIET"):
                return
            super().log_message(format, *args)

    return Handler


def make_server(host: str, port: int, rasa_url: Optional[str], rasa_port: int) -> ThreadingHTTPServer:
    server = ThreadingHTTPServer((host, port), make_handler(rasa_url, rasa_port))
    server.daemon_threads = True
    return server


def main(argv: Optional[list] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--host", default=os.environ.get("WEB_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("WEB_PORT") or 8080))
    parser.add_argument("--rasa-url", default=os.environ.get("IOM_RASA_PUBLIC_URL") or None)
    parser.add_argument("--rasa-port", type=int, default=int(os.environ.get("RASA_PORT") or 5005))
    args = parser.parse_args(argv)
    if not BUNDLE.exists():
        print(f"{BUNDLE} is missing: run `make install` (npm ci in web/).", file=sys.stderr)
        return 1
    server = make_server(args.host, args.port, args.rasa_url, args.rasa_port)
    print(f"Chat page on http://{args.host}:{args.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
