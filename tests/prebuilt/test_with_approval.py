"""with_approval: a tool that asks a person before it runs, in ToolNode or called directly."""

from __future__ import annotations

from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage
from hitlgraph.prebuilt import ApprovalTool, InvalidReviewAnswerError, ToolNode, with_approval
from hitlgraph.types import Command

ran: list[tuple[str, dict[str, Any]]] = []


def delete_file(path: str) -> str:
    """Delete a file."""
    ran.append(("delete_file", {"path": path}))
    return f"deleted {path}"


def read_file(path: str) -> str:
    ran.append(("read_file", {"path": path}))
    return f"contents of {path}"


@pytest.fixture(autouse=True)
def _clear_runs() -> None:
    ran.clear()


def tools_graph(tools: list[Any], calls: list[tuple[str, dict[str, Any]]]) -> Any:
    asked = AIMessage("", id="ask", tool_calls=[
        {"name": name, "args": args, "id": f"c{i}"} for i, (name, args) in enumerate(calls, 1)])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [asked]}

    builder = StateGraph(MessagesState).add_node("agent", agent).add_node(ToolNode(tools))
    builder.add_edge(START, "agent").add_edge("agent", "tools")
    return builder.compile(checkpointer=InMemorySaver())


def test_with_approval_keeps_the_tools_name_and_description() -> None:
    guarded = with_approval(delete_file)

    assert isinstance(guarded, ApprovalTool)
    assert (guarded.name, guarded.description) == ("delete_file", "Delete a file.")


def test_with_approval_refuses_unknown_answer_kinds() -> None:
    with pytest.raises(ValueError, match=r"must name some of \['accept', 'edit', 'respond', "
                                         r"'ignore'\], got \['approve'\]"):
        with_approval(delete_file, allowed=["approve"])  # type: ignore[list-item]


def test_tool_node_asks_about_approval_tools_before_running_any_tool(
    run: Any, config: Any
) -> None:
    graph = tools_graph([read_file, with_approval(delete_file, description="Delete it?",
                                                  allowed=["accept", "ignore"])],
                        [("read_file", {"path": "a"}), ("delete_file", {"path": "b"})])

    paused = run.invoke(graph, {"messages": [("user", "tidy up")]}, config)

    assert paused["__interrupt__"][0].value == {
        "type": "tool_review", "tool": "delete_file", "args": {"path": "b"}, "id": "c2",
        "description": "Delete it?", "allowed": ["accept", "ignore"]}
    assert ran == []

    result = run.invoke(graph, Command(resume={"type": "accept"}), config)

    assert ran == [("read_file", {"path": "a"}), ("delete_file", {"path": "b"})]
    assert [m.content for m in result["messages"][-2:]] == ["contents of a", "deleted b"]


@pytest.mark.parametrize(
    ("answer", "content", "status", "runs"),
    [
        ({"type": "edit", "args": {"path": "tmp/b"}}, "deleted tmp/b", "success",
         [("delete_file", {"path": "tmp/b"})]),
        ({"type": "respond", "content": "Keep that file."}, "Keep that file.", "success", []),
        ({"type": "ignore"}, "The reviewer skipped this call to 'delete_file'; it did not run.",
         "error", []),
    ],
)
def test_each_answer_decides_what_the_approval_tool_does(
    run: Any, config: Any, answer: Any, content: str, status: str, runs: list[Any]
) -> None:
    graph = tools_graph([with_approval(delete_file)], [("delete_file", {"path": "b"})])
    run.invoke(graph, {"messages": [("user", "tidy up")]}, config)

    result = run.invoke(graph, Command(resume=answer), config)

    assert (result["messages"][-1].content, result["messages"][-1].status) == (content, status)
    assert ran == runs


def test_description_can_be_made_from_the_call(run: Any, config: Any) -> None:
    guarded = with_approval(delete_file, description=lambda call: f"Delete {call['args']['path']}?")
    graph = tools_graph([guarded], [("delete_file", {"path": "/etc/passwd"})])

    paused = run.invoke(graph, {"messages": [("user", "x")]}, config)

    assert paused["__interrupt__"][0].value["description"] == "Delete /etc/passwd?"


def test_approval_tool_called_directly_in_a_node_asks_then_runs(run: Any, config: Any) -> None:
    guarded = with_approval(delete_file, allowed=["accept", "edit"])

    def cleanup(state: MessagesState) -> dict[str, Any]:
        return {"messages": [("ai", guarded(path="old.log"))]}

    graph = (StateGraph(MessagesState).add_node("cleanup", cleanup).add_edge(START, "cleanup")
             .compile(checkpointer=InMemorySaver()))

    paused = run.invoke(graph, {"messages": [("user", "clean")]}, config)
    result = run.invoke(graph, Command(resume={"type": "edit", "args": {"path": "new.log"}}),
                        config)

    assert paused["__interrupt__"][0].value["args"] == {"path": "old.log"}
    assert paused["__interrupt__"][0].value["id"] == ""
    assert result["messages"][-1].content == "deleted new.log"
    assert ran == [("delete_file", {"path": "new.log"})]


def test_approval_tool_called_directly_returns_the_response_text(
    run: Any, config: Any
) -> None:
    guarded = with_approval(delete_file)

    def cleanup(state: MessagesState) -> dict[str, Any]:
        return {"messages": [("ai", guarded.invoke({"path": "old.log"}))]}

    graph = (StateGraph(MessagesState).add_node("cleanup", cleanup).add_edge(START, "cleanup")
             .compile(checkpointer=InMemorySaver()))
    run.invoke(graph, {"messages": [("user", "clean")]}, config)

    result = run.invoke(graph, Command(resume={"type": "respond", "content": "Not today."}),
                        config)

    assert result["messages"][-1].content == "Not today."
    assert ran == []


def test_disallowed_answer_to_an_approval_tool_raises(run: Any, config: Any) -> None:
    graph = tools_graph([with_approval(delete_file, allowed=["accept"])],
                        [("delete_file", {"path": "b"})])
    run.invoke(graph, {"messages": [("user", "x")]}, config)

    with pytest.raises(InvalidReviewAnswerError, match=r"does not allow 'ignore'\. Allowed here: "
                                                       r"'accept'\."):
        run.invoke(graph, Command(resume={"type": "ignore"}), config)
    assert ran == []
