"""Deleting, written once: delete_thread(), prune() and rewind(), each one transaction under
the thread's lock (so no compare-and-set put or delta of the thread interleaves)."""

from __future__ import annotations

from collections.abc import Sequence

from hitlgraph.checkpoint._rows import check_keep_last, make_config, thread_ns
from hitlgraph.checkpoint._store.dialect import Dialect
from hitlgraph.checkpoint._store.encode import encode_writes
from hitlgraph.checkpoint._store.ops import Batch, Ops, Statement
from hitlgraph.checkpoint._store.writes import put_writes
from hitlgraph.checkpoint.base import PendingWrite, RunnableConfig, writes_by_task
from hitlgraph.checkpoint.serde import SerializerProtocol

__all__ = ["delete_thread", "prune", "rewind"]


def delete_thread(dialect: Dialect, thread_id: str) -> Ops[None]:
    """Delete every checkpoint, value and write of a thread."""
    thread_id = str(thread_id)
    yield from dialect.lock_thread(thread_id)
    yield Batch(tuple(dialect.delete_thread(thread_id)))


def prune(dialect: Dialect, thread_id: str, keep_last: int) -> Ops[None]:
    """Keep the newest `keep_last` checkpoints of each namespace of a thread, their writes, and
    the values they use; delete the rest."""
    check_keep_last(keep_last)
    thread_id = str(thread_id)
    yield from dialect.lock_thread(thread_id)
    yield from dialect.collect(thread_id, keep_last)


def rewind(dialect: Dialect, serde: SerializerProtocol, config: RunnableConfig,
           pending_writes: Sequence[PendingWrite]) -> Ops[None]:
    """See BaseCheckpointSaver.rewind."""
    thread_id, ns = thread_ns(config)
    checkpoint_id = str(config["configurable"]["checkpoint_id"])
    yield from dialect.lock_thread(thread_id)
    if not (yield Statement(dialect.select_exists, (thread_id, ns, checkpoint_id))):
        raise ValueError(f"Thread '{thread_id}' has no checkpoint '{checkpoint_id}' in "
                         f"namespace '{ns}' to rewind to.")
    yield Batch(tuple(dialect.delete_after(thread_id, ns, checkpoint_id)))
    target = make_config(thread_id, ns, checkpoint_id)
    for task_id, writes in writes_by_task(pending_writes):
        yield from put_writes(dialect, encode_writes(serde, target, writes, task_id))
    yield from dialect.collect(thread_id, None)
