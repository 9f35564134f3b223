"""What a response_schema asks for, field by field, in words a reviewer reads: the command
line shows these lines before it asks for a typed answer (the inbox builds its form from the
same JSON Schema in the browser)."""

from __future__ import annotations

from typing import Any, NamedTuple

__all__ = ["SchemaField", "schema_fields"]

_MAX_DEPTH = 4
"""Nested objects deeper than this are described as one field ("object")."""


class SchemaField(NamedTuple):
    """One field an answer has (or may have). (A NamedTuple, not a frozen dataclass: a fifth
    of the cost at import, which the command line's first prompt pays.)"""

    path: str
    """Where it is in the answer, dotted ("address.city"); "" for an answer that is not an
    object."""
    kind: str
    """Its type in words: "string", "integer", "one of 'a', 'b'", "list of string", ..."""
    required: bool
    """Whether the answer must have it."""
    default: Any = None
    """Its default, when the schema gives one (see `has_default`)."""
    has_default: bool = False
    description: str | None = None
    """The schema's description of it (not its title: pydantic's titles only repeat the
    name)."""


def _resolve(schema: Any, root: dict[str, Any]) -> dict[str, Any]:
    """`schema` with a local $ref ("#/$defs/Name", as pydantic writes nested models) followed,
    and a lone allOf/anyOf-with-null unwrapped; {} when it cannot be followed."""
    for _ in range(8):  # a chain of refs, bounded
        if not isinstance(schema, dict):
            return {}
        ref = schema.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/"):
            target: Any = root
            for part in ref[2:].split("/"):
                target = target.get(part) if isinstance(target, dict) else None
            found = target if isinstance(target, dict) else {}
            schema = {**found, **{k: v for k, v in schema.items() if k != "$ref"}}
            continue
        listed: Any = schema.get("anyOf") or schema.get("allOf") or []
        options = [s for s in listed if isinstance(s, dict) and s.get("type") != "null"]
        if len(options) == 1 and "type" not in schema:
            schema = {**{k: v for k, v in schema.items() if k not in ("anyOf", "allOf")},
                      **options[0]}
            continue
        return schema
    return {}


def _kind(schema: dict[str, Any], root: dict[str, Any]) -> str:
    if "enum" in schema:
        return "one of " + ", ".join(repr(v) for v in schema["enum"])
    if "const" in schema:
        return f"exactly {schema['const']!r}"
    kind = schema.get("type")
    if kind == "array":
        items = _resolve(schema.get("items", {}), root)
        return f"list of {_kind(items, root)}" if items else "list"
    if isinstance(kind, list):
        return " or ".join(str(k) for k in kind)
    if isinstance(kind, str):
        return kind
    if "anyOf" in schema or "oneOf" in schema:
        return " or ".join(_kind(_resolve(s, root), root)
                           for s in schema.get("anyOf", schema.get("oneOf", ())))
    return "any JSON value"


def schema_fields(schema: dict[str, Any]) -> list[SchemaField]:
    """The fields an answer to `schema` has, nested objects flattened to dotted paths (to a
    bounded depth); one field with path "" when the answer is not an object."""
    top = _resolve(schema, schema)
    if top.get("type") != "object" or not isinstance(top.get("properties"), dict):
        return [SchemaField(path="", kind=_kind(top, schema), required=True,
                            description=top.get("description"))]
    return _object_fields(top, schema, "", True, 0)


def _object_fields(node: dict[str, Any], root: dict[str, Any], prefix: str, required: bool,
                   depth: int) -> list[SchemaField]:
    out: list[SchemaField] = []
    needed = set(node.get("required", ()))
    for name, raw in node["properties"].items():
        sub = _resolve(raw, root)
        path = f"{prefix}{name}"
        must = required and name in needed
        if (sub.get("type") == "object" and isinstance(sub.get("properties"), dict)
                and depth < _MAX_DEPTH):
            out += _object_fields(sub, root, f"{path}.", must, depth + 1)
            continue
        out.append(SchemaField(path=path, kind=_kind(sub, root), required=must,
                               default=sub.get("default"), has_default="default" in sub,
                               description=sub.get("description")))
    return out
