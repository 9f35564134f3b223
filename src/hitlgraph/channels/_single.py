"""What the built-in channels share: reads and writes of the type they were given
(`TypedChannel`), and, for those holding one plain value, its storage, reads and copy rules
(`HeldValue`, and `SingleValue` with a guard against several writes in a step)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Generic

from hitlgraph.channels.base import MISSING, BaseChannel, Checkpoint, Value
from hitlgraph.errors import EmptyChannelError, InvalidUpdateError

if TYPE_CHECKING:
    from typing_extensions import Self


class TypedChannel(Generic[Value, Checkpoint], BaseChannel[Value, Value, Checkpoint]):
    """A channel whose value and writes are of the type it was given."""

    __slots__ = ()

    @property
    def ValueType(self) -> Any:
        """The type given to the channel."""
        return self.typ

    @property
    def UpdateType(self) -> Any:
        """The type given to the channel."""
        return self.typ


class HeldValue(Generic[Value], TypedChannel[Value, Value]):
    """A channel holding one value or none (MISSING), stored as it is."""

    __slots__ = ("value",)

    def __init__(self, typ: Any, key: str = "") -> None:
        super().__init__(typ, key)
        self.value: Any = MISSING

    def _blank(self) -> Self:
        """A new channel with this one's settings and its initial value."""
        return self.__class__(self.typ)

    def copy(self) -> Self:
        """A channel with the same value."""
        new = self._blank()
        new.key, new.value = self.key, self.value
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding `checkpoint` (its initial value for MISSING)."""
        new = self._blank()
        new.key = self.key
        if checkpoint is not MISSING:
            new.value = checkpoint
        return new

    def get(self) -> Value:
        """The value. Raises EmptyChannelError when there is none."""
        if self.value is MISSING:
            raise EmptyChannelError()
        return self.value  # type: ignore[no-any-return]

    def is_available(self) -> bool:
        """Whether there is a value."""
        return self.value is not MISSING

    def checkpoint(self) -> Any:
        """The value, or MISSING."""
        return self.value


class SingleValue(HeldValue[Value]):
    """A channel holding one value or none, made again from (typ, guard)."""

    __slots__ = ("guard",)

    def __init__(self, typ: Any, guard: bool = True) -> None:
        super().__init__(typ)
        self.guard = guard

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and other.guard == self.guard

    __hash__ = BaseChannel.__hash__

    def _blank(self) -> Self:
        return self.__class__(self.typ, self.guard)

    def _take(self, values: Sequence[Value], clear: bool) -> bool:
        """A step's writes: keep the last (after the guard); with none, empty the channel
        when `clear` (else keep its value). Whether the value changed."""
        if not values:
            if not clear or self.value is MISSING:
                return False
            self.value = MISSING
            return True
        self._check_guard(len(values))
        self.value = values[-1]
        return True

    def _check_guard(self, count: int) -> None:
        if count > 1 and self.guard:
            name = type(self).__name__
            raise InvalidUpdateError(
                f"At key '{self.key}': {name}(guard=True) can receive only one value per "
                f"step, got {count}. Use {name}(..., guard=False) to keep any one of them."
            )
