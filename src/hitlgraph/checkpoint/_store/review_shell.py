"""The SQL savers' assignment methods (claim, release, reassign), the two calls
hitlgraph.review.apply_expired makes and the review index's async listings, each one call run
by the backend's `_run` (or `_arun`); mixed into `shell.SyncStore` and `shell.AsyncStore`. The
async methods are written once, over `_arun` (a sync saver's runs `_run` in a worker thread)."""

from __future__ import annotations

import builtins
from abc import abstractmethod
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any, TypeVar

from hitlgraph._offload import to_thread
from hitlgraph._policy import Expire
from hitlgraph.checkpoint import _review_actions as actions
from hitlgraph.checkpoint._review_actions import Applied
from hitlgraph.checkpoint._store import review_actions
from hitlgraph.checkpoint._store.calls import Call, StoreSaver
from hitlgraph.review import PendingInterrupt
from hitlgraph.review._decisions import Decision
from hitlgraph.review._events import ReviewEvent
from hitlgraph.review._pending import PendingOrder
from hitlgraph.review._times import as_time

__all__ = ["AsyncReview", "SyncReview"]

_T = TypeVar("_T")


def _only(applied: Applied | None) -> Decision:
    """The decision an assignment logged (it always logs one: its action never returns None,
    so None means the entry changed between the read and the write, which the heads' lock
    rules out; say so rather than return nothing)."""
    if applied is None or not applied.decisions:
        raise RuntimeError("the index entry changed while it was being assigned; try again")
    return applied.decisions[0]


class _Calls(StoreSaver):
    def _act_call(self, thread_id: str, interrupt_id: str, action: actions.Action
                  ) -> Call[Applied | None]:
        return Call(review_actions.act(self.dialect, str(thread_id), str(interrupt_id),
                                       action), write=True)

    def _claim_call(self, thread_id: str, interrupt_id: str, principal: str,
                    reason: str | None) -> Call[Applied | None]:
        return self._act_call(thread_id, interrupt_id, actions.claim(
            actions.principal_of("principal", principal), reason))

    def _release_call(self, thread_id: str, interrupt_id: str, principal: str, force: bool,
                      reason: str | None) -> Call[Applied | None]:
        return self._act_call(thread_id, interrupt_id, actions.release(
            actions.principal_of("principal", principal), bool(force), reason))

    def _reassign_call(self, thread_id: str, interrupt_id: str, principal: str, to: str,
                       reason: str | None) -> Call[Applied | None]:
        return self._act_call(thread_id, interrupt_id, actions.reassign(
            actions.principal_of("principal", principal), actions.principal_of("to", to),
            reason))

    def _expiry_call(self, thread_id: str, interrupt_id: str, deadline: str, rule: Expire
                     ) -> Call[Applied | None]:
        return self._act_call(thread_id, interrupt_id, actions.expiry(deadline, rule))

    def _warnings_call(self, at: str, limit: int) -> Call[list[tuple[str, str, str]]]:
        return Call(review_actions.warnings_due(self.dialect, as_time("now", at) or at, limit),
                    write=False)


