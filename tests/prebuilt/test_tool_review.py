"""ToolReviewNode: one pause per tool call, the four answers, and bad answers."""

from __future__ import annotations

from typing import Any

import pytest

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, ToolMessage
from hitlgraph.prebuilt import (
    Accept,
    Edit,
    Ignore,
    InvalidReviewAnswerError,
    Respond,
    ScriptedChatModel,
    ToolReviewNode,
    ToolReviewRequest,
    parse_review_answer,
    tools_condition,
)
from hitlgraph.prebuilt._review_shapes import OTHER_SHAPES
from hitlgraph.types import Command

FIRST_ARGS = {"city": "Lisbon"}
SECOND_ARGS = {"to": "team@example.com", "body": "Picnic at noon"}


class Tools:
    """Two tools that record every run."""

    def __init__(self) -> None:
        self.ran: list[tuple[str, dict[str, Any]]] = []

    def weather(self, city: str) -> str:
        self.ran.append(("weather", {"city": city}))
        return f"Sunny in {city}"

    def email(self, to: str, body: str) -> str:
        self.ran.append(("email", {"to": to, "body": body}))
        return f"Sent to {to}: {body}"

    def all(self) -> list[Any]:
        def weather(city: str) -> str:
            """Get the weather."""
            return self.weather(city)

        def email(to: str, body: str) -> str:
            """Send an email."""
            return self.email(to, body)

        return [weather, email]


def review_graph(tools: Tools, **review: Any) -> Any:
    model = ScriptedChatModel(responses=[
        AIMessage("Checking, then emailing.", id="ask", tool_calls=[
            {"name": "weather", "args": FIRST_ARGS, "id": "call_1"},
            {"name": "email", "args": SECOND_ARGS, "id": "call_2"},
        ]),
        AIMessage("All done.", id="done"),
    ])

    def agent(state: MessagesState) -> dict[str, Any]:
        return {"messages": [model.invoke(state["messages"])]}

    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolReviewNode(tools.all(), **review))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder.compile(checkpointer=InMemorySaver())


def start(run: Any, graph: Any, config: Any) -> Any:
    return run.invoke(graph, {"messages": [("user", "Plan a picnic")]}, config)


def tool_messages(result: Any) -> list[ToolMessage]:
    return [m for m in result["messages"] if m.type == "tool"]


def test_pauses_once_per_call_with_a_request_dict_and_runs_nothing_before_all_answers(
    run: Any, config: Any
) -> None:
    tools = Tools()
    graph = review_graph(tools)

    first = start(run, graph, config)
    second = run.invoke(graph, Command(resume={"type": "accept"}), config)

    assert first["__interrupt__"][0].value == {
        "type": "tool_review", "tool": "weather", "args": FIRST_ARGS, "id": "call_1",
        "description": "The assistant wants to run 'weather' with these arguments. The tool: "
                       "Get the weather.",
        "allowed": ["accept", "edit", "respond", "ignore"],
    }
    assert second["__interrupt__"][0].value["id"] == "call_2"
    assert second["__interrupt__"][0].value["tool"] == "email"
    assert tools.ran == []
    assert run.get_state(graph, config).next == ("tools",)


def test_accept_runs_each_call_once_as_asked(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)

    run.invoke(graph, Command(resume={"type": "accept"}), config)
    result = run.invoke(graph, Command(resume=Accept()), config)

    assert tools.ran == [("weather", FIRST_ARGS), ("email", SECOND_ARGS)]
    assert [(m.tool_call_id, m.content, m.status) for m in tool_messages(result)] == [
        ("call_1", "Sunny in Lisbon", "success"),
        ("call_2", "Sent to team@example.com: Picnic at noon", "success"),
    ]
    assert result["messages"][-1].content == "All done."
    assert run.get_state(graph, config).next == ()


