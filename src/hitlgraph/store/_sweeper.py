"""A background thread that calls a store's sweep_ttl() every few minutes, so expired items
leave the storage even when nobody reads them (reads already skip them)."""

from __future__ import annotations

import logging
import threading
from abc import abstractmethod
from concurrent.futures import Future

from hitlgraph.store._types import TTLConfig

__all__ = ["Sweeping"]

log = logging.getLogger("hitlgraph.store")

DEFAULT_INTERVAL_MINUTES = 5.0


class Sweeping:
    """start_ttl_sweeper() / stop_ttl_sweeper(), as LangGraph's SQL stores have them, for a
    store whose sweep_ttl() works from any thread."""

    ttl_config: TTLConfig | None
    _sweeper: tuple[threading.Thread, threading.Event, Future[None]] | None = None

    @abstractmethod
    def sweep_ttl(self) -> int:
        """Delete every expired item now; returns how many."""

    def start_ttl_sweeper(self, sweep_interval_minutes: float | None = None) -> Future[None]:
        """Sweep in a daemon thread every `sweep_interval_minutes` (default: the ttl_config's
        sweep_interval_minutes, else 5) until stop_ttl_sweeper(); a failed sweep is logged
        and the next one still runs. Returns a future done when the thread ends; a sweeper
        already running is kept, and its future returned."""
        if self._sweeper is not None and self._sweeper[0].is_alive():
            return self._sweeper[2]
        interval = 60.0 * float(sweep_interval_minutes
                                or (self.ttl_config or {}).get("sweep_interval_minutes")
                                or DEFAULT_INTERVAL_MINUTES)
        stop, done = threading.Event(), Future[None]()

        def loop() -> None:
            while not stop.wait(interval):
                try:
                    self.sweep_ttl()
                except Exception:
                    log.exception("The store's TTL sweep failed; trying again in %.0f s",
                                  interval)
            done.set_result(None)

        thread = threading.Thread(target=loop, name="hitlgraph-store-sweeper", daemon=True)
        self._sweeper = (thread, stop, done)
        thread.start()
        return done

    def stop_ttl_sweeper(self, timeout: float | None = None) -> bool:
        """Stop the sweeper thread; True once it has ended (or none was running)."""
        if self._sweeper is None:
            return True
        thread, stop, _ = self._sweeper
        stop.set()
        thread.join(timeout)
        if thread.is_alive():
            return False
        self._sweeper = None
        return True
