"""The state schemas of create_react_agent: the messages, the steps left, the structured answer."""

# No `from __future__ import annotations`: a TypedDict that subclasses these in another module
# must still find the messages reducer in real annotation objects.
from collections.abc import Sequence
from typing import Annotated, Any

from typing_extensions import NotRequired, TypedDict

from hitlgraph.managed import RemainingSteps
from hitlgraph.messages import AnyMessage, add_messages

__all__ = ["REQUIRED_KEYS", "AgentState", "AgentStateWithStructuredResponse", "with_llm_input"]

REQUIRED_KEYS = frozenset({"messages", "remaining_steps"})
"""The keys a custom `state_schema` must have (plus "structured_response" with a
response_format), as LangGraph requires."""


class AgentState(TypedDict):
    """The state of the agent made by create_react_agent.

    `remaining_steps` is a managed value (the steps left before the recursion limit): below 2
    with tool calls asked (below 1 when they all return directly), the agent answers "Sorry,
    need more steps to process this request." instead of calling tools, where the run would
    otherwise fail with GraphRecursionError.
    """

    messages: Annotated[Sequence[AnyMessage], add_messages]
    remaining_steps: NotRequired[RemainingSteps]


class AgentStateWithStructuredResponse(AgentState):
    """AgentState plus the structured answer made when `response_format` is given."""

    structured_response: Any


def with_llm_input(state_schema: Any) -> Any:
    """The agent node's input schema when a pre_model_hook runs first: the state plus the
    `llm_input_messages` the hook may write for the model alone."""
    if isinstance(state_schema, type) and hasattr(state_schema, "model_fields"):
        from pydantic import create_model

        return create_model("CallModelInputSchema", llm_input_messages=(list[AnyMessage], ...),
                            __base__=state_schema)

    class CallModelInputSchema(state_schema):  # type: ignore[misc]
        llm_input_messages: list[AnyMessage]

    return CallModelInputSchema
