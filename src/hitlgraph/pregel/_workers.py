"""Threads for the sync driver's parallel tasks, kept between runs.

A run used to start a thread pool of its own, so a step of 100 Sends started a dozen threads
and every invoke paid for them again (about a third of a fan-out's time). Here idle threads
wait for the next job a while before they end, for any run of the process. A job never waits
for a thread: with none idle, a new one starts, so a task that runs a subgraph (whose tasks
need threads too) cannot starve the pool. Each run still caps how many of its tasks run at
once (Lanes), as its own pool's size did.
"""

from __future__ import annotations

import contextvars
import os
import threading
from collections import deque
from collections.abc import Callable
from typing import Any

IDLE_SECONDS = 5.0
"""How long a thread waits for a job before it ends."""

Job = Callable[[], None]


class _Idle:
    """A thread waiting for its next job."""

    __slots__ = ("job", "ready")

    def __init__(self) -> None:
        self.job: Job | None = None
        self.ready = threading.Event()


class _Threads:
    """The process's spare threads (the most recently idle one is reused first)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._idle: list[_Idle] = []

    def run(self, job: Job) -> None:
        """Run `job` on an idle thread, or on a new one when none is idle."""
        with self._lock:
            waiting = self._idle.pop() if self._idle else None
        if waiting is None:
            threading.Thread(target=self._work, args=(job,), name="hitlgraph-task",
                             daemon=True).start()
            return
        waiting.job = job
        waiting.ready.set()

    def _work(self, job: Job | None) -> None:
        slot = _Idle()
        while job is not None:
            job()
            job = self._next(slot)

    def _next(self, slot: _Idle) -> Job | None:
        """The thread's next job; None once it waited IDLE_SECONDS for none."""
        slot.job = None
        slot.ready.clear()
        with self._lock:
            self._idle.append(slot)
        if slot.ready.wait(IDLE_SECONDS):
            return slot.job
        with self._lock:
            if slot in self._idle:  # (else a job was handed over just now: take it)
                self._idle.remove(slot)
                return None
        slot.ready.wait()
        return slot.job

    def forget(self) -> None:
        """In a forked child: the parent's threads do not exist there."""
        self._lock = threading.Lock()
        self._idle = []


THREADS = _Threads()
os.register_at_fork(after_in_child=THREADS.forget)


class Lanes:
    """One run's tasks on THREADS, at most `cap` at once, each in the context it was
    submitted from; what is not started when the run closes never starts.

    `submit` wakes a thread per task (up to `cap`). `add` wakes at most one more: the
    submitting thread means to run backlogged tasks itself (`take`), so a step of quick
    tasks needs few thread hand-offs. Whoever takes a task while others still wait makes sure
    a thread is on its way to them (unless `cap` are busy), so tasks that block or wait on
    each other still run side by side."""

    def __init__(self, cap: int) -> None:
        self._cap = cap
        self._lock = threading.Lock()
        self._backlog: deque[tuple[contextvars.Context, Callable[..., None], tuple[Any, ...]]]
        self._backlog = deque()
        self._busy = 0
        self._coming = 0  # threads woken that have not taken a task yet
        self._closed = False

    def submit(self, fn: Callable[..., None], *args: Any) -> None:
        with self._lock:
            if self._closed:
                return
            self._backlog.append((contextvars.copy_context(), fn, args))
            if self._busy >= self._cap:
                return
            self._busy += 1
        THREADS.run(self._lane)

    def add(self, fn: Callable[..., None], *args: Any) -> None:
        """Backlog a task, waking a thread only when none is on its way."""
        with self._lock:
            if self._closed:
                return
            self._backlog.append((contextvars.copy_context(), fn, args))
            wake = self._spare()
        if wake:
            THREADS.run(self._woken)

    def take(self) -> bool:
        """Run one backlogged task in this thread (it counts toward `cap` meanwhile); False
        when none is left or `cap` tasks run already."""
        with self._lock:
            if not self._backlog or self._busy >= self._cap:
                return False
            self._busy += 1
            context, fn, args = self._backlog.popleft()
            wake = bool(self._backlog) and self._spare()
        if wake:
            THREADS.run(self._woken)
        try:
            context.run(fn, *args)
        finally:
            with self._lock:
                self._busy -= 1
                wake = bool(self._backlog) and self._spare()
            if wake:
                THREADS.run(self._woken)
        return True

    def _spare(self) -> bool:
        """Under the lock: count one more thread on its way if none is and one may run."""
        if self._coming or self._busy >= self._cap:
            return False
        self._busy += 1
        self._coming += 1
        return True

    def _woken(self) -> None:
        self._lane(coming=True)

    def _lane(self, coming: bool = False) -> None:
        """Run backlogged tasks until none is left (then the thread goes back to THREADS)."""
        while True:
            with self._lock:
                if coming:
                    coming = False
                    self._coming -= 1
                if not self._backlog:
                    self._busy -= 1
                    return
                context, fn, args = self._backlog.popleft()
                wake = bool(self._backlog) and self._spare()
            if wake:
                THREADS.run(self._woken)
            context.run(fn, *args)

    def close(self) -> None:
        """Drop the tasks not started yet (those running go on to their end)."""
        with self._lock:
            self._closed = True
            self._backlog.clear()
