"""Graph builders: StateGraph, with the START and END virtual nodes; MessagesState for chats."""

from hitlgraph.constants import END, START
from hitlgraph.graph.message import MessagesState, add_messages
from hitlgraph.graph.state import StateGraph

__all__ = ["END", "START", "MessagesState", "StateGraph", "add_messages"]
