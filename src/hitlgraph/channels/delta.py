"""DeltaChannel: a reducer key whose reducer takes a step's writes as one batch."""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import Any

from typing_extensions import Self

from hitlgraph.channels._overwrite import NOT_OVERWRITE, overwritten
from hitlgraph.channels._single import HeldValue
from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.channels.binop import empty_value
from hitlgraph.errors import InvalidUpdateError

__all__ = ["DeltaChannel"]

BatchReducer = Callable[[Any, Sequence[Any]], Any]


class DeltaChannel(HeldValue[Value]):
    """Folds each step's writes in with one call, `reducer(value, [write, ...])`, as
    LangGraph's DeltaChannel; the value starts as the type's empty value (list -> []).

    The reducer must give the same value for two batches as for their concatenation. An
    Overwrite among the writes replaces the value (one per step). LangGraph stores such a
    channel as the writes since a snapshot taken every `snapshot_frequency` updates;
    hitlgraph's savers store the whole value at each checkpoint, as for a reducer key, so
    `snapshot_frequency` is checked (a positive int) and changes nothing stored.

    E.g. `events: Annotated[list[str], DeltaChannel(lambda old, new: old + new)]`.
    """

    __slots__ = ("inferred", "reducer", "snapshot_frequency")

    def __init__(self, reducer: BatchReducer, typ: Any = None, *,
                 snapshot_frequency: int = 100) -> None:
        if not isinstance(snapshot_frequency, int) or snapshot_frequency <= 0:
            raise ValueError(
                f"snapshot_frequency must be a positive int, got {snapshot_frequency!r}."
            )
        super().__init__(list if typ is None else typ)
        self.reducer = reducer
        self.snapshot_frequency = snapshot_frequency
        self.inferred = typ is None  # (the annotated key's type is used: see for_type)

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, DeltaChannel) and self.reducer is other.reducer
                and self.snapshot_frequency == other.snapshot_frequency)

    __hash__ = BaseChannel.__hash__

    def for_type(self, typ: Any) -> DeltaChannel[Value]:
        """This channel for the type of the key it annotates."""
        return DeltaChannel(self.reducer, typ, snapshot_frequency=self.snapshot_frequency)

    def _blank(self) -> Self:
        new = self.__class__(self.reducer, self.typ, snapshot_frequency=self.snapshot_frequency)
        new.inferred = self.inferred
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding `checkpoint`; for MISSING, the type's empty value."""
        new = super().from_checkpoint(checkpoint)
        if checkpoint is MISSING:
            new.value = empty_value(self.typ)
        return new

    def update(self, values: Sequence[Value]) -> bool:
        """Fold the step's writes in with one reducer call (or take its Overwrite).

        Raises:
            InvalidUpdateError: for two Overwrites in one step.
        """
        if not values:
            return False
        replaced = [v for v in (overwritten(w) for w in values) if v is not NOT_OVERWRITE]
        if len(replaced) > 1:
            raise InvalidUpdateError(
                f"Key '{self.key}' got {len(replaced)} Overwrite writes in one step; it can "
                "take only one per step."
            )
        if replaced:
            value = replaced[0]
            self.value = copy.copy(value) if value is not None else empty_value(self.typ)
            return True
        base = empty_value(self.typ) if self.value is MISSING else self.value
        self.value = self.reducer(base, list(values))
        return True
