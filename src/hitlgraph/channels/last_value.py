"""LastValue: a key that keeps the one value written in a step (a plain state key), and
LastValueAfterFinish, whose value shows only once the run is finishing."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels._single import HeldValue, TypedChannel
from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.errors import EmptyChannelError, InvalidUpdateError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["LastValue", "LastValueAfterFinish"]


class LastValue(HeldValue[Value]):
    """Keeps the last value written; takes at most one write per step.

    Raises InvalidUpdateError for two writes in one step: give the key a reducer instead.
    """

    __slots__ = ()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LastValue)

    __hash__ = BaseChannel.__hash__

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the step's one write. Raises InvalidUpdateError for more than one."""
        if not values:
            return False
        if len(values) != 1:
            raise InvalidUpdateError(
                f"At key '{self.key}': can receive only one value per step, got "
                f"{len(values)}. Use an Annotated key with a reducer to take several, e.g. "
                f"{self.key or 'key'}: Annotated[list, operator.add]."
            )
        self.value = values[-1]
        return True


class LastValueAfterFinish(Generic[Value], TypedChannel[Value, tuple[Value, bool]]):
    """Keeps the last value written, but reads as empty until the run is finishing (no node
    runs next); a later write hides it again, and `consume()` clears it."""

    __slots__ = ("finished", "value")

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING
        self.finished = False

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LastValueAfterFinish)

    __hash__ = BaseChannel.__hash__

    def checkpoint(self) -> Any:
        """(value, finished), or MISSING before the first write."""
        return MISSING if self.value is MISSING else (self.value, self.finished)

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding the stored (value, finished) (empty for MISSING)."""
        new = self.__class__(self.typ, self.key)
        if checkpoint is not MISSING:
            new.value, new.finished = checkpoint
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Keep the last write, hidden until the run finishes."""
        if not values:
            return False
        self.finished = False
        self.value = values[-1]
        return True

    def consume(self) -> bool:
        """Clear a value that was shown."""
        if not self.finished:
            return False
        self.finished, self.value = False, MISSING
        return True

    def finish(self) -> bool:
        """Show the value."""
        if self.finished or self.value is MISSING:
            return False
        self.finished = True
        return True

    def get(self) -> Value:
        """The value once shown. Raises EmptyChannelError before."""
        if self.value is MISSING or not self.finished:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether the value is shown."""
        return self.value is not MISSING and self.finished
