"""Graphs for the inbox page's tests: Agent-Inbox-shaped interrupts (one request, a list of
requests), two interrupts waiting at once, a graph that asks twice in a row, typed answers
(response_schema), ToolReviewNode asking in each of its three request shapes, and review
policies (a Markdown description, two approvals, a deadline, an assignee and a group, a
deadline with a default answer). scripts/inbox_screenshots.py serves some of them too (the
refund review below is the README's detail screenshot)."""

from __future__ import annotations

import operator
from datetime import timedelta
from typing import Annotated, Any, Literal, TypedDict

from pydantic import BaseModel, Field

from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage
from hitlgraph.prebuilt import ToolReviewNode, tool, tools_condition
from hitlgraph.prebuilt._review_shapes import RequestFormat
from hitlgraph.review import Expire
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


# ---- Typed answers: a form from the response_schema ---------------------------------------


class Contact(BaseModel):
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", description="where the refund notice goes")
    phone: str | None = None


class Refund(BaseModel):
    approved: bool
    amount: int = Field(ge=1, le=500, description="in euros")
    currency: Literal["EUR", "USD"] = "EUR"
    tags: list[str] = []
    contact: Contact
    extra: dict[str, int] = {}


class RefundState(TypedDict, total=False):
    order: str
    decision: dict[str, Any]


def ask_refund(state: RefundState) -> RefundState:
    answer = interrupt({"question": f"Refund order {state['order']}?"}, response_schema=Refund)
    return {"decision": answer.model_dump()}


refund_builder = StateGraph(RefundState)
refund_builder.add_node("ask_refund", ask_refund)
refund_builder.add_edge(START, "ask_refund")
refund_builder.add_edge("ask_refund", END)


class CountState(TypedDict, total=False):
    label: str
    count: int


def ask_count(state: CountState) -> CountState:
    schema = {"type": "integer", "minimum": 1, "description": state.get("label", "How many?")}
    return {"count": interrupt("How many seats?", response_schema=schema)}


count_builder = StateGraph(CountState)
count_builder.add_node("ask_count", ask_count)
count_builder.add_edge(START, "ask_count")
count_builder.add_edge("ask_count", END)


# ---- Tool reviews in the three request shapes ----------------------------------------------


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return f"sent to {to}: {subject}"


def agent(state: MessagesState) -> dict[str, Any]:
    """Asks once to send an email, then says what the tool result (or the reviewer) told it."""
    last = state["messages"][-1]
    if last.type == "tool":
        return {"messages": [AIMessage(f"The model read: {last.content}", id="ai-2")]}
    return {"messages": [AIMessage("", id="ai-1", tool_calls=[
        {"name": "send_email", "args": {"to": "ann@example.com", "subject": "Hi"},
         "id": "call_1"}])]}


def _reviewed(request_format: RequestFormat) -> StateGraph[MessagesState]:
    builder = StateGraph(MessagesState)
    builder.add_node("agent", agent)
    builder.add_node(ToolReviewNode([send_email], request_format=request_format,
                                    description="Send this email?"))
    builder.add_edge(START, "agent")
    builder.add_conditional_edges("agent", tools_condition, ["tools", END])
    builder.add_edge("tools", "agent")
    return builder


own_review_builder = _reviewed("hitlgraph")
inbox_review_builder = _reviewed("agent-inbox")
langchain_review_builder = _reviewed("langchain")


class BatchState(TypedDict, total=False):
    decisions: list[dict[str, Any]]


def review_batch(state: BatchState) -> BatchState:
    """LangChain's middleware asks about every call of a turn in one interrupt."""
    answer = interrupt({
        "action_requests": [
            {"name": "search", "args": {"query": "weather"}, "description": "Search?"},
            {"name": "delete_file", "args": {"path": "/tmp/x"}, "description": "Delete?"},
            {"name": "send_email", "args": {"to": "bo@example.com"}, "description": "Send?"}],
        "review_configs": [
            {"action_name": "search", "allowed_decisions": ["approve", "reject"]},
            {"action_name": "delete_file", "allowed_decisions": ["approve", "reject"]},
            {"action_name": "send_email", "allowed_decisions": ["approve", "edit", "respond"]}],
    })
    return {"decisions": answer["decisions"]}


