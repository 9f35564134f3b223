"""The JSON schema of a tool's arguments as LangChain words it for the model (what LangGraph's
create_react_agent binds for a plain function): pydantic's schema of the arguments, with its
$refs written out in place and its titles left out, and each default shown."""

from __future__ import annotations

import inspect
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["arguments_schema"]

_MAX_DEPTH = 32
"""Bound on nesting while writing $refs out (a model that contains itself stops there)."""


def arguments_schema(adapter: Any, params: Mapping[str, inspect.Parameter]
                     ) -> dict[str, Any] | None:
    """The schema of `adapter` (a TypeAdapter over the parameters' TypedDict), or None when
    pydantic cannot write one (an argument of a type that has no JSON form)."""
    from pydantic.errors import PydanticInvalidForJsonSchema

    try:
        raw = adapter.json_schema()
    except PydanticInvalidForJsonSchema:
        return None
    defs = raw.pop("$defs", {})
    schema: dict[str, Any] = _untitled(_inlined(raw, defs, 0))
    properties = schema.setdefault("properties", {})
    for name, prop in properties.items():
        default = params[name].default
        if default is not inspect.Parameter.empty and _is_json(default):
            # (in pydantic's key order: sorted)
            properties[name] = dict(sorted({**prop, "default": default}.items()))
    return schema


def _inlined(node: Any, defs: Mapping[str, Any], depth: int) -> Any:
    if depth > _MAX_DEPTH:
        return {}
    if isinstance(node, list):
        return [_inlined(item, defs, depth + 1) for item in node]
    if not isinstance(node, dict):
        return node
    ref = node.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        target = defs.get(ref[len("#/$defs/"):], {})
        rest = {k: v for k, v in node.items() if k != "$ref"}
        return _inlined({**target, **rest}, defs, depth + 1)
    return {k: _inlined(v, defs, depth + 1) for k, v in node.items()}


def _untitled(node: Any, parent: str = "") -> Any:
    """`node` without "title" keys, except a property named "title" (LangChain's rule)."""
    if isinstance(node, list):
        return [_untitled(item) for item in node]
    if not isinstance(node, dict):
        return node
    return {k: _untitled(v, k) for k, v in node.items()
            if k != "title" or (parent == "properties" and isinstance(v, dict))}


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True
