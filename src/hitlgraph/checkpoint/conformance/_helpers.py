"""What the checks share: the Backend under test, and helpers that make checkpoints, configs
and chains of checkpoints (also handy in a saver's own tests), and report what differed."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, cast

from hitlgraph._ids import checkpoint_id
from hitlgraph.checkpoint.base import (
    WRITE_RULES,
    BaseCheckpointSaver,
    Checkpoint,
    CheckpointMetadata,
    CheckpointTuple,
    DecisionNote,
    Fence,
    RunnableConfig,
    WriteRules,
    empty_checkpoint,
)
from hitlgraph.types import Interrupt

EVIL = "x'; DROP TABLE checkpoints; --"
"""Text that would end a quoted SQL string and drop a table if a saver pasted it into SQL."""

BlobKeys = Callable[[BaseCheckpointSaver, str], set[tuple[str, str, str]]]
"""The stored values of a thread, as (checkpoint_ns, channel, str(version)) keys."""


@dataclass(frozen=True)
class Backend:
    """A saver under test.

    Attributes:
        name: shown in reports.
        open: makes a fresh, empty saver, closed when its `with` block ends.
        blob_keys: optional view of the values a saver keeps for a thread, so that the prune
            check can see that values no kept checkpoint references are deleted.
    """

    name: str
    open: Callable[[], AbstractContextManager[BaseCheckpointSaver]]
    blob_keys: BlobKeys | None = None


def _now() -> str:
    return datetime.now(timezone.utc).isoformat()


def make_checkpoint(
    values: dict[str, Any], versions: dict[str, Any], **extra: Any
) -> Checkpoint:
    """A checkpoint with a new id, these channel values and versions, and `extra` fields."""
    checkpoint = empty_checkpoint(checkpoint_id(), _now())
    checkpoint["channel_values"] = dict(values)
    checkpoint["channel_versions"] = dict(versions)
    for key, value in extra.items():
        checkpoint[key] = value  # type: ignore[literal-required]
    return checkpoint


def conf(thread_id: str, ns: str = "", checkpoint: str | None = None, **more: Any
         ) -> RunnableConfig:
    """A config naming a thread, a namespace, optionally a checkpoint, and `more` keys."""
    configurable: dict[str, Any] = {"thread_id": thread_id, "checkpoint_ns": ns, **more}
    if checkpoint is not None:
        configurable["checkpoint_id"] = checkpoint
    return {"configurable": configurable}


def expecting(checkpoint_id: str) -> dict[str, Any]:
    """configurable keys asking for compare-and-set: store only while `checkpoint_id` ("" for
    none) is the thread's latest checkpoint in the namespace."""
    return {WRITE_RULES: WriteRules(expected_latest=checkpoint_id)}


def fenced_by(key: str, token: int) -> dict[str, Any]:
    """configurable keys carrying a fence: store only while `token` is `key`'s latest."""
    return {WRITE_RULES: WriteRules(fence=Fence(key, token))}


def ids(tuples: Iterable[CheckpointTuple]) -> list[str]:
    """The checkpoint ids of listed tuples, in order."""
    return [t.checkpoint["id"] for t in tuples]


def _id(config: RunnableConfig) -> str:
    return str(config["configurable"]["checkpoint_id"])


def chain(
    saver: BaseCheckpointSaver,
    thread_id: str,
    count: int,
    *,
    ns: str = "",
    metadata: list[dict[str, Any]] | None = None,
) -> list[RunnableConfig]:
    """`count` checkpoints on a thread, each the child of the one before: channel "a" is
    written once ("first"), channel "b" at every step (0, 1, ...). Returns their configs."""
    configs: list[RunnableConfig] = []
    parent: str | None = None
    for i in range(count):
        values = {"a": "first", "b": i}
        versions = {"a": 1, "b": i + 1}
        new_versions = {"a": 1, "b": i + 1} if i == 0 else {"b": i + 1}
        meta = metadata[i] if metadata else {"source": "loop", "step": i}
        config = saver.put(conf(thread_id, ns, parent), make_checkpoint(values, versions),
                           meta, new_versions)  # type: ignore[arg-type]
        parent = _id(config)
        configs.append(config)
    return configs


def _grow(saver: BaseCheckpointSaver, thread_id: str, steps: int, *, parent: str | None = None,
          start: list[Any] | None = None, string_versions: bool = False,
          ) -> list[tuple[RunnableConfig, list[Any]]]:
    """A chain whose "messages" channel grows by appending each step, as a chat's does."""
    made: list[tuple[RunnableConfig, list[Any]]] = []
    messages = list(start or [])
    for i in range(steps):
        messages = [*messages, {"role": "user", "content": f"message {i} " + "x" * (i % 7)}]
        checkpoint = make_checkpoint({"messages": messages, "step": i}, {})
        version: Any = checkpoint["id"] if string_versions else len(messages)
        checkpoint["channel_versions"] = {"messages": version, "step": version}
        config = saver.put(conf(thread_id, "", parent), checkpoint, {"step": i},
                           {"messages": version, "step": version})
        parent = _id(config)
        made.append((config, messages))
    return made


async def aanswered(saver: BaseCheckpointSaver, count: int, by: str = "carol") -> None:
    """`count` threads "t0", "t1", ..., each with interrupt "i<n>" asked and answered `n` by
    `by`, through the async methods: the events and decisions the async checks read."""
    for i in range(count):
        at = await saver.aput(conf(f"t{i}"), make_checkpoint({"x": 1}, {"x": 1}),
                              {"source": "loop", "step": 0}, {"x": 1})
        await saver.aput_writes(at, [("__interrupt__", [Interrupt("q", id=f"i{i}")])], "task",
                                "n")
        note = DecisionNote("answered", ((f"i{i}", i),), by=by)
        await saver.aput_writes(note.on(at), [("__resume__", [[f"i{i}", i, True]])], "task",
                                "n")


def _meta(**items: Any) -> CheckpointMetadata:
    """Metadata with keys beyond CheckpointMetadata's (list filters may name any key)."""
    return cast(CheckpointMetadata, items)


def _eq(actual: Any, expected: Any, what: str = "") -> None:
    if actual != expected:
        raise AssertionError(f"{what or 'value'}:\n  got      {actual!r}\n  expected {expected!r}")


def _ok(condition: object, what: str) -> None:
    if not condition:
        raise AssertionError(what)


@contextmanager
def _raises(exc_type: type[BaseException], what: str) -> Iterator[list[BaseException]]:
    caught: list[BaseException] = []
    try:
        yield caught
    except exc_type as exc:
        caught.append(exc)
        return
    raise AssertionError(f"{what}: expected {exc_type.__name__}, nothing was raised")
