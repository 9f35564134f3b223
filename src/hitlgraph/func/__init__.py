"""The functional API: write a workflow as a plain function (`@entrypoint`) that calls
`@task` functions, with interrupts and durable results, on the same engine as StateGraph.

A `@task` call returns a future. Its result is saved as soon as it is known, so when the
function runs again after an interrupt (it restarts from the top, like a node), a task that
already finished returns its saved result instead of running again: side effects happen once.
The same holds for `@task` calls made inside StateGraph nodes.
"""

from __future__ import annotations

import contextvars
import functools
import inspect
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypedDict, TypeVar

from hitlgraph.cache.base import WRITES_NS, BaseCache, FullKey, cache_key, identifier
from hitlgraph.constants import INTERRUPT, START, TASK_RESULT
from hitlgraph.pregel._call import Call, Steps, carry_async, carry_sync, retrying
from hitlgraph.pregel._context import TaskContext, running_task
from hitlgraph.pregel._effects import CacheGet, CacheSet, SaveWrites
from hitlgraph.pregel._shape import RunShape
from hitlgraph.pregel._spec import INJECTED
from hitlgraph.types import CachePolicy, RetryPolicy, StateSnapshot

__all__ = ["entrypoint", "task"]

T = TypeVar("T")

if TYPE_CHECKING:
    import asyncio
    import concurrent.futures


@functools.cache
def _pool() -> concurrent.futures.ThreadPoolExecutor:
    """The threads of sync @task calls, made at the first call: importing the engine (which
    imports this module) need not load concurrent.futures, nor asyncio."""
    import concurrent.futures

    return concurrent.futures.ThreadPoolExecutor(max_workers=16,
                                                 thread_name_prefix="hitlgraph-@task")


