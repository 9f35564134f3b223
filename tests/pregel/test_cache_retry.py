"""RetryPolicy (backoff, retry_on predicates, sync and async nodes and tasks) and CachePolicy
(node and @task results reused from a cache, keys, time to live, clearing)."""

from __future__ import annotations

import asyncio
import operator
import time
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.cache.base import BaseCache
from hitlgraph.cache.memory import InMemoryCache
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.func import entrypoint, task
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import CachePolicy, Command, RetryPolicy


class State(TypedDict):
    x: int
    log: Annotated[list[str], operator.add]


class Flaky(Exception):
    pass


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The waits retries ask for (time.sleep and asyncio.sleep are recorded, not slept)."""
    asked: list[float] = []
    real_async_sleep = asyncio.sleep

    def fake_sleep(seconds: float) -> None:
        if seconds:
            asked.append(seconds)

    async def fake_async_sleep(seconds: float, result: Any = None) -> Any:
        if seconds:
            asked.append(seconds)
        return await real_async_sleep(0, result)

    monkeypatch.setattr(time, "sleep", fake_sleep)
    monkeypatch.setattr(asyncio, "sleep", fake_async_sleep)
    return asked


def failing(times: int, exc: type[Exception], calls: list[int], *, is_async: bool = False
            ) -> Any:
    """A node that raises `exc` on its first `times` calls."""
    def attempt(state: State) -> dict[str, Any]:
        calls.append(len(calls) + 1)
        if len(calls) <= times:
            raise exc(f"failure {len(calls)}")
        return {"log": [f"ok after {len(calls)}"]}

    if not is_async:
        return attempt

    async def async_attempt(state: State) -> dict[str, Any]:
        await asyncio.sleep(0)
        return attempt(state)

    return async_attempt


def skip_async_node_in_sync_run(run: Any, is_async: bool) -> None:
    if is_async and run.mode == "sync":
        pytest.skip("LangGraph runs async nodes only through the async API")


def one_node(node: Any, **kwargs: Any) -> Any:
    checkpointer = kwargs.pop("checkpointer", None)
    cache = kwargs.pop("cache", None)
    return (StateGraph(State).add_node("node", node, **kwargs).add_edge(START, "node")
            .compile(checkpointer=checkpointer, cache=cache))


# -- retries ---------------------------------------------------------------------------------


@pytest.mark.parametrize("is_async", [False, True], ids=["sync_node", "async_node"])
def test_retry_waits_grow_by_the_backoff_factor_up_to_max_interval(
    run: Any, sleeps: list[float], is_async: bool,
) -> None:
    skip_async_node_in_sync_run(run, is_async)
    calls: list[int] = []
    policy = RetryPolicy(initial_interval=1.0, backoff_factor=3.0, max_interval=5.0,
                         max_attempts=5, jitter=False, retry_on=Flaky)
    graph = one_node(failing(4, Flaky, calls, is_async=is_async), retry_policy=policy)

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["ok after 5"]}
    assert sleeps == [1.0, 3.0, 5.0, 5.0]


def test_retry_jitter_adds_at_most_a_second_to_each_wait(run: Any, sleeps: list[float]) -> None:
    calls: list[int] = []
    policy = RetryPolicy(initial_interval=2.0, backoff_factor=1.0, max_attempts=3,
                         jitter=True, retry_on=Flaky)

    run.invoke(one_node(failing(2, Flaky, calls), retry_policy=policy), {"x": 0, "log": []})

    assert len(sleeps) == 2 and all(2.0 <= s <= 3.0 for s in sleeps)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync_node", "async_node"])
def test_retry_on_predicate_sees_each_exception_and_decides(
    run: Any, sleeps: list[float], is_async: bool,
) -> None:
    skip_async_node_in_sync_run(run, is_async)
    seen: list[str] = []

    def transient(exc: Exception) -> bool:
        seen.append(str(exc))
        return "failure 1" in str(exc)  # only the first failure is worth a retry

    calls: list[int] = []
    policy = RetryPolicy(initial_interval=0.5, jitter=False, max_attempts=5, retry_on=transient)
    graph = one_node(failing(3, Flaky, calls, is_async=is_async), retry_policy=policy)

    with pytest.raises(Flaky, match="failure 2"):
        run.invoke(graph, {"x": 0, "log": []})
    assert seen == ["failure 1", "failure 2"]
    assert calls == [1, 2] and sleeps == [0.5]


def test_first_policy_whose_retry_on_matches_applies(run: Any, sleeps: list[float]) -> None:
    calls: list[int] = []
    policies = [RetryPolicy(initial_interval=7.0, jitter=False, retry_on=KeyError),
                RetryPolicy(initial_interval=0.25, jitter=False, retry_on=Flaky)]

    result = run.invoke(one_node(failing(1, Flaky, calls), retry_policy=policies),
                        {"x": 0, "log": []})

    assert result["log"] == ["ok after 2"] and sleeps == [0.25]


def test_a_node_that_runs_out_of_attempts_fails_and_its_error_is_kept(
    run: Any, config: Any, sleeps: list[float],
) -> None:
    calls: list[int] = []
    policy = RetryPolicy(initial_interval=0.1, jitter=False, max_attempts=3, retry_on=Flaky)
    graph = one_node(failing(10, Flaky, calls), retry_policy=policy,
                     checkpointer=InMemorySaver())

    with pytest.raises(Flaky, match="failure 3"):
        run.invoke(graph, {"x": 0, "log": []}, config)

    state = run.get_state(graph, config)
    assert calls == [1, 2, 3] and state.next == ("node",)
    assert "failure 3" in str(state.tasks[0].error)


@pytest.mark.parametrize("is_async", [False, True], ids=["sync_task", "async_task"])
def test_task_retry_policy_retries_the_call(run: Any, sleeps: list[float],
                                            is_async: bool) -> None:
    calls: list[int] = []
    policy = RetryPolicy(initial_interval=0.5, backoff_factor=2.0, jitter=False,
                         max_attempts=4, retry_on=Flaky)

    def body() -> str:
        calls.append(len(calls) + 1)
        if len(calls) < 3:
            raise Flaky("not yet")
        return "done"

    if is_async:
        @task(retry_policy=policy)
        async def work() -> str:
            return body()

        @entrypoint()
        async def workflow(_: str) -> str:
            return await work()
    else:
        @task(retry_policy=policy)
        def work() -> str:
            return body()

        @entrypoint()
        def workflow(_: str) -> str:
            return work().result()

    if is_async:
        assert asyncio.run(workflow.ainvoke("go")) == "done"
    else:
        assert run.invoke(workflow, "go") == "done"
    assert calls == [1, 2, 3] and sleeps == [0.5, 1.0]


# -- node caching ----------------------------------------------------------------------------


def cached_graph(calls: list[Any], policy: CachePolicy[Any] | None = None,
                 cache: BaseCache[Any] | None = None, **kwargs: Any) -> Any:
    def expensive(state: State) -> dict[str, Any]:
        calls.append(state["x"])
        return {"log": [f"computed {state['x']}"]}

    def plain(state: State) -> dict[str, Any]:
        calls.append("plain")
        return {"log": ["plain"]}

    return (StateGraph(State)
            .add_node("expensive", expensive, cache_policy=policy or CachePolicy())
            .add_node("plain", plain).add_edge(START, "expensive")
            .add_edge("expensive", "plain")
            .compile(cache=cache if cache is not None else InMemoryCache(), **kwargs))


def test_a_cached_node_does_not_run_again_for_the_same_input(run: Any) -> None:
    calls: list[Any] = []
    graph = cached_graph(calls)

    first = run.stream(graph, {"x": 1, "log": []}, stream_mode="updates")
    second = run.stream(graph, {"x": 1, "log": []}, stream_mode="updates")

    assert first == [{"expensive": {"log": ["computed 1"]}}, {"plain": {"log": ["plain"]}}]
    assert second == [{"expensive": {"log": ["computed 1"]}, "__metadata__": {"cached": True}},
                      {"plain": {"log": ["plain"]}}]
    assert calls == [1, "plain", "plain"]
    assert run.invoke(graph, {"x": 1, "log": []}) == {
        "x": 1, "log": ["computed 1", "plain"]}


def test_a_cache_hit_shows_a_task_start_but_no_task_result(run: Any) -> None:
    graph = cached_graph([])
    run.invoke(graph, {"x": 1, "log": []})

    chunks = run.stream(graph, {"x": 1, "log": []}, stream_mode=["tasks", "updates"])

    assert [(mode, c.get("name"), "result" in c) for mode, c in chunks[:2]] == [
        ("tasks", "expensive", False), ("updates", None, False)]
    assert [c["name"] for mode, c in chunks if mode == "tasks" and "result" in c] == ["plain"]


def test_another_input_is_a_cache_miss(run: Any) -> None:
    calls: list[Any] = []
    graph = cached_graph(calls)

    run.invoke(graph, {"x": 1, "log": []})
    run.invoke(graph, {"x": 2, "log": []})
    run.invoke(graph, {"x": 1, "log": []})

    assert [c for c in calls if c != "plain"] == [1, 2]


def test_key_func_decides_which_inputs_count_as_the_same(run: Any) -> None:
    calls: list[Any] = []
    graph = cached_graph(calls, CachePolicy(key_func=lambda state: str(state["x"] % 2)))

    run.invoke(graph, {"x": 1, "log": []})
    reused = run.invoke(graph, {"x": 3, "log": ["kept"]})

    assert reused == {"x": 3, "log": ["kept", "computed 1", "plain"]}
    assert [c for c in calls if c != "plain"] == [1]


def test_the_default_key_does_not_depend_on_dict_order(run: Any) -> None:
    calls: list[Any] = []

    def node(state: State) -> dict[str, Any]:
        calls.append(dict(state))
        return {"x": state["x"]}

    graph = one_node(node, cache_policy=CachePolicy(), cache=InMemoryCache())
    run.invoke(graph, {"x": 1, "log": ["a"]})
    run.invoke(graph, {"log": ["a"], "x": 1})

    assert len(calls) == 1


def test_cache_entries_expire_after_ttl_seconds(run: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    import hitlgraph.cache.memory as memory

    now = [1000.0]
    monkeypatch.setattr(memory.time, "time", lambda: now[0])
    calls: list[Any] = []
    graph = cached_graph(calls, CachePolicy(ttl=60))

    run.invoke(graph, {"x": 1, "log": []})
    now[0] += 59
    run.invoke(graph, {"x": 1, "log": []})
    now[0] += 2
    run.invoke(graph, {"x": 1, "log": []})

    assert [c for c in calls if c != "plain"] == [1, 1]


def test_a_failing_node_is_not_cached(run: Any) -> None:
    attempts: list[int] = []

    def sometimes(state: State) -> dict[str, Any]:
        attempts.append(1)
        if len(attempts) == 1:
            raise ValueError("first time fails")
        return {"log": ["ok"]}

    graph = one_node(sometimes, cache_policy=CachePolicy(), cache=InMemoryCache())

    with pytest.raises(ValueError, match="first time fails"):
        run.invoke(graph, {"x": 1, "log": []})
    run.invoke(graph, {"x": 1, "log": []})
    run.invoke(graph, {"x": 1, "log": []})

    assert len(attempts) == 2


def test_a_cached_command_routes_again_on_a_hit(run: Any) -> None:
    calls: list[str] = []

    def router(state: State) -> Command[Any]:
        calls.append("router")
        return Command(update={"log": ["routed"]}, goto="target")

    def target(state: State) -> dict[str, Any]:
        calls.append("target")
        return {"log": ["target"]}

    graph = (StateGraph(State).add_node("router", router, cache_policy=CachePolicy())
             .add_node("target", target).add_edge(START, "router")
             .compile(cache=InMemoryCache()))

    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["routed", "target"]}
    assert run.invoke(graph, {"x": 0, "log": []}) == {"x": 0, "log": ["routed", "target"]}
    assert calls == ["router", "target", "target"]


def test_cache_hits_are_saved_like_the_node_had_run(run: Any, config: Any) -> None:
    calls: list[Any] = []
    graph = cached_graph(calls, checkpointer=InMemorySaver())
    run.invoke(graph, {"x": 1, "log": []}, {"configurable": {"thread_id": "warm-up"}})

    assert run.invoke(graph, {"x": 1, "log": []}, config) == {
        "x": 1, "log": ["computed 1", "plain"]}
    assert [s.next for s in run.history(graph, config)] == [
        (), ("plain",), ("expensive",), ("__start__",)]
    assert [c for c in calls if c != "plain"] == [1]


def test_clear_cache_drops_the_cached_writes(run: Any) -> None:
    calls: list[Any] = []
    graph = cached_graph(calls)
    run.invoke(graph, {"x": 1, "log": []})

    if run.mode == "sync":
        graph.clear_cache()
    else:
        asyncio.run(graph.aclear_cache(["expensive"]))
    run.invoke(graph, {"x": 1, "log": []})

    assert [c for c in calls if c != "plain"] == [1, 1]


def test_a_cache_policy_without_a_cache_runs_the_node_every_time() -> None:
    # As in LangGraph: the same builder may be compiled with and without a cache.
    calls: list[int] = []
    builder = (StateGraph(State)
               .add_node("node", lambda s: calls.append(1), cache_policy=CachePolicy())
               .add_edge(START, "node"))
    graph = builder.compile()
    graph.invoke({"x": 1, "log": []})
    graph.invoke({"x": 1, "log": []})

    assert calls == [1, 1]


def test_clear_cache_on_a_graph_without_cache_is_a_clear_error() -> None:
    graph = one_node(lambda s: None)

    with pytest.raises(ValueError, match="has no cache to clear"):
        graph.clear_cache()


def test_async_cached_node_is_reused_by_ainvoke_and_astream() -> None:
    calls: list[int] = []

    async def node(state: State) -> dict[str, Any]:
        calls.append(state["x"])
        return {"log": ["async"]}

    graph = one_node(node, cache_policy=CachePolicy(), cache=InMemoryCache())

    async def main() -> list[Any]:
        await graph.ainvoke({"x": 1, "log": []})
        return [c async for c in graph.astream({"x": 1, "log": []})]

    assert asyncio.run(main()) == [{"node": {"log": ["async"]}, "__metadata__": {"cached": True}}]
    assert calls == [1]


# -- @task caching ---------------------------------------------------------------------------


def test_task_with_cache_policy_reuses_results_for_the_same_arguments(run: Any) -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def slow_square(x: int) -> int:
        calls.append(x)
        return x * x

    @entrypoint(cache=InMemoryCache())
    def workflow(n: int) -> list[int]:
        return [slow_square(n).result(), slow_square(n).result(), slow_square(n + 1).result()]

    assert run.invoke(workflow, 2) == [4, 4, 9]
    chunks = run.stream(workflow, 2)

    assert chunks == [{"slow_square": 4, "__metadata__": {"cached": True}},
                      {"slow_square": 4, "__metadata__": {"cached": True}},
                      {"slow_square": 9, "__metadata__": {"cached": True}},
                      {"workflow": [4, 4, 9]}]
    assert calls == [2, 3]


def test_async_task_with_cache_policy_reuses_results() -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    async def fetch(x: int) -> int:
        calls.append(x)
        return x + 100

    @entrypoint(cache=InMemoryCache())
    async def workflow(n: int) -> list[int]:
        return [await fetch(n), await fetch(n)]

    assert asyncio.run(workflow.ainvoke(1)) == [101, 101]
    assert calls == [1]


def test_task_cache_policy_in_a_graph_without_cache_runs_every_time(run: Any) -> None:
    calls: list[int] = []

    @task(cache_policy=CachePolicy())
    def twice(x: int) -> int:
        calls.append(x)
        return x * 2

    def node(state: State) -> dict[str, Any]:
        return {"x": twice(state["x"]).result()}

    graph = one_node(node)
    run.invoke(graph, {"x": 1, "log": []})
    run.invoke(graph, {"x": 1, "log": []})

    assert calls == [1, 1]


# -- the cache itself ------------------------------------------------------------------------


def test_in_memory_cache_gets_sets_and_clears_by_namespace() -> None:
    cache = InMemoryCache()
    cache.set({(("a",), "k1"): ({"v": 1}, None), (("b",), "k2"): ([1, (2, 3)], 10)})

    assert cache.get([(("a",), "k1"), (("b",), "k2"), (("a",), "missing")]) == {
        (("a",), "k1"): {"v": 1}, (("b",), "k2"): [1, (2, 3)]}
    cache.clear([("a",)])
    assert cache.get([(("a",), "k1"), (("b",), "k2")]) == {(("b",), "k2"): [1, (2, 3)]}
    asyncio.run(cache.aclear())
    assert asyncio.run(cache.aget([(("b",), "k2")])) == {}


def test_in_memory_cache_returns_copies() -> None:
    cache = InMemoryCache()
    value = {"items": [1]}
    cache.set({(("ns",), "k"): (value, None)})
    value["items"].append(2)

    got = cache.get([(("ns",), "k")])[(("ns",), "k")]
    got["items"].append(3)

    assert cache.get([(("ns",), "k")])[(("ns",), "k")] == {"items": [1]}
