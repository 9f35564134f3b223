"""The drivers' access to the saver: which saver methods carry out a Load, Save or SaveWrites
effect (decided once, for sync and async alike), and the one durability policy both drivers
follow: a Save marked `background` ("async" durability) of a saver that does I/O is written by
a background writer, in order, while the run goes on; anything that reads or claims waits for
those writes first, and so does the end of the run."""

from __future__ import annotations

import queue
import threading
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from hitlgraph.checkpoint.base import BaseCheckpointSaver, SaverTraits, traits_of
from hitlgraph.checkpoint.serde._errors import SerializationError
from hitlgraph.pregel._effects import Load, Save, SaveWrites, unknown
from hitlgraph.pregel._saves_seen import SEEN

if TYPE_CHECKING:
    import asyncio

StorageEffect = Load | Save | SaveWrites
SaverCall = tuple[str, tuple[Any, ...]]
"""A saver method name (the sync one; the async twin is "a" + name) and its arguments."""


def saver_calls(effect: StorageEffect, traits: SaverTraits, aio: bool) -> list[SaverCall]:
    """The saver calls that carry `effect` out; the reply is the last call's result. (Tested
    by exact type, not by a match on classes: this runs for every saver call of a step.)"""
    if type(effect) is SaveWrites:
        return [("put_writes", (effect.config, effect.writes, effect.task_id,
                                effect.task_path))]
    if type(effect) is Load:
        return [("get_tuple", (effect.config,))]
    if type(effect) is not Save:
        unknown(effect)  # type: ignore[arg-type]
    put = (effect.config, effect.checkpoint, effect.metadata, effect.new_versions)
    if not effect.before:
        return [("put", put)]
    before = [(w.config, w.writes, w.task_id, w.task_path) for w in effect.before]
    if traits.async_step_writes if aio else traits.step_writes:
        return [("put_step", (before, *put))]
    return [*(("put_writes", args) for args in before), ("put", put)]


def in_background(effect: StorageEffect, traits: SaverTraits) -> bool:
    """Whether the driver writes `effect` in the background (the run does not wait for it):
    a Save under "async" durability, of a saver that does I/O."""
    return type(effect) is Save and effect.background and not traits.in_process


class SyncSaverIO:
    """The sync driver's saver calls, with a writer thread for background saves (started by
    the first one: a run of an in-process saver never has one)."""

    def __init__(self, saver: BaseCheckpointSaver) -> None:
        self.saver = saver
        self.traits = traits_of(saver)
        self.writer: _Writer | None = None
        """The background writer (started by the first background save)."""
        seen = SEEN.get()
        if seen is not None:  # (a sync run inside the run followed: its saves are not seen)
            seen.doubt = True
        if self.traits.in_process:  # (never a background writer: each effect is one call)
            self.carry = self._call  # type: ignore[method-assign]

    def carry(self, effect: StorageEffect) -> Any:
        """Carry `effect` out; its reply."""
        if in_background(effect, self.traits):
            assert isinstance(effect, Save)
            if self.writer is None:
                self.writer = _Writer(self._call, self.saver, self.traits.batches)
            self.writer.enqueue(effect)
            return None
        if self.writer is not None:
            self.writer.drain()
        return self._call(effect)

    def _call(self, effect: StorageEffect) -> Any:
        # (the effects that are one call each, as saver_calls says, are made directly, without
        # the list of calls: one runs for each task, load and step)
        if type(effect) is SaveWrites:
            return self.saver.put_writes(effect.config, effect.writes, effect.task_id,
                                         effect.task_path)
        if type(effect) is Load:
            return self.saver.get_tuple(effect.config)
        if type(effect) is Save:
            if not effect.before:
                return self.saver.put(effect.config, effect.checkpoint, effect.metadata,
                                      effect.new_versions)
            if self.traits.step_writes:
                return self.saver.put_step(  # type: ignore[attr-defined]
                    [(w.config, w.writes, w.task_id, w.task_path) for w in effect.before],
                    effect.config, effect.checkpoint, effect.metadata, effect.new_versions)
        reply = None
        for name, args in saver_calls(effect, self.traits, aio=False):
            reply = getattr(self.saver, name)(*args)
        return reply

    def drain(self) -> None:
        """Wait until every background save is written; raise the first error one had."""
        if self.writer is not None:
            self.writer.drain()

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            self.writer = None


