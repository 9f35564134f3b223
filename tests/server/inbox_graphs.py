"""Graphs for the inbox page's tests: Agent-Inbox-shaped interrupts (one request, a list of
requests), two interrupts waiting at once, and a graph that asks twice in a row."""

from __future__ import annotations

import operator
from typing import Annotated, Any, TypedDict

from hitlgraph.graph import END, START, StateGraph
from hitlgraph.types import interrupt

_ALLOW = {"accept": "allow_accept", "edit": "allow_edit", "response": "allow_respond",
          "ignore": "allow_ignore"}


def _request(action: str, args: dict[str, Any], allow: list[str], description: str
             ) -> dict[str, Any]:
    return {"action_request": {"action": action, "args": args},
            "config": {flag: kind in allow for kind, flag in _ALLOW.items()},
            "description": description}


def _outcome(answer: Any, args: dict[str, Any]) -> dict[str, Any]:
    """What a HumanResponse decides, or ValueError when it is not one."""
    if not isinstance(answer, dict) or answer.get("type") not in _ALLOW:
        raise ValueError(f"Expected a HumanResponse {{'type': ..., 'args': ...}}, got {answer!r}")
    kind = answer["type"]
    if kind == "accept":
        return {"decision": "accept", "sent": args}
    if kind == "edit":
        return {"decision": "edit", "sent": answer["args"]["args"]}
    if kind == "response":
        return {"decision": "response", "feedback": answer["args"]}
    return {"decision": "ignore"}


class EmailState(TypedDict, total=False):
    to: str
    subject: str
    allow: list[str]
    """Which answers the interrupt allows: "accept", "edit", "response", "ignore"."""
    as_list: bool
    """Ask with a list of one request (as Agent Inbox graphs do), else with the request."""
    outcome: dict[str, Any]


def review_email(state: EmailState) -> EmailState:
    args = {"to": state["to"], "subject": state["subject"]}
    request = _request("send_email", args, state.get("allow", list(_ALLOW)),
                       f"Send this email to {state['to']}?")
    if state.get("as_list", True):
        answer = interrupt([request])
        if not isinstance(answer, list) or len(answer) != 1:
            raise ValueError(f"Expected a list of one HumanResponse, got {answer!r}")
        answer = answer[0]
    else:
        answer = interrupt(request)
    return {"outcome": _outcome(answer, args)}


email_builder = StateGraph(EmailState)
email_builder.add_node("review_email", review_email)
email_builder.add_edge(START, "review_email")
email_builder.add_edge("review_email", END)


class ToolsState(TypedDict, total=False):
    outcomes: list[dict[str, Any]]


def review_tools(state: ToolsState) -> ToolsState:
    calls = [("search", {"query": "weather in Lyon"}, ["accept", "ignore"]),
             ("book_table", {"restaurant": "Chez Nous", "seats": 2}, ["accept", "edit"])]
    answers = interrupt([_request(name, args, allow, f"Run {name}?")
                         for name, args, allow in calls])
    if not isinstance(answers, list) or len(answers) != len(calls):
        raise ValueError(f"Expected {len(calls)} HumanResponses, got {answers!r}")
    return {"outcomes": [_outcome(answer, args)
                         for answer, (_, args, _) in zip(answers, calls, strict=True)]}


tools_builder = StateGraph(ToolsState)
tools_builder.add_node("review_tools", review_tools)
tools_builder.add_edge(START, "review_tools")
tools_builder.add_edge("review_tools", END)


class PairState(TypedDict, total=False):
    answers: Annotated[list[str], operator.add]


def ask_name(state: PairState) -> PairState:
    return {"answers": [f"name={interrupt({'question': 'Your name?'})}"]}


def ask_color(state: PairState) -> PairState:
    return {"answers": [f"color={interrupt({'question': 'Your favourite colour?'})}"]}


pair_builder = StateGraph(PairState)
pair_builder.add_node("ask_name", ask_name)
pair_builder.add_node("ask_color", ask_color)
pair_builder.add_edge(START, "ask_name")
pair_builder.add_edge(START, "ask_color")
pair_builder.add_edge("ask_name", END)
pair_builder.add_edge("ask_color", END)


class TwiceState(TypedDict, total=False):
    first: Any
    second: Any


def ask_first(state: TwiceState) -> TwiceState:
    return {"first": interrupt("First question: which city?")}


def ask_second(state: TwiceState) -> TwiceState:
    return {"second": interrupt({"question": f"Second question: when in {state['first']}?"})}


twice_builder = StateGraph(TwiceState)
twice_builder.add_sequence([ask_first, ask_second])
twice_builder.add_edge(START, "ask_first")
twice_builder.add_edge("ask_second", END)
