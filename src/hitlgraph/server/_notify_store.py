"""What notifications keep in the server's database (see `_notify_schema.py` for the tables):
the server's outbox of run events, each webhook's leased cursor, and the delivery log.

Each operation is written once over the store's dialect and run by the store's own backend
(its `_read` / `_write`: one transaction per write), as the store's operations are.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import hitlgraph.server._notify_schema as schema
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._rows import now_iso
from hitlgraph.server.store.base import Store

__all__ = ["Delivery", "NotifyTables", "RunEventRow"]


@dataclass(frozen=True, slots=True, kw_only=True)
class RunEventRow:
    """One event of the server's outbox."""

    seq: int
    kind: str
    at: str
    tenant: str
    thread_id: str
    graph_id: str | None
    data: dict[str, Any]


@dataclass(frozen=True, slots=True, kw_only=True)
class Delivery:
    """One row of the delivery log: how sending one event to one webhook ended."""

    webhook: str
    source: str
    seq: int
    kind: str
    attempts: int
    outcome: str
    """"delivered" (a 2xx answer), "failed" (every try failed) or "refused" (the URL may
    not be called now)."""
    status_code: int | None
    error: str | None


def _events(after: int, limit: int) -> Op[list[RunEventRow]]:
    rows = yield ("SELECT seq, kind, at, tenant, thread_id, graph_id, data FROM hg_notify_events "
                  "WHERE seq > :after ORDER BY seq LIMIT :limit", {"after": after, "limit": limit})
    return [RunEventRow(seq=int(r[0]), kind=r[1], at=_utc(r[2]), tenant=r[3], thread_id=r[4],
                        graph_id=r[5], data=_times_in(json.loads(r[6]))) for r in rows]


def _utc(text: str) -> str:
    """A time the trigger wrote (PostgreSQL's in the session's zone) as the server's other
    times read: ISO 8601 in UTC."""
    return datetime.fromisoformat(text).astimezone(timezone.utc).isoformat()


def _times_in(data: dict[str, Any]) -> dict[str, Any]:
    for key in ("started_at", "ended_at"):
        if isinstance(data.get(key), str):
            data[key] = _utc(data[key])
    return data


def _end() -> Op[int]:
    ((top,),) = yield "SELECT COALESCE(MAX(seq), 0) FROM hg_notify_events", {}
    return int(top)


def _lease(d: Dialect, webhook: str, source: str, owner: str, seconds: float
           ) -> Op[int | None]:
    """The cursor, leased to `owner`; None while another process holds it (or the webhook
    has no cursor: `place` makes them)."""
    params = {"webhook": webhook, "source": source, "owner": owner,
              "lease": float(seconds), "now": time.time()}
    rows = yield (f"UPDATE hg_notify_cursors SET lease_owner = :owner, lease_until = "
                  f"{d.lease_end} WHERE webhook = :webhook AND source = :source AND "
                  f"(lease_owner IS NULL OR lease_owner = :owner OR lease_until < {d.clock}) "
                  "RETURNING seq", params)
    return int(rows[0][0]) if rows else None


def _place(webhook: str, source: str, start: int) -> Op[None]:
    yield ("INSERT INTO hg_notify_cursors (webhook, source, seq) VALUES (:webhook, :source, "
           ":start) ON CONFLICT (webhook, source) DO NOTHING",
           {"webhook": webhook, "source": source, "start": start})


def _release(webhook: str, source: str, owner: str) -> Op[None]:
    yield ("UPDATE hg_notify_cursors SET lease_owner = NULL, lease_until = NULL WHERE "
           "webhook = :webhook AND source = :source AND lease_owner = :owner",
           {"webhook": webhook, "source": source, "owner": owner})


def _advance(webhook: str, source: str, owner: str, seq: int) -> Op[bool]:
    rows = yield ("UPDATE hg_notify_cursors SET seq = :seq WHERE webhook = :webhook AND "
                  "source = :source AND lease_owner = :owner AND seq < :seq RETURNING seq",
                  {"webhook": webhook, "source": source, "owner": owner, "seq": seq})
    return bool(rows)


def _log(item: Delivery) -> Op[None]:
    yield ("INSERT INTO hg_notify_deliveries (webhook, source, seq, kind, attempts, outcome, "
           "status_code, error, at) VALUES (:webhook, :source, :seq, :kind, :attempts, "
           ":outcome, :code, :error, :at)",
           {"webhook": item.webhook, "source": item.source, "seq": item.seq, "kind": item.kind,
            "attempts": item.attempts, "outcome": item.outcome, "code": item.status_code,
            "error": item.error, "at": now_iso()})


def _has_cursors(d: Dialect) -> Op[bool]:
    ((found,),) = yield d.has_table, {"table": "hg_notify_cursors"}
    return bool(found)


def _min_cursor(source: str) -> Op[int | None]:
    ((low,),) = yield ("SELECT MIN(seq) FROM hg_notify_cursors WHERE source = :source",
                       {"source": source})
    return None if low is None else int(low)


def _prune_events(upto: int, limit: int) -> Op[int]:
    """Delete the oldest events up to seq `upto`, at most `limit`: a range of keys found
    first (a DELETE over a subquery's list has PostgreSQL scan the whole table)."""
    ((last,),) = yield ("SELECT MAX(seq) FROM (SELECT seq FROM hg_notify_events WHERE "
                        "seq <= :upto ORDER BY seq LIMIT :limit) AS oldest",
                        {"upto": upto, "limit": limit})
    if last is None:
        return 0
    rows = yield ("DELETE FROM hg_notify_events WHERE seq <= :last RETURNING seq",
                  {"last": int(last)})
    return len(rows)


