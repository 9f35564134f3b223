"""The two drivers of the effect generators in _loop.py: one for sync code, one for asyncio."""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import AsyncIterator, Generator, Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from hitlgraph.checkpoint.base import BaseCheckpointSaver
from hitlgraph.pregel._algo import Task
from hitlgraph.pregel._call import run_task_async, run_task_sync
from hitlgraph.pregel._loop import Emit, Load, Next, RunOne, Save, SaveWrites, Start
from hitlgraph.pregel._spec import GraphSpec

T = TypeVar("T")


@dataclass(slots=True)
class Outcome(Generic[T]):
    """Where a driver leaves the generator's return value."""

    value: T | None = None
    done: bool = field(default=False)


def drive_sync(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T],
) -> Iterator[Emit]:
    """Carry out `steps` in this thread, yielding its Emit effects; parallel tasks use threads."""
    reply: Any = None
    pool: ThreadPoolExecutor | None = None
    inline: list[tuple[Task, dict[str, Any]]] = []
    futures: set[Future[Task]] = set()
    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as stop:
                outcome.value, outcome.done = stop.value, True
                return
            reply = None
            kind = type(effect)
            if kind is RunOne:
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
                if len(effect.tasks) == 1:
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
            elif kind is Emit:
                yield effect
            elif kind is Save:
                assert saver is not None
                for w in effect.before:
                    saver.put_writes(w.config, w.writes, w.task_id, w.task_path)
                reply = saver.put(effect.config, effect.checkpoint, effect.metadata,
                                  effect.new_versions)
            elif kind is SaveWrites:
                assert saver is not None
                saver.put_writes(effect.config, effect.writes, effect.task_id, effect.task_path)
            elif kind is Load:
                assert saver is not None
                reply = saver.get_tuple(effect.config)
            else:  # pragma: no cover - the effect set is closed
                raise TypeError(f"Unknown effect {effect!r}")
    finally:
        steps.close()
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)


async def drive_async(
    steps: Generator[Any, Any, T], spec: GraphSpec, saver: BaseCheckpointSaver | None,
    outcome: Outcome[T],
) -> AsyncIterator[Emit]:
    """Carry out `steps` on the running event loop, yielding its Emit effects."""
    reply: Any = None
    running: set[asyncio.Task[Task]] = set()
    try:
        while True:
            try:
                effect = steps.send(reply)
            except StopIteration as stop:
                outcome.value, outcome.done = stop.value, True
                return
            reply = None
            kind = type(effect)
            if kind is Emit:
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
                    running.add(asyncio.ensure_future(run_task_async(spec, task, effect.values)))
            elif kind is Save:
                assert saver is not None
                for w in effect.before:
                    await saver.aput_writes(w.config, w.writes, w.task_id, w.task_path)
                reply = await saver.aput(effect.config, effect.checkpoint, effect.metadata,
                                         effect.new_versions)
            elif kind is SaveWrites:
                assert saver is not None
                await saver.aput_writes(effect.config, effect.writes, effect.task_id,
                                        effect.task_path)
            elif kind is Load:
                assert saver is not None
                reply = await saver.aget_tuple(effect.config)
            else:  # pragma: no cover - the effect set is closed
                raise TypeError(f"Unknown effect {effect!r}")
    finally:
        steps.close()
        for pending in running:
            pending.cancel()
