"""Creating and migrating the store's tables, for every backend.

Migrations are an append-only list per database (its Dialect's `migrations`) whose index is
the schema version; the versions applied are recorded in `MIGRATIONS_TABLE`. `migrate` runs
in one transaction, under the dialect's lock, so that several processes starting at once
apply each version once (the second finds nothing to do); `is_current` lets them see that
without taking the lock.

Tables (prefixed `hg_` so they can share a database with the checkpoint saver's):

- hg_threads(tenant, thread_id) -> metadata, status, values, interrupts, graph_id, times
- hg_runs(run_id) -> tenant, thread_id, status, kwargs, lease_owner, lease_until, fencing,
  attempt, start_point, ...
- hg_run_events(run_id, seq) -> event, data: the run's stream chunks, seq counting from 1
- hg_assistants(tenant, assistant_id) -> graph_id, config, context, metadata, name, version, ...
- hg_assistant_versions(tenant, assistant_id, version) -> what that version held
- hg_crons(cron_id) -> tenant, assistant_id, thread_id, schedule, payload, next_run_date, ...
  (deleted with their thread or assistant, by triggers)
- hg_changes(seq) -> origin, channel, payload: SQLite only, the last 1,000 changes other
  processes wake their waiters from (PostgreSQL sends them with NOTIFY)
"""

from __future__ import annotations

from typing import Final

from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op

__all__ = ["MIGRATIONS_TABLE", "is_current", "migrate"]

MIGRATIONS_TABLE: Final = "hg_server_migrations"


def is_current(dialect: Dialect) -> Op[bool]:
    """Whether every migration has run."""
    ((found,),) = yield dialect.has_table, {"table": MIGRATIONS_TABLE}
    if not found:
        return False
    ((top,),) = yield f"SELECT MAX(v) FROM {MIGRATIONS_TABLE}", {}
    return top is not None and int(top) >= len(dialect.migrations) - 1


def migrate(dialect: Dialect) -> Op[None]:
    """Apply the migrations not recorded yet, in order, recording each."""
    if dialect.lock_migrations is not None:
        yield dialect.lock_migrations, {}
    yield dialect.migrations_table, {}
    done = {int(v) for (v,) in (yield f"SELECT v FROM {MIGRATIONS_TABLE}", {})}
    for version, statements in enumerate(dialect.migrations):
        if version in done:
            continue
        for statement in statements:
            yield statement, {}
        yield f"INSERT INTO {MIGRATIONS_TABLE} (v) VALUES (:v)", {"v": version}
