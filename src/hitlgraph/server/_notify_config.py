"""The review notification webhooks a server sends, as its settings or langgraph.json give
them::

    "hitlgraph": {"webhooks": [
        {"url": "https://hooks.example.com/review", "secret": "s3cret",
         "events": ["interrupt.created", "interrupt.decided"], "name": "review-desk"}
    ]}

"events" defaults to every kind (`EVENTS`); "name" (the key of the webhook's cursor and
delivery log) defaults to one made from the URL, so a webhook keeps its place across
restarts as long as its name, or URL, stays. The URL must be http(s); whether its host may be
called is checked when it is sent, as for run webhooks (HITLGRAPH_WEBHOOK_ALLOW_HOSTS).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

from hitlgraph.server._webhooks import WebhookRefusedError, valid_url

__all__ = ["EVENTS", "Webhook", "webhooks_of"]

EVENTS: Final = ("interrupt.created", "interrupt.warning", "interrupt.decided",
                 "interrupt.expired", "run.finished")
"""Every kind a webhook can be sent (the first four from the checkpointer's review outbox,
the last from the server's runs)."""
_KEYS: Final = frozenset({"url", "secret", "events", "name"})
MAX_WEBHOOKS: Final = 32


@dataclass(frozen=True, slots=True, kw_only=True)
class Webhook:
    """One notification webhook."""

    name: str
    url: str
    secret: str
    """The HMAC-SHA256 key of the X-Hitlgraph-Signature header."""
    events: frozenset[str]


def _name_of(url: str) -> str:
    return "url-" + hashlib.sha256(url.encode("utf-8")).hexdigest()[:16]


def _events(value: Any, where: str) -> frozenset[str]:
    if value is None:
        return frozenset(EVENTS)
    if not isinstance(value, (list, tuple)) or not value or \
            not all(isinstance(kind, str) for kind in value):
        raise ValueError(f"{where}.events must be a non-empty list of event kinds, got "
                         f"{value!r}; the kinds are {', '.join(EVENTS)}.")
    unknown = sorted(set(value) - set(EVENTS))
    if unknown:
        raise ValueError(f"{where}.events names unknown kinds {unknown}; the kinds are "
                         f"{', '.join(EVENTS)}.")
    return frozenset(value)


def _one(item: Any, where: str) -> Webhook:
    if not isinstance(item, dict):
        raise ValueError(f"{where} must be an object with \"url\" and \"secret\", got "
                         f"{type(item).__name__}.")
    extra = sorted(set(item) - _KEYS)
    if extra:
        raise ValueError(f"{where} has unknown keys {extra}; it takes url, secret, events, "
                         "name.")
    url, secret, name = item.get("url"), item.get("secret"), item.get("name")
    if not isinstance(url, str):
        raise ValueError(f"{where}.url must be an http:// or https:// URL, got {url!r}.")
    try:
        valid_url(url)
    except WebhookRefusedError as exc:
        raise ValueError(f"{where}.url: {exc}") from None
    if not isinstance(secret, str) or len(secret) < 8:
        raise ValueError(f"{where}.secret must be a string of at least 8 characters (the key "
                         "that signs each body).")
    if name is not None and (not isinstance(name, str) or not name or len(name) > 200):
        raise ValueError(f"{where}.name must be a non-empty string of at most 200 characters, "
                         f"got {name!r}.")
    return Webhook(name=name or _name_of(url), url=url, secret=secret,
                   events=_events(item.get("events"), where))


def webhooks_of(value: Any, where: str) -> tuple[Webhook, ...]:
    """The webhooks a config's list (`where` names it in errors) gives, checked.

    Raises:
        ValueError: naming the entry at fault and what it should be.
    """
    if value is None:
        return ()
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise ValueError(f"{where} must be a list of webhooks, got {type(value).__name__}.")
    if len(value) > MAX_WEBHOOKS:
        raise ValueError(f"{where} lists {len(value)} webhooks; at most {MAX_WEBHOOKS} are "
                         "accepted.")
    hooks = tuple(_one(item, f"{where}[{i}]") for i, item in enumerate(value))
    names = [hook.name for hook in hooks]
    twice = sorted({name for name in names if names.count(name) > 1})
    if twice:
        raise ValueError(f"{where} has several webhooks named {twice}: give each its own "
                         "\"name\" (or URL).")
    return hooks
