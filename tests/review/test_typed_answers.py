"""interrupt(value, response_schema=...): the schema is stored as JSON Schema, a resume is checked
against it before any node runs (a bad answer writes nothing and leaves the question open), and
the node gets the answer as the schema's type."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel
from typing_extensions import TypedDict

from hitlgraph.checkpoint.memory import InMemorySaver
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.errors import InvalidAnswerError, ResumeError
from hitlgraph.graph import START, StateGraph
from hitlgraph.types import Command, interrupt


class Approval(BaseModel):
    approved: bool
    note: str = ""


class ApprovalDict(TypedDict):
    approved: bool


@dataclasses.dataclass
class ApprovalData:
    approved: bool


APPROVAL_SCHEMA = {"type": "object", "properties": {"approved": {"type": "boolean"}},
                   "required": ["approved"]}


class State(TypedDict, total=False):
    got: Any


def _graph(schema: Any, saver: Any = None) -> Any:
    def ask(state: State) -> State:
        return {"got": interrupt("approve?", response_schema=schema)}

    builder = StateGraph(State)
    builder.add_node("ask", ask)
    builder.add_edge(START, "ask")
    return builder.compile(checkpointer=saver or InMemorySaver())


def _stored(graph: Any, config: dict[str, Any]) -> tuple[int, Any]:
    saver = graph.checkpointer
    return len(list(graph.get_state_history(config))), saver.get_tuple(config).pending_writes


@pytest.mark.parametrize("schema", [Approval, ApprovalDict, ApprovalData, APPROVAL_SCHEMA])
def test_the_schema_is_stored_as_json_schema_whatever_form_it_was_given_in(schema: Any) -> None:
    graph = _graph(schema)
    config = {"configurable": {"thread_id": "t"}}
    (asked,) = graph.invoke({}, config)["__interrupt__"]
    assert isinstance(asked.response_schema, dict)
    assert asked.response_schema["properties"]["approved"]["type"] == "boolean"
    assert graph.get_state(config).interrupts[0].response_schema == asked.response_schema


@pytest.mark.parametrize("schema", [Approval, ApprovalDict, ApprovalData, APPROVAL_SCHEMA])
def test_a_bad_answer_is_refused_before_anything_runs_or_is_written(schema: Any) -> None:
    graph = _graph(schema)
    config = {"configurable": {"thread_id": "t"}}
    (asked,) = graph.invoke({}, config)["__interrupt__"]
    before = _stored(graph, config)
    for bad in ({"approved": "maybe"}, {}, "yes", Command(resume={asked.id: {"approved": 3}})):
        command = bad if isinstance(bad, Command) else Command(resume=bad)
        with pytest.raises(InvalidAnswerError) as refused:
            graph.invoke(command, config)
        assert isinstance(refused.value, ResumeError)
        assert refused.value.interrupt_id == asked.id and refused.value.errors
        assert _stored(graph, config) == before
    assert [i.id for i in graph.get_state(config).interrupts] == [asked.id]


def test_the_errors_name_each_field_that_is_wrong() -> None:
    graph = _graph(Approval)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({}, config)
    with pytest.raises(InvalidAnswerError, match="approved: 'maybe' is not of type 'boolean'"
                       ) as refused:
        graph.invoke(Command(resume={"approved": "maybe", "note": 5}), config)
    assert refused.value.errors == [
        {"loc": ["approved"], "msg": "'maybe' is not of type 'boolean'"},
        {"loc": ["note"], "msg": "5 is not of type 'string'"},
    ]


def test_a_pydantic_schema_gives_the_node_a_model_instance() -> None:
    graph = _graph(Approval)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({}, config)
    got = graph.invoke(Command(resume={"approved": True, "note": "fine"}), config)["got"]
    assert got == Approval(approved=True, note="fine")


@pytest.mark.parametrize("schema", [ApprovalDict, ApprovalData, APPROVAL_SCHEMA])
def test_other_schemas_give_the_node_the_answer_as_sent(schema: Any) -> None:
    graph = _graph(schema)
    config = {"configurable": {"thread_id": "t"}}
    graph.invoke({}, config)
    assert graph.invoke(Command(resume={"approved": False}), config)["got"] == {"approved": False}


def test_a_schema_that_is_not_one_fails_the_node_with_a_clear_error() -> None:
    graph = _graph({"type": "no-such-type"})
    with pytest.raises(TypeError, match="not a valid JSON Schema"):
        graph.invoke({}, {"configurable": {"thread_id": "t"}})
    graph = _graph(42)
    with pytest.raises(TypeError, match="pydantic model class, a TypedDict"):
        graph.invoke({}, {"configurable": {"thread_id": "u"}})


def test_a_paused_thread_is_checked_by_a_process_that_lacks_the_class(tmp_path: Path) -> None:
    path = tmp_path / "typed.sqlite"
    script = textwrap.dedent(f"""
        from pydantic import BaseModel
        from typing_extensions import TypedDict
        from hitlgraph.checkpoint.sqlite import SqliteSaver
        from hitlgraph.graph import START, StateGraph
        from hitlgraph.types import interrupt

        class Refund(BaseModel):
            amount: int

        class State(TypedDict, total=False):
            got: object

        builder = StateGraph(State)
        builder.add_node("ask", lambda s: {{"got": interrupt("how much?", response_schema=Refund)}})
        builder.add_edge(START, "ask")
        with SqliteSaver.from_conn_string({str(path)!r}) as saver:
            graph = builder.compile(checkpointer=saver)
            graph.invoke({{}}, {{"configurable": {{"thread_id": "r"}}}})
    """)
    subprocess.run([sys.executable, "-c", script], check=True)
    config = {"configurable": {"thread_id": "r"}}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        graph = _graph(None, saver)  # this process has no Refund class
        (asked,) = graph.get_state(config).interrupts
        assert asked.response_schema["title"] == "Refund"
        with pytest.raises(InvalidAnswerError, match="amount"):
            graph.invoke(Command(resume={"amount": "lots"}), config)
        assert graph.invoke(Command(resume={"amount": 12}), config)["got"] == {"amount": 12}


def test_without_jsonschema_the_error_says_what_to_install() -> None:
    code = textwrap.dedent("""
        import sys
        sys.modules["jsonschema"] = None
        from hitlgraph.review._answers import schema_of
        try:
            schema_of({"type": "object"})
        except ImportError as exc:
            print(exc)
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "response_schema=...) needs jsonschema" in out and "[review]" in out
