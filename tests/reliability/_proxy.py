"""A loopback TCP proxy that the tests switch into outages, in front of PostgreSQL or of a
hitlgraph server.

`pass`: bytes flow both ways. `blackhole`: connections stay open but nothing is forwarded
either way (a hung server or a dead route: the client waits); new connections are accepted
and held likewise. `reset()`: every open connection is closed with a TCP reset.
`cut(request, answer, nth)`: the nth message from a client that holds `request` (COMMIT for
PostgreSQL, a POST for a server) reaches the target, which carries it out and answers, but
the answer (`answer` marks it) never reaches the client, whose connection is then reset: an
ambiguous commit, done, yet the caller sees a lost connection. `through_proxy` puts one in
front of a PostgreSQL schema. Every loop is bounded by a short select timeout, the proxy's
stop flag, and for a cut answer ANSWER_SECONDS.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections.abc import Iterator
from typing import Literal

__all__ = ["COMMIT", "Proxy", "through_proxy"]

Mode = Literal["pass", "blackhole"]
_TICK = 0.05
COMMIT = b"COMMIT\x00"
"""A COMMIT as it ends a query message, simple or extended protocol (psycopg ends a
transaction() with one), and as PostgreSQL's CommandComplete answer to it names it."""
ANSWER_SECONDS = 10.0
"""Longest wait for the target's answer to a cut message before the connection is cut."""


class _Cut:
    """What to cut: the `nth` client message holding `request` from now on (and every nth
    after it, with `every`)."""

    def __init__(self, request: bytes, answer: bytes, nth: int, every: bool) -> None:
        self.request, self.answer, self.nth, self.every = request, answer, nth, every
        self.left = nth


class Proxy:
    """Listens on 127.0.0.1 (port 0: see `port`) and forwards to `target`."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.mode: Mode = "pass"
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(_TICK)
        self.port: int = self._listener.getsockname()[1]
        self._stop = threading.Event()
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._lock = threading.Lock()
        self._cut: _Cut | None = None
        self.cuts = 0
        """How many answers were cut so far."""
        self._threads = [threading.Thread(target=self._accept, daemon=True)]
        self._threads[0].start()

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except (TimeoutError, OSError):
                continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            pump = threading.Thread(target=self._pump, args=(client, upstream), daemon=True)
            pump.start()
            self._threads.append(pump)

    def _pump(self, client: socket.socket, upstream: socket.socket) -> None:
        peers = {client: upstream, upstream: client}
        try:
            while not self._stop.is_set():
                if self.mode == "blackhole":
                    self._stop.wait(_TICK)
                    continue
                ready, _, _ = select.select(list(peers), [], [], _TICK)
                for sock in ready:
                    data = sock.recv(65536)
                    if not data:
                        return
                    peers[sock].sendall(data)
                    cut = self._cut if sock is client else None
                    if cut is not None and cut.request in data and self._cut_now():
                        self._swallow(client, upstream, cut.answer)
                        self._abort(client, upstream)
                        return
        except (OSError, ValueError):  # closed by reset(): select() sees fd -1
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()

    def cut(self, request: bytes, answer: bytes, nth: int, *, every: bool = False) -> None:
        """Cut the answer to the nth client message holding `request` from now on (and to
        every nth after it, with `every`); see the module docstring."""
        with self._lock:
            self._cut = _Cut(request, answer, nth, every)

    def _cut_now(self) -> bool:
        with self._lock:
            cut = self._cut
            if cut is None:
                return False
            cut.left -= 1
            if cut.left > 0:
                return False
            if cut.every:
                cut.left = cut.nth
            else:
                self._cut = None
            self.cuts += 1
            return True

    def _swallow(self, client: socket.socket, upstream: socket.socket, answer: bytes) -> None:
        """Forward the rest of the client's message (an HTTP body may follow its headers)
        but none of the target's answer, until that holds `answer` (the message was carried
        out), either side closes, or ANSWER_SECONDS pass."""
        got = b""
        deadline = time.monotonic() + ANSWER_SECONDS
        while answer not in got and time.monotonic() < deadline and not self._stop.is_set():
            ready, _, _ = select.select([client, upstream], [], [], _TICK)
            for sock in ready:
                data = sock.recv(65536)
                if not data:
                    return
                if sock is client:
                    upstream.sendall(data)
                else:
                    got = got[-len(answer):] + data

    def _abort(self, client: socket.socket, upstream: socket.socket) -> None:
        """Close the pair: PostgreSQL's side plainly (it has read everything sent), the
        client's with a reset."""
        with self._lock:
            self._pairs = [pair for pair in self._pairs if pair[0] is not client]
        with contextlib.suppress(OSError):
            upstream.close()
        with contextlib.suppress(OSError):
            client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            client.close()

    def upstream_ports(self) -> list[int]:
        """The local ports of the open connections to the target (PostgreSQL's
        pg_stat_activity.client_port of each), to end exactly those."""
        with self._lock:
            pairs = list(self._pairs)
        ports = []
        for _client, upstream in pairs:
            with contextlib.suppress(OSError):
                ports.append(upstream.getsockname()[1])
        return ports

    def reset(self) -> None:
        """Close every open connection with a TCP reset (SO_LINGER 0)."""
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                    struct.pack("ii", 1, 0))
                    sock.close()

    def close(self) -> None:
        self._stop.set()
        self.reset()
        for thread in self._threads:
            thread.join(timeout=2)
        self._listener.close()


@contextlib.contextmanager
def through_proxy(conninfo: str) -> Iterator[tuple[Proxy, str]]:
    """(a proxy in front of the PostgreSQL server of `conninfo`, the postgresql:// URL of the
    same database and schema through it); the proxy closes on exit."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from hitlgraph.server.store.postgres import postgres_url

    params = conninfo_to_dict(conninfo)
    proxy = Proxy((str(params.get("host", "127.0.0.1")), int(params.get("port", 5432))))
    try:
        yield proxy, postgres_url(make_conninfo(conninfo, host="127.0.0.1",
                                                port=str(proxy.port)))
    finally:
        proxy.close()