class _Writer:
    """A thread writing queued saves in order; the saves that queue up while one is written
    go in one transaction when the saver can batch."""

    def __init__(self, call: Callable[[Save], Any], saver: BaseCheckpointSaver,
                 batches: bool) -> None:
        self._call, self._saver, self._batches = call, saver, batches
        self._queue: queue.SimpleQueue[Save | None] = queue.SimpleQueue()
        self._pending = 0
        self._error: BaseException | None = None
        self._idle = threading.Condition()
        self._thread = threading.Thread(target=self._write, name="hitlgraph-save", daemon=True)
        self._thread.start()

    def enqueue(self, effect: Save) -> None:
        with self._idle:
            self._pending += 1
        self._queue.put(effect)

    def _write(self) -> None:
        while (batch := self._next_batch()) is not None:
            try:
                if self._error is None:
                    self._write_batch(batch)
            except BaseException as exc:
                self._error = exc
            with self._idle:
                self._pending -= len(batch)
                self._idle.notify_all()

    def _next_batch(self) -> list[Save] | None:
        """The saves queued now (None: stop)."""
        first = self._queue.get()
        if first is None:
            return None
        batch = [first]
        while True:
            try:
                more = self._queue.get_nowait()
            except queue.Empty:
                return batch
            if more is None:
                self._queue.put(None)
                return batch
            batch.append(more)

    def _write_batch(self, batch: list[Save]) -> None:
        if len(batch) > 1 and self._batches:
            try:
                with self._saver.batch():  # type: ignore[attr-defined]
                    for effect in batch:
                        self._call(effect)
                return
            except SerializationError:  # (rolled back) each apart: the good saves before
                pass  # the one whose values cannot be stored stay
        for effect in batch:
            self._call(effect)

    def drain(self) -> None:
        """Wait until every queued save is written; raise the first error one had."""
        with self._idle:
            self._idle.wait_for(lambda: self._pending == 0)
        if self._error is not None:
            error, self._error = self._error, None
            raise error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()


class AsyncSaverIO:
    """The async driver's saver calls; background saves are written in order by a chain of
    asyncio tasks, each awaiting the one before."""

    def __init__(self, saver: BaseCheckpointSaver) -> None:
        self.saver = saver
        self.traits = traits_of(saver)
        self._last: asyncio.Future[None] | None = None
        self._error: BaseException | None = None
        self.seen = SEEN.get()
        """Told of each save and write stored (see _saves_seen), when the run's caller asked."""

    async def carry(self, effect: StorageEffect) -> Any:
        """Carry `effect` out; its reply."""
        if in_background(effect, self.traits):
            import asyncio  # on its loop, so loaded already; not with the engine

            self._last = asyncio.ensure_future(self._after(self._last, effect))
            if self.seen is not None:  # (written in order; a failure fails the run)
                self.seen.saw(effect)  # type: ignore[arg-type]
            return None
        await self.drain()
        reply = await self._call(effect)
        if self.seen is not None and type(effect) is not Load:
            self.seen.saw(effect)  # type: ignore[arg-type]
        return reply

    async def _call(self, effect: StorageEffect) -> Any:
        reply = None
        for name, args in saver_calls(effect, self.traits, aio=True):
            method: Callable[..., Awaitable[Any]] = getattr(self.saver, "a" + name)
            reply = await method(*args)
        return reply

    async def _after(self, before: asyncio.Future[None] | None, effect: StorageEffect) -> None:
        if before is not None:
            await before
        if self._error is not None:
            return
        try:
            await self._call(effect)
        except BaseException as exc:
            self._error = exc

    async def drain(self) -> None:
        """Wait until every background save is written; raise the first error one had."""
        if self._last is not None:
            last, self._last = self._last, None
            await last
        if self._error is not None:
            error, self._error = self._error, None
            raise error
