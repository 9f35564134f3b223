"""The checkpoint saver contract, as checks any saver can be run against.

InMemorySaver defines the semantics; every saver hitlgraph ships passes these checks, and a
saver of your own should too. Each check takes a fresh, empty saver; `Backend` says how to
make one. With pytest:

    import pytest
    from hitlgraph.checkpoint import conformance

    MINE = conformance.Backend("mine", open=lambda: MySaver.from_conn_string("..."))

    @pytest.mark.parametrize("name", list(conformance.CHECKS))
    def test_my_saver(name: str) -> None:
        conformance.run(MINE, name)

or, without a test runner, ``conformance.run_all(MINE)``. A failed check raises
AssertionError saying what differed.

Sync checks call the sync methods (get_tuple, list, put, ...); async checks (named "async_...")
call the async ones under `asyncio.run`. A saver bound to an event loop running in another
thread (one that exposes it as `saver.loop`, as AsyncPostgresSaver does) gets its async checks
run on that loop instead; `on_loop_thread` makes such a saver from an async context manager.

What is checked: round trips of every Checkpoint field, metadata and pending writes; values
rebuilt from per-channel versions when put() stores only `new_versions`; list() newest first
with filter (Python equality, including True == 1), before, limit, namespaces and all threads,
across more rows than a page; list_threads() (for a saver that is a
checkpoint.base.ThreadListing: threads by id with their latest checkpoint, pages, literal
prefixes); put_writes() replacing special channels (error, interrupt),
claiming answers (resume) once, keeping the first write at other indexes, and honouring
WriteRules.expected_latest; lists that grow by appending (stored as deltas by some savers);
delete_thread(); prune(keep_last);
compare-and-set through WriteRules.expected_latest; SQL-looking ids, keys and values stored as data;
nothing stored when a value cannot be serialized; several threads sharing one saver; the
index of open interrupts (list_pending(), for a saver that is a hitlgraph.review.PendingIndex:
what opens, answers, closes and removes entries, subgraphs, pages and filters, the review
policies entries keep, assignment and deadline filters and orders; claim, release and reassign
for a hitlgraph.review.Assignable: the rules, the log, racing claims); the decision
log (list_decisions() and verify_decisions(), for a saver that is a hitlgraph.review.DecisionLog:
which writes log a decision, the rows, the hash chain, the query); the review event outbox
(list_review_events(), for a saver that is a hitlgraph.review.ReviewOutbox: which writes
append which events, numbering, pages and pruning); and the async methods.
"""

from __future__ import annotations

