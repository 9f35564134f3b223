"""A put() and a put_writes() serialized, before any lock or connection is taken.

The encoded forms are the same for every database; a dialect lays them out as its schema's
rows (`Dialect.version_key`, `Dialect.compact`, `Dialect.metadata_json` are its say here).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

from hitlgraph import _faults
from hitlgraph.checkpoint._delta import DeltaEncoder, delta_links
from hitlgraph.checkpoint._pending import Change, change_of
from hitlgraph.checkpoint._rows import json_exact, pack_record, stored_ts, thread_ns
from hitlgraph.checkpoint._store.rules import answered
from hitlgraph.checkpoint.base import (
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    Fence,
    RunnableConfig,
    WriteMode,
    rules_of,
    write_slot,
)
from hitlgraph.checkpoint.serde import SerializerProtocol, dumps_channel

if TYPE_CHECKING:
    from hitlgraph.checkpoint._store.dialect import Dialect

__all__ = ["EncodedPut", "EncodedValue", "EncodedWrites", "Slot", "encode_put", "encode_writes"]

Typed = tuple[str, bytes]


class EncodedValue(NamedTuple):
    """One channel value of a put, as stored: in full, or as a delta of an earlier version."""

    channel: str
    version: Any
    """The version as the dialect keys it (`Dialect.version_key`)."""
    stored: Typed
    full: Typed | None = None
    """A delta's whole value: stored instead when the version it extends is gone (pruned,
    perhaps by another process)."""
    base: Any = None
    """A delta's base version, keyed like `version`."""

    def as_full(self) -> EncodedValue:
        """This value stored whole."""
        return self if self.full is None else EncodedValue(self.channel, self.version, self.full)


class EncodedPut(NamedTuple):
    """A checkpoint serialized for put()."""

    thread_id: str
    ns: str
    checkpoint_id: str
    parent: str | None
    ts: str | None
    """None when the dialect is `compact` and the id carries the time."""
    versions: ChannelVersions
    record: bytes
    metadata_type: str | None
    metadata: bytes | None
    """The serialized metadata; None (both) when compact and the JSON copy is exact."""
    metadata_json: str
    values: tuple[EncodedValue, ...]
    expected_latest: str | None
    fence: Fence | None

    @property
    def has_deltas(self) -> bool:
        return any(value.full is not None for value in self.values)


def encode_put(
    dialect: Dialect,
    serde: SerializerProtocol,
    config: RunnableConfig,
    checkpoint: Checkpoint,
    metadata: CheckpointMetadata,
    new_versions: ChannelVersions,
    deltas: DeltaEncoder | None = None,
) -> EncodedPut:
    """Serialize a put(): the checkpoint and a value for each channel in new_versions (a list
    that grew by appending is stored as its new items when `deltas` is given)."""
    thread_id, ns = thread_ns(config)
    values = checkpoint["channel_values"]
    encoded: list[EncodedValue] = []
    for chan, version in new_versions.items():
        if chan not in values:
            continue
        typed = dumps_channel(serde, chan, values[chan])
        stored = deltas.encode((thread_id, ns, chan), version, typed) if deltas else typed
        links = delta_links(stored)
        key = dialect.version_key(version)
        if links is None:
            encoded.append(EncodedValue(chan, key, stored))
        else:
            encoded.append(EncodedValue(chan, key, stored, typed, dialect.version_key(links[0])))
    exact = dialect.compact and json_exact(metadata)
    meta_type, meta_blob = (None, None) if exact else serde.dumps_typed(dict(metadata))
    parent = config["configurable"].get("checkpoint_id")
    rules = rules_of(config)
    if _faults.ARMED:
        _faults.hit("checkpoint.before_put")
    return EncodedPut(
        thread_id=thread_id, ns=ns, checkpoint_id=checkpoint["id"],
        parent=str(parent) if parent else None,
        ts=stored_ts(checkpoint) if dialect.compact else checkpoint["ts"],
        versions=checkpoint["channel_versions"], record=pack_record(checkpoint),
        metadata_type=meta_type, metadata=meta_blob,
        metadata_json=dialect.metadata_json(metadata, exact=exact),
        values=tuple(encoded),
        expected_latest=None if rules.expected_latest is None else str(rules.expected_latest),
        fence=rules.fence,
    )


class Slot(NamedTuple):
    """One write of a task: where (`idx`) and how (`mode`, see base.WriteMode) it is stored."""

    mode: WriteMode
    idx: int
    channel: str
    type: str
    blob: bytes


class EncodedWrites(NamedTuple):
    """A task's writes serialized for put_writes(), one per slot, in order."""

    thread_id: str
    ns: str
    checkpoint_id: str
    task_id: str
    task_path: str
    slots: tuple[Slot, ...]
    expected: str | None
    """When set, the writes are stored only if their checkpoint is the thread's latest."""
    fence: Fence | None
    change: Change | None = None
    """What the writes do to the index of open interrupts (None: nothing)."""


def encode_writes(
    serde: SerializerProtocol,
    config: RunnableConfig,
    writes: Sequence[tuple[str, Any]],
    task_id: str,
    task_path: str = "",
) -> EncodedWrites:
    """Serialize a task's writes, each at the index and in the mode `write_slot` gives it.

    A slot written twice in one call keeps its first position: an "insert" its first value,
    a "replace" its last; a "claim" raises CheckpointConflictError(answered=True).
    """
    thread_id, ns = thread_ns(config)
    checkpoint_id = str(config["configurable"]["checkpoint_id"])
    slots: dict[int, Slot] = {}
    for idx, (chan, value) in enumerate(writes):
        index, mode = write_slot(chan, idx, value)
        typed = dumps_channel(serde, chan, value)
        if index in slots:
            if mode == "insert":
                continue
            if mode == "claim":
                raise answered(thread_id, checkpoint_id)
        slots[index] = Slot(mode, index, chan, *typed)
    rules = rules_of(config)
    if _faults.ARMED:
        _faults.hit("checkpoint.before_writes")
    return EncodedWrites(
        thread_id=thread_id, ns=ns, checkpoint_id=checkpoint_id, task_id=task_id,
        task_path=task_path, slots=tuple(slots.values()),
        expected=None if rules.expected_latest is None else str(rules.expected_latest),
        fence=rules.fence, change=change_of(serde, writes, task_path),
    )
