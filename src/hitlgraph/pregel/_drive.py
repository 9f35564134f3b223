"""The two drivers of the effect generators (_loop.py, _update.py): one for sync code, one
for asyncio.

When the consumer listens to chunks that tasks make while they run ("custom", "messages", or
subgraphs' chunks), the drivers run every task off the driving thread (sync) or as its own
asyncio task, and wait on one queue that receives both those chunks and finished tasks.
"""

from __future__ import annotations

import asyncio
import contextvars
import queue
import threading
from collections.abc import AsyncIterator, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hitlgraph.checkpoint.base import BaseCheckpointSaver, traits_of
from hitlgraph.pregel._algo import Task
from hitlgraph.pregel._call import run_task_async, run_task_sync
from hitlgraph.pregel._context import StreamSink
from hitlgraph.pregel._effects import (
    Abandoned,
    CacheGet,
    CacheSet,
    Emit,
    Load,
    Next,
    RunOne,
    Save,
    SaveWrites,
    Start,
)
from hitlgraph.pregel._spec import GraphSpec

T = TypeVar("T")


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


def _report(spec: GraphSpec, task: Task, values: dict[str, Any], done: queue.SimpleQueue[Any]
            ) -> None:
    try:
        run_task_sync(spec, task, values)
    except BaseException as exc:
        done.put(_Crashed(exc))
        return
    done.put(task)


def _abandon_sync(steps: Generator[Any, Any, Any], saver: BaseCheckpointSaver | None) -> None:
    """The consumer left: let `steps` write what it held back, carrying out only its saves."""
    try:
        effect = steps.throw(Abandoned())
        while True:
            reply: Any = None
            kind = type(effect)
            if saver is not None and kind is Save:
                reply = _save(saver, effect, traits_of(saver).step_writes)
            elif saver is not None and kind is SaveWrites:
                saver.put_writes(effect.config, effect.writes, effect.task_id, effect.task_path)
            elif saver is not None and kind is Load:
                reply = saver.get_tuple(effect.config)
            elif kind is CacheGet:
                reply = {}
            effect = steps.send(reply)
    except (StopIteration, Abandoned):
        return


async def _abandon_async(steps: Generator[Any, Any, Any], saver: BaseCheckpointSaver | None
                         ) -> None:
    """Like _abandon_sync, with the saver's async methods."""
    try:
        effect = steps.throw(Abandoned())
        while True:
            reply: Any = None
            kind = type(effect)
            if saver is not None and kind is Save:
                reply = await _asave(saver, effect)
            elif saver is not None and kind is SaveWrites:
                await saver.aput_writes(effect.config, effect.writes, effect.task_id,
                                        effect.task_path)
            elif saver is not None and kind is Load:
                reply = await saver.aget_tuple(effect.config)
            elif kind is CacheGet:
                reply = {}
            effect = steps.send(reply)
    except (StopIteration, Abandoned):
        return


def _save(saver: BaseCheckpointSaver, effect: Save, step_writer: bool) -> Any:
    if effect.before and step_writer:
        return saver.put_step(  # type: ignore[attr-defined]
            [(w.config, w.writes, w.task_id, w.task_path) for w in effect.before],
            effect.config, effect.checkpoint, effect.metadata, effect.new_versions)
    for w in effect.before:
        saver.put_writes(w.config, w.writes, w.task_id, w.task_path)
    return saver.put(effect.config, effect.checkpoint, effect.metadata, effect.new_versions)


