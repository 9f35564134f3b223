"""The checkpoint saver interface, with LangGraph's method names.

A saver stores, per thread and namespace, a chain of checkpoints (each naming its parent) and,
per checkpoint, the pending writes of the tasks of the step that follows it. The engine calls
`put` after each superstep and `put_writes` as each task finishes.

Checkpoint dicts carry every channel's value in `channel_values` when read. When written,
`new_versions` names the channels whose value changed since the parent checkpoint: a saver need
only store those (by channel and version) and can rebuild the rest from earlier versions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, NamedTuple, Protocol, TypedDict, runtime_checkable

from hitlgraph._offload import to_thread
from hitlgraph.checkpoint._decisions import DECISION_NOTE, DecisionNote, note_of
from hitlgraph.checkpoint.serde import MsgpackSerializer, SerializerProtocol
from hitlgraph.constants import RESUME

__all__ = [
    "DECISION_NOTE",
    "DecisionNote",
    "note_of",
    "NO_RULES",
    "WRITE_RULES",
    "Fence",
    "WriteRules",
    "rules_of",
    "WRITES_IDX",
    "WriteMode",
    "write_slot",
    "WriteSlot",
    "BaseCheckpointSaver",
    "ChannelVersions",
    "Checkpoint",
    "CheckpointMetadata",
    "CheckpointTuple",
    "PendingWrite",
    "PendingWritesCall",
    "SaverTraits",
    "ThreadInfo",
    "ThreadListing",
    "ThreadQuery",
    "thread_query",
    "traits_of",
    "RunnableConfig",
    "empty_checkpoint",
    "writes_by_task",
    "get_checkpoint_id",
]

RunnableConfig = dict[str, Any]
ChannelVersions = dict[str, Any]
"""Channel -> version. hitlgraph's engine uses the id of the checkpoint that last wrote the
channel (a string, unique per thread even across forks); any hashable, comparable value works."""
PendingWrite = tuple[str, str, Any]
"""(task_id, channel, value)."""

WRITE_RULES = "__hitlgraph_write_rules"
"""The key of config["configurable"] under which a put(), put_writes() or put_step() call
carries its WriteRules (set it with `WriteRules.on(config)`, read it with `rules_of(config)`)."""


class Fence(NamedTuple):
    """A token from `advance_fence(key)`: writes carrying it are stored only while `token` is
    still the key's latest."""

    key: str
    token: int


class WriteRules(NamedTuple):
    """What a saver checks, in the transaction that stores a write, before storing it.

    - `expected_latest`: the id the writer believes is the thread's latest checkpoint in its
      namespace ("" for none). A saver that supports compare-and-set raises
      CheckpointConflictError when the latest is another one.
    - `fence`: the writer's fencing token. The saver stores the write only while the token is
      still its key's latest, and raises FencedWriteError otherwise. A worker holding a lease on
      a run gives the run the token it got when it took the lease: once another worker takes
      the lease over (advancing the fence), the first one's writes are refused.

    Given in a run's config (`WriteRules(fence=...).on(config)`), the fence guards every
    checkpoint and write of that run. (A NamedTuple: the engine makes one per checkpoint.)
    """

    expected_latest: str | None = None
    fence: Fence | None = None

    def on(self, config: RunnableConfig) -> RunnableConfig:
        """A copy of `config` carrying these rules."""
        return {**config, "configurable": {**config.get("configurable", {}), WRITE_RULES: self}}


NO_RULES = WriteRules()

# A put_writes() call whose config carries a DecisionNote (`DecisionNote(...).on(config)`,
# read with `note_of(config)`) is a decision: a saver with a decision log
# (hitlgraph.review.DecisionLog) appends its rows in the transaction that stores the write.


def rules_of(config: RunnableConfig) -> WriteRules:
    """The WriteRules a saver call's config carries (NO_RULES when none)."""
    rules = config.get("configurable", {}).get(WRITE_RULES, NO_RULES)
    if not isinstance(rules, WriteRules):
        raise TypeError(
            f"config['configurable'][{WRITE_RULES!r}] must be a WriteRules "
            f"(WriteRules(...).on(config)), got {type(rules).__name__}: {rules!r}."
        )
    return rules


def checks_of(conf: dict[str, Any], config: RunnableConfig
              ) -> tuple[WriteRules, DecisionNote | None]:
    """rules_of(config) and note_of(config) in one call, from the config's "configurable"
    `conf` (put_writes: every task's writes pay for these lookups)."""
    rules = conf.get(WRITE_RULES, NO_RULES)
    note = conf.get(DECISION_NOTE)
    return (rules if type(rules) is WriteRules else rules_of(config),
            note if note is None or isinstance(note, DecisionNote) else None)


