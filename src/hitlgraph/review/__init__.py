"""Review features of the library: what waits for a person, read without loading threads.

Every saver hitlgraph ships keeps an index of open interrupts beside its checkpoints, written
in the same transaction as the writes that open or close them. `saver.list_pending(...)`
reads one page of it, newest first:

    >>> from hitlgraph.review import PendingIndex
    >>> if isinstance(saver, PendingIndex):  # doctest: +SKIP
    ...     for item in saver.list_pending(graph_id="support", limit=20):
    ...         print(item.thread_id, item.node, item.value)

Which interrupts are open (the rule every saver follows): those the tasks of the LATEST
checkpoint of a thread and namespace wrote (their `__interrupt__` write) and that no answer
claims yet. An interrupt closes when an answer to it is claimed (a resume), when a newer
checkpoint of its namespace is stored (the step finished, update_state wrote over it, or a
fork), when a newer checkpoint of the thread's root namespace is stored (for interrupts of
subgraphs), when its thread is deleted, and when its thread is rewound to before it. An
interrupt a subgraph raised is recorded once, where it was raised (its node and namespace are
the subgraph's), although its parent's task records it too. An answer whose run of the node
failed is withdrawn (the engine logs it as no longer in force) and the interrupt is open again.

Every saver also keeps a decision log: a row per interrupt answered (with `Command(resume=...,
by=..., reason=...)`'s `by` and `reason`), resolved by update_state, or given back by a
cancelled run, written in the transaction of the write that made the decision, and
hash-chained so that a changed or removed row shows:

    >>> for d in saver.list_decisions(thread_id="t1"):  # doctest: +SKIP
    ...     print(d.at, d.by, d.outcome, d.answer)
    >>> saver.verify_decisions()  # None: intact  # doctest: +SKIP

The log outlives its threads: deleting, pruning or rewinding a thread leaves its rows.

Every saver also keeps a review event outbox (`ReviewEvent`: an interrupt created, decided,
expired, or warned about), each event appended in the transaction of the write that caused
it and numbered in commit order, for notifiers that must not lose one across a crash:

    >>> seen = 0
    >>> for event in saver.list_review_events(after=seen, limit=100):  # doctest: +SKIP
    ...     print(event.seq, event.kind, event.thread_id, event.data)
    ...     seen = event.seq
    >>> saver.prune_review_events(before_seq=seen)  # doctest: +SKIP

Who belongs to a review group is the caller's to say (`Groups`), carried in the config of the
run that answers, so that `interrupt(..., approvers="finance")` refuses anyone else's answer;
`claim_in_group()` claims an interrupt asked with `group=` only for a member.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hitlgraph._lazy import lazy_names

if TYPE_CHECKING:
    from hitlgraph._policy import POLICY_BY, Expire, ReviewPolicy
    from hitlgraph.review._approvals import Approval
    from hitlgraph.review._assignment import (
        Assignable,
        AssignmentError,
        InterruptExpiredError,
        InterruptHeldError,
        InterruptNotOpenError,
    )
    from hitlgraph.review._cursor import decode_cursor, encode_cursor
    from hitlgraph.review._decisions import ChainBreak, Decision, DecisionLog, DecisionOutcome
    from hitlgraph.review._events import ReviewEvent, ReviewEventKind, ReviewOutbox
    from hitlgraph.review._expire import PolicyApplied, PolicyResult, aapply_expired, apply_expired
    from hitlgraph.review._feed import ReviewFeed, on_review_event
    from hitlgraph.review._follow import ReviewFollower, afollow_review_events, follow_review_events
    from hitlgraph.review._groups import Groups, NotInGroupError, aclaim_in_group, claim_in_group
    from hitlgraph.review._pending import PendingIndex, PendingInterrupt, PendingOrder

# Imported on first use (PEP 562): the savers import review modules, and a program that only
# opens a saver should not load the followers' threads and asyncio.
_WHERE = {
    "Approval": "hitlgraph.review._approvals",
    "Assignable": "hitlgraph.review._assignment",
    "AssignmentError": "hitlgraph.review._assignment",
    "ChainBreak": "hitlgraph.review._decisions",
    "Decision": "hitlgraph.review._decisions",
    "DecisionLog": "hitlgraph.review._decisions",
    "DecisionOutcome": "hitlgraph.review._decisions",
    "Expire": "hitlgraph._policy",
    "Groups": "hitlgraph.review._groups",
    "InterruptExpiredError": "hitlgraph.review._assignment",
    "InterruptHeldError": "hitlgraph.review._assignment",
    "InterruptNotOpenError": "hitlgraph.review._assignment",
    "NotInGroupError": "hitlgraph.review._groups",
    "POLICY_BY": "hitlgraph._policy",
    "PendingIndex": "hitlgraph.review._pending",
    "PendingInterrupt": "hitlgraph.review._pending",
    "PendingOrder": "hitlgraph.review._pending",
    "PolicyApplied": "hitlgraph.review._expire",
    "PolicyResult": "hitlgraph.review._expire",
    "ReviewEvent": "hitlgraph.review._events",
    "ReviewEventKind": "hitlgraph.review._events",
    "ReviewFeed": "hitlgraph.review._feed",
    "ReviewFollower": "hitlgraph.review._follow",
    "ReviewOutbox": "hitlgraph.review._events",
    "ReviewPolicy": "hitlgraph._policy",
    "aapply_expired": "hitlgraph.review._expire",
    "aclaim_in_group": "hitlgraph.review._groups",
    "afollow_review_events": "hitlgraph.review._follow",
    "apply_expired": "hitlgraph.review._expire",
    "claim_in_group": "hitlgraph.review._groups",
    "decode_cursor": "hitlgraph.review._cursor",
    "encode_cursor": "hitlgraph.review._cursor",
    "follow_review_events": "hitlgraph.review._follow",
    "on_review_event": "hitlgraph.review._feed",
}

__all__ = ["Approval", "Assignable", "AssignmentError", "ChainBreak", "Decision", "DecisionLog",
           "DecisionOutcome", "Expire", "Groups", "InterruptExpiredError", "InterruptHeldError",
           "InterruptNotOpenError", "NotInGroupError", "POLICY_BY", "PendingIndex",
           "PendingInterrupt", "PendingOrder", "PolicyApplied", "PolicyResult", "ReviewEvent",
           "ReviewEventKind", "ReviewFeed", "ReviewFollower", "ReviewOutbox", "ReviewPolicy",
           "aapply_expired", "aclaim_in_group", "afollow_review_events", "apply_expired",
           "claim_in_group", "decode_cursor", "encode_cursor", "follow_review_events",
           "on_review_event"]

__getattr__, __dir__ = lazy_names("hitlgraph.review", _WHERE, globals())
