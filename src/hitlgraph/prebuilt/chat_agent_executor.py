"""The prebuilt agent where LangGraph keeps it, so that
`from langgraph.prebuilt.chat_agent_executor import AgentState, create_react_agent` works with
the prefix changed to hitlgraph."""

from hitlgraph.prebuilt._agent_state import AgentState, AgentStateWithStructuredResponse
from hitlgraph.prebuilt._react_agent import create_react_agent

create_tool_calling_executor = create_react_agent
"""LangGraph's older name for create_react_agent."""

__all__ = [
    "AgentState",
    "AgentStateWithStructuredResponse",
    "create_react_agent",
    "create_tool_calling_executor",
]