# "name as name" marks a re-export: every name the suite defines stays importable from
# hitlgraph.checkpoint.conformance, while __all__ keeps what `import *` gave before.
from hitlgraph.checkpoint.conformance._assignment import (
    check_assignment_claims_at_most_once as check_assignment_claims_at_most_once,
)
from hitlgraph.checkpoint.conformance._assignment import (
    check_assignment_rules_and_log as check_assignment_rules_and_log,
)
from hitlgraph.checkpoint.conformance._assignment import (
    check_async_assignment_and_expiry as check_async_assignment_and_expiry,
)
from hitlgraph.checkpoint.conformance._async import (
    check_async_list_many as check_async_list_many,
)
from hitlgraph.checkpoint.conformance._async import (
    check_async_round_trip as check_async_round_trip,
)
from hitlgraph.checkpoint.conformance._decisions import (
    check_async_list_decisions as check_async_list_decisions,
)
from hitlgraph.checkpoint.conformance._decisions import (
    check_decisions_chained_and_kept as check_decisions_chained_and_kept,
)
from hitlgraph.checkpoint.conformance._decisions import (
    check_decisions_logged_with_their_writes as check_decisions_logged_with_their_writes,
)
from hitlgraph.checkpoint.conformance._decisions import (
    check_decisions_query as check_decisions_query,
)
from hitlgraph.checkpoint.conformance._decisions import (
    check_decisions_resolved_by_update as check_decisions_resolved_by_update,
)
from hitlgraph.checkpoint.conformance._events import (
    check_async_review_events as check_async_review_events,
)
from hitlgraph.checkpoint.conformance._events import (
    check_review_events_appended_with_their_writes as check_review_events_appended_with_their_writes,  # noqa: E501
)
from hitlgraph.checkpoint.conformance._events import (
    check_review_events_numbered_and_pruned as check_review_events_numbered_and_pruned,
)
from hitlgraph.checkpoint.conformance._helpers import (
    EVIL as EVIL,
)
from hitlgraph.checkpoint.conformance._helpers import (
    Backend as Backend,
)
from hitlgraph.checkpoint.conformance._helpers import (
    BlobKeys as BlobKeys,
)
from hitlgraph.checkpoint.conformance._helpers import (
    chain as chain,
)
from hitlgraph.checkpoint.conformance._helpers import (
    conf as conf,
)
from hitlgraph.checkpoint.conformance._helpers import (
    expecting as expecting,
)
from hitlgraph.checkpoint.conformance._helpers import (
    fenced_by as fenced_by,
)
from hitlgraph.checkpoint.conformance._helpers import (
    ids as ids,
)
from hitlgraph.checkpoint.conformance._helpers import (
    make_checkpoint as make_checkpoint,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_async_list_pending as check_async_list_pending,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_pending_closed_by_later_checkpoints as check_pending_closed_by_later_checkpoints,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_pending_opened_answered_and_withdrawn as check_pending_opened_answered_and_withdrawn,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_pending_pages_and_filters as check_pending_pages_and_filters,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_pending_removed_with_threads as check_pending_removed_with_threads,
)
from hitlgraph.checkpoint.conformance._pending import (
    check_pending_subgraph_recorded_once as check_pending_subgraph_recorded_once,
)
from hitlgraph.checkpoint.conformance._policy import (
    check_pending_policy_fields as check_pending_policy_fields,
)
from hitlgraph.checkpoint.conformance._policy import (
    check_pending_policy_filters_and_orders as check_pending_policy_filters_and_orders,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_channel_values_rebuilt_from_versions as check_channel_values_rebuilt_from_versions,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_channel_without_value_is_absent as check_channel_without_value_is_absent,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_list_filter_before_limit as check_list_filter_before_limit,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_list_many as check_list_many,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_list_namespaces_and_all_threads as check_list_namespaces_and_all_threads,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_metadata_filter_is_python_equality as check_metadata_filter_is_python_equality,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_rich_values as check_rich_values,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_round_trip as check_round_trip,
)
from hitlgraph.checkpoint.conformance._reads import (
    check_sql_looking_data_is_data as check_sql_looking_data_is_data,
)
from hitlgraph.checkpoint.conformance._removal import (
    check_delete_thread as check_delete_thread,
)
from hitlgraph.checkpoint.conformance._removal import (
    check_prune as check_prune,
)
from hitlgraph.checkpoint.conformance._removal import (
    check_rewind as check_rewind,
)
from hitlgraph.checkpoint.conformance._runner import (
    ASYNC_CHECKS as ASYNC_CHECKS,
)
from hitlgraph.checkpoint.conformance._runner import (
    CHECKS as CHECKS,
)
from hitlgraph.checkpoint.conformance._runner import (
    SYNC_CHECKS as SYNC_CHECKS,
)
from hitlgraph.checkpoint.conformance._runner import (
    AsyncCheck as AsyncCheck,
)
from hitlgraph.checkpoint.conformance._runner import (
    SyncCheck as SyncCheck,
)
from hitlgraph.checkpoint.conformance._runner import (
    on_loop_thread as on_loop_thread,
)
from hitlgraph.checkpoint.conformance._runner import (
    run as run,
)
from hitlgraph.checkpoint.conformance._runner import (
    run_all as run_all,
)
from hitlgraph.checkpoint.conformance._threads import (
    check_async_list_threads as check_async_list_threads,
)
from hitlgraph.checkpoint.conformance._threads import (
    check_list_threads as check_list_threads,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_compare_and_set as check_compare_and_set,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_fences as check_fences,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_growing_lists as check_growing_lists,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_put_writes as check_put_writes,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_put_writes_claims as check_put_writes_claims,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_several_threads_share_one_saver as check_several_threads_share_one_saver,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_step_writes_of_growing_lists as check_step_writes_of_growing_lists,
)
from hitlgraph.checkpoint.conformance._writes import (
    check_unserializable_value_stores_nothing as check_unserializable_value_stores_nothing,
)

__all__ = [
    "ASYNC_CHECKS",
    "CHECKS",
    "EVIL",
    "SYNC_CHECKS",
    "Backend",
    "BlobKeys",
    "chain",
    "conf",
    "ids",
    "make_checkpoint",
    "on_loop_thread",
    "run",
    "run_all",
]