class _Writer:
    """Writes checkpoints in order on one background thread ("async" durability). Saves that
    queue up while one is written go in one transaction when the saver can batch."""

    def __init__(self, saver: BaseCheckpointSaver, step_writer: bool) -> None:
        self.saver, self.step_writer = saver, step_writer
        self.items: queue.SimpleQueue[Save | None] = queue.SimpleQueue()
        self.pending = 0
        self.error: BaseException | None = None
        self.idle = threading.Condition()
        self.thread = threading.Thread(target=self._run, name="hitlgraph-save", daemon=True)
        self.thread.start()

    def put(self, effect: Save) -> None:
        with self.idle:
            self.pending += 1
        self.items.put(effect)

    def _run(self) -> None:
        batch_of = self.saver.batch if traits_of(self.saver).batches else None  # type: ignore[attr-defined]
        while True:
            first = self.items.get()
            if first is None:
                return
            batch = [first]
            while True:
                try:
                    more = self.items.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    self.items.put(None)
                    break
                batch.append(more)
            try:
                if self.error is None:
                    if batch_of is not None and len(batch) > 1:
                        with batch_of():
                            for effect in batch:
                                _save(self.saver, effect, self.step_writer)
                    else:
                        for effect in batch:
                            _save(self.saver, effect, self.step_writer)
            except BaseException as exc:
                self.error = exc
            with self.idle:
                self.pending -= len(batch)
                self.idle.notify_all()

    def drain(self) -> None:
        """Wait until everything queued is written; raise the first error a write had."""
        with self.idle:
            self.idle.wait_for(lambda: self.pending == 0)
        if self.error is not None:
            error, self.error = self.error, None
            raise error

    def stop(self) -> None:
        self.items.put(None)
        self.thread.join()


async def _asave(saver: BaseCheckpointSaver, effect: Save) -> Any:
    """_save with the saver's async methods (aput_step when it has one)."""
    if effect.before and traits_of(saver).async_step_writes:
        return await saver.aput_step(  # type: ignore[attr-defined]
            [(w.config, w.writes, w.task_id, w.task_path) for w in effect.before],
            effect.config, effect.checkpoint, effect.metadata, effect.new_versions)
    for w in effect.before:
        await saver.aput_writes(w.config, w.writes, w.task_id, w.task_path)
    return await saver.aput(effect.config, effect.checkpoint, effect.metadata,
                            effect.new_versions)


def drive_sync(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T], listen: Listen | None = None,
) -> Iterator[Emit]:
    """Carry out `steps` in this thread, yielding its Emit effects; parallel tasks use threads."""
    reply: Any = None
    pool: ThreadPoolExecutor | None = None
    # "async" durability: checkpoints of a saver that does I/O are written by one background
    # thread, in order, while the run goes on; drain() waits for them (and raises their error).
    writer: _Writer | None = None
    traits = traits_of(saver) if saver is not None else None
    slow_saver = traits is not None and not traits.in_process
    step_writer = traits is not None and traits.step_writes

    def drain() -> None:
        if writer is not None:
            writer.drain()

    inline: list[tuple[Task, dict[str, Any]]] = []
    futures: set[Future[Task]] = set()
    events: queue.SimpleQueue[Any] = queue.SimpleQueue()
    sink = None
    if listen is not None:
        sink = StreamSink(listen.modes, listen.subgraphs,
                          lambda mode, chunk, ns: events.put(Emit(mode, chunk, ns)))

    def submit(task: Task, values: dict[str, Any]) -> None:
        nonlocal pool
        if pool is None:
            pool = ThreadPoolExecutor(max_workers=32, thread_name_prefix="hitlgraph-task")
        task.ctx.sink = sink
        ctx = contextvars.copy_context()
        pool.submit(ctx.run, _report, spec, task, values, events)

    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as stop:
                outcome.value, outcome.done = stop.value, True
                return
            reply = None
            kind = type(effect)
            if sink is not None and (kind is RunOne or kind is Next):
                if kind is RunOne:
                    submit(effect.task, effect.values)
                while True:
                    item = events.get()
                    if type(item) is Emit:
                        yield item
                    elif type(item) is _Crashed:
                        raise item.error
                    else:
                        reply = item
                        break
            elif kind is RunOne:
                reply = contextvars.copy_context().run(run_task_sync, spec, effect.task,
                                                       effect.values)
            elif kind is Next:
                if inline:
                    task, values = inline.pop()
                    reply = contextvars.copy_context().run(run_task_sync, spec, task, values)
                else:
                    finished, _ = wait(futures, return_when=FIRST_COMPLETED)
                    first = finished.pop()
                    futures.discard(first)
                    reply = first.result()
            elif kind is Start:
                if sink is not None:
                    for task in effect.tasks:
                        submit(task, effect.values)
                elif len(effect.tasks) == 1:
                    inline.append((effect.tasks[0], effect.values))
                else:
                    if pool is None:
                        pool = ThreadPoolExecutor(
                            max_workers=min(32, len(effect.tasks)),
                            thread_name_prefix="hitlgraph-task",
                        )
                    for task in effect.tasks:
                        ctx = contextvars.copy_context()
                        futures.add(pool.submit(ctx.run, run_task_sync, spec, task,
                                                effect.values))
            elif kind is SaveWrites:
                assert saver is not None
                drain()
                saver.put_writes(effect.config, effect.writes, effect.task_id, effect.task_path)
            elif kind is Emit:
                yield effect
            elif kind is Save:
                assert saver is not None
                if effect.background and slow_saver:
                    if writer is None:
                        writer = _Writer(saver, step_writer)
                    writer.put(effect)
                else:
                    drain()
                    _save(saver, effect, step_writer)
            elif kind is Load:
                assert saver is not None
                drain()
                reply = saver.get_tuple(effect.config)
            elif kind is CacheGet:
                reply = effect.cache.get(effect.keys)
            elif kind is CacheSet:
                effect.cache.set(effect.pairs)
            else:  # pragma: no cover - the effect set is closed
                raise TypeError(f"Unknown effect {effect!r}")
    except GeneratorExit:  # the consumer stopped reading
        drain()
        _abandon_sync(steps, saver)
        raise
    finally:
        try:
            drain()
        finally:
            steps.close()
            if pool is not None:
                pool.shutdown(wait=False, cancel_futures=True)
            if writer is not None:
                writer.stop()


