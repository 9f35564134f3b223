"""@tool: name, description and argument schema from a plain function."""

from __future__ import annotations

import asyncio
from typing import Literal

import pytest

from hitlgraph.prebuilt import Tool, ToolInvocationError, tool


@tool
def search(query: str, limit: int = 5, exact: bool | None = None) -> list[str]:
    """Search the notes.

    Longer text that the model does not need.

    Args:
        query: what to look for.
        limit: the most results to return.
    """
    return [query] * limit


def test_tool_takes_name_and_first_docstring_paragraph() -> None:
    assert isinstance(search, Tool)
    assert (search.name, search.description) == ("search", "Search the notes.")


def test_tool_schema_comes_from_the_signature_and_args_section() -> None:
    assert search.args_schema == {
        "type": "object",
        "properties": {
            "query": {"type": "string", "description": "what to look for."},
            "limit": {"type": "integer", "description": "the most results to return.",
                      "default": 5},
            "exact": {"anyOf": [{"type": "boolean"}, {"type": "null"}], "default": None},
        },
        "required": ["query"],
    }


def test_tool_object_calls_and_invokes_the_function() -> None:
    assert search("x", limit=2) == ["x", "x"]
    assert search.invoke({"query": "y", "limit": 1}) == ["y"]


def test_tool_invoke_refuses_unknown_arguments() -> None:
    with pytest.raises(TypeError, match=r"Error invoking tool 'search' with kwargs \{'q': 'x'\} "
                       r"with error:\n query: Field required\nq: Unexpected argument"):
        search.invoke({"q": "x"})


def test_tool_name_and_description_can_be_given() -> None:
    @tool("pick", description="Pick a color.")
    def choose(color: Literal["red", "blue"]) -> str:
        return color

    @tool(name="other")
    def unnamed() -> str:
        return "x"

    assert (choose.name, choose.description) == ("pick", "Pick a color.")
    assert choose.args_schema["properties"]["color"] == {"enum": ["red", "blue"],
                                                         "type": "string"}
    assert unnamed.name == "other"


def test_async_tool_runs_from_sync_and_async_code() -> None:
    @tool
    async def double(n: int) -> int:
        """Double a number."""
        return n * 2

    assert double.is_async
    assert double.invoke({"n": 2}) == 4
    assert asyncio.run(double.ainvoke({"n": 3})) == 6


def test_lambda_needs_a_name() -> None:
    with pytest.raises(ValueError, match=r"pass one, e\.g\. @tool\('search'\)"):
        tool(lambda: 1)


class _Opaque:
    """A type pydantic checks by isinstance and cannot write a JSON schema of."""


def test_an_argument_type_without_json_form_falls_back_to_the_hints() -> None:
    @tool
    def use(thing: _Opaque, times: int = 1) -> int:
        """Use a thing."""
        return times

    assert use.args_schema == {"type": "object", "properties": {
        "thing": {}, "times": {"type": "integer", "default": 1}}, "required": ["thing"]}
    assert use.invoke({"thing": _Opaque(), "times": "2"}) == 2
    with pytest.raises(ToolInvocationError, match="thing: Input should be an instance of"):
        use.invoke({"thing": "x"})
