"""The two drivers of the effect generators (_loop.py, _update.py): one for sync code, one
for asyncio. Saver effects go through _saver_io (one policy for both); tasks run inline, on a
thread pool (sync) or as asyncio tasks.

When the consumer listens to chunks that tasks make while they run ("custom", "messages", or
subgraphs' chunks), the drivers run every task off the driving thread (sync) or as its own
asyncio task, and wait on one queue that receives both those chunks and finished tasks.
"""

from __future__ import annotations

import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.errors import CheckpointConflictError
from hitlgraph.pregel._algo import Task
from hitlgraph.pregel._call import run_task_async, run_task_sync
from hitlgraph.pregel._context import StreamSink
from hitlgraph.pregel._effects import (
    Abandoned,
    CacheGet,
    CacheSet,
    Claim,
    Effect,
    Emit,
    Load,
    Next,
    RunOne,
    Save,
    SaveWrites,
    Start,
    unknown,
)
from hitlgraph.pregel._saver_io import AsyncSaverIO, StorageEffect, SyncSaverIO
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.pregel._workers import Lanes

if TYPE_CHECKING:
    import asyncio

T = TypeVar("T")
_STORAGE = frozenset({Save, SaveWrites, Load})
"""The effects drive_sync hands to the saver access at once (the other effects go by
_SyncRun.carry)."""


@dataclass(slots=True)
class Outcome(Generic[T]):
    """Where a driver leaves the generator's return value."""

    value: T | None = None
    done: bool = field(default=False)


@dataclass(frozen=True, slots=True)
class Listen:
    """What the consumer listens to while tasks run: these modes, and subgraphs' chunks."""

    modes: frozenset[str]
    subgraphs: bool


@dataclass(frozen=True, slots=True)
class _Crashed:
    """A task whose run raised something that must stop the whole run (not an Exception)."""

    error: BaseException


def _next(steps: Generator[Effect, Any, T], reply: Any, outcome: Outcome[T]) -> Effect | None:
    """Send `reply` into `steps`: its next effect, or None once it returned (into `outcome`)."""
    try:
        return steps.send(reply)
    except StopIteration as stop:
        outcome.value, outcome.done = stop.value, True
        return None


def _abandoned(steps: Generator[Effect, Any, Any]) -> Generator[StorageEffect, Any, None]:
    """The consumer left: throw Abandoned into `steps` and pass on the saver effects it still
    makes (it writes what its durability held back); other effects get empty replies."""
    try:
        effect = steps.throw(Abandoned())
        while True:
            reply: Any = None
            if isinstance(effect, (Load, Save, SaveWrites)):
                reply = yield effect
            elif isinstance(effect, CacheGet):
                reply = {}
            effect = steps.send(reply)
    except (StopIteration, Abandoned):
        return


