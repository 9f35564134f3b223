"""The SQL savers' assignment methods (claim, release, reassign) and the two calls
hitlgraph.review.apply_expired makes, each one call run by the backend's `_run` (or `_arun`);
mixed into `shell.SyncStore` and `shell.AsyncStore`."""

from __future__ import annotations

from abc import abstractmethod
from typing import TypeVar

from hitlgraph._offload import to_thread
from hitlgraph._policy import Expire
from hitlgraph.checkpoint import _review_actions as actions
from hitlgraph.checkpoint._review_actions import Applied
from hitlgraph.checkpoint._store import review_actions
from hitlgraph.checkpoint._store.calls import Call, StoreSaver
from hitlgraph.review._decisions import Decision
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


class SyncReview(_Calls):
    """claim / release / reassign for sync savers (see hitlgraph.review.Assignable)."""

    @abstractmethod
    def _run(self, call: Call[_T]) -> _T:
        """Carry out `call`."""

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

    async def aclaim(self, thread_id: str, interrupt_id: str, principal: str, *,
                     reason: str | None = None) -> Decision:
        """claim() in a worker thread."""
        call = self._claim_call(thread_id, interrupt_id, principal, reason)
        return _only(await to_thread(self._run, call))

    async def arelease(self, thread_id: str, interrupt_id: str, principal: str, *,
                       force: bool = False, reason: str | None = None) -> Decision:
        """release() in a worker thread."""
        call = self._release_call(thread_id, interrupt_id, principal, force, reason)
        return _only(await to_thread(self._run, call))

    async def areassign(self, thread_id: str, interrupt_id: str, principal: str, *, to: str,
                        reason: str | None = None) -> Decision:
        """reassign() in a worker thread."""
        call = self._reassign_call(thread_id, interrupt_id, principal, to, reason)
        return _only(await to_thread(self._run, call))

    def apply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str, rule: Expire
                     ) -> Applied | None:
        """Carry out `Expire.cancel()` or `Expire.escalate(...)` on an open interrupt whose
        deadline is still `deadline` (hitlgraph.review.apply_expired's way to store it);
        None: another caller did it first.

        Raises:
            InterruptNotOpenError: the thread has no open interrupt of that id.
        """
        return self._run(self._expiry_call(thread_id, interrupt_id, deadline, rule))

    async def aapply_expiry(self, thread_id: str, interrupt_id: str, *, deadline: str,
                            rule: Expire) -> Applied | None:
        """apply_expiry() in a worker thread."""
        call = self._expiry_call(thread_id, interrupt_id, deadline, rule)
        return await to_thread(self._run, call)

    def send_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                     ) -> Applied | None:
        """Append an open interrupt's "interrupt.warning" event unless it was sent; None: it
        was."""
        return self._run(self._act_call(thread_id, interrupt_id, actions.warn(warn_at)))

    async def asend_warning(self, thread_id: str, interrupt_id: str, *, warn_at: str
                            ) -> Applied | None:
        """send_warning() in a worker thread."""
        call = self._act_call(thread_id, interrupt_id, actions.warn(warn_at))
        return await to_thread(self._run, call)

    def warnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """(thread_id, interrupt_id, warn_at) of the open interrupts whose warning is due at
        `at` and not sent, earliest first."""
        return self._run(self._warnings_call(at, limit))

    async def awarnings_due(self, at: str, limit: int) -> list[tuple[str, str, str]]:
        """warnings_due() in a worker thread."""
        return await to_thread(self._run, self._warnings_call(at, limit))


class AsyncReview(_Calls):
    """The async twins of SyncReview's methods, awaited through `_arun`."""

    @abstractmethod
    async def _arun(self, call: Call[_T]) -> _T:
        """Carry out `call`."""

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
