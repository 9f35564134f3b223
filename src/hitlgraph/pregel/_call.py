"""Running one task: the node call, its edges, retries; and running the @task calls a node
makes. Each is written once as a generator of effects (calls, sleeps, cache lookups, saves)
that carry_sync and carry_async carry out."""

from __future__ import annotations

import contextvars
import inspect
import threading
import time
from collections.abc import Callable, Generator
from dataclasses import dataclass, replace
from typing import Any, TypeVar

from hitlgraph.errors import GraphInterrupt, ParentCommand
from hitlgraph.pregel._algo import Task, edge_writes, fresh_values, node_writes
from hitlgraph.pregel._context import set_task
from hitlgraph.pregel._effects import CacheGet, CacheSet, SaveWrites, unknown
from hitlgraph.pregel._lc_stream import stream_chat_model_tokens
from hitlgraph.pregel._spec import GraphSpec, passthrough
from hitlgraph.pregel._trace import node_span
from hitlgraph.types import Command, RetryPolicy

T = TypeVar("T")


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


TaskEffect = Call | Sleep | CacheGet | CacheSet | SaveWrites
Steps = Generator[TaskEffect, Any, T]
Persist = Callable[[SaveWrites], Any]
"""Where a task's SaveWrites effects go: the driver's saver access (see _saver_io)."""


def _policy_for(policies: tuple[RetryPolicy, ...], exc: Exception) -> RetryPolicy | None:
    return next((p for p in policies if p.should_retry(exc)), None)


def retrying(attempt: Callable[[], Steps[T]], policies: tuple[RetryPolicy, ...]) -> Steps[T]:
    """Run `attempt()` until it succeeds or a RetryPolicy gives up (each attempt starts over,
    after the policy's Sleep)."""
    count = 0
    while True:
        count += 1
        try:
            return (yield from attempt())
        except Exception as exc:
            policy = _policy_for(policies, exc)
            if policy is None or count >= policy.max_attempts:
                raise
            yield Sleep(policy.interval(count))


