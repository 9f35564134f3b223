"""Graph builders: StateGraph, with the START and END virtual nodes."""

from hitlgraph.constants import END, START
from hitlgraph.graph.state import StateGraph

__all__ = ["END", "START", "StateGraph"]
