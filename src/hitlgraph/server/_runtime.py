"""What the routes and workers share: the store, the checkpointer, the served graphs (each
with its own assistant), and in-process wake-up signals."""

from __future__ import annotations

import asyncio
import uuid
import weakref
from collections.abc import Awaitable, Iterable
from dataclasses import dataclass, field
from typing import Any

from fastapi import HTTPException

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.server._ids import canonical_uuid
from hitlgraph.server._timeouts import within
from hitlgraph.server._worker_inline import HereRuns
from hitlgraph.server.config import BoundGraph, ServerSettings
from hitlgraph.server.store.base import AssistantRow, Store
from hitlgraph.store.base import BaseStore

__all__ = ["ASSISTANT_NAMESPACE", "Assistant", "Runtime", "Signals", "assistant_id_for",
           "assistant_not_found"]

ASSISTANT_NAMESPACE = uuid.UUID("6ba7b821-9dad-11d1-80b4-00c04fd430c8")
"""uuid5 namespace of assistant ids: a graph's assistant id is uuid5(this, graph_id)."""


def assistant_id_for(graph_id: str) -> str:
    """The stable id of the assistant serving `graph_id`."""
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, graph_id))


class Signals:
    """Wake-ups within this process: `notify(key)` wakes every `wait(key)` begun before it.

    Take `watch(key)` before reading the database and wait on it after, so a notify that
    lands in between is not lost. Other processes reach these only through a store that
    pushes notifications (`store.base.Notifier`: PostgreSQL's LISTEN, SQLite's change
    watcher); waiters also re-read the database every `poll_seconds`.

    Events are held weakly: a key watched by no one any more (a waiter that took its event,
    then read the answer it waited for) leaves nothing behind, where a plain dict kept one
    Event per run for good.
    """

    def __init__(self) -> None:
        self._events: weakref.WeakValueDictionary[str, asyncio.Event] = (
            weakref.WeakValueDictionary())

    def watch(self, key: str) -> asyncio.Event:
        """The event the next notify(key) sets."""
        event = self._events.get(key)
        if event is None:
            event = self._events[key] = asyncio.Event()
        return event

    def notify(self, key: str) -> None:
        """Wake the current watchers of `key`."""
        event = self._events.pop(key, None)
        if event is not None:
            event.set()

    def notify_all(self) -> None:
        """Wake every current watcher (anything may have changed)."""
        events, self._events = self._events, weakref.WeakValueDictionary()
        for event in list(events.values()):
            event.set()

    def wake(self, key: str) -> None:
        """`notify(key)`, or `notify_all()` for "*": what a store's notifications call."""
        if key == "*":
            self.notify_all()
        else:
            self.notify(key)

    @staticmethod
    async def wait(event: asyncio.Event, timeout: float) -> None:
        """Until `event` is set or `timeout` seconds pass (a cancellation is always raised:
        see _timeouts)."""
        try:
            await within(event.wait(), timeout)
        except asyncio.TimeoutError:
            pass


@dataclass(slots=True, kw_only=True)
class Assistant:
    """The assistant of one served graph (a "system" assistant): every tenant's, never
    stored, made again at each start."""

    assistant_id: str
    graph_id: str
    created_at: str

    def row(self) -> AssistantRow:
        """As the assistants tenants create are read."""
        return AssistantRow(assistant_id=self.assistant_id, graph_id=self.graph_id, config={},
                            context={}, metadata={"created_by": "system"}, name=self.graph_id,
                            description=None, version=1, created_at=self.created_at,
                            updated_at=self.created_at)


def assistant_not_found(assistant_id: str, graphs: Iterable[str]) -> HTTPException:
    """The 404 of an assistant that is missing (or another tenant's: the same answer)."""
    known = ", ".join(f"'{g}'" for g in graphs)
    return HTTPException(404, f"Assistant '{assistant_id}' not found. Pass the id of an "
                         "assistant made with POST /assistants, or a graph id; the graphs "
                         f"served are {known}.")


@dataclass(slots=True, kw_only=True)
class Runtime:
    """The server's shared pieces, built in the app's lifespan."""

    settings: ServerSettings
    store: Store
    saver: BaseCheckpointSaver
    graphs: dict[str, BoundGraph]
    assistants: dict[str, Assistant]
    items_store: BaseStore | None = None
    """The long-term store behind the /store routes; nodes of a run get its tenant's view of
    it (None: nodes keep the store their graph was compiled with)."""
    signals: Signals = field(default_factory=Signals)
    here: HereRuns | None = None
    """Where a request runs the run it made (runs/wait, runs/stream), when workers run."""
    background: set[asyncio.Task[Any]] = field(default_factory=set)

    def system_assistant(self, assistant_id: str) -> Assistant | None:
        """The served graph's assistant `assistant_id` names (by its id or the graph id)."""
        found = self.assistants.get(assistant_id)
        if found is None:
            found = self.assistants.get(canonical_uuid(assistant_id) or "")
        if found is None:
            found = next((a for a in self.assistants.values() if a.graph_id == assistant_id),
                         None)
        return found

    async def find_assistant(self, tenant: str, assistant_id: str) -> AssistantRow:
        """A served graph's assistant (by id or graph id), or one the tenant made.

        Raises:
            HTTPException: 404 naming the graphs served.
        """
        system = self.system_assistant(assistant_id)
        if system is not None:
            return system.row()
        key = canonical_uuid(assistant_id)
        found = await self.store.get_assistant(tenant, key) if key is not None else None
        if found is None:
            raise assistant_not_found(assistant_id, self.graphs)
        return found

    def graph(self, graph_id: str) -> BoundGraph:
        """The served graph `graph_id` (a graph that left the config answers 404)."""
        found = self.graphs.get(graph_id)
        if found is None:
            raise HTTPException(404, f"Graph '{graph_id}' is not served any more; the graphs "
                                f"served are {', '.join(sorted(self.graphs))}.")
        return found

    @staticmethod
    def checkpoint_thread(tenant: str, thread_id: str) -> str:
        """The thread id the checkpointer keeps a tenant's thread under: tenants never share
        checkpoints, even for equal thread ids."""
        return f"{tenant}/{thread_id}" if tenant else thread_id

    def spawn(self, work: Awaitable[Any]) -> None:
        """Run `work` in the background, keeping a reference until it ends."""
        async def _run() -> None:
            await work
        task = asyncio.get_running_loop().create_task(_run())
        self.background.add(task)
        task.add_done_callback(self.background.discard)
