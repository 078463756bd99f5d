"""The container metrics exporter (cAdvisor cannot be pulled here): ``python3 -m app.exporter``.

The unprivileged, network-facing half of the container metrics: uid 10001, no capabilities, a
read-only root, on the project network at ``:9101``. It reads nothing of the host itself. At
each ``GET /metrics`` it connects to the container reader's Unix socket (``reader.py``, the
privileged half, which has no network), and serves the exposition the reader writes back right
then, so Prometheus sees the same ``container_*`` series as before the split, read at scrape time.

When the reader is absent (not started yet, restarting, its socket missing or refused) or too
slow, the scrape gets HTTP 503 with the reason in one sentence, and the log gets one line per
distinct problem (and one when the reader answers again): Prometheus marks the target down
instead of storing stale values.

Environment: PORT (9101), READER_SOCKET (/run/faultlab/metrics.sock), READER_TIMEOUT_S (4; a
shorter ``X-Prometheus-Scrape-Timeout-Seconds`` from the scraper wins, so the 503 arrives in time).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

log = logging.getLogger("container-exporter")
DEFAULT_SOCKET = "/run/faultlab/metrics.sock"
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
MAX_BYTES = 32 * 2**20  # an exposition of a few hundred containers is well under 1 MB


class ReaderUnavailable(Exception):
    """The reader did not deliver an exposition; the message says why, in one sentence."""


def fetch(socket_path: str | Path, timeout_s: float = 4.0, max_bytes: int = MAX_BYTES) -> bytes:
    """Connect to the reader's socket and read its whole answer (it closes when done)."""
    deadline = time.monotonic() + timeout_s
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout_s)
            sock.connect(str(socket_path))
            chunks: list[bytes] = []
            size = 0
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError
                sock.settimeout(left)
                chunk = sock.recv(65536)
                if not chunk:
                    break
                chunks.append(chunk)
                size += len(chunk)
                if size > max_bytes:
                    raise ReaderUnavailable(f"the container reader sent more than {max_bytes} bytes")
    except FileNotFoundError:
        raise ReaderUnavailable(f"the container reader is not running (no socket at {socket_path})") from None
    except ConnectionRefusedError:
        raise ReaderUnavailable(f"the container reader is not running (nobody listens on {socket_path})") from None
    except PermissionError:
        raise ReaderUnavailable(f"the container reader's socket {socket_path} refuses uid {os.getuid()} "
                                "(check its SOCKET_MODE and group)") from None
    except TimeoutError:  # socket.timeout is TimeoutError since Python 3.10
        raise ReaderUnavailable(f"the container reader did not answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise ReaderUnavailable(f"cannot read from the container reader at {socket_path}: {exc}") from None
    body = b"".join(chunks)
    if not body:
        raise ReaderUnavailable("the container reader closed the connection without metrics (see its log)")
    return body


class Exporter:
    """Fetches from the reader and remembers the last problem, to log each one once."""

    def __init__(self, socket_path: str | Path, timeout_s: float = 4.0) -> None:
        self.socket_path = socket_path
        self.timeout_s = timeout_s
        self._problem: str | None = None

    def scrape(self, timeout_s: float | None = None) -> tuple[int, bytes]:
        """(HTTP status, body) of one ``GET /metrics``; ``timeout_s`` caps the configured wait."""
        wait_s = self.timeout_s if timeout_s is None else min(self.timeout_s, timeout_s)
        try:
            body = fetch(self.socket_path, wait_s)
        except ReaderUnavailable as exc:
            message = str(exc)
            if message != self._problem:
                log.warning("answering 503: %s", message)
                self._problem = message
            return 503, (message + "\n").encode()
        if self._problem is not None:
            log.info("the container reader answers again")
            self._problem = None
        return 200, body


def scraper_timeout_s(header: str | None) -> float | None:
    """Most of the time-out Prometheus announces (it gives up at the full value), or None."""
    try:
        value = float(header) if header else None
    except ValueError:
        return None
    return None if value is None or value <= 0 else max(0.1, 0.8 * value)


def make_handler(exporter: Exporter) -> type[BaseHTTPRequestHandler]:
    """The request handler class bound to one :class:`Exporter`."""

    class Handler(BaseHTTPRequestHandler):
        server_version = "faultlab-container-exporter"

        def do_GET(self) -> None:  # http.server's naming
            path = self.path.split("?", 1)[0]
            if path == "/metrics":
                status, body = exporter.scrape(scraper_timeout_s(self.headers.get("X-Prometheus-Scrape-Timeout-Seconds")))
                self._send(status, body, CONTENT_TYPE if status == 200 else "text/plain; charset=utf-8")
            elif path == "/":
                self._send(200, b"faultlab container exporter: GET /metrics\n", "text/plain; charset=utf-8")
            else:
                self._send(404, b"not found: GET /metrics\n", "text/plain; charset=utf-8")

        def _send(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:  # http.server's signature
            return  # no access log: Prometheus scrapes every second or so

    return Handler


def serve(port: int, exporter: Exporter, host: str = "") -> ThreadingHTTPServer:
    """An HTTP server for ``exporter`` (not started: call ``serve_forever``)."""
    server = ThreadingHTTPServer((host, port), make_handler(exporter))
    server.daemon_threads = True
    return server


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    socket_path = os.environ.get("READER_SOCKET", DEFAULT_SOCKET)
    port = int(os.environ.get("PORT", "9101"))
    exporter = Exporter(socket_path, float(os.environ.get("READER_TIMEOUT_S", "4")))
    log.info("serving :%d/metrics from the container reader at %s, uid %d", port, socket_path, os.getuid())
    serve(port, exporter).serve_forever()


if __name__ == "__main__":
    main()
