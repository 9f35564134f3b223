"""Each channel class on its own: what update() keeps, what get() and checkpoint() give,
what a round trip through from_checkpoint() restores, and which writes it refuses."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

import pytest

from hitlgraph.channels import (
    AnyValue,
    BaseChannel,
    BinaryOperatorAggregate,
    EphemeralValue,
    LastValue,
    LastValueAfterFinish,
    NamedBarrierValue,
    NamedBarrierValueAfterFinish,
    Topic,
    UntrackedValue,
)
from hitlgraph.channels.base import MISSING
from hitlgraph.errors import EmptyChannelError, InvalidUpdateError


def _restored(chan: BaseChannel[Any, Any, Any]) -> BaseChannel[Any, Any, Any]:
    return chan.from_checkpoint(chan.checkpoint())


def test_last_value_keeps_one_write_and_refuses_two() -> None:
    chan = LastValue(int, "n")
    with pytest.raises(EmptyChannelError):
        chan.get()
    assert chan.checkpoint() is MISSING and not chan.is_available()
    assert chan.update([3]) and chan.get() == 3
    assert not chan.update([]) and chan.get() == 3
    with pytest.raises(InvalidUpdateError, match="'n'"):
        chan.update([1, 2])
    assert _restored(chan).get() == 3


def test_binary_operator_aggregate_folds_from_the_types_empty_value() -> None:
    chan = BinaryOperatorAggregate(list[int], operator.add)
    assert chan.get() == []
    chan.update([[1], [2, 3]])
    assert chan.get() == [1, 2, 3] and _restored(chan).get() == [1, 2, 3]
    assert BinaryOperatorAggregate(int, operator.add).get() == 0


def test_binary_operator_aggregate_without_an_empty_value_starts_from_the_first_write() -> None:
    class NoEmpty:
        def __init__(self, n: int) -> None:
            self.n = n

    chan = BinaryOperatorAggregate(NoEmpty, lambda a, b: NoEmpty(a.n + b.n))
    assert not chan.is_available()
    chan.update([NoEmpty(1), NoEmpty(2)])
    assert chan.get().n == 3


def test_topic_starts_each_step_empty_unless_it_accumulates() -> None:
    per_step = Topic(str)
    per_step.update(["a", ["b", "c"]])
    assert per_step.get() == ["a", "b", "c"]
    assert per_step.update([]) and not per_step.is_available()
    kept = Topic(str, accumulate=True)
    kept.update(["a"])
    assert not kept.update([])
    kept.update([["b"]])
    assert kept.get() == ["a", "b"] and _restored(kept).get() == ["a", "b"]


def test_topic_get_returns_a_copy_and_update_never_changes_a_stored_list() -> None:
    chan = Topic(int, accumulate=True)
    chan.update([1])
    stored = chan.checkpoint()
    chan.get().append(99)
    chan.update([2])
    assert stored == [1] and chan.get() == [1, 2]


@pytest.mark.parametrize("cls", [EphemeralValue, UntrackedValue])
def test_guarded_channels_refuse_two_writes_unless_unguarded(cls: Any) -> None:
    chan = cls(int)
    chan.key = "k"
    with pytest.raises(InvalidUpdateError, match=rf"'k'.*{cls.__name__}"):
        chan.update([1, 2])
    loose = cls(int, guard=False)
    loose.update([1, 2])
    assert loose.get() == 2


def test_ephemeral_value_clears_after_a_step_without_a_write() -> None:
    chan = EphemeralValue(str)
    chan.update(["hi"])
    assert chan.get() == "hi" and _restored(chan).get() == "hi"
    assert chan.update([]) and not chan.is_available()
    assert not chan.update([])


def test_untracked_value_is_never_checkpointed() -> None:
    chan = UntrackedValue(str)
    chan.update(["secret"])
    assert chan.get() == "secret"
    assert chan.checkpoint() is MISSING
    assert not chan.from_checkpoint("stored").is_available()
    assert chan.copy().get() == "secret"


def test_any_value_takes_many_writes_and_clears_without_one() -> None:
    chan = AnyValue(int, "k")
    chan.update([1, 1])
    assert chan.get() == 1 and chan.key == "k"
    assert chan.update([]) and not chan.is_available()


def test_named_barrier_value_is_available_once_every_name_was_written() -> None:
    chan = NamedBarrierValue(str, {"a", "b"})
    chan.key = "join"
    assert chan.update(["a"]) and not chan.is_available()
    assert not chan.update(["a"])
    assert _restored(chan).checkpoint() == {"a"}
    chan.update(["b"])
    assert chan.get() is None
    assert chan.consume() and not chan.is_available()
    with pytest.raises(InvalidUpdateError, match=r"'join'.*'c'"):
        chan.update(["c"])


class Counter(BaseChannel[int, int, int]):
    """A user's channel: counts the writes it was given."""

    def __init__(self, typ: Any = int) -> None:
        super().__init__(typ)
        self.count = 0

    @property
    def ValueType(self) -> Any:
        return int

    @property
    def UpdateType(self) -> Any:
        return int

    def from_checkpoint(self, checkpoint: Any) -> Counter:
        new = Counter()
        new.key = self.key
        new.count = 0 if checkpoint is MISSING else checkpoint
        return new

    def get(self) -> int:
        return self.count

    def update(self, values: Sequence[int]) -> bool:
        self.count += len(values)
        return bool(values)


def test_a_subclass_gets_copy_and_checkpoint_from_the_base_class() -> None:
    chan = Counter()
    chan.update([5, 6])
    assert chan.checkpoint() == 2 and chan.copy().get() == 2 and chan.is_available()
    assert not chan.consume() and not chan.finish()


def test_channels_compare_as_langgraph_does() -> None:
    assert Topic(int) == Topic(str) and Topic(int) != Topic(int, accumulate=True)
    assert EphemeralValue(int) != EphemeralValue(int, guard=False)
    assert BinaryOperatorAggregate(int, operator.add) != BinaryOperatorAggregate(int, max)
    assert LastValue(int) == LastValue(str)


def test_last_value_after_finish_shows_its_value_once_the_run_finishes() -> None:
    chan = LastValueAfterFinish(str, "late")
    chan.update(["v"])
    assert not chan.is_available() and chan.checkpoint() == ("v", False)
    assert chan.finish() and chan.get() == "v" and not chan.finish()
    assert _restored(chan).get() == "v"
    chan.update(["w"])
    assert not chan.is_available()
    chan.finish()
    assert chan.consume() and chan.checkpoint() is MISSING


def test_named_barrier_value_after_finish_waits_for_the_names_and_the_finish() -> None:
    chan = NamedBarrierValueAfterFinish(str, {"a", "b"})
    chan.update(["a"])
    assert not chan.finish()
    chan.update(["b"])
    assert not chan.is_available() and chan.finish() and chan.get() is None
    assert _restored(chan).checkpoint() == ({"a", "b"}, True)
    assert chan.copy().is_available()
    assert chan.consume() and chan.checkpoint() == (set(), False)