async def drive_async(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T], listen: Listen | None = None,
) -> AsyncIterator[Emit]:
    """Carry out `steps` on the running event loop, yielding its Emit effects."""
    reply: Any = None
    running: set[asyncio.Task[Task]] = set()
    events: asyncio.Queue[Any] = asyncio.Queue()
    sink = None
    if listen is not None:
        loop = asyncio.get_running_loop()
        loop_thread = threading.get_ident()

        def put(mode: str, chunk: Any, ns: tuple[str, ...]) -> None:
            item = Emit(mode, chunk, ns)
            if threading.get_ident() == loop_thread:
                events.put_nowait(item)
            else:
                loop.call_soon_threadsafe(events.put_nowait, item)

        sink = StreamSink(listen.modes, listen.subgraphs, put)

    async def report(task: Task, values: dict[str, Any]) -> Task:
        try:
            await run_task_async(spec, task, values)
        except BaseException as exc:
            events.put_nowait(_Crashed(exc))
            return task
        events.put_nowait(task)
        return task

    def start(task: Task, values: dict[str, Any]) -> None:
        if sink is not None:
            task.ctx.sink = sink
            running.add(asyncio.ensure_future(report(task, values)))
        else:
            running.add(asyncio.ensure_future(run_task_async(spec, task, values)))

    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as stop:
                outcome.value, outcome.done = stop.value, True
                return
            reply = None
            kind = type(effect)
            if sink is not None and (kind is RunOne or kind is Next):
                if kind is RunOne:
                    start(effect.task, effect.values)
                while True:
                    item = await events.get()
                    if type(item) is Emit:
                        yield item
                    elif type(item) is _Crashed:
                        raise item.error
                    else:
                        reply = item
                        break
            elif kind is Emit:
                yield effect
            elif kind is RunOne:
                reply = await run_task_async(spec, effect.task, effect.values)
            elif kind is Next:
                finished, _ = await asyncio.wait(running, return_when=asyncio.FIRST_COMPLETED)
                first = finished.pop()
                running.discard(first)
                reply = first.result()
            elif kind is Start:
                for task in effect.tasks:
                    start(task, effect.values)
            elif kind is Save:
                assert saver is not None
                reply = await _asave(saver, effect)
            elif kind is SaveWrites:
                assert saver is not None
                await saver.aput_writes(effect.config, effect.writes, effect.task_id,
                                        effect.task_path)
            elif kind is Load:
                assert saver is not None
                reply = await saver.aget_tuple(effect.config)
            elif kind is CacheGet:
                reply = await effect.cache.aget(effect.keys)
            elif kind is CacheSet:
                await effect.cache.aset(effect.pairs)
            else:  # pragma: no cover - the effect set is closed
                raise TypeError(f"Unknown effect {effect!r}")
    except (GeneratorExit, asyncio.CancelledError):  # the consumer stopped reading
        await _abandon_async(steps, saver)
        raise
    finally:
        steps.close()
        for pending in running:
            if not pending.done():
                pending.cancel()
