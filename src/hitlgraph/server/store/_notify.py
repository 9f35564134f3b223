"""What a change announces to other processes: the operations say which change they made
(`notify`), inside their transaction; the database delivers it on commit (PostgreSQL's
NOTIFY; in SQLite a row of hg_changes that other processes' watchers read, `_watch.py`), and
`wake_key` turns what arrives into the key of `Signals` it wakes."""

from __future__ import annotations

from typing import Final

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op

__all__ = ["CANCEL", "CHANGED", "CHANNELS", "QUEUED", "notify", "wake_key"]

QUEUED: Final = "hitlgraph_run_queued"
"""A run was queued, or a thread's run ended (its next queued run may start): idle workers
look for work. No payload."""
CHANGED: Final = "hitlgraph_run_changed"
"""Events were appended to a run, or it finished: its streamers and joiners read again.
Payload: the run id."""
CANCEL: Final = "hitlgraph_run_cancel"
"""A cancel was requested for a run: its worker renews its lease now and sees it. Payload:
the run id."""
CHANNELS: Final = (QUEUED, CHANGED, CANCEL)


def notify(dialect: Dialect, channel: str, payload: str = "") -> Op[None]:
    """Announce a change on `channel` once the transaction commits (nothing where the
    database cannot)."""
    if dialect.notify is not None:
        yield dialect.notify, {"channel": channel, "payload": payload}


def wake_key(channel: str, payload: str) -> str:
    """The `Signals` key a notification wakes."""
    if channel == CHANGED:
        return f"run:{payload}"
    if channel == CANCEL:
        return f"cancel:{payload}"
    return "queue"
