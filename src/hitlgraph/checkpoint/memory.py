"""InMemorySaver: checkpoints in this process's memory, for tests and short-lived programs.

Values are stored serialized, per channel and version, so a checkpoint costs only what changed
in its step, and later mutation of a value in the caller cannot change history. Checkpoint
records and values are kept as bytes, so many paused threads take little memory.
"""

from __future__ import annotations

import threading
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import ormsgpack

from hitlgraph.checkpoint._decisions import answer_texts, decision_query, resolved_rows
from hitlgraph.checkpoint._delta import DELTA_TAG, DeltaEncoder, resolve
from hitlgraph.checkpoint._memory_chunks import LONG_LIST, dumps_value
from hitlgraph.checkpoint._memory_decisions import MemoryDecisions
from hitlgraph.checkpoint._memory_events import MemoryEvents
from hitlgraph.checkpoint._memory_pending import MemoryIndex
from hitlgraph.checkpoint._memory_review import MemoryReview, Written
from hitlgraph.checkpoint._memory_values import Stored as _Stored
from hitlgraph.checkpoint._memory_values import Typed as _Typed
from hitlgraph.checkpoint._memory_values import Versions as _Versions
from hitlgraph.checkpoint._memory_values import collect
from hitlgraph.checkpoint._memory_values import unpack as _unpack
from hitlgraph.checkpoint._pending import change_of, now, pending_query
from hitlgraph.checkpoint._rows import by_task, check_keep_last, make_config
from hitlgraph.checkpoint._store import rules
from hitlgraph.checkpoint._thread_list import ThreadIds
from hitlgraph.checkpoint.base import (
    NO_RULES,
    WRITE_RULES,
    WRITES_IDX,
    BaseCheckpointSaver,
    ChannelVersions,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    Fence,
    PendingWrite,
    PendingWritesCall,
    RunnableConfig,
    ThreadInfo,
    WriteRules,
    checks_of,
    rules_of,
    thread_query,
    write_slot,
    writes_by_task,
)
from hitlgraph.checkpoint.serde import SerializerProtocol, dumps_channel
from hitlgraph.review import ChainBreak, Decision, PendingInterrupt
from hitlgraph.review._pending import PendingOrder

__all__ = ["WRITES_IDX", "InMemorySaver", "MemorySaver"]

@dataclass(slots=True)
class _Namespace:
    """One namespace of one thread. Everything is held as bytes: a paused thread costs little
    more than its data."""

    checkpoints: dict[str, bytes] = field(default_factory=dict)
    """Checkpoint id -> msgpack of [ts, parent, versions, triggers, updated, writers, metadata
    tag, metadata bytes], in insertion (time) order."""
    blobs: dict[tuple[str, Any], _Stored] = field(default_factory=dict)
    """(channel, version) -> packed value."""
    writes: dict[str, dict[tuple[str, int], bytes]] = field(default_factory=dict)
    """Checkpoint id -> (task id, index) -> msgpack of [task id, channel, tag, data, path]."""
    latest: str | None = None


_SPECIAL = frozenset({"__error__", "__interrupt__", "__resume__"})
"""Channels whose writes put_writes stores one by one (they replace or claim)."""

_EXACT = (
    ormsgpack.OPT_PASSTHROUGH_TUPLE | ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_ENUM | ormsgpack.OPT_PASSTHROUGH_SUBCLASS
)
"""ormsgpack options under which anything that would not read back exactly is refused."""


def _thread_ns(config: RunnableConfig) -> tuple[str, str]:
    conf = config.get("configurable", {})
    return str(conf["thread_id"]), conf.get("checkpoint_ns", "")


