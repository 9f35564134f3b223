"""Assistants as the server stores them: the records, LangGraph's rules for them, and each
store operation written once, for every backend.

An operation is a generator: it yields `(statement name, named parameters)` and is sent back
the rows the statement returned. A backend supplies the SQL text of each name (the
`ASSISTANTS` dict of `_sqlite_sql.py` and `_postgres_sql.py`) and drives the operation inside
one transaction (`drive`, given a function that executes one statement), so versioning and
`if_exists` are decided here only, and a backend adds no rule of its own.

Rules, as on LangGraph's server:

- An assistant's `context` and `config["configurable"]` are kept equal: whichever of the two
  a create or an update gives is copied into the other (`synced`).
- A create, and every update, adds a version; an update's version is the highest so far plus
  one. Updating merges metadata and keeps what the update leaves out (`patched`); a new
  `config` replaces the old one whole.
- Setting the latest version copies that version back into the assistant.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Generator, Mapping
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Literal, TypeVar

__all__ = [
    "AssistantChange",
    "AssistantFields",
    "AssistantRow",
    "ConfigAndContextError",
    "Op",
    "UnknownVersionError",
    "check_config_and_context",
    "create",
    "delete",
    "drive",
    "for_run",
    "get",
    "list_all",
    "patch",
    "patched",
    "set_latest",
    "synced",
    "versions",
]

_T = TypeVar("_T")
Statement = tuple[str, dict[str, Any]]
"""The name of a statement of the backend's ASSISTANTS dict, and its named parameters."""
Rows = list[tuple[Any, ...]]
Op = Generator[Statement, Rows, _T]

IfExists = Literal["raise", "do_nothing"]


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantFields:
    """What one version of an assistant holds."""

    graph_id: str
    config: dict[str, Any]
    context: dict[str, Any]
    metadata: dict[str, Any]
    name: str
    description: str | None


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantRow(AssistantFields):
    """An assistant (or one of its versions: then `updated_at` is when it was made)."""

    assistant_id: str
    version: int
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AssistantChange:
    """An update: None keeps the current value."""

    graph_id: str | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    """Merged into the current metadata."""
    name: str | None = None
    description: str | None = None


class UnknownVersionError(LookupError):
    """Setting a version the assistant does not have."""

    def __init__(self, assistant_id: str, version: int, known: list[int]) -> None:
        self.assistant_id = assistant_id
        self.version = version
        self.known = known
        listed = ", ".join(str(v) for v in known)
        super().__init__(
            f"Assistant '{assistant_id}' has no version {version}; its versions are {listed}. "
            f"POST /assistants/{assistant_id}/versions lists them.")


# -- rules --------------------------------------------------------------------------------------

def synced(config: dict[str, Any], context: dict[str, Any] | None
           ) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """(config, context) with config["configurable"] and context made equal, from whichever
    is given (configurable first); `context` stays None when neither is."""
    configurable = config.get("configurable")
    if configurable:
        return config, dict(configurable)
    if context:
        return {**config, "configurable": dict(context)}, context
    return config, context


class ConfigAndContextError(ValueError):
    """Both config["configurable"] and context given: LangGraph's server refuses them (400)."""

    def __init__(self, where: str) -> None:
        self.where = where
        super().__init__(
            f"The {where} gives both config['configurable'] and context; give only one. They "
            "are the same values (context is LangGraph's newer name for them): send them as "
            "context, and leave config['configurable'] out.")


def check_config_and_context(config: Mapping[str, Any] | None,
                             context: Mapping[str, Any] | None, where: str) -> None:
    """Refuse a body with both config["configurable"] and context, as LangGraph's server does.

    Raises:
        ConfigAndContextError: both are given (and not empty).
    """
    if (config or {}).get("configurable") and context:
        raise ConfigAndContextError(where)


def for_run(assistant: AssistantFields, config: Mapping[str, Any] | None,
            context: Mapping[str, Any] | None) -> tuple[dict[str, Any], dict[str, Any]]:
    """(config, context) of a run of `assistant`, as LangGraph's server makes them: the run's
    values (its context, else its config["configurable"]) over the assistant's, in both; the
    rest of the run's config over the rest of the assistant's.

    Raises:
        ConfigAndContextError: the run gives both config["configurable"] and context.
    """
    check_config_and_context(config, context, "run")
    own = dict(config or {})
    values = dict(context or own.get("configurable") or {})
    configurable = {**(assistant.config.get("configurable") or {}), **values}
    return {**assistant.config, **own, "configurable": configurable}, {**assistant.context,
                                                                       **values}


def patched(current: AssistantFields, change: AssistantChange) -> AssistantFields:
    """The assistant's next version after `change`."""
    config, context = synced(dict(change.config or {}), change.context)
    return AssistantFields(
        graph_id=change.graph_id if change.graph_id is not None else current.graph_id,
        config=config if config else current.config,
        context=context if context is not None else current.context,
        metadata={**current.metadata, **(change.metadata or {})},
        name=change.name if change.name is not None else current.name,
        description=(change.description if change.description is not None
                     else current.description))


