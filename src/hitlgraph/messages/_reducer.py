"""add_messages: the reducer of a list of messages."""

from __future__ import annotations

from typing import Any

from hitlgraph.messages._convert import Messages, convert_to_messages
from hitlgraph.messages._types import REMOVE_ALL_MESSAGES, AnyMessage, RemoveMessage

__all__ = ["add_messages"]


def _is_remove(message: Any) -> bool:
    return isinstance(message, RemoveMessage) or getattr(message, "type", None) == "remove"


def add_messages(left: Messages, right: Messages) -> list[AnyMessage]:
    """Merge an update into a list of messages, by message id.

    Each message of `right`, in order: a RemoveMessage removes the message with its id; a
    message whose id is already in the list replaces that message where it stands; any other
    is appended. `RemoveMessage(id=REMOVE_ALL_MESSAGES)` drops everything before it (the left
    list and the earlier messages of `right`).

    Both sides may be one message or a list, and may hold message-like values: a str (a human
    message), a (role, content) tuple, or a dict with "role" (or "type") and "content". Values
    are turned into messages, and messages without an id get one. langchain_core messages are
    kept as they are (one without an id is copied with a new id) and can be mixed with
    hitlgraph's.

    Args:
        left: the current messages.
        right: the update.

    Returns:
        A new list; neither argument is changed.

    Raises:
        ValueError: a RemoveMessage names an id that is not in the list, or a value has an
            unknown role.
        TypeError: a value is no kind of message.

    Example:
        >>> from hitlgraph.messages import AIMessage, HumanMessage, RemoveMessage
        >>> history = add_messages([HumanMessage("Hi", id="1")], AIMessage("Hello!", id="2"))
        >>> [m.content for m in add_messages(history, RemoveMessage(id="1"))]
        ['Hello!']
    """
    current = convert_to_messages(left)
    update = convert_to_messages(right)
    cut: int | None = None
    for i, message in enumerate(update):
        if _is_remove(message) and message.id == REMOVE_ALL_MESSAGES:
            cut = i
    if cut is not None:
        current, update = [], update[cut + 1:]

    merged: list[Any] = list(current)
    where = {message.id: i for i, message in enumerate(merged)}
    for message in update:
        at = where.get(message.id)
        if _is_remove(message):
            if at is None:
                raise ValueError(
                    f"Cannot remove message '{message.id}': no message with that id is in the "
                    f"list ({_describe_ids(merged)}). Remove an id that is there, or use "
                    "RemoveMessage(id=REMOVE_ALL_MESSAGES) to clear the list."
                )
            merged[at] = None
            del where[message.id]
        elif at is None:
            where[message.id] = len(merged)
            merged.append(message)
        else:
            merged[at] = message
    return [m for m in merged if m is not None]


def _describe_ids(messages: list[Any]) -> str:
    ids = [m.id for m in messages if m is not None]
    if not ids:
        return "it is empty"
    shown = ", ".join(f"'{i}'" for i in ids[-5:])
    return f"ids {shown}" if len(ids) <= 5 else f"{len(ids)} messages, the last ids {shown}"
