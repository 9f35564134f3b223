"""A review-notification receiver for the tests: a real HTTP server on 127.0.0.1 that checks
each request's signature as a receiver should, records what it got, and answers the statuses
a test asks for."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SECRET = "test-secret-1234"


@dataclass
class Got:
    """One request the receiver answered."""

    kind: str
    delivery: str
    signed: bool
    """Whether X-Hitlgraph-Signature matched the timestamp and body for SECRET."""
    body: dict[str, Any]
    status: int


@dataclass
class NotifyReceiver:
    """What the receiver got, and how it answers: `answers` first (one status each), then
    `then` for every later request."""

    url: str
    got: list[Got] = field(default_factory=list)
    answers: list[int] = field(default_factory=list)
    then: int = 200

    def delivered(self) -> list[Got]:
        """The requests answered 2xx."""
        return [g for g in list(self.got) if 200 <= g.status < 300]

    def wait_for(self, kind: str, count: int = 1, timeout: float = 30) -> list[Got]:
        """The delivered events of `kind`, once there are `count` of them."""
        deadline = time.monotonic() + timeout
        while True:
            found = [g for g in self.delivered() if g.kind == kind]
            if len(found) >= count:
                return found
            assert time.monotonic() < deadline, (kind, count, self.got)
            time.sleep(0.05)


def signed(headers: Any, body: bytes) -> bool:
    """Whether the request's signature is right for SECRET (what a receiver checks)."""
    stamp = headers.get("X-Hitlgraph-Timestamp", "")
    expected = "sha256=" + hmac.new(SECRET.encode(), stamp.encode() + b"." + body,
                                    hashlib.sha256).hexdigest()
    fresh = stamp.isdigit() and abs(time.time() - int(stamp)) < 300
    return fresh and hmac.compare_digest(expected, headers.get("X-Hitlgraph-Signature", ""))


@contextmanager
def notify_receiver() -> Iterator[NotifyReceiver]:
    """A receiver listening on 127.0.0.1 until the block ends."""
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = receiver.answers.pop(0) if receiver.answers else receiver.then
            receiver.got.append(Got(kind=self.headers.get("X-Hitlgraph-Event", ""),
                                    delivery=self.headers.get("X-Hitlgraph-Delivery", ""),
                                    signed=signed(self.headers, body),
                                    body=json.loads(body), status=status))
            self.send_response(status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = NotifyReceiver(url=f"http://127.0.0.1:{http.server_address[1]}/hook")
    thread = threading.Thread(target=http.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        http.shutdown()
        http.server_close()
