"""Ambiguous commits on PostgreSQL: the connection is cut after COMMIT reaches the server
and before its answer reaches the caller (_proxy.Proxy.cut), so the write is done but
the caller sees a lost connection. A caller that then does what a client does (reads the
thread again and carries on from what it finds) must never apply anything twice.

Each trial runs one thread of the ledger graph (three questions, a fan-out, eight steps:
_child.py) through the proxy with one COMMIT cut, a different one per thread, retrying
after each lost connection. Then every thread must end with the state of a run without
faults (an answer applied twice would show in its `answers`), its history one chain, and
the side-effect ledger must hold each effect once.
"""

from __future__ import annotations

from pathlib import Path

import _child
import psycopg
import pytest
from _checks import verify
from _proxy import COMMIT, Proxy
from _tiers import tier

TRIES = 10
"""Retries of one thread after lost connections (one cut each: 2 are enough)."""
SPAN = 15
"""Cuts land on the 1st to SPAN-th COMMIT of a thread (one thread commits 15 to 22
transactions: every write that is not a single statement)."""


def _run_through_cut(url: str, thread_id: str, proxy: Proxy, nth: int) -> int:
    """Take `thread_id` to its end with the nth COMMIT cut; how many tries it took."""
    proxy.cut(COMMIT, COMMIT, nth)
    for tried in range(1, TRIES + 1):
        try:
            with _child.open_saver(url) as saver:
                _child.finish_thread(_child.builder().compile(checkpointer=saver), thread_id)
            return tried
        except psycopg.OperationalError:
            continue
    raise AssertionError(f"thread {thread_id} did not finish in {TRIES} tries")


@pytest.mark.parametrize("trials", tier(6, 1000))
def test_a_commit_whose_answer_is_lost_is_applied_once(
        trials: int, pg_proxy: tuple[Proxy, str], pg_conninfo: str, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    proxy, url = pg_proxy
    ledger = tmp_path / "ledger.sqlite"
    monkeypatch.setenv("LEDGER", str(ledger))
    retried = sum(_run_through_cut(url, f"t{t}", proxy, 1 + (7 * t) % SPAN) > 1
                  for t in range(trials))
    assert proxy.cuts == retried == trials, (proxy.cuts, retried)
    repeated = verify(pg_conninfo, trials, ledger, tmp_path)
    print(f"\n{trials} commits cut after reaching PostgreSQL, each retried by its caller: "
          f"0 lost, 0 applied twice; {repeated} node runs repeated; history linear")
