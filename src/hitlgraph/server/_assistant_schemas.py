"""Request bodies of the assistants routes, as LangGraph's server takes them. As in
`schemas.py`, unknown fields are refused (422, naming the field); so are a few mistakes
LangGraph's server lets pass silently (each says so where it is checked)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from hitlgraph.server._ids import canonical_uuid
from hitlgraph.server._paging import MAX_OFFSET

__all__ = [
    "ASSISTANT_FIELDS",
    "AssistantConfig",
    "AssistantCount",
    "AssistantCreate",
    "AssistantLatest",
    "AssistantPatch",
    "AssistantVersions",
]

ASSISTANT_FIELDS = ("assistant_id", "graph_id", "name", "description", "config", "context",
                    "created_at", "updated_at", "metadata", "version")
"""What an assistant answer holds: the names POST /assistants/search's `select` takes."""

RESERVED_METADATA = ("thread_id", "assistant_id", "run_id", "cron_id",
                     "counters_since_delta_snapshot")
"""Metadata keys LangGraph's server sets itself on runs (its assistants' metadata is copied
into their runs'): it drops them from an assistant's metadata silently; we refuse them."""


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class AssistantConfig(_Body):
    """An assistant's config: the keys of LangGraph's RunnableConfig a server can store. A
    key outside them would reach no graph, so it is refused (LangGraph's server keeps it)."""

    tags: list[str] = Field(default_factory=list)
    metadata: dict[str, Any] = Field(default_factory=dict)
    run_name: str = ""
    max_concurrency: int = Field(default=0, ge=1)
    recursion_limit: int = Field(default=0, ge=1)
    configurable: dict[str, Any] = Field(default_factory=dict)

    def value(self) -> dict[str, Any]:
        """The keys the client sent, as a config dict."""
        return self.model_dump(mode="json", exclude_unset=True)


def _metadata_without_reserved(value: dict[str, Any] | None) -> dict[str, Any] | None:
    reserved = [key for key in RESERVED_METADATA if key in (value or {})]
    if reserved:
        names = ", ".join(f"'{k}'" for k in reserved)
        raise ValueError(f"metadata keys {names} are set by the server on this assistant's "
                         "runs and cannot be an assistant's own: use other names.")
    return value


class AssistantCreate(_Body):
    """POST /assistants."""

    graph_id: str
    assistant_id: str | None = None
    config: AssistantConfig = Field(default_factory=AssistantConfig)
    context: dict[str, Any] = Field(default_factory=dict)
    metadata: dict[str, Any] = Field(default_factory=dict)
    if_exists: Literal["raise", "do_nothing"] = "raise"
    name: str = ""
    """Empty: "Untitled", as on LangGraph's server."""
    description: str | None = None

    @field_validator("assistant_id")
    @classmethod
    def _uuid(cls, value: str | None) -> str | None:
        if value is None:
            return None
        found = canonical_uuid(value)
        if found is None:
            raise ValueError(f"an assistant id must be a UUID (got {value!r}); leave it out "
                             "to get a new one.")
        return found

    _metadata = field_validator("metadata")(_metadata_without_reserved)


class AssistantPatch(_Body):
    """PATCH /assistants/{assistant_id}: each field left out keeps the current value. A new
    config replaces the old one whole; metadata is merged into the old."""

    graph_id: str | None = None
    config: AssistantConfig | None = None
    context: dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    name: str | None = None
    description: str | None = None

    _metadata = field_validator("metadata")(_metadata_without_reserved)

    @model_validator(mode="after")
    def _no_nulls(self) -> AssistantPatch:
        nulls = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if nulls:
            names = ", ".join(f"'{f}'" for f in nulls)
            raise ValueError(f"{names} cannot be null: leave a field out to keep the "
                             "assistant's current value.")
        return self


class AssistantCount(_Body):
    """POST /assistants/count."""

    metadata: dict[str, Any] | None = None
    graph_id: str | None = None
    name: str | None = None


class AssistantVersions(_Body):
    """POST /assistants/{assistant_id}/versions."""

    metadata: dict[str, Any] = Field(default_factory=dict)
    limit: int = Field(default=10, ge=1, le=1000)
    offset: int = Field(default=0, ge=0, le=MAX_OFFSET)


class AssistantLatest(_Body):
    """POST /assistants/{assistant_id}/latest. `version` is required: LangGraph's server
    answers a body without it 404, "Version None not found"."""

    version: int
