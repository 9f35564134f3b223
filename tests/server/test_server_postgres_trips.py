"""Round trips of the PostgreSQL store's writes (server/store/_postgres_pipeline.py): a run's
end (`_leases.finish`) sends its thread lock with the run's UPDATE, and still locks the
thread before the run and ends as before."""

from __future__ import annotations

from typing import Any

from hitlgraph.server.store import _leases
from hitlgraph.server.store._postgres_pipeline import THREAD_LOCK, FirstTrip, answers_nothing
from hitlgraph.server.store._postgres_sql import POSTGRES


def _finish() -> Any:
    return _leases.finish(POSTGRES, "r1", 3, status="success", output={"a": 1}, error=None,
                          thread_values={"a": 1}, thread_interrupts={},
                          thread_status="idle", delete_run=False)


def test_finish_locks_the_thread_first_with_the_statement_that_waits() -> None:
    trip = FirstTrip.of(_finish())
    assert trip.statements[0][0] == THREAD_LOCK
    assert answers_nothing(THREAD_LOCK)
    assert trip.statements[1][0].startswith("UPDATE hg_runs SET status")
    assert not answers_nothing(trip.statements[1][0])  # its RETURNING is read


def test_finish_reads_nothing_of_the_thread_lock() -> None:
    # What the op does next is the same whatever the lock's reply was.
    ops = [_finish(), _finish()]
    firsts = [next(op) for op in ops]
    assert firsts[0] == firsts[1] and firsts[0][0] == THREAD_LOCK
    nexts = [ops[0].send([]), ops[1].send([(1,)])]
    assert nexts[0][0] == nexts[1][0]
    assert {k: v for k, v in nexts[0][1].items() if k != "at"} == {
        k: v for k, v in nexts[1][1].items() if k != "at"}  # "at": the clock's reading
