"""State keys LangGraph reserves ('configurable', the checkpoint keys, '__pregel_*' names,
the namespace separators) are refused with the same error class and message start in both,
checked side by side; hitlgraph refuses when the graph is built, LangGraph at compile."""

from __future__ import annotations

import pytest

from _side_by_side import on_both, require_langgraph

PROGRAM = '''
from typing_extensions import TypedDict
from langgraph.graph import StateGraph

for key in ("configurable", "checkpoint_ns", "checkpoint_id", "checkpoint_map",
            "__pregel_send", "|", ":", "langsmith:hidden", "value"):
    S = TypedDict("S", {key: str, "other": int})
    try:
        g = StateGraph(S)
        g.add_node("a", lambda s: {})
        g.add_edge("__start__", "a")
        g.compile()
        print(key, "compiled")
    except ValueError as e:
        print(key, type(e).__name__, str(e).split(" (")[0].split(":")[0])
'''


def test_reserved_state_keys_are_refused_as_in_langgraph() -> None:
    require_langgraph("langgraph.graph")
    theirs, ours = on_both(PROGRAM)
    assert "configurable ValueError Channel name 'configurable' is reserved" in ours
    assert "value compiled" in ours
    assert ours == theirs


@pytest.mark.parametrize("key", ["configurable", "checkpoint_ns", "__pregel_resuming"])
def test_a_reserved_state_key_names_itself_and_says_to_rename(key: str) -> None:
    from typing_extensions import TypedDict

    from hitlgraph.graph import StateGraph

    schema = TypedDict("S", {key: str})  # type: ignore[misc]
    with pytest.raises(ValueError, match=f"Channel name '{key}' is reserved.*rename"):
        StateGraph(schema)
