"""Running one task: the node call, its edges, retries; written once as a generator of calls
that the sync and the async driver carry out."""

from __future__ import annotations

import asyncio
import inspect
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any

from hitlgraph.errors import GraphInterrupt, ParentCommand
from hitlgraph.pregel._algo import Task, edge_writes, fresh_values, node_writes
from hitlgraph.pregel._context import set_task
from hitlgraph.pregel._lc_stream import stream_chat_model_tokens
from hitlgraph.pregel._spec import GraphSpec
from hitlgraph.types import Command, RetryPolicy


@dataclass(slots=True)
class Call:
    """Call `fn(*args, **kwargs)`; `offload` says a sync fn may block (a node, not an edge)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    is_async: bool
    offload: bool
    afn: Callable[..., Any] | None = None


@dataclass(slots=True)
class Sleep:
    """Wait before a retry."""

    seconds: float


TaskStep = Generator["Call | Sleep", Any, None]


def _policy_for(policies: tuple[RetryPolicy, ...], exc: Exception) -> RetryPolicy | None:
    for policy in policies:
        if policy.should_retry(exc):
            return policy
    return None


def task_steps(spec: GraphSpec, task: Task, values: dict[str, Any]) -> TaskStep:
    """Run `task`: call its node, turn the result into writes, follow its conditional edges.

    `values` is the state at the start of the step (what conditional edges see, with the task's
    own writes applied). Retries follow the node's RetryPolicy; each attempt starts over.
    """
    node = task.node
    policies = node.retry or spec.retry
    attempt = 0
    while True:
        attempt += 1
        task.ctx.calls = 0
        try:
            try:
                result = yield Call(node.fn, (task.input,), _node_kwargs(task), node.is_async,
                                    True, node.afn)
            except ParentCommand as routed:  # a subgraph's node routes in this graph
                result = routed.command
            writes, update = _writes_of(spec, task, result)
            if node.branches:
                view = spec.state_coerce(fresh_values(spec, values, writes))
                for branch in node.branches:
                    bkw = {"config": task.ctx.config} if branch.wants_config else {}
                    chosen = yield Call(branch.path, (view,), bkw, branch.is_async, False)
                    writes.extend(branch.writes(chosen, spec.nodes))
        except Exception as exc:
            policy = _policy_for(policies, exc)
            if policy is None or attempt >= policy.max_attempts:
                raise
            yield Sleep(policy.interval(attempt))
            continue
        task.writes = writes
        task.update = update
        return


def _node_kwargs(task: Task) -> dict[str, Any]:
    node = task.node
    kwargs: dict[str, Any] = {"config": task.ctx.config} if node.wants_config else {}
    if node.wants_writer:
        kwargs["writer"] = task.ctx.writer
    return kwargs


def _writes_of(spec: GraphSpec, task: Task, result: Any) -> tuple[list[Any], Any]:
    """The writes (with the node's static edges) and the update of what a node returned."""
    if isinstance(result, Command) and result.graph == Command.PARENT and task.ctx.ns:
        raise ParentCommand(replace(result, graph=None))
    writes, update = node_writes(spec, task.name, result)
    writes.extend(edge_writes(task.node))
    return writes, update


def _run_plain(spec: GraphSpec, task: Task) -> None:
    """run_task_sync's fast path for a sync node without retries or conditional edges: the
    same as task_steps, without the generator."""
    try:
        try:
            result = task.node.fn(task.input, **_node_kwargs(task))
            if type(result) not in _PLAIN and inspect.isawaitable(result):
                result = run_coroutine(result)
        except ParentCommand as routed:
            result = routed.command
        task.writes, task.update = _writes_of(spec, task, result)
    except BaseException as exc:
        _finish(task, exc)


def _finish(task: Task, exc: BaseException) -> None:
    if isinstance(exc, GraphInterrupt):
        task.interrupts = exc.interrupts
    elif isinstance(exc, Exception):
        task.error = exc
    else:
        raise exc


def run_coroutine(awaitable: Any) -> Any:
    """Run an awaitable from sync code: on a private event loop, in a worker thread when this
    thread already runs a loop (never on the caller's loop)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    box: dict[str, Any] = {}
    import contextvars

    ctx = contextvars.copy_context()

    def target() -> None:
        try:
            box["value"] = ctx.run(asyncio.run, _await(awaitable))
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=target, name="hitlgraph-async-node")
    worker.start()
    worker.join()
    if "error" in box:
        raise box["error"]
    return box.get("value")


async def _await(awaitable: Any) -> Any:
    return await awaitable


_PLAIN = frozenset({dict, type(None), str, list, tuple})
"""Types a node or edge returns that are never awaitable (skips the isawaitable check)."""


def run_task_sync(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Task:
    """Run a task to its end in this thread; errors and interrupts are recorded on it."""
    set_task(task.ctx)
    if task.ctx.sink is not None:
        stream_chat_model_tokens(task.ctx)
    if task.node.plain and not spec.retry:
        _run_plain(spec, task)
        task.done = True
        return task
    steps = task_steps(spec, task, values)
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(reply)
        except StopIteration:
            break
        except BaseException as exc:
            _finish(task, exc)
            break
        error = None
        if isinstance(effect, Call):
            try:
                reply = effect.fn(*effect.args, **effect.kwargs)
                if type(reply) not in _PLAIN and inspect.isawaitable(reply):
                    reply = run_coroutine(reply)
            except BaseException as exc:
                error = exc
        else:
            time.sleep(effect.seconds)
            reply = None
    task.done = True
    return task


async def run_task_async(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Task:
    """Run a task on the event loop; sync node functions go to a worker thread."""
    set_task(task.ctx)
    if task.ctx.sink is not None:
        stream_chat_model_tokens(task.ctx)
    steps = task_steps(spec, task, values)
    reply: Any = None
    error: BaseException | None = None
    while True:
        try:
            effect = steps.throw(error) if error is not None else steps.send(reply)
        except StopIteration:
            break
        except BaseException as exc:
            _finish(task, exc)
            break
        error = None
        if isinstance(effect, Call):
            try:
                if effect.afn is not None:
                    reply = await effect.afn(*effect.args, **effect.kwargs)
                elif effect.is_async:
                    reply = await effect.fn(*effect.args, **effect.kwargs)
                elif effect.offload:
                    reply = await asyncio.to_thread(effect.fn, *effect.args, **effect.kwargs)
                else:
                    reply = effect.fn(*effect.args, **effect.kwargs)
                if inspect.isawaitable(reply):
                    reply = await reply
            except BaseException as exc:
                error = exc
        else:
            await asyncio.sleep(effect.seconds)
            reply = None
    task.done = True
    return task
