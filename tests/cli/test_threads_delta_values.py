"""`hitlgraph threads` reads checkpoints without the graph, so a DeltaChannel key (stored as
its snapshot and the writes since) is shown as exactly that, labelled, not as the stored list
with its internal marker."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from typing_extensions import TypedDict

from hitlgraph.channels import DeltaChannel
from hitlgraph.channels.delta import LOG
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli._threads import visible_values
from hitlgraph.graph import END, START, StateGraph


def append(old: list[str], writes: list[list[str]]) -> list[str]:
    return old + [x for write in writes for x in write]


class S(TypedDict, total=False):
    n: int
    log: Annotated[list[str], DeltaChannel(append, snapshot_frequency=100)]


def step(s: S) -> dict[str, Any]:
    n = s.get("n", 0)
    return {"n": n + 1, "log": [f"step {n}"]}


def test_a_delta_channel_key_shows_its_snapshot_and_the_updates_since(tmp_path: Path) -> None:
    g = StateGraph(S)
    g.add_node("step", step)
    g.add_edge(START, "step")
    g.add_conditional_edges("step", lambda s: END if s["n"] >= 3 else "step")
    with SqliteSaver.from_conn_string(str(tmp_path / "t.db")) as saver:
        graph = g.compile(checkpointer=saver)
        config = {"configurable": {"thread_id": "t"}}
        graph.invoke({"log": ["start"]}, config)
        tup = saver.get_tuple(config)
        assert tup is not None
        stored = tup.checkpoint["channel_values"]["log"]
        assert isinstance(stored, list) and stored[0] == LOG  # what the saver holds
        shown = visible_values(tup)["log"]
        assert LOG not in str(shown)
        folded = shown["snapshot"]
        for batch in shown["updates"]:  # each update's writes, folded by the graph's reducer
            folded = append(folded, batch)
        assert folded == graph.get_state(config).values["log"]
        assert folded == ["start", "step 0", "step 1", "step 2"]
        assert visible_values(tup)["n"] == 3  # plain keys as they are
