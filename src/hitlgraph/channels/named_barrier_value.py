"""NamedBarrierValue: a key that becomes available once each of a set of names was written;
NamedBarrierValueAfterFinish, only once the run is finishing as well."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels._single import TypedChannel
from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.errors import EmptyChannelError, InvalidUpdateError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["NamedBarrierValue", "NamedBarrierValueAfterFinish"]


class NamedBarrierValue(Generic[Value], TypedChannel[Value, set[Value]]):
    """Collects writes of the names in `names` (over any number of steps); reads as None once
    all were written, and raises EmptyChannelError before. `consume()` starts it over.

    Raises InvalidUpdateError for a write that is not one of `names`.
    """

    __slots__ = ("names", "seen")

    def __init__(self, typ: Any, names: set[Value]) -> None:
        super().__init__(typ)
        self.names = names
        self.seen: set[Value] = set()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedBarrierValue) and other.names == self.names

    __hash__ = BaseChannel.__hash__

    def copy(self) -> Self:
        """A barrier with a copy of the names seen."""
        new = self.__class__(self.typ, self.names)
        new.key, new.seen = self.key, set(self.seen)
        return new

    def checkpoint(self) -> set[Value]:
        """The names seen so far."""
        return self.seen

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A barrier that has seen the stored names (none for MISSING)."""
        new = self.__class__(self.typ, self.names)
        new.key = self.key
        if checkpoint is not MISSING:
            new.seen = set(checkpoint)
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Record the names written. Raises InvalidUpdateError for one not in `names`."""
        changed = False
        for value in values:
            if value not in self.names:
                raise InvalidUpdateError(
                    f"At key '{self.key}': value {value!r} is not one of the barrier's names "
                    f"{sorted(map(repr, self.names))}."
                )
            if value not in self.seen:
                self.seen = {*self.seen, value}
                changed = True
        return changed

    def get(self) -> Value:
        """None once every name was written. Raises EmptyChannelError before."""
        if self.seen != self.names:
            raise EmptyChannelError()
        return None  # type: ignore[return-value]

    def is_available(self) -> bool:
        """Whether every name was written."""
        return self.seen == self.names

    def consume(self) -> bool:
        """Start over once complete (the node waiting on the barrier ran)."""
        if self.seen == self.names:
            self.seen = set()
            return True
        return False


class NamedBarrierValueAfterFinish(NamedBarrierValue[Value]):
    """A NamedBarrierValue that is available only once, in addition, the run is finishing
    (no node runs next). It stores (names seen, finished)."""

    __slots__ = ("finished",)

    def __init__(self, typ: Any, names: set[Value]) -> None:
        super().__init__(typ, names)
        self.finished = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, NamedBarrierValueAfterFinish) and other.names == self.names

    __hash__ = BaseChannel.__hash__

    def copy(self) -> Self:
        """A barrier with a copy of the names seen."""
        new = super().copy()
        new.finished = self.finished
        return new

    def checkpoint(self) -> Any:
        """(names seen, finished)."""
        return (self.seen, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A barrier in the stored state (empty for MISSING)."""
        new = self.__class__(self.typ, self.names)
        new.key = self.key
        if checkpoint is not MISSING:
            seen, new.finished = checkpoint
            new.seen = set(seen)
        return new

    def get(self) -> Value:
        """None once every name was written and the run is finishing. Raises
        EmptyChannelError before."""
        if not self.is_available():
            raise EmptyChannelError()
        return None  # type: ignore[return-value]

    def is_available(self) -> bool:
        """Whether every name was written and the run is finishing."""
        return self.finished and self.seen == self.names

    def consume(self) -> bool:
        """Start over once available."""
        if not self.is_available():
            return False
        self.finished, self.seen = False, set()
        return True

    def finish(self) -> bool:
        """Become available, if every name was written."""
        if self.finished or self.seen != self.names:
            return False
        self.finished = True
        return True
