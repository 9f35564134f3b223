"""Message state for chat graphs: `add_messages` and `MessagesState`, where LangGraph keeps them.

Example:
    >>> from hitlgraph.graph import START, MessagesState, StateGraph
    >>> def reply(state: MessagesState) -> dict:
    ...     return {"messages": [("ai", f"You said: {state['messages'][-1].content}")]}
    >>> graph = StateGraph(MessagesState).add_node(reply).add_edge(START, "reply").compile()
    >>> graph.invoke({"messages": [("user", "hi")]})["messages"][-1].content
    'You said: hi'
"""

# No `from __future__ import annotations` here: MessagesState's annotations stay real objects,
# so a TypedDict that subclasses it in another module still finds its reducer.
from typing import Annotated

from typing_extensions import TypedDict

from hitlgraph.messages import REMOVE_ALL_MESSAGES, AnyMessage, add_messages

__all__ = ["REMOVE_ALL_MESSAGES", "MessagesState", "add_messages"]


class MessagesState(TypedDict):
    """A state with one key, `messages`, merged by `add_messages`. Subclass it to add keys."""

    messages: Annotated[list[AnyMessage], add_messages]