def _forget(keep: frozenset[tuple[str, str]], limit: int) -> Op[int]:
    """Delete the cursors not in `keep`, among the first `limit` (keep holds at most
    2 * MAX_WEBHOOKS, far below it, so each call removes most of what it reads)."""
    rows = yield ("SELECT webhook, source FROM hg_notify_cursors ORDER BY webhook, source "
                  "LIMIT :limit", {"limit": limit})
    gone = [(webhook, source) for webhook, source in rows if (webhook, source) not in keep]
    for webhook, source in gone:
        yield ("DELETE FROM hg_notify_cursors WHERE webhook = :webhook AND source = :source",
               {"webhook": webhook, "source": source})
    return len(gone)


def _trim_deliveries(webhook: str, keep: int, limit: int) -> Op[int]:
    """Delete up to `limit` of the webhook's oldest log rows beyond its newest `keep`: the
    range of ids is found first, through the index on (webhook, id), then deleted."""
    rows = yield ("SELECT id FROM hg_notify_deliveries WHERE webhook = :webhook "
                  "ORDER BY id DESC LIMIT 1 OFFSET :keep", {"webhook": webhook, "keep": keep})
    if not rows:
        return 0
    ((last,),) = yield ("SELECT MAX(id) FROM (SELECT id FROM hg_notify_deliveries WHERE "
                        "webhook = :webhook AND id <= :older ORDER BY id LIMIT :limit) "
                        "AS oldest",
                        {"webhook": webhook, "older": int(rows[0][0]), "limit": limit})
    gone = yield ("DELETE FROM hg_notify_deliveries WHERE webhook = :webhook AND id <= :last "
                  "RETURNING id", {"webhook": webhook, "last": int(last)})
    return len(gone)


def _deliveries(webhook: str, limit: int) -> Op[list[Delivery]]:
    rows = yield ("SELECT webhook, source, seq, kind, attempts, outcome, status_code, error "
                  "FROM hg_notify_deliveries WHERE webhook = :webhook ORDER BY id LIMIT :limit",
                  {"webhook": webhook, "limit": limit})
    return [Delivery(webhook=r[0], source=r[1], seq=int(r[2]), kind=r[3], attempts=int(r[4]),
                     outcome=r[5], status_code=r[6], error=r[7]) for r in rows]


class NotifyTables:
    """The notification tables of `store`'s database."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.dialect = store.dialect

    async def setup(self) -> None:
        """Create or migrate the tables; safe from several processes at once."""
        if not await self.store._read(schema.is_current(self.dialect)):
            await self.store._write(schema.migrate(self.dialect))

    async def place(self, webhook: str, source: str, start: int) -> None:
        """Give the webhook a cursor over `source` at seq `start` unless it has one: it is
        sent what comes after. (The trigger writing run.finished waits for one.)"""
        await self.store._write(_place(webhook, source, start))

    async def events(self, after: int, limit: int) -> list[RunEventRow]:
        """The server outbox's events after seq `after`, oldest first, at most `limit`."""
        return await self.store._read(_events(after, limit))

    async def end(self) -> int:
        """The server outbox's last seq (0 when empty)."""
        return await self.store._read(_end())

    async def lease(self, webhook: str, source: str, owner: str, seconds: float
                    ) -> int | None:
        """Lease the webhook's cursor over `source` for `seconds`: its seq, or None when
        another process holds it."""
        return await self.store._write(_lease(self.dialect, webhook, source, owner, seconds))

    async def release(self, webhook: str, source: str, owner: str) -> None:
        """Give the cursor's lease up (another process may take it at once)."""
        await self.store._write(_release(webhook, source, owner))

    async def advance(self, webhook: str, source: str, owner: str, seq: int) -> bool:
        """Move the cursor to `seq` (False: the lease was lost, nothing moved)."""
        return await self.store._write(_advance(webhook, source, owner, seq))

    async def log(self, item: Delivery) -> None:
        """Add a row to the delivery log."""
        await self.store._write(_log(item))

    async def exists(self) -> bool:
        """Whether the tables were made (by a server that had webhooks)."""
        return await self.store._read(_has_cursors(self.dialect))

    async def min_cursor(self, source: str) -> int | None:
        """The seq of the webhook furthest behind in `source` (None: no webhook reads it)."""
        return await self.store._read(_min_cursor(source))

    async def prune_events(self, upto: int, limit: int) -> int:
        """Delete the server outbox's oldest events with seq at most `upto`, at most `limit`
        of them; how many went."""
        return await self.store._write(_prune_events(upto, limit))

    async def forget(self, keep: frozenset[tuple[str, str]], limit: int) -> int:
        """Delete the cursors whose (webhook, source) is not in `keep`, among the first
        `limit` rows; how many of those it found (0: none is left among them, so none at all
        while `keep` is smaller than `limit`). Several processes may do it at once: they
        delete in the same order, and a row another one deleted first is simply gone."""
        return await self.store._write(_forget(keep, limit))

    async def trim_deliveries(self, webhook: str, keep: int, limit: int) -> int:
        """Delete up to `limit` rows of the webhook's delivery log older than its newest
        `keep`; how many went."""
        return await self.store._write(_trim_deliveries(webhook, keep, limit))

    async def deliveries(self, webhook: str, limit: int = 100) -> list[Delivery]:
        """The webhook's delivery log, oldest first, at most `limit` rows."""
        return await self.store._read(_deliveries(webhook, limit))
