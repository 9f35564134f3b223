"""Writing checkpoints and pending writes, written once: put(), put_writes(), put_step() and
advance_fence(), each under the write rules (base.WriteRules) checked in its transaction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from hitlgraph.checkpoint._rows import make_config
from hitlgraph.checkpoint._store import events, pending, rules
from hitlgraph.checkpoint._store.dialect import Dialect, PutOutcome
from hitlgraph.checkpoint._store.encode import EncodedPut, EncodedWrites
from hitlgraph.checkpoint._store.ops import Batch, Ops, Statement, collect, gather
from hitlgraph.checkpoint.base import Fence, RunnableConfig

__all__ = ["advance_fence", "check_fence", "fence_and_latest", "guards", "one_transaction",
           "put", "put_step", "put_writes", "store_guarded"]


def check_fence(dialect: Dialect, thread_id: str, fence: Fence | None) -> Ops[None]:
    """Raise FencedWriteError unless `fence`'s token is its key's latest (inside the write
    transaction, which keeps any advance out until it ends)."""
    if fence is None:
        return
    rows = yield Statement(dialect.fence_token, (fence.key,))
    rules.check_fence(thread_id, fence, None if not rows else int(rows[0][0]))


def advance_fence(dialect: Dialect, key: str) -> Ops[int]:
    """A new token for `key` (see checkpoint.base.WriteRules): one statement, a whole
    transaction (run standalone, PostgreSQL sends its BEGIN and COMMIT in its round trip)."""
    replies = yield Batch((Statement(dialect.advance_fence, (str(key),)),), transaction=True)
    return int(replies[0][0][0])


def _stored(put: EncodedPut, outcome: PutOutcome) -> bool:
    """Whether the checkpoint was stored; raises when a write rule refused it. False: a delta's
    base version is missing (the only other reason), so store it again with whole values."""
    latest, _missing, stored, token = outcome
    if not stored:
        rules.check_fence(put.thread_id, put.fence, token)
        rules.check_latest(put.thread_id, put.expected_latest, latest)
    return stored


def put(dialect: Dialect, encoded: EncodedPut, then: Sequence[EncodedWrites] = ()
        ) -> Ops[RunnableConfig]:
    """Store an encoded checkpoint (and, with `then`, writes that follow it in the same
    batch).

    Raises:
        FencedWriteError: its fence token is no longer its key's latest.
        CheckpointConflictError: the config's WriteRules named an expected latest checkpoint
            ("" for none) and the thread's latest in that namespace is another one.
    """
    if not _stored(encoded, (yield from dialect.store_checkpoint(encoded, full=False,
                                                                  then=then))):
        _stored(encoded, (yield from dialect.store_checkpoint(encoded, full=True, then=then)))
    return make_config(encoded.thread_id, encoded.ns, encoded.checkpoint_id)


def put_writes(dialect: Dialect, encoded: EncodedWrites, *, locked: bool = False
               ) -> Ops[None]:
    """Store a task's encoded writes (run it in one write transaction: a refusal stores none).
    Writes that change the index of open interrupts lock the review heads first (see
    _store.events), unless `locked`: the caller did. The locks and the reads the rules
    check go in one batch (guards).

    Raises:
        FencedWriteError: their fence token is no longer its key's latest.
        CheckpointConflictError: WriteRules.expected_latest was given and the writes'
            checkpoint is not the thread's latest in its namespace, or an answer slot ("claim")
            was taken already.
    """
    checks = guards(dialect, encoded)
    if not checks and not encoded.slots:
        return
    lead = events.head_statements(dialect) if encoded.change is not None and not locked else ()
    replies = yield from gather([*lead, *checks])
    yield from store_guarded(dialect, encoded, replies[len(lead):])


def guards(dialect: Dialect, encoded: EncodedWrites) -> list[Statement]:
    """What put_writes() reads and locks before it stores, none needing another's rows: the
    fence's token, the thread's lock and then its latest checkpoint (in a batch they run in
    order, so the read comes after the lock). None for writes with no slot and no expected
    latest, which store nothing and check nothing, and for those whose fence the insert
    checks (_fence_in_store)."""
    if (not encoded.slots and encoded.expected is None) or _fence_in_store(dialect, encoded):
        return []
    if fence_and_latest(dialect, encoded):
        assert encoded.fence is not None and dialect.fence_and_latest_id is not None
        return [Statement(dialect.fence_and_latest_id,
                          (encoded.fence.key, encoded.thread_id, encoded.ns))]
    statements = []
    if encoded.fence is not None:
        statements.append(Statement(dialect.fence_token, (encoded.fence.key,)))
    if encoded.expected is not None:
        statements += collect(dialect.lock_thread(encoded.thread_id))
        statements.append(Statement(dialect.select_latest_id, (encoded.thread_id, encoded.ns)))
    return statements


def _fence_in_store(dialect: Dialect, encoded: EncodedWrites) -> bool:
    """Whether the dialect's store_writes checks the writes' fence, as their only rule (no
    expected latest to check after it), so guards() reads nothing."""
    return (dialect.fence_in_writes and encoded.fence is not None and encoded.expected is None
            and bool(encoded.slots))


def fence_and_latest(dialect: Dialect, encoded: EncodedWrites) -> bool:
    """Whether guards() reads the fence and the latest checkpoint in one statement (its
    first reply row starts with the token and the latest id)."""
    return (dialect.fence_and_latest_id is not None and encoded.fence is not None
            and encoded.expected is not None)


def _guarded(dialect: Dialect, encoded: EncodedWrites, replies: Sequence[Any]
             ) -> tuple[int | None, str | None]:
    """The fence's token and the latest checkpoint id in the replies of guards() (None for
    what it did not read, or found no row of)."""
    if fence_and_latest(dialect, encoded):
        token, latest = replies[0][0][:2]  # (a decision's read has the chain's head after)
        return (None if token is None else int(token)), latest
    token = None
    if encoded.fence is not None and replies and replies[0]:
        token = int(replies[0][0][0])
    latest = None
    if encoded.expected is not None and replies[-1]:
        latest = replies[-1][0][0]
    return token, latest


def store_guarded(dialect: Dialect, encoded: EncodedWrites, replies: Sequence[Any]
                  ) -> Ops[None]:
    """Check the rules on the replies of guards() (in its order), then store the writes and
    update the index of open interrupts."""
    token, latest = _guarded(dialect, encoded, replies)
    if encoded.fence is not None and replies:
        rules.check_fence(encoded.thread_id, encoded.fence, token)
    if encoded.expected is not None:
        rules.check_writes_latest(encoded.thread_id, encoded.checkpoint_id, latest)
    if encoded.slots:
        fence = encoded.fence if _fence_in_store(dialect, encoded) else None
        first = yield from dialect.store_writes(encoded, fence=fence)
        yield from pending.index_writes(dialect, encoded, first=first)


def one_transaction(dialect: Dialect, writes: Sequence[EncodedWrites], encoded: EncodedPut
                    ) -> bool:
    """Whether put_step() is one batch that brings its own transaction (one round trip, BEGIN
    and COMMIT included): the dialect can, and none of the writes claims an answer slot or
    compares the latest itself, and they carry the put's fence, and none changes the index of
    open interrupts."""
    return dialect.steps_in_one_batch and all(
        one.expected is None and one.fence == encoded.fence and one.change is None
        and all(slot.mode != "claim" for slot in one.slots)
        for one in writes
    )


def _fence_left_to_put(dialect: Dialect, writes: Sequence[EncodedWrites],
                       encoded: EncodedPut) -> bool:
    """Whether put_step() stores the writes without their fence and leaves it to the put,
    which reads it with the latest checkpoint in one statement: the dialect reads a fence
    once a transaction, and no write refuses anything itself (no expected latest, no
    "claim"), so the step's first refusal is the put's, as when the writes read the fence
    (a refusal rolls back what the writes stored)."""
    return dialect.fence_read_once and encoded.fence is not None and all(
        one.expected is None and one.fence == encoded.fence
        and all(slot.mode != "claim" for slot in one.slots)
        for one in writes
    )


def put_step(dialect: Dialect, writes: Sequence[EncodedWrites], encoded: EncodedPut
             ) -> Ops[RunnableConfig]:
    """A finished step in one transaction: its tasks' writes (pending writes of the parent
    checkpoint), then the checkpoint it made. As one batch (see one_transaction), the checkpoint
    goes first and the writes follow only if it was stored."""
    if one_transaction(dialect, writes, encoded):
        return (yield from put(dialect, encoded, then=writes))
    if any(one.change is not None for one in writes):
        yield from events.lock_heads(dialect)
    if _fence_left_to_put(dialect, writes, encoded):
        for one in dialect.link_writes(writes, encoded):
            yield from put_writes(dialect, one._replace(fence=None), locked=True)
        return (yield from put(dialect, encoded))
    checked = any(one.fence != encoded.fence for one in writes)
    if checked:
        yield from check_fence(dialect, encoded.thread_id, encoded.fence)
    for one in dialect.link_writes(writes, encoded):
        yield from put_writes(dialect, one, locked=True)
        # (put_writes read the fence's token when it has any guard: see guards())
        checked = checked or (one.fence == encoded.fence
                              and (bool(one.slots) or one.expected is not None))
    if checked and dialect.fence_read_once:
        encoded = encoded._replace(fence=None)  # read above, in this transaction
    return (yield from put(dialect, encoded))
