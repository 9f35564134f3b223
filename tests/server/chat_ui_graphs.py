"""Graphs that Agent Chat UI talks to in tests/server/test_agent_chat_ui.py.

Agent Chat UI chats with any graph whose state has `messages`. `chat` answers each message
with a scripted reply streamed word by word. `review` and `inbox` ask to send an email and
pause for a person in Agent Inbox's HumanInterrupt shape (a list of one request), the only
interrupt shape the UI shows buttons for (others get a read-only view), then report what
happened: `review` asks through ToolReviewNode(request_format="agent-inbox"), `inbox` with a
plain interrupt() read as graphs written for LangGraph read it."""

from __future__ import annotations

from typing import Any

from hitlgraph.graph import END, START, MessagesState, StateGraph
from hitlgraph.messages import AIMessage, ToolMessage
from hitlgraph.prebuilt import ScriptedChatModel, ToolReviewNode, tool, tools_condition
from hitlgraph.types import interrupt

RECIPIENT = "ann@example.com"


def _text(content: Any) -> str:
    """A message's text, whether its content is a string or a list of content blocks (the UI
    sends a string; LangChain clients may send blocks)."""
    if isinstance(content, str):
        return content
    return " ".join(block.get("text", "") for block in content if isinstance(block, dict))


def chat(state: MessagesState) -> dict[str, Any]:
    """Replies "You said: ..." through a scripted model's stream, so that the "messages" stream
    mode sees the reply token by token."""
    said = _text(state["messages"][-1].content)
    model = ScriptedChatModel(responses=[f"You said: {said}. Nice to meet you!"])
    reply = None
    for chunk in model.stream(state["messages"]):
        reply = chunk if reply is None else reply + chunk
    assert reply is not None
    return {"messages": [reply.to_message()]}


chat_builder = StateGraph(MessagesState)
chat_builder.add_node("chat", chat)
chat_builder.add_edge(START, "chat")
chat_builder.add_edge("chat", END)


def _sent(to: str, subject: str) -> str:
    return f"Email sent to {to} with subject '{subject}'."


@tool
def send_email(to: str, subject: str) -> str:
    """Send an email."""
    return _sent(to, subject)


def agent(state: MessagesState) -> dict[str, Any]:
    """Asks once to send an email; after the tool's result (or the reviewer's answer) comes
    back, says what it read and stops."""
    last = state["messages"][-1]
    if last.type == "tool":
        return {"messages": [AIMessage(f"Done. The tool said: {last.content}")]}
    return {"messages": [AIMessage("I will send that email.", tool_calls=[
        {"name": "send_email", "args": {"to": RECIPIENT, "subject": "Hello"},
         "id": f"call_{len(state['messages'])}"}])]}


review_builder = StateGraph(MessagesState)
review_builder.add_node("agent", agent)
review_builder.add_node(ToolReviewNode([send_email], request_format="agent-inbox",
                                       description="Send this email?"))
review_builder.add_edge(START, "agent")
review_builder.add_conditional_edges("agent", tools_condition, ["tools", END])
review_builder.add_edge("tools", "agent")


def _inbox_request(call: dict[str, Any]) -> dict[str, Any]:
    flags = ("allow_accept", "allow_edit", "allow_respond", "allow_ignore")
    return {"action_request": {"action": call["name"], "args": call["args"]},
            "config": dict.fromkeys(flags, True), "description": "Send this email?"}


def _outcome(answer: dict[str, Any], args: dict[str, Any]) -> str:
    """What a HumanResponse decides, read as graphs written for Agent Inbox read it: by its
    type alone, so an accept's args (the page sends the action request) do not matter."""
    if answer["type"] == "accept":
        return _sent(**args)
    if answer["type"] == "edit":
        return _sent(**answer["args"]["args"])
    if answer["type"] == "response":
        return str(answer["args"])
    return "The reviewer skipped this call to 'send_email'; it did not run."


def ask_inbox(state: MessagesState) -> dict[str, Any]:
    """Reviews the last message's tool call with a plain interrupt() in Agent Inbox's shape."""
    last = state["messages"][-1]
    assert isinstance(last, AIMessage)
    call = last.tool_calls[0]
    answer = interrupt([_inbox_request({"name": call["name"], "args": call["args"]})])[0]
    return {"messages": [ToolMessage(_outcome(answer, call["args"]),
                                     tool_call_id=str(call["id"]), name=call["name"])]}


inbox_builder = StateGraph(MessagesState)
inbox_builder.add_node("agent", agent)
inbox_builder.add_node("tools", ask_inbox)
inbox_builder.add_edge(START, "agent")
inbox_builder.add_conditional_edges("agent", tools_condition, ["tools", END])
inbox_builder.add_edge("tools", "agent")
