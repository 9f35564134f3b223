"""The engine's side of channel objects: a run's live channels, kept beside the plain dict
of readable values that nodes, streams and snapshots use.

Only keys whose annotation names a channel object (a Topic, an EphemeralValue, a user's
BaseChannel...) have a live channel; plain and reducer keys are written straight into the
values dict. After every change a live channel's readable value is copied into that dict
(or the key removed, when the channel is empty), so readers never see the difference.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hitlgraph.channels.base import MISSING, BaseChannel
from hitlgraph.channels.last_value import LastValueAfterFinish
from hitlgraph.channels.named_barrier_value import NamedBarrierValue, NamedBarrierValueAfterFinish
from hitlgraph.channels.untracked_value import UntrackedValue

__all__ = ["Channels", "Live", "open_channels", "stored_values", "view_with", "write_channels"]

Channels = dict[str, BaseChannel[Any, Any, Any]]


@dataclass(slots=True)
class Live:
    """A run's live channels, and what the engine remembers about them between steps."""

    chans: Channels
    emptied: dict[str, Any] = field(default_factory=dict)
    """Keys the last step left empty, with the value each had: they get a new version and no
    stored value."""
    unshown: dict[str, Any] = field(default_factory=dict)
    """Keys emptied by steps that showed no "values" chunk, with their values then: as in
    LangGraph, invoke() returns the state as the last "values" chunk showed it."""
    untracked: frozenset[str] = frozenset()
    """The UntrackedValue keys: their writes are never saved."""
    unsaved: set[str] = field(default_factory=set)
    """Keys emptied since the state was last saved, by steps or by a Command's update applied
    before a step: the next checkpoint gives each a new version with no stored value (kept
    apart from `emptied`, which the next step's writes replace)."""

    def __post_init__(self) -> None:
        self.untracked = frozenset(k for k, c in self.chans.items()
                                   if isinstance(c, UntrackedValue))

    def copy(self) -> Live:
        """Copies of the channels (for a scratch state that takes writes)."""
        return Live({k: c.copy() for k, c in self.chans.items()})

    def step(self, values: dict[str, Any], grouped: Mapping[str, Sequence[tuple[Any, str]]],
             *, new_step: bool, last_step: bool) -> list[str]:
        """Give the channels a step's writes (`grouped`: each key's (value, writer) pairs);
        return the keys updated (see write_channels), remembering those emptied."""
        written = {k: [v for v, _ in grouped[k]] for k in self.chans if k in grouped}
        before = {k: values[k] for k in self.chans if k in values}
        updated, emptied = write_channels(self.chans, values, written, new_step=new_step,
                                          last_step=last_step)
        self.emptied = {k: before[k] for k in emptied if k in before}
        self.unsaved.update(emptied)
        self.unsaved.difference_update(updated)
        return updated

    def take_unsaved(self) -> list[str]:
        """The keys emptied since the last save (see `unsaved`), forgotten once taken."""
        taken, self.unsaved = sorted(self.unsaved), set()
        return taken

    def settle(self, values: dict[str, Any]) -> None:
        """Tell every channel with a value of one more step without writes, as LangGraph's
        get_state does after applying the writes of a step's finished tasks (it loses track
        of the keys just written, so an EphemeralValue or a Topic they wrote shows empty)."""
        for key, chan in self.chans.items():
            if chan.is_available() and chan.update(()):
                _read_into(values, key, chan)

    def shown(self, showed: bool) -> None:
        """Note whether the step showed a "values" chunk (see `unshown`)."""
        self.unshown = {} if showed else {**self.emptied, **self.unshown}


def open_channels(protos: Iterable[tuple[str, BaseChannel[Any, Any, Any]]],
                  stored: Mapping[str, Any] | None, values: dict[str, Any]) -> Channels:
    """A run's channels for `protos`, restored from a checkpoint's `stored` values (None: a
    thread without one); their readable values go into `values`."""
    chans: Channels = {}
    for key, proto in protos:
        chan = proto.from_checkpoint(MISSING if stored is None else stored.get(key, MISSING))
        chans[key] = chan
        _read_into(values, key, chan)
    return chans


def _read_into(values: dict[str, Any], key: str, chan: BaseChannel[Any, Any, Any]) -> None:
    if chan.is_available():
        values[key] = chan.get()
    else:
        values.pop(key, None)


def stored_values(chans: Channels, values: dict[str, Any]) -> dict[str, Any]:
    """`values` as a checkpoint stores them: each channel's `checkpoint()` instead of its
    readable value, and no entry for a channel with nothing to store (UntrackedValue)."""
    out = dict(values)
    for key, chan in chans.items():
        kept = chan.checkpoint()
        if kept is MISSING:
            out.pop(key, None)
        else:
            out[key] = kept
    return out


def write_channels(chans: Channels, values: dict[str, Any], writes: Mapping[str, Sequence[Any]],
                   *, new_step: bool, last_step: bool) -> tuple[list[str], list[str]]:
    """Give the channels a step's writes, as LangGraph's step does: the written channels
    take theirs; after a step that ran tasks (`new_step`), every other channel with a value
    is told of the step with no writes (an EphemeralValue clears); and when no node runs next
    (`last_step`), every channel is told the run is finishing.

    Returns the keys that changed and have a value (the step's updated keys), and those that
    changed to empty (their version moves on, but nothing is stored for them).
    """
    updated: list[str] = []
    emptied: list[str] = []

    def changed(key: str, chan: BaseChannel[Any, Any, Any]) -> None:
        _read_into(values, key, chan)
        if key in updated or key in emptied:
            return
        (updated if chan.is_available() else emptied).append(key)

    for key, items in writes.items():
        chan = chans[key]
        if chan.update(items):
            changed(key, chan)
    if new_step:
        for key, chan in chans.items():
            if key not in updated and chan.is_available() and chan.update(()):
                changed(key, chan)
        if last_step:
            for key, chan in chans.items():
                if chan.finish():
                    changed(key, chan)
    return updated, emptied


def _revive(proto: BaseChannel[Any, Any, Any], values: Mapping[str, Any], key: str
            ) -> BaseChannel[Any, Any, Any]:
    """A channel holding what `values` shows for `key` (our own channels whose readable value
    is not what they store are rebuilt from what they show)."""
    if isinstance(proto, UntrackedValue):
        chan = proto.copy()
        chan.value = values.get(key, MISSING)
        return chan
    if key not in values:
        return proto.from_checkpoint(MISSING)
    shown = values[key]
    if isinstance(proto, NamedBarrierValueAfterFinish):
        return proto.from_checkpoint((set(proto.names), True))
    if isinstance(proto, NamedBarrierValue):
        return proto.from_checkpoint(set(proto.names))
    if isinstance(proto, LastValueAfterFinish):
        return proto.from_checkpoint((shown, True))
    return proto.from_checkpoint(shown)


def view_with(protos: Iterable[tuple[str, BaseChannel[Any, Any, Any]]], view: dict[str, Any],
              writes: Mapping[str, Sequence[Any]]) -> None:
    """Apply one task's writes to the channel keys of `view` (a copy of the state's values),
    as the step would: what that task's conditional edges see."""
    for key, proto in protos:
        chan = _revive(proto, view, key)
        items = writes.get(key)
        if items:
            if chan.update(items):
                _read_into(view, key, chan)
        elif chan.is_available() and chan.update(()):
            _read_into(view, key, chan)
