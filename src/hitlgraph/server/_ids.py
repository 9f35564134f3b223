"""Ids as LangGraph's server takes them: UUIDs, in any form uuid.UUID() reads."""

from __future__ import annotations

import uuid

__all__ = ["canonical_uuid", "not_a_uuid"]


def canonical_uuid(value: str) -> str | None:
    """`value` as a UUID in its usual form (lower case, with hyphens), or None when it is not
    one: LangGraph's server takes assistant ids in any form uuid.UUID() reads."""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        return None


def not_a_uuid(value: str, what: str) -> str | None:
    """The refusal of an id that must be a UUID (LangGraph's wording), or None when it is one."""
    if canonical_uuid(value) is not None:
        return None
    return f"Invalid {what} ID: must be a UUID (got {value!r})."