batch_builder = StateGraph(BatchState)
batch_builder.add_node("review_batch", review_batch)
batch_builder.add_edge(START, "review_batch")
batch_builder.add_edge("review_batch", END)


# ---- Descriptions in Markdown -----------------------------------------------------------------


class DescribedState(TypedDict, total=False):
    description: str
    answer: Any


def ask_described(state: DescribedState) -> DescribedState:
    return {"answer": interrupt({"question": "Go ahead?", "description": state["description"]})}


described_builder = StateGraph(DescribedState)
described_builder.add_node("ask_described", ask_described)
described_builder.add_edge(START, "ask_described")
described_builder.add_edge("ask_described", END)


# ---- Two approvals (k-of-n) ----------------------------------------------------------------


class ReleaseState(TypedDict, total=False):
    version: str
    approved_by: list[str]


def approve_release(state: ReleaseState) -> ReleaseState:
    answers = interrupt({"question": f"Ship release {state['version']}?"}, approvals=2)
    return {"approved_by": [f"{a.by}:{a.answer['approved']}" for a in answers]}


release_builder = StateGraph(ReleaseState)
release_builder.add_node("approve_release", approve_release)
release_builder.add_edge(START, "approve_release")
release_builder.add_edge("approve_release", END)


# ---- Review policies: a deadline, an assignee, a group ---------------------------------------


class PolicyState(TypedDict, total=False):
    ask: dict[str, Any]
    """interrupt()'s policy keywords (expires_in in seconds, assignee, group, ...)."""
    answer: Any


def ask_with_policy(state: PolicyState) -> PolicyState:
    return {"answer": interrupt({"question": "Approve the payment?"}, **state["ask"])}


policy_builder = StateGraph(PolicyState)
policy_builder.add_node("ask_with_policy", ask_with_policy)
policy_builder.add_edge(START, "ask_with_policy")
policy_builder.add_edge("ask_with_policy", END)


# ---- A deadline with a default answer --------------------------------------------------------


class ExpiringState(TypedDict, total=False):
    approved: Any
    note: Any


def ask_in_time(state: ExpiringState) -> ExpiringState:
    answer = interrupt({"question": "Approve the order?"}, expires_in=1.5,
                       on_expire=Expire.answer({"approved": False}))
    return {"approved": answer["approved"]}


def ask_note(state: ExpiringState) -> ExpiringState:
    return {"note": interrupt("Anything to tell the customer?")}


expiring_builder = StateGraph(ExpiringState)
expiring_builder.add_sequence([ask_in_time, ask_note])
expiring_builder.add_edge(START, "ask_in_time")
expiring_builder.add_edge("ask_note", END)


# ---- A refund: a first question, then a described approval with every policy -----------------


class RefundReviewState(TypedDict, total=False):
    order: str
    amount: int
    reason: str
    checked: bool
    decision: Any


def check_order(state: RefundReviewState) -> RefundReviewState:
    return {"checked": interrupt(f"Is the photo of order {state['order']} attached?")}


def approve_refund(state: RefundReviewState) -> RefundReviewState:
    description = (
        f"## Refund for order {state['order']}\n\n"
        f"The customer asks for **{state['amount']} EUR** back: _{state['reason']}_.\n\n"
        "- the parcel tracking shows `delivered`\n- no earlier refund on this account\n\n"
        "See the [refund policy](https://example.com/policy).")
    answer = interrupt({"question": f"Refund {state['amount']} EUR?",
                        "description": description},
                       expires_in=timedelta(hours=4), assignee="alice", group="support",
                       on_expire=Expire.answer("refused: no answer in time"))
    return {"decision": answer}


def pay(state: RefundReviewState) -> RefundReviewState:
    return {}


refund_review_builder = StateGraph(RefundReviewState)
refund_review_builder.add_sequence([check_order, approve_refund, pay])
refund_review_builder.add_edge(START, "check_order")
refund_review_builder.add_edge("pay", END)
