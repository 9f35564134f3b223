"""Assistant operations, for every backend (see `_ops.py`): create, read, list, update (a new
version each time), set an earlier version back, delete. The rules they apply are in
`_assistants.py`."""

from __future__ import annotations

import json
from typing import Any, Literal

from hitlgraph.server.store._assistants import (
    AssistantChange,
    AssistantFields,
    AssistantRow,
    UnknownVersionError,
    patched,
)
from hitlgraph.server.store._dialect import Dialect
from hitlgraph.server.store._ops import Op
from hitlgraph.server.store._rows import dumps, now_iso, stored_time

__all__ = ["create", "delete", "get", "list_all", "patch", "set_latest", "versions"]

COLUMNS = ("assistant_id, graph_id, config, context, metadata, name, description, version, "
           "created_at, updated_at")
"""What the statements returning assistants select, in `_row`'s order."""
_VERSION_COLUMNS = COLUMNS.replace("updated_at", "created_at")
"""The same of a version, which has no updated_at: it was made once."""
_KEY = "tenant = :tenant AND assistant_id = :assistant_id"
_FIELDS = "graph_id, config, context, metadata, name, description, version"
_VALUES = ":graph_id, :config, :context, :metadata, :name, :description, :version"


def _row(row: tuple[Any, ...]) -> AssistantRow:
    (assistant_id, graph_id, config, context, metadata, name, description, version,
     created_at, updated_at) = row
    return AssistantRow(assistant_id=assistant_id, graph_id=graph_id, config=json.loads(config),
                        context=json.loads(context), metadata=json.loads(metadata), name=name,
                        description=description, version=int(version),
                        created_at=stored_time(created_at), updated_at=stored_time(updated_at))


def _params(tenant: str, assistant_id: str, fields: AssistantFields, version: int
            ) -> dict[str, Any]:
    return {"tenant": tenant, "assistant_id": assistant_id, "graph_id": fields.graph_id,
            "config": dumps(fields.config), "context": dumps(fields.context),
            "metadata": dumps(fields.metadata), "name": fields.name,
            "description": fields.description, "version": version, "at": now_iso()}


def _insert_version(d: Dialect) -> str:
    return (f"INSERT INTO hg_assistant_versions (tenant, assistant_id, {_FIELDS}, created_at) "
            f"VALUES (:tenant, :assistant_id, {_VALUES}, :at{d.time_cast})")


def _update(d: Dialect) -> str:
    assignments = ", ".join(f"{field} = :{field}" for field in _FIELDS.split(", "))
    return (f"UPDATE hg_assistants SET {assignments}, updated_at = :at{d.time_cast} "
            f"WHERE {_KEY} RETURNING {COLUMNS}")


def create(d: Dialect, tenant: str, assistant_id: str, fields: AssistantFields,
           if_exists: Literal["raise", "do_nothing"]) -> Op[AssistantRow | None]:
    """Insert the assistant and its version 1. When the id is taken: the assistant there
    ("do_nothing"), or None ("raise")."""
    params = _params(tenant, assistant_id, fields, 1)
    made = yield (
        f"INSERT INTO hg_assistants (tenant, assistant_id, {_FIELDS}, created_at, updated_at) "
        f"VALUES (:tenant, :assistant_id, {_VALUES}, :at{d.time_cast}, :at{d.time_cast}) "
        f"ON CONFLICT (tenant, assistant_id) DO NOTHING RETURNING {COLUMNS}", params)
    if made:
        yield _insert_version(d), params
        return _row(made[0])
    if if_exists == "raise":
        return None
    return (yield from get(d, tenant, assistant_id))


def get(d: Dialect, tenant: str, assistant_id: str, *, for_update: bool = False
        ) -> Op[AssistantRow | None]:
    """The assistant, or None (`for_update`: locked until the transaction ends, so that
    updates of one assistant each compute their version after the last)."""
    found = yield (f"SELECT {COLUMNS} FROM hg_assistants WHERE {_KEY}"
                   f"{d.lock_row if for_update else ''}",
                   {"tenant": tenant, "assistant_id": assistant_id})
    return _row(found[0]) if found else None


def list_all(d: Dialect, tenant: str) -> Op[list[AssistantRow]]:
    """The tenant's assistants, oldest first."""
    rows = yield (f"SELECT {COLUMNS} FROM hg_assistants WHERE tenant = :tenant "
                  f"ORDER BY {d.oldest_first()}", {"tenant": tenant})
    return [_row(r) for r in rows]


def patch(d: Dialect, tenant: str, assistant_id: str, change: AssistantChange
          ) -> Op[AssistantRow | None]:
    """Apply `change` as a new version, which becomes the assistant; None when missing."""
    current = yield from get(d, tenant, assistant_id, for_update=True)
    if current is None:
        return None
    ((top,),) = yield (f"SELECT COALESCE(MAX(version), 0) FROM hg_assistant_versions "
                       f"WHERE {_KEY}", {"tenant": tenant, "assistant_id": assistant_id})
    params = _params(tenant, assistant_id, patched(current, change), int(top) + 1)
    yield _insert_version(d), params
    return _row((yield _update(d), params)[0])


def set_latest(d: Dialect, tenant: str, assistant_id: str, version: int
               ) -> Op[AssistantRow | None]:
    """Make `version` the assistant again; None when the assistant is missing.

    Raises:
        UnknownVersionError: it has no such version.
    """
    key = {"tenant": tenant, "assistant_id": assistant_id}
    if (yield from get(d, tenant, assistant_id, for_update=True)) is None:
        return None
    found = yield (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                   "AND version = :version", {**key, "version": version})
    if not found:
        known = yield (f"SELECT version FROM hg_assistant_versions WHERE {_KEY} "
                       "ORDER BY version", key)
        raise UnknownVersionError(assistant_id, version, [int(v) for (v,) in known])
    chosen = _row(found[0])
    return _row((yield _update(d), _params(tenant, assistant_id, chosen, version))[0])


def versions(d: Dialect, tenant: str, assistant_id: str) -> Op[list[AssistantRow] | None]:
    """Every version of the assistant, newest first; None when it is missing."""
    if (yield from get(d, tenant, assistant_id)) is None:
        return None
    rows = yield (f"SELECT {_VERSION_COLUMNS} FROM hg_assistant_versions WHERE {_KEY} "
                  "ORDER BY version DESC", {"tenant": tenant, "assistant_id": assistant_id})
    return [_row(r) for r in rows]


def delete(d: Dialect, tenant: str, assistant_id: str) -> Op[bool]:
    """Delete the assistant and its versions; False when it is missing."""
    key = {"tenant": tenant, "assistant_id": assistant_id}
    gone = yield f"DELETE FROM hg_assistants WHERE {_KEY} RETURNING assistant_id", key
    yield f"DELETE FROM hg_assistant_versions WHERE {_KEY}", key
    return bool(gone)
