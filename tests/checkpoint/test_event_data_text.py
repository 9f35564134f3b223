"""The review outbox's event data are assembled from JSON pieces (no encoder per event): the
text is what encoding the documented objects gives, byte for byte, so outbox rows written
before and after read the same."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest

from hitlgraph._policy import ReviewPolicy
from hitlgraph.checkpoint._decisions import NewDecision
from hitlgraph.checkpoint._events import VALUE_MAX, created_data, decided_events


def _text(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@pytest.mark.parametrize("value", ["q", None, 3, 2.5, {"a": [1, "é", None]}, ["\u2028", '"\\']])
@pytest.mark.parametrize("node", ["ask", None, "nœud"])
def test_created_data_is_the_json_of_its_object(node: str | None, value: Any) -> None:
    assert created_data(node, value, None) == _text({"node": node, "policy": None,
                                                     "value": value})


def test_created_data_of_a_long_value_and_a_policy() -> None:
    policy = ReviewPolicy(expires_in=5, assignee="bob", approvals=2, approvers=("a", "b"),
                          rejection={"ok": False})
    text = _text("x" * (VALUE_MAX + 10))  # type: ignore[arg-type]
    assert created_data("ask", "x" * (VALUE_MAX + 10), policy) == _text({
        "node": "ask", "policy": json.loads(_text(dataclasses.asdict(policy))),
        "value_summary": text[:VALUE_MAX]})


@pytest.mark.parametrize("by", [None, "alice", "policy", 5])
@pytest.mark.parametrize("reason", [None, "expired: late", 'é"'])
def test_decided_event_data_is_the_json_of_its_object(by: Any, reason: str | None) -> None:
    row = NewDecision("t", "", "i", "ask", "1", by, reason, "2026-12-07", "answered")
    (event,) = decided_events([(7, row)], {"i": "g"})
    assert event.data == _text({"outcome": "answered", "by": by, "reason": reason,
                                "node": "ask", "decision_seq": 7})
    expired = by == "policy" and (reason or "").startswith("expired")
    assert event.kind == ("interrupt.expired" if expired else "interrupt.decided")