WRITES_IDX = {"__error__": -1, "__interrupt__": -3}
"""Fixed write indexes of the special channels whose later write replaces the earlier one."""

_RESUME_BASE = -100

WriteMode = Literal["insert", "replace", "claim"]
"""How put_writes stores one write:

- "insert": kept only if the task has no write at that index yet (a task's normal writes).
- "replace": replaces the task's earlier write at that index (errors and interrupts).
- "claim": an answer to interrupt(), stored once; a second write of the same answer slot, or one
  to a checkpoint that is no longer the thread's latest when the call's WriteRules name an
  expected latest, raises CheckpointConflictError (two resumes raced; one already answered).
"""


class WriteSlot(NamedTuple):
    """Where and how a saver stores one write of a task (see WriteMode)."""

    position: int
    mode: WriteMode


def write_slot(channel: str, idx: int, value: Any) -> WriteSlot:
    """The slot of write number `idx` of a task. A task's normal writes keep their position;
    an error or interrupt has a fixed slot that its next one replaces; each answer to
    interrupt() (a resume log one entry longer than the last) claims a slot of its own below
    _RESUME_BASE, so two racing answers collide on the same slot."""
    if channel == RESUME:
        return WriteSlot(_RESUME_BASE - len(value), "claim")
    special = WRITES_IDX.get(channel)
    if special is not None:
        return WriteSlot(special, "replace")
    return WriteSlot(idx, "insert")


PendingWritesCall = tuple["RunnableConfig", "Sequence[tuple[str, Any]]", str, str]
"""The arguments of one put_writes() call: config, writes, task id, task path."""


class CheckpointMetadata(TypedDict, total=False):
    """What is recorded beside each checkpoint.

    Attributes:
        source: "input" (made from run input), "loop" (after a superstep), "update"
            (update_state), "fork" (a copy of an earlier checkpoint, to replay from it).
        step: -1 for the first input checkpoint, then 0, 1, ... one per superstep.
        parents: checkpoint ids of enclosing graphs, by namespace.
    """

    source: str
    step: int
    parents: dict[str, str]


class Checkpoint(TypedDict):
    """A snapshot of a graph's channels between two supersteps.

    Attributes:
        v: format version.
        id: time-ordered unique id; later checkpoints sort after earlier ones.
        ts: ISO 8601 time of creation.
        channel_values: every channel's value (state keys, join barriers, pending sends).
        channel_versions: each channel's version; a channel's version changes when it is written.
        triggers: nodes that edges have triggered and that have not run yet.
        updated_channels: channels written in the step that made this checkpoint.
        writers: nodes whose writes made this checkpoint (update_state's as_node default).
    """

    v: int
    id: str
    ts: str
    channel_values: dict[str, Any]
    channel_versions: ChannelVersions
    triggers: list[str]
    updated_channels: list[str] | None
    writers: list[str]


class CheckpointTuple(NamedTuple):
    """A checkpoint as a saver returns it, with its config, metadata, parent and pending writes."""

    config: RunnableConfig
    checkpoint: Checkpoint
    metadata: CheckpointMetadata
    parent_config: RunnableConfig | None = None
    pending_writes: list[PendingWrite] | None = None


def empty_checkpoint(checkpoint_id: str, ts: str) -> Checkpoint:
    """A checkpoint with no channels written."""
    return Checkpoint(
        v=1, id=checkpoint_id, ts=ts, channel_values={}, channel_versions={}, triggers=[],
        updated_channels=None, writers=[],
    )


def get_checkpoint_id(config: RunnableConfig) -> str | None:
    """The checkpoint id a config points at, or None for "the latest"."""
    return config.get("configurable", {}).get("checkpoint_id")  # type: ignore[no-any-return]


