"""A local SMS operator for the fault run (bench/fault_run.py): an HTTP server speaking the generic
gateway protocol of ``rak_base.sms.HttpSmsBackend`` (POST of the ``[sms] http_body_template``
JSON — ``{"to", "text", "reference"}`` — or GET with ``to``, ``text``, ``from``, ``reference``).

It records every message by its client reference (``RAK-<message id>``) and, as a real operator
that deduplicates on the client reference would, hands a reference to the handset once: a copy
sent again (a worker killed after the answer, before its commit; a client that timed out while
the operator was still working) is answered 200 with the first copy's id and counted as a
duplicate, never delivered twice.

Modes (``set_mode`` in-process, or ``POST /mode`` with ``normal|slow|5xx|drop``):

- ``normal``: accepted at once, 200 ``{"id": "SIM-<n>"}``;
- ``slow``: accepted, but the answer comes ``slow_seconds`` later (longer than the client's
  ``[sms] http_timeout_seconds``): the client gives up, the operator has the message;
- ``5xx``: refused, 503, nothing recorded as accepted;
- ``drop``: the request is read and accepted, then the connection is closed without an answer.

``GET /stats`` answers the counters as JSON. Run alone: ``python bench/sms_operator.py --port 8241``.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

MODES = ("normal", "slow", "5xx", "drop")


class Operator:
    """The operator's state: what it accepted, by reference, and what it refused."""

    def __init__(self, *, slow_seconds: float = 3.0) -> None:
        self.lock = threading.Lock()
        self.mode = "normal"
        self.slow_seconds = slow_seconds
        self.accepted: Counter[str] = Counter()  # reference -> copies accepted
        self.ids: dict[str, str] = {}  # reference -> the id answered for its first copy
        self.refused = 0  # 5xx answers
        self.dropped = 0  # connections closed without an answer
        self.slow = 0  # answers delayed past the client's timeout
        self.requests = 0
        self.no_reference = 0

    def set_mode(self, mode: str) -> None:
        if mode not in MODES:
            raise ValueError(f"mode {mode!r} not in {MODES}")
        with self.lock:
            self.mode = mode

    def receive(self, reference: str) -> tuple[str, str]:
        """(mode at arrival, answered id): records the copy unless the mode refuses it."""
        with self.lock:
            self.requests += 1
            mode = self.mode
            if mode == "5xx":
                self.refused += 1
                return mode, ""
            if not reference:
                self.no_reference += 1
                reference = f"(none-{self.requests})"
            self.accepted[reference] += 1
            if reference not in self.ids:
                self.ids[reference] = f"SIM-{len(self.ids) + 1}"
            if mode == "drop":
                self.dropped += 1
            elif mode == "slow":
                self.slow += 1
            return mode, self.ids[reference]

    def stats(self) -> dict:
        with self.lock:
            copies = sum(self.accepted.values())
            return {
                "mode": self.mode,
                "requests": self.requests,
                "accepted_copies": copies,
                "delivered": len(self.accepted),  # to the handset: once per reference
                "duplicates": copies - len(self.accepted),  # copies dropped by the reference
                "references_twice": sum(1 for n in self.accepted.values() if n > 1),
                "refused_5xx": self.refused,
                "dropped": self.dropped,
                "slow": self.slow,
                "no_reference": self.no_reference,
            }

    def copies(self, reference: str) -> int:
        with self.lock:
            return self.accepted.get(reference, 0)


def make_handler(operator: Operator):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format, *args):  # noqa: A002 - quiet
            pass

        def _answer(self, status: int, payload: dict) -> None:
            body = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _message(self, fields: dict) -> None:
            mode, message_id = operator.receive(str(fields.get("reference") or ""))
            if mode == "5xx":
                self._answer(503, {"error": "service unavailable"})
            elif mode == "drop":
                self.close_connection = True
                try:
                    self.connection.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
            else:
                if mode == "slow":
                    time.sleep(operator.slow_seconds)
                try:
                    self._answer(200, {"id": message_id})
                except OSError:
                    pass  # the client gave up (timeout)

        def do_GET(self):  # noqa: N802 - http.server's name
            url = urlsplit(self.path)
            if url.path == "/stats":
                self._answer(200, operator.stats())
                return
            query = {key: values[0] for key, values in parse_qs(url.query).items()}
            self._message(query)

        def do_POST(self):  # noqa: N802
            url = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            if url.path == "/mode":
                mode = raw.decode().strip() or parse_qs(url.query).get("m", ["normal"])[0]
                try:
                    operator.set_mode(mode)
                except ValueError as exc:
                    self._answer(400, {"error": str(exc)})
                    return
                self._answer(200, {"mode": mode})
                return
            try:
                fields = json.loads(raw.decode("utf-8"))
            except ValueError:
                fields = {key: values[0] for key, values in parse_qs(raw.decode("utf-8", "replace")).items()}
            self._message(fields if isinstance(fields, dict) else {})

    return Handler


class OperatorServer:
    """The simulator on 127.0.0.1:``port``, served by a thread of the calling process."""

    def __init__(self, port: int, *, slow_seconds: float = 3.0) -> None:
        self.operator = Operator(slow_seconds=slow_seconds)
        self.server = ThreadingHTTPServer(("127.0.0.1", port), make_handler(self.operator))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="sms-operator", daemon=True)

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/send"

    def start(self) -> OperatorServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8241)
    parser.add_argument("--slow-seconds", type=float, default=3.0)
    args = parser.parse_args()
    server = OperatorServer(args.port, slow_seconds=args.slow_seconds)
    print(f"SMS operator on {server.url} (GET /stats, POST /mode normal|slow|5xx|drop)", flush=True)
    try:
        server.server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
