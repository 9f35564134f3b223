"""A loopback TCP proxy in front of PostgreSQL that the tests switch into outages.

`pass`: bytes flow both ways. `blackhole`: connections stay open but nothing is forwarded
either way (a hung server or a dead route: the client waits); new connections are accepted
and held likewise. `reset()`: every open connection is closed with a TCP reset.
`cut_at_commit(n)`: the nth COMMIT sent from now on reaches PostgreSQL, which commits it,
but its answer never reaches the client, whose connection is then reset (an ambiguous
commit: done, yet the caller sees a lost connection). Every loop is bounded by a short
select timeout and the proxy's stop flag.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
from typing import Literal

__all__ = ["Proxy"]

Mode = Literal["pass", "blackhole"]
_TICK = 0.05
_COMMIT = b"COMMIT\x00"
"""The text of a COMMIT as it ends a query message, simple or extended protocol (psycopg
ends a transaction() with one)."""
_COMMIT_SECONDS = 0.3
"""How long PostgreSQL gets to carry out a cut COMMIT before its connection closes."""


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
        self._commits_left: int | None = None
        self.cuts = 0
        """How many COMMITs were cut so far."""
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
                    if sock is client and _COMMIT in data and self._cut_now():
                        self._stop.wait(_COMMIT_SECONDS)  # answered, the answer not forwarded
                        self._abort(client, upstream)
                        return
        except (OSError, ValueError):  # closed by reset(): select() sees fd -1
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()

    def cut_at_commit(self, n: int) -> None:
        """Cut the nth COMMIT from now on (see the module docstring)."""
        with self._lock:
            self._commits_left = n

    def _cut_now(self) -> bool:
        with self._lock:
            if self._commits_left is None:
                return False
            self._commits_left -= 1
            if self._commits_left > 0:
                return False
            self._commits_left = None
            self.cuts += 1
            return True

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