class AsyncReview(_Calls):
    """The async methods of the review index, each one call awaited through `_arun` (a sync
    saver's runs `_run` in a worker thread: SyncReview)."""

    @abstractmethod
    async def _arun(self, call: Call[_T]) -> _T:
        """Carry out `call` (setting the saver up first if needed)."""

    async def aclaim(self, thread_id: str, interrupt_id: str, principal: str, *,
                     reason: str | None = None) -> Decision:
        """Hold an open interrupt (see `SyncReview.claim`)."""
        return _only(await self._arun(self._claim_call(thread_id, interrupt_id, principal,
                                                       reason)))

    async def arelease(self, thread_id: str, interrupt_id: str, principal: str, *,
                       force: bool = False, reason: str | None = None) -> Decision:
        """Let go of an interrupt (see `SyncReview.release`)."""
        return _only(await self._arun(self._release_call(thread_id, interrupt_id, principal,
                                                         force, reason)))

    async def areassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                        reason: str | None = None) -> Decision:
        """Give an interrupt to `to` (see `SyncReview.reassign`)."""
        return _only(await self._arun(self._reassign_call(thread_id, interrupt_id, principal,
                                                          to, reason)))

    async def aapply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str,
                            rule: Expire) -> Applied | None:
        """Carry out an expiry (see `SyncReview.apply_expiry`)."""
        return await self._arun(self._expiry_call(thread_id, interrupt_id, deadline, rule))

    async def asend_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                            ) -> Applied | None:
        """Append a warning event once (see `SyncReview.send_warning`)."""
        return await self._arun(self._act_call(thread_id, interrupt_id, actions.warn(warn_at)))

    async def awarnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """The warnings due (see `SyncReview.warnings_due`)."""
        return await self._arun(self._warnings_call(at, limit))

    async def alist_pending(self, *, graph_id: str | None = None, thread_id: str | None = None,
                            node: str | None = None, metadata: dict[str, Any] | None = None,
                            limit: int = 50, after: str | None = None,
                            assignee: str | None = None, group: str | None = None,
                            unassigned: bool = False,
                            expired_before: str | datetime | None = None,
                            order: PendingOrder = "created") -> AsyncIterator[PendingInterrupt]:
        """Open interrupts (see `SyncStore.list_pending`)."""
        call = self._pending_call(
            graph_id=graph_id, thread_id=thread_id, node=node, metadata=metadata, limit=limit,
            after=after, assignee=assignee, group=group, unassigned=unassigned,
            expired_before=expired_before, order=order)
        for item in await self._arun(call):
            yield item

    async def alist_decisions(self, *, thread_id: str | None = None, by: str | None = None,
                              since: str | datetime | None = None, limit: int = 50,
                              thread_prefix: str | None = None) -> AsyncIterator[Decision]:
        """The decision log, newest first (see `SyncStore.list_decisions`)."""
        call = self._decisions_call(thread_id, by, since, limit, thread_prefix)
        for item in await self._arun(call):
            yield item

    async def alist_review_events(self, after: int = 0, limit: int = 100
                                  ) -> builtins.list[ReviewEvent]:
        """The review event outbox (see `SyncStore.list_review_events`)."""
        return await self._arun(self._events_call(after, limit))

    async def aprune_review_events(self, before_seq: int) -> int:
        """Delete the outbox's older events (see `SyncStore.prune_review_events`)."""
        return await self._arun(self._prune_events_call(before_seq))


class SyncReview(AsyncReview):
    """claim / release / reassign for sync savers (see hitlgraph.review.Assignable); their
    async methods run the calls in a worker thread."""

    @abstractmethod
    def _run(self, call: Call[_T]) -> _T:
        """Carry out `call`."""

    async def _arun(self, call: Call[_T]) -> _T:
        """`_run` in a worker thread (as the base class runs a sync saver's other async
        methods)."""
        return await to_thread(self._run, call)

    def claim(self, thread_id: str, interrupt_id: str, principal: str, *,
              reason: str | None = None) -> Decision:
        """Hold an open interrupt as `principal` (compare-and-set on its index entry, logged
        "claimed").

        Raises:
            InterruptHeldError: someone else holds it (naming them).
            InterruptNotOpenError: the thread has no open interrupt of that id.
            ValueError: `principal` is not a non-empty string.
        """
        return _only(self._run(self._claim_call(thread_id, interrupt_id, principal, reason)))

    def release(self, thread_id: str, interrupt_id: str, principal: str, *,
                force: bool = False, reason: str | None = None) -> Decision:
        """Let go of an interrupt `principal` holds (anyone's with `force`), logged
        "released".

        Raises:
            InterruptHeldError: `principal` does not hold it (and not `force`), or no one does.
            InterruptNotOpenError: the thread has no open interrupt of that id.
        """
        return _only(self._run(self._release_call(thread_id, interrupt_id, principal, force,
                                                  reason)))

    def reassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                 reason: str | None = None) -> Decision:
        """Give an open interrupt to `to` (anyone may), logged "reassigned" by `principal`.

        Raises:
            InterruptNotOpenError: the thread has no open interrupt of that id.
            ValueError: `principal` or `to` is not a non-empty string.
        """
        return _only(self._run(self._reassign_call(thread_id, interrupt_id, principal, to,
                                                   reason)))

    def apply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str, rule: Expire
                     ) -> Applied | None:
        """Carry out `Expire.cancel()` or `Expire.escalate(...)` on an open interrupt whose
        deadline is still `deadline` (hitlgraph.review.apply_expired's way to store it);
        None: another caller did it first.

        Raises:
            InterruptNotOpenError: the thread has no open interrupt of that id.
        """
        return self._run(self._expiry_call(thread_id, interrupt_id, deadline, rule))

    def send_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                     ) -> Applied | None:
        """Append an open interrupt's "interrupt.warning" event unless it was sent; None: it
        was."""
        return self._run(self._act_call(thread_id, interrupt_id, actions.warn(warn_at)))

    def warnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """(thread_id, interrupt_id, warn_at) of the open interrupts whose warning is due at
        `at` and not sent, earliest first."""
        return self._run(self._warnings_call(at, limit))
