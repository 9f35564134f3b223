"""Sending one review notification to one webhook: the signed request and its retries.

The body is JSON. Headers:

- `X-Hitlgraph-Event`: the kind ("interrupt.created", ..., "run.finished");
- `X-Hitlgraph-Delivery`: the event's idempotency key, "<source>-<seq>" ("review-12": the
  12th event of the checkpointer's outbox; "run-3": the 3rd of the server's). Delivery is at
  least once, so a receiver that must act once keeps the keys it has seen;
- `X-Hitlgraph-Timestamp`: when this try was signed (Unix seconds);
- `X-Hitlgraph-Signature`: "sha256=" + hex HMAC-SHA256, keyed with the webhook's secret, of
  the timestamp, a ".", and the body's bytes. A receiver recomputes it (`signature()`),
  compares in constant time, and refuses old timestamps to stop replays.

A try fails on a network error, a timeout or an answer outside 2xx; 408, 429 and 5xx (and
network errors) are tried again after a pause that doubles each time, up to the settings'
attempts; any other answer is final. A URL refused by the address check is not tried.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import time

import httpx

from hitlgraph.server._notify_config import Webhook
from hitlgraph.server._notify_store import Delivery
from hitlgraph.server._webhooks import WebhookRefusedError, post

__all__ = ["Outgoing", "send", "signature"]

log = logging.getLogger("hitlgraph.server")

_RETRIED = frozenset({408, 429})


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The X-Hitlgraph-Signature of `body` signed at `timestamp`."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body,
                   hashlib.sha256)
    return "sha256=" + mac.hexdigest()


class Outgoing:
    """One event on its way to one webhook."""

    def __init__(self, hook: Webhook, *, source: str, seq: int, kind: str, body: bytes
                 ) -> None:
        self.hook = hook
        self.source = source
        self.seq = seq
        self.kind = kind
        self.body = body

    def headers(self) -> dict[str, str]:
        """This try's headers, signed now."""
        stamp = str(int(time.time()))
        return {"X-Hitlgraph-Event": self.kind,
                "X-Hitlgraph-Delivery": f"{self.source}-{self.seq}",
                "X-Hitlgraph-Timestamp": stamp,
                "X-Hitlgraph-Signature": signature(self.hook.secret, stamp, self.body)}

    def record(self, attempts: int, outcome: str, code: int | None, error: str | None
               ) -> Delivery:
        """The delivery log's row of how sending it ended."""
        return Delivery(webhook=self.hook.name, source=self.source, seq=self.seq,
                        kind=self.kind, attempts=attempts, outcome=outcome, status_code=code,
                        error=error)


async def _try(item: Outgoing) -> tuple[int | None, str | None, bool]:
    """One try: (status code, error, whether to try again)."""
    try:
        answer = await post(item.hook.url, item.body, item.headers())
    except (httpx.TransportError, asyncio.TimeoutError) as exc:
        return None, f"{type(exc).__name__}: {exc}"[:500], True
    code = answer.status_code
    if 200 <= code < 300:
        return code, None, False
    return code, f"answered {code}", code >= 500 or code in _RETRIED


async def send(item: Outgoing, *, attempts: int, backoff: float) -> Delivery:
    """Send `item`, tried up to `attempts` times (see the module docstring); how it ended."""
    code: int | None = None
    error: str | None = None
    for attempt in range(1, max(1, attempts) + 1):
        try:
            code, error, again = await _try(item)
        except WebhookRefusedError as exc:
            log.warning("notification %s-%s to webhook '%s' not sent: %s", item.source,
                        item.seq, item.hook.name, exc)
            return item.record(attempt, "refused", None, str(exc)[:500])
        if error is None:
            return item.record(attempt, "delivered", code, None)
        if not again or attempt >= attempts:
            break
        await asyncio.sleep(backoff * 2 ** (attempt - 1))
    log.warning("notification %s-%s to webhook '%s' failed after %s tries: %s", item.source,
                item.seq, item.hook.name, attempt, error)
    return item.record(attempt, "failed", code, error)