class _SyncRun:
    """One run's effects carried out in the driving thread; parallel tasks use threads
    (at most 32 at once, borrowed from the threads the process keeps: _workers.py). With no
    stream listening, the driving thread runs parallel tasks too while it waits for them."""

    def __init__(self, spec: GraphSpec, saver: BaseCheckpointSaver | None,
                 listen: Listen | None) -> None:
        self.spec = spec
        self.io = SyncSaverIO(saver) if saver is not None else None
        self.lanes: Lanes | None = None
        self.inline: list[tuple[Task, dict[str, Any]]] = []
        self.events: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self.sink = None if listen is None else StreamSink(
            listen.modes, listen.subgraphs,
            lambda mode, chunk, ns: self.events.put(Emit(mode, chunk, ns)))
        self._persist = self.persist if self.io is not None else None

    def persist(self, effect: SaveWrites) -> None:
        """Save a task's writes (its @task results) while it runs."""
        assert self.io is not None
        self.io.carry(effect)

    def carry(self, effect: Effect) -> Any:
        """Carry out an effect other than Emit; its reply."""
        match effect:
            case RunOne():
                return self.run_here(effect.task, effect.values)
            case Load() | Save() | SaveWrites():
                assert self.io is not None
                return self.io.carry(effect)
            case Claim():
                assert self.io is not None
                try:
                    self.io.carry(effect.writes)
                except CheckpointConflictError as lost:
                    return lost
            case Next():
                return self._next()
            case Start():
                self._start(effect.tasks, effect.values)
            case CacheGet():
                return effect.cache.get(effect.keys)
            case CacheSet():
                effect.cache.set(effect.pairs)
            case Emit():
                raise TypeError("Emit effects are yielded by the driver loop")
            case _:
                unknown(effect)
        return None

    def listen(self, effect: RunOne | Next) -> Generator[Emit, None, Task]:
        """Wait for the next task to finish, passing on the chunks tasks make meanwhile."""
        if isinstance(effect, RunOne):
            self._submit(effect.task, effect.values)
        while True:
            item = self.events.get()
            if type(item) is Emit:
                yield item
            elif type(item) is _Crashed:
                raise item.error
            else:
                return item  # type: ignore[no-any-return]

    def _prepare(self, task: Task) -> Task:
        task.ctx.attach(self.sink, self._persist)
        return task

    def run_here(self, task: Task, values: dict[str, Any]) -> Task:
        """Run a task to its end in the driving thread (in a copy of its context)."""
        scope = task.ctx.scope  # (TaskContext.attach, inline: this runs once per step)
        scope.sink, scope.persist = self.sink, self._persist
        return contextvars.copy_context().run(run_task_sync, self.spec, task, values)

    def _submit(self, task: Task, values: dict[str, Any]) -> None:
        """Run a task on a thread; it reports to the events queue when done (so waiting for
        the next of n tasks costs the same whatever n)."""
        if self.lanes is None:  # (made on first use: most runs have no parallel step)
            self.lanes = Lanes(32)
        self.lanes.submit(self._report, self._prepare(task), values)

    def _report(self, task: Task, values: dict[str, Any]) -> None:
        try:
            run_task_sync(self.spec, task, values)
        except BaseException as exc:
            self.events.put(_Crashed(exc))
            return
        self.events.put(task)

    def _start(self, tasks: list[Task] | Any, values: dict[str, Any]) -> None:
        if self.sink is None and len(tasks) == 1:
            self.inline.append((tasks[0], values))
            return
        if self.sink is not None:
            for task in tasks:
                self._submit(task, values)
            return
        if self.lanes is None:
            self.lanes = Lanes(32)
        for task in tasks:  # (threads join in as the driving thread takes tasks: _next)
            self.lanes.add(self._report, self._prepare(task), values)

    def _next(self) -> Task:
        if self.inline:
            return self.run_here(*self.inline.pop())
        if self.events.empty() and self.lanes is not None:
            # Rather than wait, run a task not started yet here: a step of quick tasks then
            # runs mostly in this thread, without a thread hand-off per task.
            self.lanes.take()
        item = self.events.get()  # (no chunks come here: with a sink, listen() waits)
        if type(item) is _Crashed:
            raise item.error
        return item  # type: ignore[no-any-return]

    def abandon(self, steps: Generator[Effect, Any, Any]) -> None:
        saves = _abandoned(steps)
        reply: Any = None
        while True:
            try:
                effect = saves.send(reply)
            except StopIteration:
                return
            reply = self.io.carry(effect) if self.io is not None else None

    def close(self) -> None:
        io = self.io if self.io is not None and self.io.writer is not None else None
        try:  # (io: a background writer was started; most runs have none)
            if io is not None:
                io.drain()
        finally:
            if self.lanes is not None:
                self.lanes.close()
            if io is not None:
                io.close()


def drive_sync(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T], listen: Listen | None = None,
) -> Iterator[Emit]:
    """Carry out `steps` in this thread, yielding its Emit effects; parallel tasks use threads."""
    run = _SyncRun(spec, saver, listen)
    reply: Any = None
    try:
        while True:  # (the send is inline: this loop runs a few times per step)
            try:
                effect = steps.send(reply)
            except StopIteration as stop:
                outcome.value, outcome.done = stop.value, True
                return
            kind = type(effect)
            if kind is Emit:
                reply = None
                yield effect
            elif kind in _STORAGE and run.io is not None:
                reply = run.io.carry(effect)
            elif run.sink is not None and (kind is RunOne or kind is Next):
                reply = yield from run.listen(effect)
            elif kind is RunOne:
                reply = run.run_here(effect.task, effect.values)
            else:
                reply = run.carry(effect)
    except GeneratorExit:  # the consumer stopped reading
        run.abandon(steps)
        raise
    finally:
        try:
            run.close()
        finally:
            steps.close()


