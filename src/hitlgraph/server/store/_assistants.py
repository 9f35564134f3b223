"""Assistants as the server stores them: the records and LangGraph's rules for them (the
operations that store them are in `_assistant_ops.py`).

Rules, as on LangGraph's server:

- An assistant's `context` and `config["configurable"]` are kept equal: whichever of the two
  a create or an update gives is copied into the other (`synced`).
- A create, and every update, adds a version; an update's version is the highest so far plus
  one. Updating merges metadata and keeps what the update leaves out (`patched`); a new
  `config` replaces the old one whole.
- Setting the latest version copies that version back into the assistant.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = [
    "AssistantChange",
    "AssistantFields",
    "AssistantRow",
    "ConfigAndContextError",
    "UnknownVersionError",
    "check_config_and_context",
    "for_run",
    "patched",
    "synced",
]


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
