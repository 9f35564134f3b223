"""langchain_core messages and tools with add_messages, ToolNode, tools_condition and savers.

Skipped only where langchain_core is not installed and CI is not "true": CI installs it through
the dev extra, so there these tests always run.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

if importlib.util.find_spec("langchain_core") is None and os.environ.get("CI") != "true":
    pytest.skip("langchain_core is not installed (pip install 'hitlgraph[langchain]')",
                allow_module_level=True)

import langchain_core.messages as lc
from langchain_core.tools import tool as lc_tool

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.graph.message import REMOVE_ALL_MESSAGES, add_messages
from hitlgraph.messages import AIMessage, HumanMessage, ToolMessage
from hitlgraph.prebuilt import ToolNode, ToolReviewNode, tools_condition
from hitlgraph.types import Command

SRC = Path(__file__).resolve().parents[2] / "src"


def lc_asking(*names: str) -> lc.AIMessage:
    return lc.AIMessage("", id="lc-ai", tool_calls=[
        {"name": name, "args": {"city": "Lisbon"}, "id": f"c{i}"}
        for i, name in enumerate(names, 1)
    ])


def weather(city: str) -> str:
    return f"Sunny in {city}"


def test_langchain_messages_are_kept_as_they_are_in_a_mixed_list() -> None:
    human = lc.HumanMessage("hi", id="1")

    merged = add_messages([human], [AIMessage("hello", id="2"), ("user", "more")])

    assert merged[0] is human
    assert [type(m) for m in merged] == [lc.HumanMessage, AIMessage, HumanMessage]


def test_langchain_message_replaces_and_removes_by_id_across_kinds() -> None:
    left = [HumanMessage("mine", id="1"), lc.AIMessage("theirs", id="2")]

    replaced = add_messages(left, lc.HumanMessage("now theirs", id="1"))
    removed = add_messages(replaced, lc.RemoveMessage(id="2"))

    assert [(type(m), m.content) for m in replaced] == [(lc.HumanMessage, "now theirs"),
                                                        (lc.AIMessage, "theirs")]
    assert [m.id for m in removed] == ["1"]


def test_langchain_remove_all_clears_the_list() -> None:
    merged = add_messages([HumanMessage("a")], [lc.RemoveMessage(id=REMOVE_ALL_MESSAGES),
                                                lc.HumanMessage("b", id="b")])

    assert [m.id for m in merged] == ["b"]


def test_langchain_message_without_id_gets_a_copy_with_an_id() -> None:
    original = lc.HumanMessage("hi")

    (stored,) = add_messages([], [original])

    assert original.id is None
    assert stored.id and stored.content == "hi" and type(stored) is lc.HumanMessage


def test_langchain_chunks_are_stored_as_whole_messages() -> None:
    (stored,) = add_messages([], lc.AIMessageChunk("hel", id="m") + lc.AIMessageChunk("lo"))

    assert type(stored) is lc.AIMessage
    assert stored.content == "hello"


def test_tools_condition_reads_langchain_ai_messages() -> None:
    assert tools_condition({"messages": [lc_asking("weather")]}) == "tools"
    assert tools_condition([lc.AIMessage("done")]) == END


def test_tool_node_runs_the_calls_of_a_langchain_ai_message() -> None:
    (out,) = ToolNode([weather])([lc.HumanMessage("q"), lc_asking("weather")])

    assert (type(out), out.content, out.tool_call_id) == (ToolMessage, "Sunny in Lisbon", "c1")


def test_tool_node_runs_langchain_tools_and_keeps_their_tool_messages() -> None:
    @lc_tool
    def forecast(city: str) -> str:
        """Forecast the weather."""
        return f"Rain in {city}"

    @lc_tool
    def broken(city: str) -> str:
        """Always fails."""
        raise RuntimeError(f"no data for {city}")

    ok, failed = ToolNode([forecast, broken], handle_tool_errors=True)(
        [lc_asking("forecast", "broken")])

    assert (type(ok), ok.content, ok.tool_call_id) == (lc.ToolMessage, "Rain in Lisbon", "c1")
    assert (failed.status, failed.tool_call_id) == ("error", "c2")
    assert "no data for Lisbon" in failed.content


def test_review_edit_updates_a_langchain_ai_message_as_a_copy(config: Any) -> None:
    asked = lc_asking("weather")

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [asked]}

    builder = StateGraph(MessagesState).add_node("agent", agent)
    builder.add_node(ToolReviewNode([weather])).add_edge(START, "agent")
    graph = builder.add_edge("agent", "tools").compile(checkpointer=InMemorySaver())
    graph.invoke({"messages": [lc.HumanMessage("hi", id="h")]}, config)

    result = graph.invoke(Command(resume={"type": "edit", "args": {"city": "Porto"}}), config)

    ai = result["messages"][1]
    assert type(ai) is lc.AIMessage and ai.id == "lc-ai"
    assert ai.tool_calls[0]["args"] == {"city": "Porto"}
    assert asked.tool_calls[0]["args"] == {"city": "Lisbon"}
    assert result["messages"][2].content == "Sunny in Porto"


LC_MESSAGES = [
    lc.HumanMessage("hi", id="h", name="ann"),
    lc.AIMessage("", id="a", tool_calls=[{"name": "f", "args": {"x": 1}, "id": "c"}],
                 usage_metadata={"input_tokens": 1, "output_tokens": 2, "total_tokens": 3}),
    lc.AIMessageChunk("piece", id="k"),
    lc.ToolMessage("r", tool_call_id="c", status="error", artifact={"raw": 1}, id="t"),
    lc.SystemMessage("be brief", id="s"),
    lc.RemoveMessage(id="x"),
]


@pytest.mark.parametrize("message", LC_MESSAGES, ids=lambda m: type(m).__name__)
def test_serializer_round_trips_langchain_messages_exactly(message: Any) -> None:
    serde = MsgpackSerializer()

    (back,) = serde.loads_typed(serde.dumps_typed([message]))

    assert back == message
    assert type(back) is type(message)


def test_sqlite_thread_of_langchain_messages_is_read_by_a_new_process(tmp_path: Path) -> None:
    db = str(tmp_path / "lc.db")
    config = {"configurable": {"thread_id": "t"}}

    def reply(state: MessagesState) -> dict[str, Any]:
        return {"messages": [lc.AIMessage("hello back", id="a")]}

    builder = StateGraph(MessagesState).add_node("reply", reply).add_edge(START, "reply")
    with SqliteSaver.from_conn_string(db) as saver:
        builder.compile(checkpointer=saver).invoke(
            {"messages": [lc.HumanMessage("hello", id="h"), HumanMessage("mine", id="m")]},
            config)
    code = (
        "import sys\n"
        "from hitlgraph.checkpoint.sqlite import SqliteSaver\n"
        f"with SqliteSaver.from_conn_string({db!r}) as saver:\n"
        f"    saved = saver.get_tuple({config!r})\n"
        "messages = saved.checkpoint['channel_values']['messages']\n"
        "print([(type(m).__module__.split('.')[0], type(m).__name__, m.content) "
        "for m in messages])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)

    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == str([
        ("langchain_core", "HumanMessage", "hello"), ("hitlgraph", "HumanMessage", "mine"),
        ("langchain_core", "AIMessage", "hello back"),
    ])
