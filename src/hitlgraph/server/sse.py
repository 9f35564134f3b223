"""Server-sent events: a run's stored events, followed live until the run has finished.

Each event is `event: NAME`, `data: JSON` and `id: SEQ` (the event's seq in the run, so a
client reconnecting with Last-Event-ID continues after it). The stream opens with a
`metadata` event naming the run, and closes only once the run row is finished and every event
written before that has been sent.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable, Collection

from hitlgraph.server._runtime import Runtime
from hitlgraph.server.store.base import TERMINAL

__all__ = ["HEARTBEAT", "HEARTBEAT_SECONDS", "follow_run", "format_event", "run_metadata"]

HEARTBEAT_SECONDS = 15.0
"""How long a stream stays silent before it sends HEARTBEAT (proxies close idle streams)."""

HEARTBEAT = b": heartbeat\n\n"


def format_event(event: str, data: str, event_id: str | None = None) -> bytes:
    """One SSE message."""
    lines = [f"event: {event}"]
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    if event_id is not None:
        lines.append(f"id: {event_id}")
    return ("\n".join(lines) + "\n\n").encode("utf-8")


def run_metadata(run_id: str) -> str:
    """The data of the `metadata` event that opens a run's events."""
    return json.dumps({"run_id": run_id, "attempt": 1})


def _wanted(event: str, modes: Collection[str] | None) -> bool:
    if not modes:
        return True
    base = event.split("|", 1)[0]
    return base in modes or base == "error" or (base == "messages" and "messages-tuple" in modes)


async def follow_run(rt: Runtime, tenant: str, run_id: str, *, after_seq: int = 0,
                     modes: Collection[str] | None = None,
                     on_close: Callable[[bool], None] | None = None) -> AsyncIterator[bytes]:
    """The run's events after `after_seq` as SSE bytes, until the run has finished.

    `on_close(finished)` is called when the stream ends, `finished` False when the client
    went away first.
    """
    finished = False
    try:
        yield format_event("metadata", run_metadata(run_id))
        seq = after_seq
        idle = 0.0
        while True:
            woken = rt.signals.watch(f"run:{run_id}")
            run = await rt.store.get_run(tenant, run_id)
            done = run is None or run.status in TERMINAL
            events = await rt.store.read_events(run_id, seq)
            for item in events:
                seq = item.seq
                if _wanted(item.event, modes):
                    yield format_event(item.event, item.data, str(item.seq))
            if events:
                idle = 0.0
                continue
            if done:
                finished = True
                return
            await rt.signals.wait(woken, rt.settings.poll_seconds)
            idle += rt.settings.poll_seconds
            if idle >= HEARTBEAT_SECONDS:
                idle = 0.0
                yield HEARTBEAT
    finally:
        if on_close is not None:
            on_close(finished)