def test_edit_runs_with_the_new_args_and_updates_the_ai_message(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)
    edited = {"to": "team@example.com", "body": "Picnic at 1pm"}

    run.invoke(graph, Command(resume={"type": "accept"}), config)
    result = run.invoke(graph, Command(resume={"type": "edit", "args": edited}), config)

    assert tools.ran == [("weather", FIRST_ARGS), ("email", edited)]
    assert tool_messages(result)[1].content == "Sent to team@example.com: Picnic at 1pm"
    ask = next(m for m in result["messages"] if m.id == "ask")
    assert [c["args"] for c in ask.tool_calls] == [FIRST_ARGS, edited]
    assert [m.type for m in result["messages"]] == ["human", "ai", "tool", "tool", "ai"]


def test_respond_sends_the_reviewers_text_instead_of_running(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)

    run.invoke(graph, Command(resume={"type": "respond", "content": "Use Porto instead."}),
               config)
    result = run.invoke(graph, Command(resume={"type": "accept"}), config)

    assert tools.ran == [("email", SECOND_ARGS)]
    first = tool_messages(result)[0]
    assert (first.tool_call_id, first.content, first.status, first.name) == (
        "call_1", "Use Porto instead.", "success", "weather")


def test_ignore_skips_the_call_and_tells_the_model(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)

    run.invoke(graph, Command(resume={"type": "accept"}), config)
    result = run.invoke(graph, Command(resume={"type": "ignore"}), config)

    assert tools.ran == [("weather", FIRST_ARGS)]
    second = tool_messages(result)[1]
    assert (second.tool_call_id, second.status) == ("call_2", "error")
    assert second.content == "The reviewer skipped this call to 'email'; it did not run."
    assert result["messages"][-1].content == "All done."


def test_answer_objects_work_as_resume_values(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)

    run.invoke(graph, Command(resume=Edit(args={"city": "Porto"})), config)
    result = run.invoke(graph, Command(resume=Respond(content="Not now.")), config)

    assert tools.ran == [("weather", {"city": "Porto"})]
    assert [m.content for m in tool_messages(result)] == ["Sunny in Porto", "Not now."]


def test_answers_by_interrupt_id_work(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools)
    first = start(run, graph, config)
    iid = first["__interrupt__"][0].id

    second = run.invoke(graph, Command(resume={iid: {"type": "ignore"}}), config)
    run.invoke(graph, Command(resume={second["__interrupt__"][0].id: {"type": "accept"}}),
               config)

    assert tools.ran == [("email", SECOND_ARGS)]


def test_review_subset_runs_other_tools_without_asking(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools, review=["email"], allowed=["accept", "ignore"],
                         description="Send this email?")

    first = start(run, graph, config)
    result = run.invoke(graph, Command(resume={"type": "accept"}), config)

    assert first["__interrupt__"][0].value["tool"] == "email"
    assert first["__interrupt__"][0].value["allowed"] == ["accept", "ignore"]
    assert first["__interrupt__"][0].value["description"] == "Send this email?"
    assert "__interrupt__" not in result
    assert tools.ran == [("weather", FIRST_ARGS), ("email", SECOND_ARGS)]


def test_review_of_an_unknown_tool_name_is_refused() -> None:
    with pytest.raises(ValueError, match=r"review= names tools that are not given: \['nope'\]"):
        ToolReviewNode(Tools().all(), review=["nope"])


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("yes", r"expected a dict with a 'type' key, got 'yes'"),
        ({"type": "approve"}, r"'type' must be one of \['accept', 'edit', 'respond', "
                              r"'ignore'\], got 'approve'"),
        ({"type": "edit"}, r"an? 'edit' answer looks like \{'type': 'edit', 'args': \{...\}\}"),
        ({"type": "edit", "args": "city=Porto"}, r"needs 'args' as a dict"),
        ({"type": "respond", "content": 3}, r"needs 'content' as a str"),
        ({"type": "accept", "args": {}}, r"an? 'accept' answer looks like \{'type': 'accept'\}"),
    ],
)
def test_wrong_shape_answer_raises_naming_the_allowed_answers(
    run: Any, config: Any, answer: Any, message: str
) -> None:
    tools = Tools()
    graph = review_graph(tools)
    start(run, graph, config)

    with pytest.raises(InvalidReviewAnswerError, match=message) as caught:
        run.invoke(graph, Command(resume=answer), config)

    assert "tool call 'call_1' ('weather')" in str(caught.value)
    assert "Allowed here: 'accept', 'edit', 'respond', 'ignore'." in str(caught.value)
    assert tools.ran == []


