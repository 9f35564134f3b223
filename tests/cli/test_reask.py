"""Typed answers at the terminal: the prompt of an interrupt with a response_schema lists the
fields it expects; an answer the schema refuses shows each field's error and is asked again
(nothing ran), other answers kept; after MAX_REFUSALS in a row, or with --no-input, the
command exits with USAGE and the errors, the thread still waiting."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from hitlgraph.cli._errors import ExitCode
from hitlgraph.cli._session import MAX_REFUSALS
from hitlgraph.review._forms import schema_fields

pytest.importorskip("jsonschema")
pytest.importorskip("pydantic")

Invoke = Any  # conftest.Invoke

TYPED = '''
import operator
from typing import Annotated, TypedDict

from pydantic import BaseModel, Field

from hitlgraph.graph import START, StateGraph
from hitlgraph.types import interrupt


class Refund(BaseModel):
    approved: bool
    amount: int = Field(description="in euros")
    note: str = "none"


class State(TypedDict, total=False):
    decision: dict
    answers: Annotated[list, operator.add]


def ask(state: State) -> State:
    answer = interrupt({"question": "Refund order 1042?"}, response_schema=Refund)
    return {"decision": answer.model_dump()}


refund = StateGraph(State).add_node(ask).add_edge(START, "ask").compile()


def legal(state: State) -> State:
    return {"answers": ["legal: " + str(interrupt("Legal OK?"))]}


def amount(state: State) -> State:
    schema = {"type": "integer", "minimum": 1}
    return {"answers": [f"amount: {interrupt('How much?', response_schema=schema)}"]}


both = (StateGraph(State).add_node(legal).add_node(amount).add_edge(START, "legal")
        .add_edge(START, "amount").compile())
'''

GOOD = '{"approved": true, "amount": 30}\n'
BAD = '{"approved": "yes"}\n'


@pytest.fixture
def typed(workdir: Path) -> str:
    (workdir / "typed.py").write_text(TYPED, encoding="utf-8")
    return "typed"


def test_the_prompt_lists_the_expected_fields(hitlgraph: Invoke, typed: str) -> None:
    result = hitlgraph("run", f"{typed}:refund", "--input", "{}", input=GOOD)
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "The answer is a JSON object with these fields (* required):" in out
    assert "* approved: boolean" in out
    assert "* amount: integer — in euros" in out
    assert "note: string (default \"none\")" in out
    assert '"amount": 30' in out


def test_a_refused_answer_shows_the_field_errors_and_is_asked_again(
        hitlgraph: Invoke, typed: str) -> None:
    result = hitlgraph("run", f"{typed}:refund", "--input", "{}", "--json", input=BAD + GOOD)
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "That answer does not match what interrupt" in err and "nothing ran" in err
    assert "✗ approved: 'yes' is not of type 'boolean'" in err
    assert "✗ (answer): 'amount' is a required property" in err
    assert f"({MAX_REFUSALS - 1} more tries)" in err
    assert err.count("Refund order 1042?") == 2  # asked again
    out = json.loads(result.stdout)
    assert out["status"] == "done"
    assert out["values"]["decision"] == {"approved": True, "amount": 30, "note": "none"}


def test_after_too_many_refusals_it_exits_with_the_errors_and_the_thread_waits(
        hitlgraph: Invoke, typed: str) -> None:
    result = hitlgraph("run", f"{typed}:refund", "--input", "{}", "--thread", "t-typed",
                       input=BAD * MAX_REFUSALS + GOOD)
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "(one more try)" in result.stdout
    assert f"was refused {MAX_REFUSALS} times in a row" in result.stderr
    assert "approved: 'yes' is not of type 'boolean'" in result.stderr
    state = hitlgraph.json("state", "t-typed")
    assert state["status"] == "paused"
    assert "decision" not in state["values"]
    result = hitlgraph("resume", "t-typed", input=GOOD)
    assert result.exit_code == 0, result.output


def test_a_refused_value_with_no_input_is_a_usage_error(hitlgraph: Invoke, typed: str) -> None:
    hitlgraph.json("run", f"{typed}:refund", "--input", "{}", "--thread", "t-value",
                   "--no-input", code=ExitCode.PAUSED)
    result = hitlgraph("resume", "t-value", "--value", '{"approved": true, "amount": "ten"}',
                       "--no-input")
    assert result.exit_code == ExitCode.USAGE, result.output
    assert "was refused once" in result.stderr
    assert "amount: 'ten' is not of type 'integer'" in result.stderr
    assert hitlgraph.json("state", "t-value")["status"] == "paused"


def test_a_refused_value_at_a_terminal_is_asked_again(hitlgraph: Invoke, typed: str) -> None:
    hitlgraph.json("run", f"{typed}:refund", "--input", "{}", "--thread", "t-ask",
                   "--no-input", code=ExitCode.PAUSED)
    result = hitlgraph("resume", "t-ask", "--value", '"yes"', input=GOOD)
    assert result.exit_code == 0, result.output
    assert "✗ (answer): 'yes' is not of type 'object'" in result.stdout


def test_only_the_refused_answer_is_asked_again(hitlgraph: Invoke, typed: str) -> None:
    result = hitlgraph("run", f"{typed}:both", "--input", "{}", "--json",
                       input='"fine"\n0\n5\n')
    assert result.exit_code == 0, result.output
    err = result.stderr
    assert "The answer must be: integer." in err
    assert "✗ (answer): 0 is less than the minimum of 1" in err
    assert err.count("Legal OK?") == 1 and err.count("How much?") == 2
    assert sorted(json.loads(result.stdout)["values"]["answers"]) == [
        "amount: 5", "legal: fine"]


def test_schema_fields_flatten_nested_models_and_follow_refs() -> None:
    schema = {
        "$defs": {"Address": {"type": "object", "required": ["city"], "properties": {
            "city": {"type": "string"}, "zip": {"type": "string", "default": "00000"}}}},
        "type": "object", "required": ["to", "address"],
        "properties": {
            "to": {"type": "string", "description": "who"},
            "address": {"$ref": "#/$defs/Address"},
            "cc": {"anyOf": [{"type": "array", "items": {"type": "string"}}, {"type": "null"}]},
            "tone": {"enum": ["warm", "formal"]},
        },
    }
    fields = {f.path: f for f in schema_fields(schema)}
    assert list(fields) == ["to", "address.city", "address.zip", "cc", "tone"]
    assert fields["to"].required and fields["to"].description == "who"
    assert fields["address.city"].required and not fields["address.zip"].required
    assert fields["address.zip"].default == "00000" and fields["address.zip"].has_default
    assert fields["cc"].kind == "list of string"
    assert fields["tone"].kind == "one of 'warm', 'formal'"
    assert [f.kind for f in schema_fields({"type": "integer"})] == ["integer"]