class _AsyncRun:
    """One run's effects carried out on the running event loop; tasks are asyncio tasks.

    asyncio is imported by the methods that use it (loaded already: they run on its loop), not
    with the engine, which a synchronous program runs without it."""

    def __init__(self, spec: GraphSpec, saver: BaseCheckpointSaver | None,
                 listen: Listen | None) -> None:
        import asyncio

        self.spec = spec
        self.io = AsyncSaverIO(saver) if saver is not None else None
        self.running: set[asyncio.Task[Task]] = set()
        self.events: asyncio.Queue[Any] = asyncio.Queue()
        self.loop = asyncio.get_running_loop()
        self.loop_thread = threading.get_ident()
        self.sink = None if listen is None else StreamSink(listen.modes, listen.subgraphs,
                                                           self._put)
        self._persist = self.persist if self.io is not None else None

    def _put(self, mode: str, chunk: Any, ns: tuple[str, ...]) -> None:
        item = Emit(mode, chunk, ns)
        if threading.get_ident() == self.loop_thread:
            self.events.put_nowait(item)
        else:
            self.loop.call_soon_threadsafe(self.events.put_nowait, item)

    def persist(self, effect: SaveWrites) -> Any:
        """Save a task's writes (its @task results) while it runs: a coroutine on the run's
        loop, or done before returning when called from a worker thread."""
        assert self.io is not None
        if threading.get_ident() == self.loop_thread:
            return self.io.carry(effect)
        import asyncio

        return asyncio.run_coroutine_threadsafe(self.io.carry(effect), self.loop).result()

    async def carry(self, effect: Effect) -> Any:
        """Carry out an effect other than Emit; its reply."""
        match effect:
            case Load() | Save() | SaveWrites():
                assert self.io is not None
                return await self.io.carry(effect)
            case Claim():
                assert self.io is not None
                try:
                    await self.io.carry(effect.writes)
                except CheckpointConflictError as lost:
                    return lost
            case RunOne():
                return await run_task_async(self.spec, self._prepare(effect.task),
                                            effect.values)
            case Next():
                item = await self.events.get()  # (with a sink, listen() waits instead)
                if type(item) is _Crashed:
                    raise item.error
                return item
            case Start():
                for task in effect.tasks:
                    self._start(task, effect.values)
            case CacheGet():
                return await effect.cache.aget(effect.keys)
            case CacheSet():
                await effect.cache.aset(effect.pairs)
            case Emit():
                raise TypeError("Emit effects are yielded by the driver loop")
            case _:
                unknown(effect)
        return None

    async def listen(self, effect: RunOne | Next) -> AsyncIterator[Emit | Task]:
        """The chunks tasks make until the next task finishes, then that task."""
        if isinstance(effect, RunOne):
            self._start(effect.task, effect.values)
        while True:
            item = await self.events.get()
            if type(item) is _Crashed:
                raise item.error
            yield item
            if type(item) is not Emit:
                return

    def _prepare(self, task: Task) -> Task:
        task.ctx.attach(self.sink, self._persist)
        return task

    def _start(self, task: Task, values: dict[str, Any]) -> None:
        """Run a task as its own asyncio task; it reports to the events queue when done."""
        import asyncio

        self._prepare(task)
        self.running.add(asyncio.ensure_future(self._report(task, values)))

    async def _report(self, task: Task, values: dict[str, Any]) -> Task:
        try:
            await run_task_async(self.spec, task, values)
        except BaseException as exc:
            self.events.put_nowait(_Crashed(exc))
            return task
        self.events.put_nowait(task)
        return task

    async def abandon(self, steps: Generator[Effect, Any, Any]) -> None:
        saves = _abandoned(steps)
        reply: Any = None
        while True:
            try:
                effect = saves.send(reply)
            except StopIteration:
                return
            reply = await self.io.carry(effect) if self.io is not None else None

    async def close(self) -> None:
        for pending in self.running:
            if not pending.done():
                pending.cancel()
        if self.io is not None:
            await self.io.drain()


async def drive_async(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T], listen: Listen | None = None,
) -> AsyncIterator[Emit]:
    """Carry out `steps` on the running event loop, yielding its Emit effects."""
    import asyncio

    run = _AsyncRun(spec, saver, listen)
    reply: Any = None
    try:
        while (effect := _next(steps, reply, outcome)) is not None:
            reply = None
            if type(effect) is Emit:
                yield effect
            elif run.sink is not None and isinstance(effect, (RunOne, Next)):
                async for item in run.listen(effect):
                    if type(item) is Emit:
                        yield item
                    else:
                        reply = item
            else:
                reply = await run.carry(effect)
    except (GeneratorExit, asyncio.CancelledError):  # the consumer stopped reading
        await run.abandon(steps)
        raise
    finally:
        steps.close()
        await run.close()
