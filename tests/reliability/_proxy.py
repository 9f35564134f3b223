"""A loopback TCP proxy in front of PostgreSQL that the tests switch into outages.

`pass`: bytes flow both ways. `blackhole`: connections stay open but nothing is forwarded
either way (a hung server or a dead route: the client waits); new connections are accepted
and held likewise. `reset()`: every open connection is closed with a TCP reset. Every loop is
bounded by a short select timeout and the proxy's stop flag.
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
        except (OSError, ValueError):  # closed by reset(): select() sees fd -1
            return
        finally:
            for sock in peers:
                with contextlib.suppress(OSError):
                    sock.close()

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
