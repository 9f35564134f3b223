"""Command(by=..., reason=...): keyword-only additions that LangGraph code never sees, checked
where the caller makes them."""

from __future__ import annotations

import pytest

from hitlgraph.checkpoint.serde import MsgpackSerializer
from hitlgraph.types import Command


def test_by_and_reason_default_to_none_and_leave_repr_and_equality_alone() -> None:
    assert Command(resume=1).by is None and Command(resume=1).reason is None
    assert repr(Command(resume=1)) == "Command(resume=1)"
    assert Command(resume=1) == Command(resume=1)
    assert Command(resume=1, by="alice") != Command(resume=1)


def test_by_and_reason_show_in_repr_and_survive_the_serializer() -> None:
    cmd: Command[str] = Command(resume={"ok": True}, by="alice", reason="under the limit")
    assert repr(cmd) == "Command(resume={'ok': True}, by='alice', reason='under the limit')"
    serde = MsgpackSerializer()
    assert serde.loads_typed(serde.dumps_typed(cmd)) == cmd


@pytest.mark.parametrize("field", ["by", "reason"])
def test_by_and_reason_must_be_text(field: str) -> None:
    with pytest.raises(TypeError, match=rf"Command\({field}=\.\.\.\) must be a str or None"):
        Command(resume=1, **{field: 42})  # type: ignore[arg-type]


def test_by_cannot_be_blank() -> None:
    with pytest.raises(ValueError, match="must name someone"):
        Command(resume=1, by="  ")


def test_by_is_keyword_only() -> None:
    with pytest.raises(TypeError):
        Command(None, None, 1, (), "alice")  # type: ignore[call-arg]