# -- rows -----------------------------------------------------------------------------------------

COLUMNS = ("assistant_id, graph_id, config, context, metadata, name, description, version, "
           "created_at, updated_at")
"""What the statements returning assistants select, in this order (a version selects its
created_at twice)."""


def _time(value: str | datetime) -> str:
    return value if isinstance(value, str) else value.astimezone(timezone.utc).isoformat()


def _row(row: tuple[Any, ...]) -> AssistantRow:
    (assistant_id, graph_id, config, context, metadata, name, description, version,
     created_at, updated_at) = row
    return AssistantRow(assistant_id=assistant_id, graph_id=graph_id, config=json.loads(config),
                        context=json.loads(context), metadata=json.loads(metadata), name=name,
                        description=description, version=int(version),
                        created_at=_time(created_at), updated_at=_time(updated_at))


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _params(tenant: str, assistant_id: str, fields: AssistantFields, version: int,
            at: str) -> dict[str, Any]:
    return {"tenant": tenant, "assistant_id": assistant_id, "graph_id": fields.graph_id,
            "config": _dumps(fields.config), "context": _dumps(fields.context),
            "metadata": _dumps(fields.metadata), "name": fields.name,
            "description": fields.description, "version": version, "at": at}


def now_iso() -> str:
    """The current UTC time as ISO 8601 text (the times assistants are stored with)."""
    return datetime.now(timezone.utc).isoformat()


# -- operations -----------------------------------------------------------------------------------

def create(tenant: str, assistant_id: str, fields: AssistantFields, if_exists: IfExists
           ) -> Op[AssistantRow | None]:
    """Insert the assistant and its version 1. When the id is taken: the assistant there
    ("do_nothing"), or None ("raise")."""
    params = _params(tenant, assistant_id, fields, 1, now_iso())
    made = yield ("insert", params)
    if made:
        yield ("insert_version", params)
        return _row(made[0])
    if if_exists == "raise":
        return None
    return (yield from get(tenant, assistant_id))


def get(tenant: str, assistant_id: str) -> Op[AssistantRow | None]:
    """The assistant, or None."""
    found = yield ("get", {"tenant": tenant, "assistant_id": assistant_id})
    return _row(found[0]) if found else None


def list_all(tenant: str) -> Op[list[AssistantRow]]:
    """The tenant's assistants, oldest first."""
    return [_row(r) for r in (yield ("list", {"tenant": tenant}))]


def patch(tenant: str, assistant_id: str, change: AssistantChange
          ) -> Op[AssistantRow | None]:
    """Apply `change` as a new version, which becomes the assistant; None when missing."""
    key = {"tenant": tenant, "assistant_id": assistant_id}
    found = yield ("lock", key)
    if not found:
        return None
    ((top,),) = yield ("max_version", key)
    params = _params(tenant, assistant_id, patched(_row(found[0]), change), int(top) + 1,
                     now_iso())
    yield ("insert_version", params)
    return _row((yield ("update", params))[0])


def set_latest(tenant: str, assistant_id: str, version: int) -> Op[AssistantRow | None]:
    """Make `version` the assistant again; None when the assistant is missing.

    Raises:
        UnknownVersionError: it has no such version.
    """
    key = {"tenant": tenant, "assistant_id": assistant_id}
    if not (yield ("lock", key)):
        return None
    found = yield ("version", {**key, "version": version})
    if not found:
        known = yield ("version_numbers", key)
        raise UnknownVersionError(assistant_id, version, [int(v) for (v,) in known])
    chosen = _row(found[0])
    return _row((yield ("update", _params(tenant, assistant_id, chosen, version,
                                          now_iso())))[0])


def versions(tenant: str, assistant_id: str) -> Op[list[AssistantRow] | None]:
    """Every version of the assistant, newest first; None when it is missing."""
    key = {"tenant": tenant, "assistant_id": assistant_id}
    if not (yield ("get", key)):
        return None
    return [_row(r) for r in (yield ("versions", key))]


def delete(tenant: str, assistant_id: str) -> Op[bool]:
    """Delete the assistant and its versions; False when it is missing."""
    key = {"tenant": tenant, "assistant_id": assistant_id}
    gone = yield ("delete", key)
    yield ("delete_versions", key)
    return bool(gone)


def drive(op: Op[_T], execute: Callable[[str, Mapping[str, Any]], Rows]) -> _T:
    """Run `op`, executing each statement it yields with `execute(name, params)` (a
    synchronous backend's driver; an async one loops the same way with await)."""
    try:
        name, params = next(op)
        while True:
            name, params = op.send(execute(name, params))
    except StopIteration as stop:
        result: _T = stop.value
        return result
