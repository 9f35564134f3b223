"""The thread's state after a run, rebuilt from the saves the run made (pregel/_saves_seen,
used by the server's worker instead of reading the thread back): the same snapshot as
aget_state's, or no tuple at all (the caller reads) where it cannot vouch for one."""

from __future__ import annotations

import asyncio
import operator
from typing import Annotated, Any, TypedDict

import pytest

from _saver_params import SYNC_SAVERS, open_saver
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.pregel._saves_seen import SEEN, SavesSeen
from hitlgraph.pregel._state import state_snapshot
from hitlgraph.types import Command, Send, interrupt


class S(TypedDict, total=False):
    items: Annotated[list[str], operator.add]
    answer: Any


def _interrupting() -> StateGraph:
    def ask(state: S) -> dict[str, Any]:
        return {"answer": interrupt({"q": state.get("items")})}

    g = StateGraph(S)
    g.add_node("prep", lambda s: {"items": ["p"]})
    g.add_node("ask", ask)
    g.add_node("done", lambda s: {"items": [f"a={s['answer']}"]})
    g.add_edge(START, "prep")
    g.add_edge("prep", "ask")
    g.add_edge("ask", "done")
    g.add_edge("done", END)
    return g


def _twice() -> StateGraph:
    def ask(state: S) -> dict[str, Any]:
        first = interrupt("one")
        second = interrupt("two")
        return {"answer": [first, second]}

    g = StateGraph(S)
    g.add_node("ask", ask)
    g.add_edge(START, "ask")
    g.add_edge("ask", END)
    return g


def _fan_out() -> StateGraph:
    def work(arg: dict[str, Any]) -> dict[str, Any]:
        if arg["n"] == 1:
            return {"items": [f"w1={interrupt('which?')}"]}
        return {"items": [f"w{arg['n']}"]}

    g = StateGraph(S)
    g.add_node("prep", lambda s: {"items": ["p"]})
    g.add_node("work", work)  # type: ignore[arg-type]
    g.add_edge(START, "prep")
    g.add_conditional_edges("prep", lambda s: [Send("work", {"n": n}) for n in range(3)])
    g.add_edge("work", END)
    return g


def _failing() -> StateGraph:
    def boom(state: S) -> dict[str, Any]:
        raise ValueError("boom")

    g = StateGraph(S)
    g.add_node("prep", lambda s: {"items": ["p"]})
    g.add_node("boom", boom)
    g.add_edge(START, "prep")
    g.add_edge("prep", "boom")
    g.add_edge("boom", END)
    return g


def _with_subgraph() -> StateGraph:
    inner = StateGraph(S)
    inner.add_node("ask", lambda s: {"answer": interrupt("inner?")})
    inner.add_edge(START, "ask")
    inner.add_edge("ask", END)
    g = StateGraph(S)
    g.add_node("prep", lambda s: {"items": ["p"]})
    g.add_node("sub", inner.compile())
    g.add_edge(START, "prep")
    g.add_edge("prep", "sub")
    g.add_edge("sub", END)
    return g


async def _run(graph: Any, value: Any, config: dict[str, Any], **options: Any
               ) -> tuple[SavesSeen, BaseException | None]:
    seen = SavesSeen(config["configurable"]["thread_id"])
    token = SEEN.set(seen)
    failed: BaseException | None = None
    try:
        async for _ in graph.astream(value, config, **options):
            pass
    except Exception as exc:
        failed = exc
    finally:
        SEEN.reset(token)
    return seen, failed


def _same(mine: Any, read: Any) -> None:
    assert mine.values == read.values
    assert mine.next == read.next
    assert mine.interrupts == read.interrupts
    assert mine.config == read.config
    assert mine.parent_config == read.parent_config
    assert mine.created_at == read.created_at
    assert mine.metadata == read.metadata
    assert len(mine.tasks) == len(read.tasks)
    for a, b in zip(mine.tasks, read.tasks, strict=True):
        assert (a.id, a.name, a.path, a.interrupts, a.state, a.result) == (
            b.id, b.name, b.path, b.interrupts, b.state, b.result)
        assert repr(a.error) == repr(b.error)


