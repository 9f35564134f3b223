"""DeltaChannel: a reducer key whose reducer takes a step's writes as one batch, stored as the
batches since a snapshot so that what a checkpoint costs grows with the writes, not the value.

What `checkpoint()` returns is a list, `[LOG, snapshot, batch, batch, ...]`: the value at the
last snapshot, then each update's writes since. A later checkpoint's list is the earlier one
with more batches at its end, which the savers already store as just the added items
(checkpoint/_delta.py); every `snapshot_frequency` updates (or at an Overwrite) the list
starts again from the current value. `from_checkpoint` folds the batches back in, one
reducer call per stored update, so the value read back is the one the run had. A stored
value without the LOG marker (written before this form) is taken as the value itself.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from hitlgraph.channels._overwrite import NOT_OVERWRITE, overwritten
from hitlgraph.channels._single import HeldValue
from hitlgraph.channels.base import MISSING, BaseChannel, Value
from hitlgraph.channels.binop import empty_value
from hitlgraph.errors import InvalidUpdateError

if TYPE_CHECKING:
    from typing_extensions import Self

__all__ = ["LOG", "DeltaChannel", "stored_view"]

BatchReducer = Callable[[Any, Sequence[Any]], Any]

LOG = "\x00hitlgraph.DeltaChannel.log"
"""The first item of a stored DeltaChannel (see the module docstring)."""


class DeltaChannel(HeldValue[Value]):
    """Folds each step's writes in with one call, `reducer(value, [write, ...])`, as
    LangGraph's DeltaChannel; the value starts as the type's empty value (list -> []).

    The reducer must give the same value for two batches as for their concatenation. An
    Overwrite among the writes replaces the value (one per step). As in LangGraph, it is
    stored as the writes since a snapshot of the value taken every `snapshot_frequency`
    updates (see the module docstring).

    E.g. `events: Annotated[list[str], DeltaChannel(lambda old, new: old + new)]`.
    """

    __slots__ = ("batches", "inferred", "reducer", "snapshot", "snapshot_frequency")

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
        self.snapshot: Any = MISSING
        """The value when the stored batches start: a shallow copy, so a reducer that adds to
        the value's own list or dict in place leaves it as it was."""
        self.batches: list[list[Any]] = []
        """Each update's writes since the snapshot, oldest first."""

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

    def copy(self) -> Self:
        """A channel with a shallow copy of the value (as LangGraph's: a reducer may add to
        it in place) and the same stored batches."""
        new = super().copy()
        if new.value is not MISSING:
            new.value = copy.copy(new.value)
        new.snapshot, new.batches = self.snapshot, list(self.batches)
        return new

    def from_checkpoint(self, checkpoint: Any) -> Self:
        """A channel holding what `checkpoint()` stored: its snapshot with its batches folded
        in, one reducer call each; a plain value (an older checkpoint, or a value shown by a
        snapshot) as it is; for MISSING, the type's empty value."""
        new = self._blank()
        new.key = self.key
        if checkpoint is MISSING:
            new.value, new.snapshot = empty_value(self.typ), empty_value(self.typ)
        elif _is_log(checkpoint):
            # The snapshot is kept as read; the reducer folds into a copy of it.
            new.snapshot, new.batches = checkpoint[1], [list(b) for b in checkpoint[2:]]
            new.value = copy.copy(new.snapshot)
            for batch in new.batches:
                new.value = new.reducer(new.value, batch)
        else:
            new._restart(copy.copy(checkpoint))
        return new

    def checkpoint(self) -> Any:
        """`[LOG, snapshot, *batches]`, or MISSING without a value."""
        if self.value is MISSING:
            return MISSING
        return [LOG, self.snapshot, *self.batches]

    def _restart(self, value: Any) -> None:
        """Hold `value`, and store it as the snapshot the next batches start from."""
        self.value = value
        self.snapshot = copy.copy(value)
        self.batches = []

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
            self._restart(copy.copy(value) if value is not None else empty_value(self.typ))
            return True
        if self.value is MISSING:
            self._restart(empty_value(self.typ))
        self.value = self.reducer(self.value, list(values))
        self.batches.append(list(values))
        if len(self.batches) >= self.snapshot_frequency:
            self._restart(self.value)
        return True


def _is_log(stored: Any) -> bool:
    return isinstance(stored, list) and len(stored) >= 2 and stored[0] == LOG


def stored_view(stored: Any) -> Any:
    """A stored value as a reader without the graph (so without the reducer) can show it: a
    DeltaChannel's log as `{"snapshot": ..., "updates": [batch, ...]}` (the value at its
    last snapshot and each update's writes since), anything else as it is."""
    if _is_log(stored):
        return {"snapshot": stored[1], "updates": stored[2:]}
    return stored
