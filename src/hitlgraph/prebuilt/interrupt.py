"""Agent Inbox's request and answer types, as `langgraph.prebuilt.interrupt` has them.

A node asks with `interrupt([HumanInterrupt(...)])[0]` and gets a `HumanResponse` back.
`ToolReviewNode(..., request_format="agent-inbox")` asks in this shape, and every tool review
accepts these answers (see hitlgraph.prebuilt.ToolReviewNode).
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

__all__ = ["ActionRequest", "HumanInterrupt", "HumanInterruptConfig", "HumanResponse"]


class HumanInterruptConfig(TypedDict):
    """Which answers the reviewer may give."""

    allow_ignore: bool
    allow_respond: bool
    allow_edit: bool
    allow_accept: bool


class ActionRequest(TypedDict):
    """The action a reviewer is asked about: its name and arguments."""

    action: str
    args: dict[str, Any]


class HumanInterrupt(TypedDict):
    """One request to a reviewer: the action, what they may answer, and a description."""

    action_request: ActionRequest
    config: HumanInterruptConfig
    description: str | None


class HumanResponse(TypedDict):
    """A reviewer's answer: "accept" or "ignore" (args None), "response" (args: the text) or
    "edit" (args: the ActionRequest to run instead)."""

    type: Literal["accept", "ignore", "response", "edit"]
    args: str | ActionRequest | None
