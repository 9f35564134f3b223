"""InMemorySaver: checkpoints in this process's memory, for tests and short-lived programs.

Values are stored serialized, per channel and version, so a checkpoint costs only what changed
in its step, and later mutation of a value in the caller cannot change history.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator, Sequence
from typing import Any

from hitlgraph.checkpoint._delta import DeltaEncoder, delta_links, resolve
from hitlgraph.checkpoint.base import (
    EXPECTED_LATEST,
    WRITES_IDX,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    PendingWrite,
    RunnableConfig,
    write_slot,
)
from hitlgraph.checkpoint.serde import SerializerProtocol, dumps_channel
from hitlgraph.errors import CheckpointConflictError

__all__ = ["WRITES_IDX", "InMemorySaver", "MemorySaver"]

_Typed = tuple[str, bytes]
_Record = tuple[str, ChannelVersions, list[str], "list[str] | None", _Typed, "str | None",
                list[str]]
"""ts, channel_versions, triggers, updated_channels, serialized metadata, parent id, writers."""


class _ChannelBlobs:
    """The stored versions of one channel of one thread, as resolve() reads them."""

    def __init__(self, blobs: dict[tuple[str, str, str, Any], _Typed], thread_id: str, ns: str,
                 chan: str) -> None:
        self.blobs, self.prefix = blobs, (thread_id, ns, chan)

    def __call__(self, version: Any) -> _Typed:
        thread_id, ns, chan = self.prefix
        return self.blobs[(thread_id, ns, chan, version)]


def _thread_ns(config: RunnableConfig) -> tuple[str, str]:
    conf = config.get("configurable", {})
    return str(conf["thread_id"]), conf.get("checkpoint_ns", "")


def _config(thread_id: str, ns: str, checkpoint_id: str) -> RunnableConfig:
    return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                             "checkpoint_id": checkpoint_id}}


class InMemorySaver(BaseCheckpointSaver):
    """A checkpoint saver that keeps everything in a dict; safe for several threads.

    Example:
        >>> from hitlgraph.checkpoint.memory import InMemorySaver
        >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP
    """

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.RLock()
        # thread -> ns -> checkpoint id -> record, in insertion (time) order
        self.storage: dict[str, dict[str, dict[str, _Record]]] = defaultdict(dict)
        self.blobs: dict[tuple[str, str, str, Any], _Typed] = {}
        self.writes: dict[tuple[str, str, str], dict[tuple[str, int], tuple[str, str, _Typed, str]]]
        self.writes = defaultdict(dict)
        self._latest: dict[tuple[str, str], str] = {}
        self._deltas = DeltaEncoder()

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    # -- reading -------------------------------------------------------------------------------

    def _tuple(self, thread_id: str, ns: str, checkpoint_id: str, record: _Record
               ) -> CheckpointTuple:
        ts, versions, triggers, updated, meta, parent, writers = record
        loads = self.serde.loads_typed
        blobs = self.blobs
        values = {}
        for chan, version in versions.items():
            stored = blobs.get((thread_id, ns, chan, version))
            if stored is not None:
                if stored[0] != "msgpack":
                    stored = resolve(stored, _ChannelBlobs(blobs, thread_id, ns, chan))
                values[chan] = loads(stored)
        checkpoint = Checkpoint(
            v=1, id=checkpoint_id, ts=ts, channel_values=values,
            channel_versions=dict(versions), triggers=list(triggers),
            updated_channels=list(updated) if updated is not None else None,
            writers=list(writers),
        )
        writes = self.writes.get((thread_id, ns, checkpoint_id), {})
        pending: list[PendingWrite] = [
            (task, chan, loads(value)) for task, chan, value, _path in writes.values()
        ]
        return CheckpointTuple(
            config=_config(thread_id, ns, checkpoint_id),
            checkpoint=checkpoint,
            metadata=loads(meta),
            parent_config=_config(thread_id, ns, parent) if parent else None,
            pending_writes=pending,
        )

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        thread_id, ns = _thread_ns(config)
        checkpoint_id = config["configurable"].get("checkpoint_id")
        with self._lock:
            chain = self.storage.get(thread_id, {}).get(ns)
            if not chain:
                return None
            if checkpoint_id is None:
                checkpoint_id = self._latest.get((thread_id, ns))
                if checkpoint_id is None:
                    return None
            record = chain.get(checkpoint_id)
            if record is None:
                return None
            return self._tuple(thread_id, ns, checkpoint_id, record)

    def list(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> Iterator[CheckpointTuple]:
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        if limit is not None and limit <= 0:
            return iter(())
        with self._lock:
            if config is None:
                threads = list(self.storage)
                only_ns: str | None = None
                only_id = None
            else:
                conf = config["configurable"]
                threads = [str(conf["thread_id"])] if "thread_id" in conf else list(self.storage)
                only_ns = conf.get("checkpoint_ns")
                only_id = conf.get("checkpoint_id")
            found: list[CheckpointTuple] = []
            for thread_id in threads:
                for ns, chain in self.storage.get(thread_id, {}).items():
                    if only_ns is not None and ns != only_ns:
                        continue
                    for checkpoint_id in sorted(chain, reverse=True):
                        if only_id is not None and checkpoint_id != only_id:
                            continue
                        if before_id is not None and checkpoint_id >= before_id:
                            continue
                        record = chain[checkpoint_id]
                        if filter:
                            meta = self.serde.loads_typed(record[4])
                            if any(meta.get(k) != v for k, v in filter.items()):
                                continue
                        found.append(self._tuple(thread_id, ns, checkpoint_id, record))
            found.sort(key=lambda t: t.checkpoint["id"], reverse=True)
            return iter(found[:limit] if limit is not None else found)

    # -- writing -------------------------------------------------------------------------------

    def put(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        thread_id, ns = _thread_ns(config)
        conf = config["configurable"]
        values = checkpoint["channel_values"]
        dumps = self.serde.dumps_typed
        compact = self._deltas.encode
        try:
            blobs = {
                (thread_id, ns, chan, version): compact(
                    (thread_id, ns, chan), version, dumps(values[chan]))
                for chan, version in new_versions.items()
                if chan in values
            }
        except Exception:  # say which key holds the value that cannot be stored
            for chan in new_versions:
                if chan in values:
                    dumps_channel(self.serde, chan, values[chan])
            raise
        record: _Record = (
            checkpoint["ts"], dict(checkpoint["channel_versions"]), list(checkpoint["triggers"]),
            checkpoint["updated_channels"], self.serde.dumps_typed(metadata),
            conf.get("checkpoint_id"), list(checkpoint.get("writers", ())),
        )
        with self._lock:
            expected = conf.get(EXPECTED_LATEST)
            if expected is not None:
                latest = self._latest.get((thread_id, ns))
                if (latest or "") != expected:
                    raise CheckpointConflictError(thread_id, expected or None, latest)
            self.blobs.update(blobs)
            self.storage[thread_id].setdefault(ns, {})[checkpoint["id"]] = record
            latest = self._latest.get((thread_id, ns))
            if latest is None or checkpoint["id"] > latest:
                self._latest[(thread_id, ns)] = checkpoint["id"]
        return _config(thread_id, ns, checkpoint["id"])

    def put_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        thread_id, ns = _thread_ns(config)
        conf = config["configurable"]
        checkpoint_id = conf["checkpoint_id"]
        dumps = self.serde.dumps_typed
        try:
            encoded = [
                (*write_slot(chan, idx, value), chan, dumps(value))
                for idx, (chan, value) in enumerate(writes)
            ]
        except Exception:  # say which key holds the value that cannot be stored
            for chan, value in writes:
                dumps_channel(self.serde, chan, value)
            raise
        with self._lock:
            expected = conf.get(EXPECTED_LATEST)
            if expected is not None:
                latest = self._latest.get((thread_id, ns))
                if latest != checkpoint_id:
                    raise CheckpointConflictError(thread_id, checkpoint_id, latest)
            stored = self.writes[(thread_id, ns, checkpoint_id)]
            for idx, mode, chan, value in encoded:
                key = (task_id, idx)
                if key in stored:
                    if mode == "insert":
                        continue
                    if mode == "claim":
                        raise CheckpointConflictError(thread_id, checkpoint_id, checkpoint_id,
                                                      answered=True)
                stored[key] = (task_id, chan, value, task_path)

    def delete_thread(self, thread_id: str) -> None:
        thread_id = str(thread_id)
        with self._lock:
            self.storage.pop(thread_id, None)
            for latest_key in [k for k in self._latest if k[0] == thread_id]:
                del self._latest[latest_key]
            for writes_key in [k for k in self.writes if k[0] == thread_id]:
                del self.writes[writes_key]
            for blob_key in [k for k in self.blobs if k[0] == thread_id]:
                del self.blobs[blob_key]
        self._deltas.forget(lambda key: key[0] == thread_id)  # type: ignore[index]

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last!r}.")
        thread_id = str(thread_id)
        with self._lock:
            for ns, chain in self.storage.get(thread_id, {}).items():
                ids = sorted(chain, reverse=True)
                for old in ids[keep_last:]:
                    del chain[old]
                    self.writes.pop((thread_id, ns, old), None)
                kept = {(chan, v) for rec in chain.values() for chan, v in rec[1].items()}
                for chan, version in list(kept):  # a kept delta needs the versions it extends
                    stored = self.blobs.get((thread_id, ns, chan, version))
                    while stored is not None and (links := delta_links(stored)) is not None:
                        kept.add((chan, links[0]))
                        stored = self.blobs.get((thread_id, ns, chan, links[0]))
                for key in [k for k in self.blobs if k[:2] == (thread_id, ns)]:
                    if (key[2], key[3]) not in kept:
                        del self.blobs[key]

    # -- async: a dict lookup needs no worker thread ---------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(
        self,
        config: RunnableConfig,
        writes: Sequence[tuple[str, Any]],
        task_id: str,
        task_path: str = "",
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        self.prune(thread_id, keep_last=keep_last)


MemorySaver = InMemorySaver
"""LangGraph's older name for InMemorySaver."""
