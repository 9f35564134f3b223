"""Namespace rules: which namespaces are valid, and which match a listing's conditions.

The rules are LangGraph's, so a namespace accepted there is accepted here and a stored one
reads back the same: labels are non-empty strings without "." (the SQL stores join labels
with it) or NUL, and nothing is written under a first label "langgraph" (reserved there).
"""

from __future__ import annotations

from collections.abc import Iterable

from hitlgraph.store._types import (
    GetOp,
    InvalidNamespaceError,
    ListNamespacesOp,
    MatchCondition,
    Op,
    PutOp,
    SearchOp,
)

__all__ = ["check_labels", "check_writable", "check_op", "list_matching", "matches"]


def check_labels(namespace: tuple[str, ...]) -> None:
    """Raise InvalidNamespaceError for a label that is not a non-empty string free of "."
    and NUL."""
    for label in namespace:
        if not isinstance(label, str):
            raise InvalidNamespaceError(
                f"Namespace label {label!r} in {namespace} is a {type(label).__name__}; "
                "labels must be strings.")
        if not label:
            raise InvalidNamespaceError(
                f"Namespace {namespace} has an empty label; give each label some text.")
        if "." in label or "\x00" in label:
            bad = "'.'" if "." in label else "a NUL byte"
            raise InvalidNamespaceError(
                f"Namespace label '{label}' in {namespace} contains {bad}; split it into "
                "separate labels instead, e.g. ('users', 'u1').")


def check_writable(namespace: tuple[str, ...]) -> None:
    """check_labels, plus: not empty, and not under "langgraph"."""
    if not namespace:
        raise InvalidNamespaceError(
            "Namespace cannot be empty: give at least one label, e.g. ('memories',).")
    check_labels(namespace)
    if namespace[0] == "langgraph":
        raise InvalidNamespaceError(
            f"Namespace {namespace} starts with 'langgraph', which is reserved; "
            "choose another first label.")


def check_op(op: Op) -> None:
    """Check the labels an operation names (a batch() caller skips the methods' checks)."""
    if isinstance(op, PutOp) and op.value is not None:
        check_writable(op.namespace)
    elif isinstance(op, (GetOp, PutOp)):
        check_labels(op.namespace)
    elif isinstance(op, SearchOp):
        check_labels(op.namespace_prefix)
    elif isinstance(op, ListNamespacesOp):
        for condition in op.match_conditions or ():
            check_labels(tuple(label for label in condition.path if label != "*"))
    else:
        raise TypeError(f"Unknown store operation {op!r}: expected GetOp, PutOp, SearchOp "
                        "or ListNamespacesOp.")


def matches(condition: MatchCondition, namespace: tuple[str, ...]) -> bool:
    """Whether `namespace` starts ("prefix") or ends ("suffix") with the condition's path,
    "*" matching any one label."""
    path = condition.path
    if len(namespace) < len(path):
        return False
    if condition.match_type == "suffix":
        pairs = zip(reversed(namespace), reversed(path), strict=False)
    elif condition.match_type == "prefix":
        pairs = zip(namespace, path, strict=False)
    else:
        raise ValueError(f"Unknown match_type '{condition.match_type}': use 'prefix' or "
                         "'suffix'.")
    return all(want in ("*", label) for label, want in pairs)


def list_matching(namespaces: Iterable[tuple[str, ...]], op: ListNamespacesOp
                  ) -> list[tuple[str, ...]]:
    """The page `op` asks for: matching namespaces, cut to max_depth (duplicates merged),
    sorted."""
    conditions = op.match_conditions or ()
    found = {ns for ns in namespaces if all(matches(c, ns) for c in conditions)}
    if op.max_depth is not None:
        found = {ns[: op.max_depth] for ns in found}
    return sorted(found)[op.offset: op.offset + op.limit]