class _Task(Generic[T]):
    """A function whose calls inside a node or entrypoint run in the background and whose
    results are saved with the thread's checkpoints."""

    def __init__(self, func: Callable[..., T], name: str | None,
                 retry_policy: RetryPolicy | Sequence[RetryPolicy] | None,
                 cache_policy: CachePolicy[Any] | None = None) -> None:
        self.func = func
        self.name: str = str(name or getattr(func, "__name__", "task"))
        policies = () if retry_policy is None else (
            (retry_policy,) if isinstance(retry_policy, RetryPolicy) else tuple(retry_policy)
        )
        self.policies: tuple[RetryPolicy, ...] = policies
        self.cache_policy = cache_policy
        self.is_async = inspect.iscoroutinefunction(func)
        functools.update_wrapper(self, func)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        ctx = running_task()
        if ctx is None:
            raise RuntimeError(
                f"@task '{self.name}' was called outside a running graph. Call it from an "
                "@entrypoint function or a graph node."
            )
        call_id = ctx.task_calls.next_id(ctx.task_id, self.name)
        if call_id in ctx.task_calls.saved:
            return _done(ctx.task_calls.saved[call_id], self.is_async)
        steps = self._steps(ctx, call_id, args, kwargs)
        if self.is_async:
            import asyncio  # loaded already: an async @task runs on its loop

            return asyncio.ensure_future(carry_async(steps, ctx.persist))
        return _pool().submit(contextvars.copy_context().run, carry_sync, steps, ctx.persist)

    def _steps(self, ctx: TaskContext, call_id: str, args: tuple[Any, ...],
               kwargs: dict[str, Any]) -> Steps[Any]:
        """One call as effects the driver's carry functions carry out: the cache lookup, the
        call (retried as the RetryPolicy says), the cache update and the saved result (through
        the run's saver access, under its fence; with "exit" durability the run saves it)."""
        key = self._cache_key(ctx, args, kwargs)
        found = (yield CacheGet(ctx.cache, [key])) if key is not None else {}
        cached = key is not None and key in found
        if cached:
            value = found[key]
        else:
            value = yield from retrying(lambda: self._attempt(args, kwargs), self.policies)
            if key is not None and self.cache_policy is not None:
                yield CacheSet(ctx.cache, {key: (value, self.cache_policy.ttl)})
        ctx.task_calls.record(self.name, call_id, (args, kwargs), value, cached)
        if ctx.persist is not None and ctx.durability != "exit":
            yield SaveWrites(ctx.results_config(), [(TASK_RESULT, value)], call_id, self.name)
        return value

    def _attempt(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Steps[Any]:
        return (yield Call(self.func, args, kwargs, self.is_async, True))

    def _cache_key(self, ctx: TaskContext, args: tuple[Any, ...], kwargs: dict[str, Any]
                   ) -> FullKey | None:
        policy = self.cache_policy
        if policy is None or ctx.cache is None:
            return None
        return ((WRITES_NS, identifier(self.func)),
                cache_key(policy.key_func, *args, **kwargs))

    def clear_cache(self, cache: BaseCache[Any]) -> None:
        """Drop this task's cached results from `cache`."""
        cache.clear([(WRITES_NS, identifier(self.func))])

    async def aclear_cache(self, cache: BaseCache[Any]) -> None:
        """Like clear_cache(), without blocking the event loop."""
        await cache.aclear([(WRITES_NS, identifier(self.func))])


def _done(value: Any, is_async: bool) -> Any:
    import concurrent.futures

    if is_async:
        import asyncio

        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        future.set_result(value)
        return future
    done: concurrent.futures.Future[Any] = concurrent.futures.Future()
    done.set_result(value)
    return done


def task(
    func: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
    cache_policy: CachePolicy[Any] | None = None,
    **kwargs: Any,
) -> Any:
    """Make `func` a task: calling it returns a future (`.result()`, or `await` for async
    functions) and its result is saved, so a rerun after an interrupt does not repeat it.

    Example:
        >>> @task
        ... def send_email(to: str) -> str: ...
    """
    retry_policy = retry_policy if retry_policy is not None else kwargs.pop("retry", None)

    def wrap(fn: Callable[..., Any]) -> _Task[Any]:
        return _Task(fn, name, retry_policy, cache_policy)

    return wrap(func) if func is not None else wrap


class _EntryState(TypedDict, total=False):
    input: Any
    value: Any
    previous: Any


@dataclass(frozen=True, slots=True)
class _Final(Generic[T]):
    """Returned by an entrypoint: give the caller `value`, keep `save` as the next `previous`."""

    value: Any
    save: Any


class entrypoint:
    """Turn a function into a durable workflow with LangGraph's `@entrypoint` API.

    The function takes one input (and optionally `previous`: what the last run on the thread
    returned or saved, and `config`). It may call `interrupt()` and `@task` functions. The
    result runs like a compiled graph: invoke, stream, their async twins, get_state.

    Example:
        >>> @entrypoint(checkpointer=InMemorySaver())   # doctest: +SKIP
        ... def review(draft: str) -> str:
        ...     return interrupt({"draft": draft})
    """

    final = _Final

    def __init__(self, checkpointer: Any = None, store: Any = None, cache: Any = None,
                 context_schema: Any = None, cache_policy: Any = None,
                 retry_policy: RetryPolicy | Sequence[RetryPolicy] | None = None,
                 **kwargs: Any) -> None:
        self.checkpointer = checkpointer
        self.retry_policy = retry_policy if retry_policy is not None else kwargs.pop("retry", None)
        self.cache = cache
        self.cache_policy = cache_policy
        self.store = store
        self.context_schema = context_schema

    def __call__(self, func: Callable[..., Any]) -> EntrypointGraph:
        return EntrypointGraph(func, self.checkpointer, self.retry_policy, cache=self.cache,
                               cache_policy=self.cache_policy, store=self.store,
                               context_schema=self.context_schema)


def _call_entry(func: Callable[..., Any], state: _EntryState, config: dict[str, Any]) -> Any:
    """Call the entrypoint's function with the arguments it names: `previous`, `config`, and
    the run-time ones (`writer`, `store`, `runtime`, whose `previous` is the same value)."""
    params = inspect.signature(func).parameters
    kwargs: dict[str, Any] = {}
    if "previous" in params:
        kwargs["previous"] = state.get("previous")
    if "config" in params:
        kwargs["config"] = config
    ctx = running_task()
    if ctx is not None:
        ctx.set_previous(state.get("previous"))
        kwargs.update((name, ctx.injected(name)) for name in INJECTED if name in params)
    return func(state.get("input"), **kwargs)


def _entry_update(result: Any) -> dict[str, Any]:
    if isinstance(result, _Final):
        return {"value": result.value, "previous": result.save}
    return {"value": result, "previous": result}


_ENTRY_SHAPE = RunShape(stream_keys=("value",), direct_input=True)
"""As LangGraph runs an @entrypoint: its input goes in the first checkpoint (no START step),
and "values" chunks show what the function returned, when that changes."""


class EntrypointGraph:
    """An @entrypoint function compiled to a one-node graph."""

    def __init__(self, func: Callable[..., Any], checkpointer: Any,
                 retry_policy: RetryPolicy | Sequence[RetryPolicy] | None, *,
                 cache: Any = None, cache_policy: CachePolicy[Any] | None = None,
                 store: Any = None, context_schema: Any = None) -> None:
        from hitlgraph.graph.state import StateGraph, compile_graph

        self.func = func
        self.name = getattr(func, "__name__", "entrypoint")
        functools.update_wrapper(self, func)  # type: ignore[arg-type]
        node: Callable[..., Any]
        if inspect.iscoroutinefunction(func):
            async def anode(state: _EntryState, config: dict[str, Any]) -> dict[str, Any]:
                return _entry_update(await _call_entry(func, state, config))
            node = anode
        else:
            def snode(state: _EntryState, config: dict[str, Any]) -> dict[str, Any]:
                return _entry_update(_call_entry(func, state, config))
            node = snode
        builder = StateGraph(_EntryState, context_schema=context_schema)
        builder.add_node(self.name, node, retry_policy=retry_policy, cache_policy=cache_policy)
        builder.add_edge(START, self.name)
        self.graph = compile_graph(builder, _ENTRY_SHAPE, checkpointer=checkpointer,
                                   name=self.name, cache=cache, store=store)
        self.checkpointer = checkpointer

    @staticmethod
    def _input(value: Any) -> Any:
        from hitlgraph.types import Command

        return value if value is None or isinstance(value, Command) else {"input": value}

    @staticmethod
    def _output(out: dict[str, Any]) -> Any:
        if INTERRUPT in out:  # with what the last finished run returned, when that is a dict
            last = out.get("value")
            return {**last, INTERRUPT: out[INTERRUPT]} if isinstance(last, dict) else {
                INTERRUPT: out[INTERRUPT]}
        return out.get("value")

    def invoke(self, input: Any, config: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """Run the function (or resume it with Command(resume=...)); return what it returned."""
        return self._output(self.graph.invoke(self._input(input), config, **kwargs))

    async def ainvoke(self, input: Any, config: dict[str, Any] | None = None,
                      **kwargs: Any) -> Any:
        """Like invoke(), on the running event loop."""
        return self._output(await self.graph.ainvoke(self._input(input), config, **kwargs))

    def _chunk(self, mode: str, chunk: Any) -> Any:
        if mode == "updates" and isinstance(chunk, dict) and self.name in chunk:
            return {self.name: (chunk[self.name] or {}).get("value")}
        if mode == "values" and isinstance(chunk, dict):
            return {INTERRUPT: chunk[INTERRUPT]} if INTERRUPT in chunk else chunk.get("value")
        return chunk

    def _map(self, item: Any, stream_mode: Any) -> Any:
        if isinstance(stream_mode, str):
            return self._chunk(stream_mode, item)
        mode, chunk = item
        return mode, self._chunk(mode, chunk)

    def stream(self, input: Any, config: dict[str, Any] | None = None, *,
               stream_mode: Any = "updates", **kwargs: Any) -> Iterator[Any]:
        """Run the function and yield chunks; "updates" chunks are {function_name: result}."""
        for item in self.graph.stream(self._input(input), config, stream_mode=stream_mode,
                                      **kwargs):
            yield self._map(item, stream_mode)

    async def astream(self, input: Any, config: dict[str, Any] | None = None, *,
                      stream_mode: Any = "updates", **kwargs: Any) -> AsyncIterator[Any]:
        """Like stream(), on the running event loop."""
        async for item in self.graph.astream(self._input(input), config,
                                             stream_mode=stream_mode, **kwargs):
            yield self._map(item, stream_mode)

    def _state(self, snapshot: StateSnapshot) -> StateSnapshot:
        values = snapshot.values.get("value") if isinstance(snapshot.values, dict) else None
        return snapshot._replace(values=values)

    def get_state(self, config: dict[str, Any], **kwargs: Any) -> StateSnapshot:
        """The thread's state: `values` is what the last finished run returned."""
        return self._state(self.graph.get_state(config, **kwargs))

    async def aget_state(self, config: dict[str, Any], **kwargs: Any) -> StateSnapshot:
        """Like get_state(), without blocking the event loop."""
        return self._state(await self.graph.aget_state(config, **kwargs))

    def get_state_history(self, config: dict[str, Any], **kwargs: Any) -> Iterator[StateSnapshot]:
        """The thread's checkpoints, newest first."""
        for snapshot in self.graph.get_state_history(config, **kwargs):
            yield self._state(snapshot)

    def update_state(self, config: dict[str, Any], values: Any, as_node: str | None = None
                     ) -> dict[str, Any]:
        """Replace the thread's value: what get_state shows and the next run gets as
        `previous`."""
        return self.graph.update_state(config, {"value": values, "previous": values},
                                       as_node or self.name)

    async def aget_state_history(self, config: dict[str, Any], **kwargs: Any
                                 ) -> AsyncIterator[StateSnapshot]:
        """Like get_state_history(), as an async iterator."""
        async for snapshot in self.graph.aget_state_history(config, **kwargs):
            yield self._state(snapshot)

    async def aupdate_state(self, config: dict[str, Any], values: Any,
                            as_node: str | None = None) -> dict[str, Any]:
        """Like update_state(), without blocking the event loop."""
        return await self.graph.aupdate_state(config, {"value": values, "previous": values},
                                              as_node or self.name)
