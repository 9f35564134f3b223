"""Client threads for the ambiguous-commit tests: each takes new threads to their end while
a proxy cuts answers, until it has cut `trials` of them, so a thousand trials run on one
server (or one saver) in minutes rather than one process start each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from _proxy import Proxy

__all__ = ["Clients"]


class Clients:
    """`count` client threads calling `finish(thread_id)` (which returns how many answers
    that thread lost) on new thread ids (`name(n)` for the nth) until `proxy` cut `trials`
    answers; bounded at `limit` threads."""

    def __init__(self, proxy: Proxy, trials: int, limit: int,
                 name: Callable[[int], str], finish: Callable[[str], int]) -> None:
        self.proxy, self.trials, self.limit = proxy, trials, limit
        self.name, self.finish = name, finish
        self.thread_ids: list[str] = []
        self.lost = 0
        self._lock = threading.Lock()

    def _take(self) -> str | None:
        with self._lock:
            if self.proxy.cuts >= self.trials or len(self.thread_ids) >= self.limit:
                return None
            self.thread_ids.append(self.name(len(self.thread_ids)))
            return self.thread_ids[-1]

    def _work(self) -> None:
        while (thread_id := self._take()) is not None:
            lost = self.finish(thread_id)
            with self._lock:
                self.lost += lost

    def run(self, count: int) -> None:
        """Run `count` client threads to the end; raises the first one's error."""
        with ThreadPoolExecutor(count) as pool:
            for done in [pool.submit(self._work) for _ in range(count)]:
                done.result()
