"""Stored rows as records, and values as stored: JSON data is kept as JSON *text* (not
jsonb: jsonb refuses the string "\\u0000" and reorders keys, and the server only ever hands
these values back as they came); times come back as ISO 8601 text in UTC."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from hitlgraph.server.store._records import RunRow, ThreadRow

__all__ = ["RUN_COLUMNS", "THREAD_COLUMNS", "dumps", "dumps_or_null", "now_iso", "run_row",
           "stored_time", "thread_row"]

THREAD_COLUMNS = ('tenant, thread_id, created_at, updated_at, metadata, status, "values", '
                  "interrupts, graph_id, COALESCE(state_updated_at, updated_at), error")
"""What the statements returning threads select, in `thread_row`'s order."""
RUN_COLUMNS = ("tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, "
               "status, metadata, kwargs, multitask_strategy, fencing, attempt, cancel_action, "
               "output, error, temporary, on_completion, start_point")
"""What the statements returning runs select, in `run_row`'s order."""


def dumps(value: Any) -> str:
    """JSON text as stored."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def dumps_or_null(value: Any) -> str | None:
    """JSON text as stored, or NULL for None."""
    return None if value is None else dumps(value)


def _load(text: str | None, default: Any) -> Any:
    return default if text is None else json.loads(text)


def now_iso() -> str:
    """The current UTC time as ISO 8601 text (how SQLite stores times)."""
    return datetime.now(timezone.utc).isoformat()


def stored_time(value: str | datetime) -> str:
    """A stored time as ISO 8601 text: SQLite's is already; PostgreSQL's is a datetime."""
    return value if isinstance(value, str) else value.astimezone(timezone.utc).isoformat()


def thread_row(row: tuple[Any, ...]) -> ThreadRow:
    """A hg_threads row (THREAD_COLUMNS order) as a ThreadRow."""
    (tenant, thread_id, created_at, updated_at, metadata, status, values, interrupts,
     graph_id, state_updated_at, error) = row
    return ThreadRow(tenant=tenant, thread_id=thread_id, created_at=stored_time(created_at),
                     updated_at=stored_time(updated_at), metadata=_load(metadata, {}),
                     status=status, values=_load(values, None),
                     interrupts=_load(interrupts, {}), graph_id=graph_id,
                     state_updated_at=stored_time(state_updated_at), error=_load(error, None))


def run_row(row: tuple[Any, ...]) -> RunRow:
    """A hg_runs row (RUN_COLUMNS order) as a RunRow."""
    (tenant, run_id, thread_id, assistant_id, graph_id, created_at, updated_at, status,
     metadata, kwargs, strategy, fencing, attempt, cancel_action, output, error, temporary,
     on_completion, start_point) = row
    return RunRow(tenant=tenant, run_id=run_id, thread_id=thread_id, assistant_id=assistant_id,
                  graph_id=graph_id, created_at=stored_time(created_at),
                  updated_at=stored_time(updated_at), status=status,
                  metadata=_load(metadata, {}), kwargs=_load(kwargs, {}),
                  multitask_strategy=strategy, fencing=int(fencing), attempt=int(attempt),
                  cancel_action=cancel_action, output=_load(output, None),
                  error=_load(error, None), temporary=bool(temporary),
                  on_completion=on_completion, start_point=_load(start_point, None))
