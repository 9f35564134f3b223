"""MessagesState in real graphs: merged by add_messages, stored by every saver."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import hitlgraph.graph
import hitlgraph.graph.message
from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, HumanMessage, RemoveMessage, ToolMessage
from hitlgraph.types import Command, interrupt

SRC = Path(__file__).resolve().parents[2] / "src"


class ChatState(MessagesState):
    """A subclass in another module: its `messages` key keeps the reducer."""

    turns: int


def echo(state: MessagesState) -> dict[str, Any]:
    last = state["messages"][-1]
    return {"messages": [AIMessage(f"echo: {last.content}",
                                   tool_calls=[{"name": "t", "args": {"n": 1}, "id": "c"}])]}


def echo_graph(checkpointer: Any) -> Any:
    builder = StateGraph(MessagesState)
    builder.add_node("echo", echo)
    builder.add_edge(START, "echo")
    builder.add_edge("echo", END)
    return builder.compile(checkpointer=checkpointer)


def test_messages_state_and_add_messages_live_where_langgraph_keeps_them() -> None:
    assert hitlgraph.graph.MessagesState is hitlgraph.graph.message.MessagesState
    assert hitlgraph.graph.add_messages is hitlgraph.graph.message.add_messages
    assert {"StateGraph", "START", "END", "MessagesState", "add_messages"} <= set(
        hitlgraph.graph.__all__)


def test_graph_appends_messages_across_turns_of_a_thread(run: Any, config: Any) -> None:
    graph = echo_graph(InMemorySaver())

    run.invoke(graph, {"messages": [("user", "one")]}, config)
    result = run.invoke(graph, {"messages": [HumanMessage("two")]}, config)

    assert [m.content for m in result["messages"]] == ["one", "echo: one", "two", "echo: two"]
    assert [type(m) for m in result["messages"]] == [HumanMessage, AIMessage] * 2


def test_update_replaces_and_removes_messages_by_id(run: Any, config: Any) -> None:
    graph = echo_graph(InMemorySaver())
    first = run.invoke(graph, {"messages": [HumanMessage("hi", id="h1")]}, config)
    reply_id = first["messages"][1].id

    run.update_state(graph, config, {"messages": [AIMessage("edited", id=reply_id),
                                                  RemoveMessage(id="h1")]})

    assert [m.content for m in run.get_state(graph, config).values["messages"]] == ["edited"]


def test_subclass_of_messages_state_keeps_the_reducer(run: Any, config: Any) -> None:
    def count(state: ChatState) -> dict[str, Any]:
        return {"messages": [("ai", "counted")], "turns": state.get("turns", 0) + 1}

    graph = (StateGraph(ChatState).add_node("count", count).add_edge(START, "count")
             .compile(checkpointer=InMemorySaver()))

    result = run.invoke(graph, {"messages": ["hi"], "turns": 0}, config)

    assert [m.content for m in result["messages"]] == ["hi", "counted"]
    assert result["turns"] == 1


def test_messages_in_an_interrupt_value_and_resume_round_trip(run: Any, config: Any) -> None:
    def ask(state: MessagesState) -> dict[str, Any]:
        answer = interrupt({"last": state["messages"][-1]})
        return {"messages": [answer]}

    graph = (StateGraph(MessagesState).add_node("ask", ask).add_edge(START, "ask")
             .compile(checkpointer=InMemorySaver()))

    paused = run.invoke(graph, {"messages": [HumanMessage("q", id="q1")]}, config)
    result = run.invoke(graph, Command(resume=AIMessage("a", id="a1")), config)

    assert paused["__interrupt__"][0].value == {"last": HumanMessage("q", id="q1")}
    assert result["messages"] == [HumanMessage("q", id="q1"), AIMessage("a", id="a1")]


def test_sqlite_saver_keeps_messages_for_a_new_saver_on_the_same_file(
    run: Any, config: Any, tmp_path: Path
) -> None:
    db = str(tmp_path / "chat.db")
    with SqliteSaver.from_conn_string(db) as saver:
        run.invoke(echo_graph(saver), {"messages": [HumanMessage("hello", id="h1")]}, config)
        before = run.get_state(echo_graph(saver), config).values["messages"]

    with SqliteSaver.from_conn_string(db) as saver:
        graph = echo_graph(saver)
        after = run.get_state(graph, config).values["messages"]
        result = run.invoke(graph, {"messages": [ToolMessage("r", tool_call_id="c")]}, config)

    assert after == before
    assert [type(m) for m in after] == [HumanMessage, AIMessage]
    assert after[1].tool_calls == [{"name": "t", "args": {"n": 1}, "id": "c"}]
    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "ai"]


def test_another_process_reads_a_sqlite_thread_of_messages(tmp_path: Path) -> None:
    db = str(tmp_path / "chat.db")
    config = {"configurable": {"thread_id": "t1"}}
    with SqliteSaver.from_conn_string(db) as saver:
        echo_graph(saver).invoke({"messages": [HumanMessage("hello", id="h1")]}, config)
    code = (
        "from hitlgraph.checkpoint.sqlite import SqliteSaver\n"
        f"with SqliteSaver.from_conn_string({db!r}) as saver:\n"
        f"    saved = saver.get_tuple({config!r})\n"
        "print([repr(m) for m in saved.checkpoint['channel_values']['messages']])\n"
    )
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(
        filter(None, [str(SRC), os.environ.get("PYTHONPATH")])))

    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, timeout=60, check=False)

    assert proc.returncode == 0, proc.stderr
    assert "HumanMessage(content='hello', id='h1')" in proc.stdout
    assert "AIMessage(content='echo: hello'" in proc.stdout


@pytest.mark.parametrize("bad", [RemoveMessage(id="missing")])
def test_removing_a_missing_message_in_a_node_fails_the_run(bad: Any, config: Any) -> None:
    def remove(state: MessagesState) -> dict[str, Any]:
        return {"messages": [bad]}

    graph = (StateGraph(MessagesState).add_node("remove", remove).add_edge(START, "remove")
             .compile(checkpointer=InMemorySaver()))

    with pytest.raises(ValueError, match="Cannot remove message 'missing'"):
        graph.invoke({"messages": ["hi"]}, config)