class BaseCheckpointSaver:
    """Base class of savers. Subclasses implement the sync methods, the async ones, or both.

    A sync saver gets async methods that run the sync ones in a worker thread, so it works
    under `ainvoke` without blocking the event loop.
    """

    serde: SerializerProtocol
    in_process: ClassVar[bool] = False
    """Whether the saver keeps everything in this process's memory (a write costs no I/O)."""

    def __init__(self, *, serde: SerializerProtocol | None = None) -> None:
        self.serde = serde or MsgpackSerializer()

    # -- reading -------------------------------------------------------------------------------

    def get(self, config: RunnableConfig) -> Checkpoint | None:
        """The checkpoint `config` points at (the thread's latest without checkpoint_id)."""
        found = self.get_tuple(config)
        return found.checkpoint if found else None

    def get_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        """The checkpoint tuple `config` points at, or None."""
        raise NotImplementedError(f"{type(self).__name__} does not implement get_tuple()")

    def list(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
             before: RunnableConfig | None = None, limit: int | None = None
             ) -> Iterator[CheckpointTuple]:
        """Checkpoints of a thread (all threads with config None), newest first.

        Args:
            filter: keep only checkpoints whose metadata has these key/value pairs.
            before: keep only checkpoints older than this one.
            limit: at most this many.
        """
        raise NotImplementedError(f"{type(self).__name__} does not implement list()")

    # -- writing -------------------------------------------------------------------------------

    def put(self, config: RunnableConfig, checkpoint: Checkpoint, metadata: CheckpointMetadata,
            new_versions: ChannelVersions) -> RunnableConfig:
        """Store `checkpoint` as the child of config's checkpoint_id; return its config."""
        raise NotImplementedError(f"{type(self).__name__} does not implement put()")

    def put_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str,
                   task_path: str = "") -> None:
        """Store the writes of one task of the step after config's checkpoint."""
        raise NotImplementedError(f"{type(self).__name__} does not implement put_writes()")

    def delete_thread(self, thread_id: str) -> None:
        """Delete every checkpoint and write of a thread."""
        raise NotImplementedError(f"{type(self).__name__} does not implement delete_thread()")

    def prune(self, thread_id: str, *, keep_last: int = 1) -> None:
        """Keep only the newest `keep_last` checkpoints of each namespace of a thread."""
        raise NotImplementedError(f"{type(self).__name__} does not implement prune()")

    def rewind(self, config: RunnableConfig, pending_writes: Sequence[PendingWrite]) -> None:
        """Make the checkpoint `config` names its thread's latest again, as it was: delete every
        checkpoint of the thread made after it (in every namespace, with their writes and the
        values only they use), and give it `pending_writes` (as get_tuple() returned them
        before) instead of the ones it has now. Undoes a run that started from that checkpoint
        (the server's "rollback"). Raises ValueError when the checkpoint does not exist."""
        raise NotImplementedError(f"{type(self).__name__} does not implement rewind()")

    def advance_fence(self, key: str) -> int:
        """A new token for `key` (see WriteRules.fence): writes carrying an older token of it
        are refused from now on."""
        raise NotImplementedError(f"{type(self).__name__} does not implement fences")

    def get_next_version(self, current: int | None, channel: Any = None) -> int:
        """The version after `current` (None: the first version)."""
        return 1 if current is None else int(current) + 1

    # -- async: sync methods in a worker thread unless a subclass overrides ----------------------

    async def aget(self, config: RunnableConfig) -> Checkpoint | None:
        found = await self.aget_tuple(config)
        return found.checkpoint if found else None

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return await to_thread(self.get_tuple, config)

    async def alist(self, config: RunnableConfig | None, *, filter: dict[str, Any] | None = None,
                    before: RunnableConfig | None = None, limit: int | None = None
                    ) -> AsyncIterator[CheckpointTuple]:
        items = await to_thread(
            lambda: list(self.list(config, filter=filter, before=before, limit=limit))
        )
        for item in items:
            yield item

    async def aput(self, config: RunnableConfig, checkpoint: Checkpoint,
                   metadata: CheckpointMetadata, new_versions: ChannelVersions) -> RunnableConfig:
        return await to_thread(self.put, config, checkpoint, metadata, new_versions)

    async def aput_writes(self, config: RunnableConfig, writes: Sequence[tuple[str, Any]],
                          task_id: str, task_path: str = "") -> None:
        await to_thread(self.put_writes, config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        await to_thread(self.delete_thread, thread_id)

    async def aprune(self, thread_id: str, *, keep_last: int = 1) -> None:
        await to_thread(self.prune, thread_id, keep_last=keep_last)

    async def arewind(self, config: RunnableConfig,
                      pending_writes: Sequence[PendingWrite]) -> None:
        await to_thread(self.rewind, config, pending_writes)

    async def aadvance_fence(self, key: str) -> int:
        return await to_thread(self.advance_fence, key)


def writes_by_task(pending: Sequence[PendingWrite]) -> list[tuple[str, list[tuple[str, Any]]]]:
    """Pending writes as one (task_id, [(channel, value), ...]) put_writes() call per task, in
    the order of each task's first write."""
    calls: dict[str, list[tuple[str, Any]]] = {}
    for task_id, channel, value in pending:
        calls.setdefault(task_id, []).append((channel, value))
    return list(calls.items())


class SaverTraits(NamedTuple):
    """What a saver can do beyond LangGraph's saver interface, found once per saver class; the
    engine's drivers and the server read this instead of probing the saver themselves. (A
    NamedTuple, not a frozen dataclass: a fifth of the cost at import, which every program
    that opens a saver pays.)"""

    step_writes: bool
    """put_step(writes, config, checkpoint, metadata, new_versions): a finished step's writes
    and its checkpoint in one transaction (otherwise put_writes() per task, then put())."""
    async_step_writes: bool
    """aput_step(...), the same without blocking the event loop."""
    batches: bool
    """batch(): a context manager that makes the writes inside it one transaction."""
    in_process: bool
    """Everything stays in this process's memory: writing in the background gains nothing."""
    fences: bool
    """advance_fence(key) / aadvance_fence(key) work (WriteRules.fence can guard writes)."""
    fence_reads: bool = False
    """aadvance_fence_and_get_tuple(key, config): the fence advanced, then the tuple read, in
    one transaction (otherwise the two calls)."""


_traits: dict[type, SaverTraits] = {}


def traits_of(saver: BaseCheckpointSaver) -> SaverTraits:
    """The traits of `saver`'s class (computed on first use, then cached)."""
    kind = type(saver)
    found = _traits.get(kind)
    if found is None:
        found = _traits[kind] = SaverTraits(
            step_writes=callable(getattr(kind, "put_step", None)),
            async_step_writes=callable(getattr(kind, "aput_step", None)),
            batches=callable(getattr(kind, "batch", None)),
            in_process=bool(getattr(kind, "in_process", False)),
            fences=getattr(kind, "advance_fence", None) is not BaseCheckpointSaver.advance_fence,
            fence_reads=callable(getattr(kind, "aadvance_fence_and_get_tuple", None)),
        )
    return found


@dataclass(frozen=True, slots=True, kw_only=True)
class ThreadInfo:
    """One thread as a saver's `list_threads()` finds it: from the key columns of its latest
    top-level checkpoint, without decoding any checkpoint."""

    thread_id: str
    checkpoint_id: str
    """The thread's latest checkpoint in the top-level namespace ("")."""
    created_at: str
    """That checkpoint's time (its `ts`, ISO 8601)."""

    @property
    def cursor(self) -> str:
        """What to pass as `after` for the page that follows this record."""
        return self.thread_id


@runtime_checkable
class ThreadListing(Protocol):
    """A saver that lists its threads a page at a time without reading their checkpoints
    (every saver hitlgraph ships; `hitlgraph threads` uses it)."""

    def list_threads(self, *, prefix: str | None = None, limit: int = 50,
                     after: str | None = None) -> Iterator[ThreadInfo]:
        """Threads with a top-level checkpoint, by id: those whose id starts with `prefix`,
        after the cursor `after`, at most `limit`."""
        ...

    def alist_threads(self, *, prefix: str | None = None, limit: int = 50,
                      after: str | None = None) -> AsyncIterator[ThreadInfo]:
        """list_threads() for asyncio programs."""
        ...


class ThreadQuery(NamedTuple):
    """The checked arguments of a `list_threads()` call (see `thread_query`)."""

    prefix: str
    limit: int
    after: str | None

    def start(self) -> tuple[bool, str]:
        """Where the page starts in id order: (strictly after?, the bound). A cursor before
        the prefix's range starts the page at the prefix itself."""
        if self.after is not None and self.after >= self.prefix:
            return True, self.after
        return False, self.prefix


def thread_query(*, prefix: str | None, limit: int, after: str | None) -> ThreadQuery:
    """`list_threads()`'s arguments checked once, before any lock or connection is taken.

    Raises:
        TypeError: `prefix` or `after` is not a string, or `limit` not an int.
        ValueError: `limit` is below 1.
    """
    for name, value in (("prefix", prefix), ("after", after)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"list_threads({name}=...) takes a thread id's text or None, got "
                            f"{type(value).__name__}: {value!r}.")
    if isinstance(limit, bool) or not isinstance(limit, int):
        raise TypeError(f"list_threads(limit=...) takes an int (the page size), got "
                        f"{type(limit).__name__}: {limit!r}.")
    if limit < 1:
        raise ValueError(f"list_threads(limit={limit}): the page size must be 1 or more.")
    return ThreadQuery(prefix or "", limit, after)
