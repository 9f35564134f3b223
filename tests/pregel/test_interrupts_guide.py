"""The examples of the interrupts guide, as tests: review and approve, breakpoints around
steps, approving tool calls one by one, editing state during a pause, streaming a pause."""

from __future__ import annotations

import operator
from typing import Annotated, Any

import pytest
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import Command, interrupt

# -- review: interrupt only when needed, resume with a decision --------------------------------


class Draft(TypedDict):
    text: str
    needs_review: bool
    status: str


def review_graph() -> Any:
    def write(state: Draft) -> dict[str, Any]:
        return {"text": state["text"].strip()}

    def review(state: Draft) -> dict[str, Any]:
        if not state["needs_review"]:
            return {"status": "auto-approved"}
        decision = interrupt({"question": "Publish this?", "text": state["text"]})
        return {"status": "published" if decision == "approve" else "rejected"}

    return (StateGraph(Draft).add_node("write", write).add_node("review", review)
            .add_edge(START, "write").add_edge("write", "review").add_edge("review", END)
            .compile(checkpointer=InMemorySaver()))


@pytest.mark.parametrize(("decision", "status"), [("approve", "published"),
                                                  ("reject", "rejected")])
def test_review_node_pauses_and_applies_the_decision(run: Any, config: Any, decision: str,
                                                     status: str) -> None:
    graph = review_graph()

    paused = run.invoke(graph, {"text": " hello ", "needs_review": True, "status": ""}, config)
    (question,) = paused["__interrupt__"]
    assert question.value == {"question": "Publish this?", "text": "hello"}

    done = run.invoke(graph, Command(resume=decision), config)
    assert done == {"text": "hello", "needs_review": True, "status": status}


def test_review_node_does_not_pause_when_no_review_is_needed(run: Any, config: Any) -> None:
    done = run.invoke(review_graph(), {"text": "hi", "needs_review": False, "status": ""},
                      config)

    assert done == {"text": "hi", "needs_review": False, "status": "auto-approved"}


# -- static breakpoints around steps -----------------------------------------------------------


class Steps(TypedDict):
    log: Annotated[list[str], operator.add]


def test_breakpoints_before_step2_and_after_step3_resume_with_invoke_none(
        run: Any, config: Any) -> None:
    def step(name: str) -> Any:
        def node(state: Steps) -> dict[str, Any]:
            return {"log": [name]}

        return node

    graph = (StateGraph(Steps)
             .add_sequence([("step1", step("step1")), ("step2", step("step2")),
                            ("step3", step("step3"))])
             .add_edge(START, "step1").add_edge("step3", END)
             .compile(checkpointer=InMemorySaver(), interrupt_before=["step2"],
                      interrupt_after=["step3"]))

    assert run.invoke(graph, {"log": []}, config) == {"log": ["step1"]}
    assert run.get_state(graph, config).next == ("step2",)

    assert run.invoke(graph, None, config) == {"log": ["step1", "step2", "step3"]}
    assert run.get_state(graph, config).next == ()

    assert run.invoke(graph, None, config) == {"log": ["step1", "step2", "step3"]}


# -- approving tool calls one by one -----------------------------------------------------------


class Chat(TypedDict):
    messages: Annotated[list[dict[str, Any]], operator.add]


def tool_graph(executed: list[dict[str, Any]]) -> Any:
    def call_tools(state: Chat) -> dict[str, Any]:
        calls = state["messages"][-1]["tool_calls"]
        # Ask about every call first: the node reruns from its start on each resume, so side
        # effects belong after the last interrupt().
        reviews = [interrupt({"tool": c["name"], "args": c["args"]}) for c in calls]
        results = []
        for call, review in zip(calls, reviews, strict=True):
            if review["type"] == "reject":
                content = f"{call['name']} was rejected"
            else:
                args = review["args"] if review["type"] == "edit" else call["args"]
                executed.append({"name": call["name"], "args": args})
                content = f"{call['name']}({args}) done"
            results.append({"role": "tool", "tool_call_id": call["id"], "content": content})
        return {"messages": results}

    return (StateGraph(Chat).add_node("tools", call_tools).add_edge(START, "tools")
            .compile(checkpointer=InMemorySaver()))


def test_tool_calls_are_approved_edited_and_rejected_one_by_one(run: Any,
                                                                config: Any) -> None:
    executed: list[dict[str, Any]] = []
    graph = tool_graph(executed)
    ai = {"role": "ai", "content": "", "tool_calls": [
        {"id": "1", "name": "search", "args": {"q": "cats"}},
        {"id": "2", "name": "email", "args": {"to": "bob"}},
        {"id": "3", "name": "delete", "args": {"path": "/"}},
    ]}

    first = run.invoke(graph, {"messages": [ai]}, config)
    second = run.invoke(graph, Command(resume={"type": "approve"}), config)
    third = run.invoke(graph, Command(resume={"type": "edit", "args": {"to": "alice"}}),
                       config)
    done = run.invoke(graph, Command(resume={"type": "reject"}), config)

    assert [r["__interrupt__"][0].value["tool"] for r in (first, second, third)] == [
        "search", "email", "delete",
    ]
    assert "__interrupt__" not in done
    assert [m["content"] for m in done["messages"][1:]] == [
        "search({'q': 'cats'}) done",
        "email({'to': 'alice'}) done",
        "delete was rejected",
    ]
    assert [m["tool_call_id"] for m in done["messages"][1:]] == ["1", "2", "3"]
    assert executed == [
        {"name": "search", "args": {"q": "cats"}},
        {"name": "email", "args": {"to": "alice"}},
    ]


# -- editing state during a pause --------------------------------------------------------------


class Plan(TypedDict):
    plan: str
    log: Annotated[list[str], operator.add]


def test_update_state_during_a_pause_then_invoke_none_uses_the_edit(run: Any,
                                                                    config: Any) -> None:
    def propose(state: Plan) -> dict[str, Any]:
        return {"plan": "delete everything"}

    def execute(state: Plan) -> dict[str, Any]:
        return {"log": [f"executed: {state['plan']}"]}

    graph = (StateGraph(Plan).add_node("propose", propose).add_node("execute", execute)
             .add_edge(START, "propose").add_edge("propose", "execute")
             .compile(checkpointer=InMemorySaver(), interrupt_before=["execute"]))

    run.invoke(graph, {"plan": "", "log": []}, config)
    assert run.get_state(graph, config).values["plan"] == "delete everything"

    run.update_state(graph, config, {"plan": "archive old files"})
    assert run.get_state(graph, config).next == ("execute",)

    assert run.invoke(graph, None, config) == {
        "plan": "archive old files", "log": ["executed: archive old files"],
    }


# -- streaming a pause -------------------------------------------------------------------------


def test_stream_updates_catches_interrupt_and_resumes_with_command(run: Any,
                                                                   config: Any) -> None:
    graph = review_graph()
    seen: list[Any] = []

    for mode, chunk in run.stream(graph, {"text": "x", "needs_review": True, "status": ""},
                                  config, stream_mode=["updates"]):
        assert mode == "updates"
        if "__interrupt__" in chunk:
            seen.extend(chunk["__interrupt__"])

    assert [i.value["question"] for i in seen] == ["Publish this?"]

    rest = run.stream(graph, Command(resume="approve"), config, stream_mode=["updates"])

    assert rest == [("updates", {"review": {"status": "published"}})]
    assert run.get_state(graph, config).values["status"] == "published"