class InMemorySaver(MemoryReview, BaseCheckpointSaver):
    """A checkpoint saver that keeps everything in this process's memory; safe for several
    threads.

    Example:
        >>> from hitlgraph.checkpoint.memory import InMemorySaver
        >>> graph = builder.compile(checkpointer=InMemorySaver())  # doctest: +SKIP
    """

    in_process = True

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        super().__init__(serde=serde)
        self._lock = threading.RLock()
        self._threads: dict[str, dict[str, _Namespace]] = {}
        self._thread_ids = ThreadIds()
        self._deltas = DeltaEncoder()
        self._fences: dict[str, int] = {}
        self._index = MemoryIndex()
        self._decisions = MemoryDecisions()
        self._events = MemoryEvents()
        self._backlog = []
        self._waiting = set()

    def advance_fence(self, key: str) -> int:
        """A new token for `key` (see checkpoint.base.WriteRules)."""
        with self._lock:
            token = self._fences[key] = self._fences.get(key, 0) + 1
            return token

    def _check_fence(self, thread_id: str, fence: Fence | None) -> None:
        """Raise FencedWriteError if the call's fence token is no longer its key's latest."""
        if fence is not None:
            rules.check_fence(thread_id, fence, self._fences.get(fence.key))

    def __enter__(self) -> InMemorySaver:
        return self

    def __exit__(self, *exc: object) -> None:
        return None

    @property
    def blobs(self) -> dict[tuple[str, str, str, Any], _Typed]:
        """Every stored channel value, by (thread, namespace, channel, version) (a copy, for
        inspection)."""
        with self._lock:
            return {
                (thread_id, ns, chan, version): _unpack(packed)
                for thread_id, spaces in self._threads.items()
                for ns, space in spaces.items()
                for (chan, version), packed in space.blobs.items()
            }

    # -- reading -------------------------------------------------------------------------------

    def _tuple(self, thread_id: str, ns: str, space: _Namespace, checkpoint_id: str
               ) -> CheckpointTuple:
        fields = ormsgpack.unpackb(space.checkpoints[checkpoint_id])
        ts, parent, versions, triggers, updated, writers = fields[:6]
        loads = self.serde.loads_typed
        blobs = space.blobs
        values = {}
        for chan, version in versions.items():
            packed = blobs.get((chan, version))
            if packed is not None:
                stored = _unpack(packed)
                if stored[0] == DELTA_TAG:
                    stored = self._deltas.full((thread_id, ns, chan), version) or resolve(
                        stored, _Versions(blobs, chan), channel=chan)
                values[chan] = loads(stored)
        checkpoint = Checkpoint(
            v=1, id=checkpoint_id, ts=ts, channel_values=values, channel_versions=versions,
            triggers=triggers, updated_channels=updated, writers=writers,
        )
        pending: list[PendingWrite] = []
        for packed in space.writes.get(checkpoint_id, {}).values():
            task, chan, tag, data, _path = ormsgpack.unpackb(packed)
            if type(chan) is list:  # a finished task's writes, stored together
                pending.extend(
                    (task, c, v) for c, v in zip(chan, loads((tag, data)), strict=True))
            else:
                pending.append((task, chan, loads((tag, data))))
        by_task(pending)
        # (config: make_config inline; metadata: _metadata, inline; tuple.__new__: the
        # NamedTuple's own __new__ is a Python function. One per checkpoint a history lists.)
        return tuple.__new__(CheckpointTuple, (
            {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                              "checkpoint_id": checkpoint_id}},
            checkpoint,
            fields[6] if len(fields) <= 7 else self._metadata(fields),
            make_config(thread_id, ns, parent) if parent else None,
            pending,
        ))

    def _metadata(self, fields: list[Any]) -> Any:
        """The metadata of a checkpoint record's fields (plain, or through the serializer)."""
        meta = fields[6]
        return self.serde.loads_typed(tuple(meta)) if len(fields) > 7 else meta

    def _metadata_at(self, thread_id: str, ns: str, checkpoint_id: str) -> Any:
        space = self._threads.get(thread_id, {}).get(ns)
        packed = space.checkpoints.get(checkpoint_id) if space is not None else None
        return None if packed is None else self._metadata(ormsgpack.unpackb(packed))

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        conf = config.get("configurable", {})  # (_thread_ns inline: every run reads here)
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        checkpoint_id = conf.get("checkpoint_id")
        with self._lock:
            space = self._threads.get(thread_id, {}).get(ns)
            if space is None:
                return None
            if checkpoint_id is None:
                checkpoint_id = space.latest
            if checkpoint_id is None or checkpoint_id not in space.checkpoints:
                return None
            return self._tuple(thread_id, ns, space, checkpoint_id)

    def list(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
             before: RunnableConfig | None = None, limit: int | None = None
             ) -> Iterator[CheckpointTuple]:
        before_id = (before or {}).get("configurable", {}).get("checkpoint_id")
        if limit is not None and limit <= 0:
            return iter(())
        with self._lock:
            if config is None:
                threads = list(self._threads)
                only_ns: str | None = None
                only_id = None
            else:
                conf = config["configurable"]
                threads = ([str(conf["thread_id"])] if "thread_id" in conf
                           else list(self._threads))
                only_ns = conf.get("checkpoint_ns")
                only_id = conf.get("checkpoint_id")
            found: list[CheckpointTuple] = []
            for thread_id in threads:
                for ns, space in self._threads.get(thread_id, {}).items():
                    if only_ns is not None and ns != only_ns:
                        continue
                    for checkpoint_id in sorted(space.checkpoints, reverse=True):
                        if only_id is not None and checkpoint_id != only_id:
                            continue
                        if before_id is not None and checkpoint_id >= before_id:
                            continue
                        found.append(self._tuple(thread_id, ns, space, checkpoint_id))
                        if filter and any(
                            found[-1].metadata.get(k) != v for k, v in filter.items()
                        ):
                            found.pop()
            found.sort(key=lambda t: t.checkpoint["id"], reverse=True)
            return iter(found[:limit] if limit is not None else found)

    def list_threads(self, *, prefix: str | None = None, limit: int = 50,
                     after: str | None = None) -> Iterator[ThreadInfo]:
        """The threads that have a top-level checkpoint, by thread id (see the SQL savers'
        list_threads, checkpoint/_thread_list.py): a page of the sorted thread ids."""
        query = thread_query(prefix=prefix, limit=limit, after=after)
        with self._lock:
            ids = self._thread_ids.page(query, self._top_latest)
            return iter([self._thread_info(thread_id) for thread_id in ids])

    def _top_latest(self, thread_id: str) -> str | None:
        space = self._threads[thread_id].get("")
        return space.latest if space is not None else None

    def _thread_info(self, thread_id: str) -> ThreadInfo:
        latest = str(self._top_latest(thread_id))
        ts = ormsgpack.unpackb(self._threads[thread_id][""].checkpoints[latest])[0]
        return ThreadInfo(thread_id=thread_id, checkpoint_id=latest, created_at=ts)

    async def alist_threads(self, *, prefix: str | None = None, limit: int = 50,
                            after: str | None = None) -> AsyncIterator[ThreadInfo]:
        """list_threads() for asyncio programs (no worker thread: a page of a list)."""
        for item in self.list_threads(prefix=prefix, limit=limit, after=after):
            yield item

    # -- writing -------------------------------------------------------------------------------

    def _space(self, thread_id: str, ns: str) -> _Namespace:
        try:  # (the thread's namespace exists but for a thread's first write)
            return self._threads[thread_id][ns]
        except KeyError:
            pass
        spaces = self._threads.get(thread_id)
        if spaces is None:
            spaces = self._threads[thread_id] = {}
            self._thread_ids.add(thread_id)
        space = spaces.get(ns)
        if space is None:
            space = spaces[ns] = _Namespace()
        return space

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        return self.put_step((), config, checkpoint, metadata, new_versions)

    def _encode_checkpoint(self, thread_id: str, ns: str, config: RunnableConfig,
                           checkpoint: Checkpoint, metadata: CheckpointMetadata,
                           new_versions: ChannelVersions) -> tuple[dict[Any, _Stored], bytes]:
        """The checkpoint's new channel values (delta-encoded blobs) and its record."""
        conf = config["configurable"]
        values = checkpoint["channel_values"]
        dumps = self.serde.dumps_typed
        compact = self._deltas.encode
        try:  # (a loop: cheaper than a dict comprehension's call; long lists: _memory_chunks)
            blobs: dict[Any, _Stored] = {}
            for chan, version in new_versions.items():
                if chan in values:
                    value = values[chan]
                    typed = (dumps(value) if type(value) is not list or len(value) < LONG_LIST
                             else dumps_value(self.serde, value))
                    typed = compact((thread_id, ns, chan), version, typed)
                    # (_pack inline: msgpack bytes are kept as they are)
                    blobs[(chan, version)] = typed[1] if typed[0] == "msgpack" else typed
        except Exception:  # say which key holds the value that cannot be stored
            for chan in new_versions:
                if chan in values:
                    dumps_channel(self.serde, chan, values[chan])
            raise
        fields = [
            checkpoint["ts"], conf.get("checkpoint_id"), checkpoint["channel_versions"],
            checkpoint["triggers"], checkpoint["updated_channels"],
            checkpoint.get("writers", []), metadata,
        ]
        try:  # plain metadata (the engine's) goes in as it is
            record = ormsgpack.packb(fields, option=_EXACT)
        except TypeError:  # anything else through the serializer, exactly
            fields[6] = list(self.serde.dumps_typed(metadata))
            fields.append(True)
            record = ormsgpack.packb(fields)
        return blobs, record

    def _store_checkpoint(self, thread_id: str, ns: str, space: _Namespace, checkpoint_id: str,
                          blobs: dict[Any, _Stored], record: bytes) -> None:
        """Keep an encoded checkpoint (under the lock, its call's rules checked)."""
        space.blobs.update(blobs)
        space.checkpoints[checkpoint_id] = record
        if space.latest is None or checkpoint_id > space.latest:
            space.latest = checkpoint_id
        self._stored(thread_id, ns, checkpoint_id)

    def put_step(
        self,
        writes: Sequence[PendingWritesCall],
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        """put_writes() for each of `writes`, then put(), under one lock (nothing is stored when
        the fence or the compare-and-set refuses the checkpoint). put() is this without writes.
        """
        conf = config.get("configurable", {})  # (_thread_ns inline: every step comes here)
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        blobs, record = self._encode_checkpoint(thread_id, ns, config, checkpoint, metadata,
                                                new_versions)
        checkpoint_id = checkpoint["id"]
        checks = conf.get(WRITE_RULES, NO_RULES)  # (rules_of inline, for the usual value)
        if type(checks) is not WriteRules:
            checks = rules_of(config)
        with self._lock:
            if checks.fence is not None:
                self._check_fence(thread_id, checks.fence)
            space = self._space(thread_id, ns)
            rules.check_latest(thread_id, checks.expected_latest, space.latest)
            seen: dict[str, set[str]] = {}
            for call in writes:
                self._put_task_writes(*call, seen=seen)
            if metadata.get("source") != "update":
                self._store_checkpoint(thread_id, ns, space, checkpoint_id, blobs, record)
                # (make_config inline: every step returns here)
                return {"configurable": {"thread_id": thread_id, "checkpoint_ns": ns,
                                         "checkpoint_id": checkpoint_id}}
            self._settle()
            dropped = self._index.open_older(thread_id, ns, checkpoint_id)
            graphs = self._index.graphs(thread_id, (iid for iid, _, _ in dropped))
            self._store_checkpoint(thread_id, ns, space, checkpoint_id, blobs, record)
            if dropped:  # update_state wrote over open questions: they are resolved
                self._log(resolved_rows(thread_id, now(), dropped), graphs)
        return make_config(thread_id, ns, checkpoint_id)

    def _put_task_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                         task_id: str, task_path: str = "", *,
                         seen: dict[str, set[str]]) -> None:
        """put_writes() for the writes of a finished task that has none of its own stored
        yet (an answer's claim, error or interrupt does not count: those have slots below 0):
        one entry for all of them (read back as separate writes). `seen`: the ids of the tasks
        with such writes stored, per checkpoint, gathered once per put_step (a scan of the
        stored writes per task made a step of n tasks cost n squared)."""
        thread_id, ns = _thread_ns(config)
        checkpoint_id = config["configurable"]["checkpoint_id"]
        space = self._space(thread_id, ns)
        stored = space.writes.get(checkpoint_id)
        tasks = seen.get(checkpoint_id)
        if tasks is None:
            tasks = seen[checkpoint_id] = ({key[0] for key in stored if key[1] >= 0}
                                           if stored else set())
        first = task_id not in tasks
        tasks.add(task_id)
        if not first or any(chan in _SPECIAL for chan, _ in writes):
            self.put_writes(config, writes, task_id, task_path)
            return
        try:
            tag, data = self.serde.dumps_typed([value for _, value in writes])
        except Exception:  # say which key holds the value that cannot be stored
            for chan, value in writes:
                dumps_channel(self.serde, chan, value)
            raise
        packed = ormsgpack.packb([task_id, [chan for chan, _ in writes], tag, data, task_path])
        space.writes.setdefault(checkpoint_id, {})[(task_id, 0)] = packed

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                   task_id: str, task_path: str = "") -> None:
        # (_thread_ns inline, with the same lookups: every task's writes come here)
        conf = config.get("configurable", {})
        thread_id, ns = str(conf["thread_id"]), conf.get("checkpoint_ns", "")
        checkpoint_id = config["configurable"]["checkpoint_id"]
        dumps = self.serde.dumps_typed
        try:
            encoded = [
                (*write_slot(chan, idx, value), ormsgpack.packb(
                    [task_id, chan, *dumps(value), task_path]))
                for idx, (chan, value) in enumerate(writes)
            ]
        except Exception:  # say which key holds the value that cannot be stored
            for chan, value in writes:
                dumps_channel(self.serde, chan, value)
            raise
        change = change_of(self.serde, writes, task_path)
        checks, note = checks_of(conf, config)
        texts = answer_texts(note) if note is not None else ()
        with self._lock:
            if checks.fence is not None:
                self._check_fence(thread_id, checks.fence)
            space = self._space(thread_id, ns)
            if checks.expected_latest is not None:
                rules.check_writes_latest(thread_id, checkpoint_id, space.latest)
            if note is not None:
                self._check_open(thread_id, checkpoint_id, [i for i, _ in note.answers])
            stored = space.writes.setdefault(checkpoint_id, {})
            for idx, mode, _ in encoded:
                if mode == "claim" and (task_id, idx) in stored:
                    # checked before anything is stored: the call is all or nothing
                    raise rules.answered(thread_id, checkpoint_id)
            for idx, mode, packed in encoded:
                key = (task_id, idx)
                if mode == "insert" and key in stored:
                    continue
                stored[key] = packed
            if change is not None or note is not None:
                # (tuple.__new__: a NamedTuple's own __new__ is a Python function)
                self._written(tuple.__new__(Written, (
                    thread_id, ns, checkpoint_id, task_id, task_path, change, note,
                    texts, change.created_at if change is not None else now())))

    def delete_thread(self, thread_id: str) -> None:
        thread_id = str(thread_id)
        with self._lock:
            self._settle()
            self._threads.pop(thread_id, None)
            self._thread_ids.remove(thread_id)
            self._index.drop_thread(thread_id)
        self._deltas.forget_thread(thread_id)

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        check_keep_last(keep_last)
        thread_id = str(thread_id)
        with self._lock:
            self._settle()  # (a waiting fact may read a checkpoint's metadata)
            for space in self._threads.get(thread_id, {}).values():
                for old in sorted(space.checkpoints, reverse=True)[keep_last:]:
                    del space.checkpoints[old]
                    space.writes.pop(old, None)
                collect(space.checkpoints, space.blobs)

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        thread_id, ns = _thread_ns(config)
        checkpoint_id = str(config["configurable"]["checkpoint_id"])
        with self._lock:
            self._settle()
            spaces = self._threads.get(thread_id, {})
            if ns not in spaces or checkpoint_id not in spaces[ns].checkpoints:
                raise ValueError(f"Thread '{thread_id}' has no checkpoint '{checkpoint_id}' "
                                 f"in namespace '{ns}' to rewind to.")
            for space in spaces.values():
                for newer in [c for c in space.checkpoints if c > checkpoint_id]:
                    del space.checkpoints[newer]
                    space.writes.pop(newer, None)
                space.latest = max(space.checkpoints, default=None)
                collect(space.checkpoints, space.blobs)
            spaces[ns].writes.pop(checkpoint_id, None)
            self._index.rewound(thread_id, ns, checkpoint_id)
            self._deltas.forget_thread(thread_id)
            target = make_config(thread_id, ns, checkpoint_id)
            for task_id, writes in writes_by_task(pending_writes):
                self.put_writes(target, writes, task_id)

    # -- the index of open interrupts (hitlgraph.review) -------------------------------------------

    def list_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                     node: str | None = None, metadata: dict[str, Any] | None = None,
                     limit: int = 50, after: str | None = None, assignee: str | None = None,
                     group: str | None = None, unassigned: bool = False,
                     expired_before: str | datetime | None = None,
                     order: PendingOrder = "created") -> Iterator[PendingInterrupt]:
        """Open interrupts from the index (see hitlgraph.review); the arguments are those
        of the SQL savers' list_pending (checkpoint/_store/shell.py)."""
        query = pending_query(graph_id=graph_id, thread_id=thread_id, node=node,
                              metadata=metadata, limit=limit, after=after, assignee=assignee,
                              group=group, unassigned=unassigned,
                              expired_before=expired_before, order=order)
        with self._lock:
            self._settle()
            return iter(self._index.page(self.serde, query, self._metadata_at))

    async def alist_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                            node: str | None = None, metadata: dict[str, Any] | None = None,
                            limit: int = 50, after: str | None = None,
                            assignee: str | None = None, group: str | None = None,
                            unassigned: bool = False,
                            expired_before: str | datetime | None = None,
                            order: PendingOrder = "created") -> AsyncIterator[PendingInterrupt]:
        """list_pending() for asyncio programs (no worker thread: a page of a list)."""
        for item in self.list_pending(
                graph_id=graph_id, thread_id=thread_id, node=node, metadata=metadata,
                limit=limit, after=after, assignee=assignee, group=group,
                unassigned=unassigned, expired_before=expired_before, order=order):
            yield item

    # -- the decision log (hitlgraph.review) ----------------------------------------------------

    def list_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                       since: str | datetime | None = None, limit: int = 50,
                       thread_prefix: str | None = None) -> Iterator[Decision]:
        """Decisions, newest first (see the SQL savers' list_decisions)."""
        query = decision_query(thread_id=thread_id, by=by, since=since, limit=limit,
                               thread_prefix=thread_prefix)
        with self._lock:
            self._settle()
            return iter(self._decisions.page(query))

    async def alist_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                              since: str | datetime | None = None, limit: int = 50,
                              thread_prefix: str | None = None) -> AsyncIterator[Decision]:
        """list_decisions() for asyncio programs."""
        for item in self.list_decisions(thread_id=thread_id, by=by, since=since, limit=limit,
                                        thread_prefix=thread_prefix):
            yield item

    def verify_decisions(self) -> ChainBreak | None:
        """The first decision row that was changed or removed, or None (see
        hitlgraph.review.ChainBreak)."""
        with self._lock:
            self._settle()
            return self._decisions.verify()

    # -- async: a dict lookup needs no worker thread ---------------------------------------------

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None
                    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint,
                   metadata: CheckpointMetadata, new_versions: ChannelVersions) -> RunnableConfig:
        return self.put(config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                          task_id: str, task_path: str = "") -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        self.prune(thread_id, keep_last=keep_last)


MemorySaver = InMemorySaver
"""LangGraph's older name for InMemorySaver."""