async def _check(graph: Any, value: Any, config: dict[str, Any], *, seen_expected: bool = True,
                 **options: Any) -> BaseException | None:
    seen, failed = await _run(graph, value, config, **options)
    latest = seen.latest()
    if not seen_expected:
        assert latest is None
        return failed
    assert latest is not None
    _same(state_snapshot(graph, latest, live=True), await graph.aget_state(config))
    return failed


@pytest.fixture(params=[*SYNC_SAVERS, "sqlite-async"])
def saver(request: pytest.FixtureRequest, tmp_path: Any) -> Any:
    if request.param != "sqlite-async":
        with open_saver(request.param, tmp_path / "s.sqlite", "saves_seen") as made:
            yield made
        return
    loop = asyncio.new_event_loop()
    manager = AsyncSqliteSaver.from_conn_string(str(tmp_path / "c.sqlite"))
    made = loop.run_until_complete(manager.__aenter__())
    yield made
    loop.run_until_complete(manager.__aexit__(None, None, None))
    loop.close()


DURABILITIES = ["sync", "async"]


@pytest.mark.parametrize("durability", DURABILITIES)
def test_interrupt_then_resume(saver: Any, durability: str) -> None:
    graph = _interrupting().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": ["x"]}, config, durability=durability)
        await _check(graph, Command(resume="yes"), config, durability=durability)
        await _check(graph, {"items": ["again"]}, config, durability=durability)
    asyncio.run(go())


@pytest.mark.parametrize("durability", DURABILITIES)
def test_breakpoint(saver: Any, durability: str) -> None:
    graph = _interrupting().compile(checkpointer=saver, interrupt_before=["done"])
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": ["x"]}, config, durability=durability)
        await _check(graph, Command(resume="ok"), config, durability=durability)
        await _check(graph, None, config, durability=durability)
    asyncio.run(go())


@pytest.mark.parametrize("durability", DURABILITIES)
def test_send_fan_out_with_one_interrupt(saver: Any, durability: str) -> None:
    graph = _fan_out().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": []}, config, durability=durability)
        snap = await graph.aget_state(config)
        assert snap.interrupts and snap.next == ("work",)
        await _check(graph, Command(resume="this"), config, durability=durability)
        assert not (await graph.aget_state(config)).next
    asyncio.run(go())


@pytest.mark.parametrize("durability", DURABILITIES)
def test_error(saver: Any, durability: str) -> None:
    graph = _failing().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        failed = await _check(graph, {"items": []}, config, durability=durability)
        assert isinstance(failed, ValueError)
    asyncio.run(go())


def test_node_asking_again_saves_no_checkpoint(saver: Any) -> None:
    graph = _twice().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": []}, config)
        # the resumed node asks its second question: the latest is still the checkpoint the
        # run started from, with writes added: not rebuilt
        await _check(graph, Command(resume="1"), config, seen_expected=False)
        await _check(graph, Command(resume="2"), config)
        assert (await graph.aget_state(config)).values["answer"] == ["1", "2"]
    asyncio.run(go())


def test_subgraph_is_not_followed(saver: Any) -> None:
    graph = _with_subgraph().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": []}, config, seen_expected=False)
        await _check(graph, Command(resume="in"), config, seen_expected=False)
    asyncio.run(go())


def test_exit_durability_is_followed(saver: Any) -> None:
    graph = _interrupting().compile(checkpointer=saver)
    config = {"configurable": {"thread_id": "t"}}

    async def go() -> None:
        await _check(graph, {"items": ["x"]}, config, durability="exit")
        await _check(graph, Command(resume="y"), config, durability="exit")
    asyncio.run(go())


def test_sync_run_inside_is_doubted() -> None:
    from hitlgraph.pregel._saver_io import SyncSaverIO

    seen = SavesSeen("t")
    token = SEEN.set(seen)
    try:
        SyncSaverIO(InMemorySaver())
    finally:
        SEEN.reset(token)
    assert seen.doubt and seen.latest() is None
