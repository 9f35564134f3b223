"""The three shapes a tool review can be asked and answered in: hitlgraph's own, Agent Inbox's
(HumanInterrupt / HumanResponse) and LangChain 1.x's human-in-the-loop middleware
(action_requests / decisions). A review asks in one shape and takes an answer in any of them
when the answer can only mean one thing."""

from __future__ import annotations

from typing import Any, Literal

RequestFormat = Literal["hitlgraph", "agent-inbox", "langchain"]
REQUEST_FORMATS: tuple[RequestFormat, ...] = ("hitlgraph", "agent-inbox", "langchain")

_INBOX_ALLOW = {"accept": "allow_accept", "edit": "allow_edit", "respond": "allow_respond",
                "ignore": "allow_ignore"}
_DECISION_OF = {"accept": "approve", "edit": "edit", "respond": "respond", "ignore": "reject"}

OTHER_SHAPES = (
    "Agent Inbox: {'type': 'accept' | 'ignore', 'args': None} (an accept may carry the "
    "request unchanged as 'args'), {'type': 'response', 'args': "
    "'...'}, {'type': 'edit', 'args': {'action': <tool>, 'args': {...}}} (alone or in a list "
    "of one); LangChain: {'decisions': [{'type': 'approve'} | {'type': 'edit', "
    "'edited_action': {'name': <tool>, 'args': {...}}} | {'type': 'reject', 'message': '...'} "
    "| {'type': 'respond', 'message': '...'}]}"
)
"""The answer shapes besides hitlgraph's, for error messages."""


class UnclearAnswer(ValueError):
    """An answer in one of the other shapes that is malformed or could mean two things."""


def check_format(request_format: RequestFormat) -> RequestFormat:
    if request_format not in REQUEST_FORMATS:
        raise ValueError(
            f"request_format must be one of {list(REQUEST_FORMATS)}, got {request_format!r}."
        )
    return request_format


def request_value(own: dict[str, Any], request_format: RequestFormat) -> Any:
    """The interrupt value asking `own` (a ToolReviewRequest's to_dict()) in the given shape."""
    if request_format == "hitlgraph":
        return own
    allowed = own["allowed"]
    if request_format == "agent-inbox":
        config = {flag: kind in allowed for kind, flag in _INBOX_ALLOW.items()}
        return [{"action_request": {"action": own["tool"], "args": own["args"]},
                 "config": config, "description": own["description"]}]
    return {"action_requests": [{"name": own["tool"], "args": own["args"],
                                 "description": own["description"]}],
            "review_configs": [{"action_name": own["tool"],
                                "allowed_decisions": [_DECISION_OF[k] for k in allowed]}]}


def in_own_shape(value: Any, tool: str, call_args: dict[str, Any]) -> Any:
    """`value` as hitlgraph's answer dict when it is an Agent Inbox or LangChain answer;
    otherwise `value` unchanged (hitlgraph's own parser judges it)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]  # Agent Inbox answers a list of one request with a list of one
    if not isinstance(value, dict):
        return value
    if set(value) == {"decisions"}:
        return _from_decisions(value["decisions"], tool)
    kind = value.get("type")
    if set(value) == {"type", "args"} and kind in ("accept", "ignore") and value["args"] is None:
        return {"type": kind}
    if set(value) == {"type", "args"} and kind == "accept" and _names_an_action(value["args"]):
        return _accept_as_asked(value["args"], tool, call_args)
    if set(value) == {"type", "args"} and kind == "response":
        if not isinstance(value["args"], str):
            raise UnclearAnswer(f"a 'response' answer needs 'args' as a str, got {value!r}")
        return {"type": "respond", "content": value["args"]}
    if kind == "edit" and set(value) == {"type", "args"} and _names_an_action(value["args"]):
        if set(call_args) == {"action", "args"}:
            raise UnclearAnswer(
                f"{value!r} could be Agent Inbox's edit or new arguments 'action' and 'args' "
                f"for '{tool}'; send {{'type': 'edit', 'args': {{...}}}} with every argument"
            )
        if value["args"]["action"] != tool:
            raise UnclearAnswer(f"the edit names action {value['args']['action']!r}, "
                                f"but this review is about '{tool}'")
        return {"type": "edit", "args": value["args"]["args"]}
    return value


def _accept_as_asked(request: dict[str, Any], tool: str, call_args: dict[str, Any]
                     ) -> dict[str, Any]:
    """Agent Chat UI's Accept sends the request back as `args`: an accept, when it is the
    request unchanged; anything else is refused (an edit must say it is one)."""
    if request["action"] != tool or request["args"] != call_args:
        raise UnclearAnswer(
            f"an accept carries the action {request!r}, which is not the call under review "
            f"({tool!r} with {call_args!r}); to change the call, send {{'type': 'edit', "
            "'args': {'action': ..., 'args': {...}}}")
    return {"type": "accept"}


def _names_an_action(args: Any) -> bool:
    return isinstance(args, dict) and set(args) == {"action", "args"} and isinstance(
        args["args"], dict)


def _from_decisions(decisions: Any, tool: str) -> dict[str, Any]:
    if not isinstance(decisions, list) or len(decisions) != 1 or not isinstance(
            decisions[0], dict):
        raise UnclearAnswer(f"a review of one call takes exactly one decision, got {decisions!r}")
    decision = decisions[0]
    kind = decision.get("type")
    if kind == "approve" and set(decision) == {"type"}:
        return {"type": "accept"}
    if kind == "edit" and set(decision) == {"type", "edited_action"}:
        action = decision["edited_action"]
        if not (isinstance(action, dict) and action.get("name") == tool
                and isinstance(action.get("args"), dict)):
            raise UnclearAnswer(
                f"an edit decision needs edited_action {{'name': '{tool}', 'args': {{...}}}}, "
                f"got {action!r}")
        return {"type": "edit", "args": action["args"]}
    if kind in ("reject", "respond") and set(decision) <= {"type", "message"}:
        message = decision.get("message")
        if message is None and kind == "reject":
            return {"type": "ignore"}
        if not isinstance(message, str):
            raise UnclearAnswer(f"a {kind!r} decision needs 'message' as a str, got {decision!r}")
        return {"type": "respond", "content": message}
    raise UnclearAnswer(f"not a decision this review understands: {decision!r}")