def task_steps(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Steps[None]:
    """Run `task`: call its node, turn the result into writes, follow its conditional edges
    (the task's `writes` and `update` are set at the end).

    `values` is the state at the start of the step (what conditional edges see, with the task's
    own writes applied). Retries follow the node's RetryPolicy; each attempt starts over.
    """
    policies = task.node.retry or spec.retry
    if not policies:
        return _attempt(spec, task, values)
    return retrying(lambda: _attempt(spec, task, values), policies)


def _node_call(task: Task) -> Call:
    """The call of the task's node (an attempt starts its interrupt() count over)."""
    node = task.node
    task.ctx.start_attempt()
    return Call(node.fn, (task.input,), _node_kwargs(task), node.is_async, True, node.afn)


def _attempt(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Steps[None]:
    try:
        result = yield _node_call(task)
    except ParentCommand as routed:  # a subgraph's node routes in this graph
        result = routed.command
    writes, update = _writes_of(spec, task, result)
    if task.node.branches:
        view = spec.state_coerce(fresh_values(spec, values, writes))
        for branch in task.node.branches:
            bkw = {"config": task.ctx.config} if branch.wants_config else {}
            chosen = yield Call(branch.path, (view,), bkw, branch.is_async, False)
            writes.extend(branch.writes(chosen, spec.nodes))
    task.writes, task.update = writes, update


def _node_kwargs(task: Task) -> dict[str, Any]:
    node = task.node
    kwargs: dict[str, Any] = {"config": task.ctx.config} if node.wants_config else {}
    for name in node.injects:
        kwargs[name] = task.ctx.injected(name)
    return kwargs


def _writes_of(spec: GraphSpec, task: Task, result: Any) -> tuple[list[Any], Any]:
    """The writes (with the node's static edges) and the update of what a node returned."""
    if isinstance(result, Command) and result.graph == Command.PARENT and task.ctx.ns:
        raise ParentCommand(replace(result, graph=None))
    writes, update = node_writes(spec, task.name, result)
    writes.extend(edge_writes(task.node))
    return writes, update


def _finish(task: Task, exc: BaseException) -> None:
    if isinstance(exc, GraphInterrupt):
        task.interrupts, task.paused = exc.interrupts, True
    elif isinstance(exc, Exception):
        task.error = exc
    else:
        raise exc


_PLAIN = frozenset({dict, type(None), str, list, tuple})
"""Types a node or edge returns that are never awaitable (skips the isawaitable check)."""


def _advance(steps: Steps[T], reply: Any, error: BaseException | None
             ) -> tuple[bool, Any]:
    """Send the last reply (or throw its error) into `steps`: (finished, its value or next
    effect)."""
    try:
        return False, (steps.throw(error) if error is not None else steps.send(reply))
    except StopIteration as stop:
        return True, stop.value


def _io(effect: TaskEffect, persist: Persist | None, aio: bool
        ) -> tuple[Callable[..., Any], tuple[Any, ...]]:
    """The function (async one with `aio`) and arguments carrying out an effect other than a
    Call."""
    match effect:
        case Sleep():
            if not aio:
                return time.sleep, (effect.seconds,)
            import asyncio  # the async driver's, loaded already

            return asyncio.sleep, (effect.seconds,)
        case CacheGet():
            return (effect.cache.aget if aio else effect.cache.get), (effect.keys,)
        case CacheSet():
            return (effect.cache.aset if aio else effect.cache.set), (effect.pairs,)
        case SaveWrites():
            assert persist is not None, "a task saved writes in a run without a saver"
            return persist, (effect,)
        case Call():
            raise TypeError("calls are carried out by the carry functions themselves")
        case _:
            unknown(effect)


def carry_sync(steps: Steps[T], persist: Persist | None) -> T:
    """Carry `steps` out in this thread; an effect's error is thrown back into the steps."""
    reply: Any = None
    error: BaseException | None = None
    while not (step := _advance(steps, reply, error))[0]:
        reply, error = _effect_sync(step[1], persist)
    return step[1]  # type: ignore[no-any-return]


async def carry_async(steps: Steps[T], persist: Persist | None) -> T:
    """Carry `steps` out on the running event loop; sync functions that may block go to a
    worker thread."""
    reply: Any = None
    error: BaseException | None = None
    while not (step := _advance(steps, reply, error))[0]:
        reply, error = await _effect_async(step[1], persist)
    return step[1]  # type: ignore[no-any-return]


def _effect_sync(effect: TaskEffect, persist: Persist | None) -> tuple[Any, BaseException | None]:
    """Carry one effect out: (its reply, None) or (None, the error it raised)."""
    try:
        if type(effect) is Call:
            return _call_sync(effect.fn, effect.args, effect.kwargs), None
        fn, args = _io(effect, persist, aio=False)
        return fn(*args), None
    except BaseException as exc:
        return None, exc


async def _effect_async(effect: TaskEffect, persist: Persist | None
                        ) -> tuple[Any, BaseException | None]:
    """Carry one effect out on the event loop: (its reply, None) or (None, its error)."""
    try:
        if type(effect) is Call:
            return await _call_async(effect), None
        fn, args = _io(effect, persist, aio=True)
        reply = fn(*args)
        return (await reply if inspect.isawaitable(reply) else reply), None
    except BaseException as exc:
        return None, exc


def _call_sync(fn: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
    reply = fn(*args, **kwargs)
    if type(reply) not in _PLAIN and inspect.isawaitable(reply):
        reply = run_coroutine(reply)
    return reply


async def _call_async(call: Call) -> Any:
    if call.afn is not None:
        reply = await call.afn(*call.args, **call.kwargs)
    elif call.is_async:
        reply = await call.fn(*call.args, **call.kwargs)
    elif call.offload:
        import asyncio  # the async driver's, loaded already

        reply = await asyncio.to_thread(call.fn, *call.args, **call.kwargs)
    else:
        reply = call.fn(*call.args, **call.kwargs)
    if inspect.isawaitable(reply):
        reply = await reply
    return reply


def run_coroutine(awaitable: Any) -> Any:
    """Run an awaitable from sync code: on a private event loop, in a worker thread when this
    thread already runs a loop (never on the caller's loop). asyncio is imported here, not
    with the engine: a graph without async nodes, run synchronously, never needs it."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_await(awaitable))
    box: dict[str, Any] = {}
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


def run_start(spec: GraphSpec, task: Task) -> bool:
    """Run START's task here, as run_task_sync would, when none of the graph's own code runs
    in it (no conditional edge from START, no retry, no trace span, a plain input): its writes
    are the input's. False: the driver runs it (one effect, frame and context copy fewer for
    every run that starts from input)."""
    node = task.node
    if (node.fn is not passthrough or node.branches or node.retry or spec.retry
            or task.ctx.scope.trace is not None or type(task.input) not in _PLAIN):
        return False
    try:
        task.writes, task.update = _writes_of(spec, task, task.input)
    except Exception as exc:  # (as _finish records it)
        task.error = exc
    task.done = True
    return True


def run_task_sync(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Task:
    """Run a task to its end in this thread; errors and interrupts are recorded on it."""
    set_task(task.ctx)
    scope = task.ctx.scope
    if scope.sink is not None:
        stream_chat_model_tokens(task.ctx)
    span = node_span(task.ctx) if scope.trace is not None else None
    try:
        if task.node.branches or task.node.retry or spec.retry:
            carry_sync(task_steps(spec, task, values), None)
        else:  # one call and nothing to retry: _attempt's steps without the generator
            task.ctx.calls = 0
            node = task.node
            try:  # (_call_sync, inline: this runs for every task)
                result = node.fn(task.input, **_node_kwargs(task)) if (
                    node.wants_config or node.injects) else node.fn(task.input)
                if type(result) not in _PLAIN and inspect.isawaitable(result):
                    result = run_coroutine(result)
            except ParentCommand as routed:
                result = routed.command
            task.writes, task.update = _writes_of(spec, task, result)
    except BaseException as exc:
        _finish(task, exc)
    finally:
        if span is not None:
            span.end(task.error, task.paused)
    task.done = True
    return task


async def run_task_async(spec: GraphSpec, task: Task, values: dict[str, Any]) -> Task:
    """Run a task on the event loop; sync node functions go to a worker thread."""
    set_task(task.ctx)
    scope = task.ctx.scope
    if scope.sink is not None:
        stream_chat_model_tokens(task.ctx)
    span = node_span(task.ctx) if scope.trace is not None else None
    try:
        await carry_async(task_steps(spec, task, values), None)
    except BaseException as exc:
        _finish(task, exc)
    finally:
        if span is not None:
            span.end(task.error, task.paused)
    task.done = True
    return task