def test_disallowed_kind_raises_naming_what_is_allowed(run: Any, config: Any) -> None:
    tools = Tools()
    graph = review_graph(tools, allowed=["accept", "edit"])
    start(run, graph, config)

    with pytest.raises(InvalidReviewAnswerError) as caught:
        run.invoke(graph, Command(resume={"type": "respond", "content": "no"}), config)

    assert isinstance(caught.value, ValueError)
    assert str(caught.value) == (
        "Bad answer to the review of tool call 'call_1' ('weather'): this request does not "
        "allow 'respond'. Allowed here: 'accept', 'edit'. Resume with one of: "
        "{'type': 'accept'}, {'type': 'edit', 'args': {...}}; or in another shape: "
        f"{OTHER_SHAPES}."
    )
    assert caught.value.allowed == ["accept", "edit"]
    assert tools.ran == []




def test_bad_answer_leaves_the_interrupt_pending_and_a_good_one_finishes(
    run: Any, config: Any
) -> None:
    tools = Tools()
    graph = review_graph(tools, allowed=["accept", "ignore"])
    first = start(run, graph, config)

    with pytest.raises(InvalidReviewAnswerError, match="does not allow 'edit'"):
        run.invoke(graph, Command(resume={"type": "edit", "args": {"city": "Porto"}}), config)
    pending = run.get_state(graph, config).interrupts
    run.invoke(graph, Command(resume={"type": "accept"}), config)
    result = run.invoke(graph, Command(resume={"type": "accept"}), config)

    assert [i.value for i in pending] == [first["__interrupt__"][0].value]
    assert tools.ran == [("weather", FIRST_ARGS), ("email", SECOND_ARGS)]
    assert result["messages"][-1].content == "All done."


REQUEST = ToolReviewRequest(tool="email", args={"to": "x"}, id="c9", description="Send?",
                            allowed=frozenset({"accept", "respond"}))


def test_parse_review_answer_gives_typed_answers() -> None:
    assert parse_review_answer({"type": "accept"}, REQUEST) == Accept()
    assert parse_review_answer({"type": "respond", "content": "no"}, REQUEST) == Respond(
        content="no")
    assert parse_review_answer(Accept(), REQUEST) == Accept()
    with pytest.raises(InvalidReviewAnswerError, match="does not allow 'ignore'"):
        parse_review_answer(Ignore(), REQUEST)


def test_request_dict_round_trips_and_lists_allowed_in_a_fixed_order() -> None:
    data = REQUEST.to_dict()

    assert data == {"type": "tool_review", "tool": "email", "args": {"to": "x"}, "id": "c9",
                    "description": "Send?", "allowed": ["accept", "respond"]}
    assert ToolReviewRequest.from_dict(data) == REQUEST
    assert [a.to_dict() for a in (Accept(), Edit(args={"a": 1}), Respond(content="t"),
                                  Ignore())] == [
        {"type": "accept"}, {"type": "edit", "args": {"a": 1}},
        {"type": "respond", "content": "t"}, {"type": "ignore"}]


def test_request_refuses_unknown_kinds() -> None:
    with pytest.raises(ValueError, match=r"allowed must name some of"):
        ToolReviewRequest(tool="t", args={}, id="c", description="d",
                          allowed=frozenset({"approve"}))  # type: ignore[arg-type]
