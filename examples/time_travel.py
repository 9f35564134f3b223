"""Time travel: look back through a thread's checkpoints, replay from one, and fork one.

Every step of a run is saved as a checkpoint. get_state_history() lists them, newest first.
Passing a past checkpoint's config to invoke(None, ...) runs the graph again from there
(the nodes after it run anew; those before it do not). update_state() on a past checkpoint
makes a fork: a new checkpoint with edited values, from which the run continues differently.
The thread's earlier checkpoints stay as they were.
"""

from __future__ import annotations

from collections import Counter
from typing import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph

calls: Counter[str] = Counter()  # how often each node ran, to show what a replay re-runs


class Story(TypedDict, total=False):
    hero: str
    plot: str
    title: str


def outline(state: Story) -> Story:
    calls["outline"] += 1
    return {"plot": f"{state['hero']} finds a map"}


def name_it(state: Story) -> Story:
    calls["name_it"] += 1
    return {"title": f"{state['plot'].title()} (take {calls['name_it']})"}


def build_graph() -> StateGraph[Story]:
    builder = StateGraph(Story)
    builder.add_node("outline", outline)
    builder.add_node("name_it", name_it)
    builder.add_edge(START, "outline")
    builder.add_edge("outline", "name_it")
    builder.add_edge("name_it", END)
    return builder


def main() -> None:
    graph = build_graph().compile(checkpointer=InMemorySaver())
    config = {"configurable": {"thread_id": "story-1"}}

    print("== run")
    print("title:", graph.invoke({"hero": "Mira"}, config)["title"])

    print("== history, newest first")
    history = list(graph.get_state_history(config))
    for snap in history:
        meta = snap.metadata or {}
        print(f"step {meta['step']:>2} source={meta['source']:<6} next={snap.next} "
              f"values={snap.values}")
    # The checkpoint saved after 'outline' ran, whose next node is 'name_it'.
    after_outline = next(s for s in history if s.next == ("name_it",))

    print("== replay from the checkpoint before 'name_it'")
    replayed = graph.invoke(None, after_outline.config)
    print("title:", replayed["title"])
    print("node runs so far:", dict(sorted(calls.items())))

    print("== fork: change the plot at that checkpoint, then run on from the fork")
    fork_config = graph.update_state(after_outline.config, {"plot": "Mira loses the map"},
                                     as_node="outline")
    forked = graph.invoke(None, fork_config)
    print("title:", forked["title"])
    print("node runs so far:", dict(sorted(calls.items())))

    print("== the thread's latest state is the fork's result")
    latest = graph.get_state(config)
    print("latest title:", latest.values["title"])
    print("checkpoints in the thread:", len(list(graph.get_state_history(config))))
    print("sources:", [s.metadata["source"] for s in graph.get_state_history(config)])


if __name__ == "__main__":
    main()
