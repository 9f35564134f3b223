"""Ready-made pieces for tool-using agents, where LangGraph keeps them: create_react_agent,
ToolNode and tools_condition; plus tool-call review (ToolReviewNode, with_approval) and a
scripted chat model for tests and examples.

Example:
    An agent whose tool calls a person reviews before they run::

        builder = StateGraph(MessagesState)
        builder.add_node("agent", lambda state: {"messages": [model.invoke(state["messages"])]})
        builder.add_node(ToolReviewNode([search, send_email]))      # named "tools"
        builder.add_edge(START, "agent")
        builder.add_conditional_edges("agent", tools_condition)
        builder.add_edge("tools", "agent")
        graph = builder.compile(checkpointer=InMemorySaver())
"""

from hitlgraph.prebuilt._agent_state import AgentState, AgentStateWithStructuredResponse
from hitlgraph.prebuilt._injection import InjectedState, InjectedStore, ToolRuntime
from hitlgraph.prebuilt._react_agent import create_react_agent
from hitlgraph.prebuilt._review import (
    REVIEW_KINDS,
    Accept,
    ApprovalTool,
    Edit,
    Ignore,
    InvalidReviewAnswerError,
    Respond,
    ReviewAnswer,
    ReviewKind,
    ToolReviewRequest,
    ask_for_review,
    parse_review_answer,
    with_approval,
)
from hitlgraph.prebuilt._scripted import ScriptedChatModel, ScriptedResponse, ScriptExhaustedError
from hitlgraph.prebuilt._tool_node import ToolNode, ToolReviewNode, tools_condition
from hitlgraph.prebuilt._tools import Tool, ToolInvocationError, current_tool_call, tool

__all__ = [
    "REVIEW_KINDS",
    "Accept",
    "AgentState",
    "AgentStateWithStructuredResponse",
    "ApprovalTool",
    "Edit",
    "Ignore",
    "InjectedState",
    "InjectedStore",
    "InvalidReviewAnswerError",
    "Respond",
    "ReviewAnswer",
    "ReviewKind",
    "ScriptExhaustedError",
    "ScriptedChatModel",
    "ScriptedResponse",
    "Tool",
    "ToolInvocationError",
    "ToolNode",
    "ToolReviewNode",
    "ToolReviewRequest",
    "ToolRuntime",
    "ask_for_review",
    "create_react_agent",
    "current_tool_call",
    "parse_review_answer",
    "tool",
    "tools_condition",
    "with_approval",
]
