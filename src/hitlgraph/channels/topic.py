"""Topic: a key that collects every value written to it, per step or for the whole run."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.errors import EmptyChannelError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["Topic"]


def _flatten(values: Sequence[Any]) -> Iterator[Any]:
    """A write of a list publishes each of its items."""
    for value in values:
        if isinstance(value, list):
            yield from value
        else:
            yield value


class Topic(Generic[Value], BaseChannel[Sequence[Value], Any, list[Value]]):
    """A list of the values written: those of the last step that wrote any (the default), or
    of every step with `accumulate=True`. Any number of writes per step; a list write adds
    its items. Reads give a copy; an empty topic reads as unset.

    Args:
        typ: the type of one value.
        accumulate: keep values across steps instead of starting each step empty.
    """

    __slots__ = ("accumulate", "values")

    def __init__(self, typ: Any, accumulate: bool = False) -> None:
        super().__init__(typ)
        self.accumulate = accumulate
        self.values: list[Value] = []

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Topic) and other.accumulate == self.accumulate

    __hash__ = BaseChannel.__hash__

    @property
    def ValueType(self) -> Any:
        """A sequence of the type given."""
        return Sequence[self.typ]  # type: ignore[name-defined]

    @property
    def UpdateType(self) -> Any:
        """The type given, or a list of it."""
        return self.typ | list[self.typ]  # type: ignore[name-defined]

    def copy(self) -> Self:
        """A topic with a copy of the values."""
        new = self.__class__(self.typ, self.accumulate)
        new.key, new.values = self.key, self.values.copy()
        return new

    def checkpoint(self) -> list[Value]:
        """The values, as a list (an accumulating topic only grows, so savers store each
        step's new items rather than the whole list again)."""
        return self.values

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A topic holding the stored list (empty for MISSING)."""
        new = self.__class__(self.typ, self.accumulate)
        new.key = self.key
        if checkpoint is not MISSING:
            # older LangGraph versions stored (seen, values); a copy: update() extends it
            stored = checkpoint[1] if isinstance(checkpoint, tuple) else checkpoint
            new.values = list(stored)
        return new

    def update(self, values: Sequence[Any]) -> bool:
        """Add the step's writes (after dropping the last step's, unless accumulating)."""
        changed = False
        if not self.accumulate:
            changed = bool(self.values)
            self.values = []
        added = list(_flatten(values))
        if added:
            # a new list rather than extend(): a stored checkpoint may share the old one
            self.values = [*self.values, *added]
            changed = True
        return changed

    def get(self) -> Sequence[Value]:
        """A copy of the values. Raises EmptyChannelError when there are none."""
        if not self.values:
            raise EmptyChannelError()
        return list(self.values)

    def is_available(self) -> bool:
        """Whether there are values."""
        return bool(self.values)
