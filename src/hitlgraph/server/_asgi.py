"""ASGI plumbing the server's middlewares share."""

from __future__ import annotations

from starlette.types import Message, Receive

__all__ = ["replay"]


def replay(body: bytes, ended: Message | None, receive: Receive) -> Receive:
    """A `receive` that first gives back a request body a middleware already read (as one
    message), or the message that ended the request early (a disconnect), then reads on."""
    sent = False

    async def replayed() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return ended or {"type": "http.request", "body": body, "more_body": False}

    return replayed
