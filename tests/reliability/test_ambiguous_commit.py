"""Ambiguous commits on PostgreSQL: the connection is cut after COMMIT reaches the server
and before its answer reaches the caller (_proxy.Proxy.cut), so the write is done but
the caller sees a lost connection. A caller that then does what a client does (reads the
thread again and carries on from what it finds) must never apply anything twice.

Client threads share one saver (a pool of connections through the proxy) and take threads
of the ledger graph (three questions, a fan-out, eight steps: _child.py) to their end while
every EVERY-th COMMIT is cut, retrying after each lost connection, until `trials` COMMITs
were cut. Then every thread must end with the state of a run without faults (an answer
applied twice would show in its `answers`), its history one chain, and the side-effect
ledger must hold each effect once.
"""

from __future__ import annotations

import time
from pathlib import Path

import _child
import psycopg
import pytest
from _checks import verify
from _proxy import COMMIT, Proxy
from _rel_clients import Clients
from _tiers import tier

from hitlgraph.graph.state import CompiledStateGraph

TRIES = 20
"""Tries of one thread (each lost connection costs one)."""
EVERY = 7
"""Every EVERY-th COMMIT through the proxy is cut (one thread commits 15 to 22
transactions: every write that is not a single statement)."""


def _finish(graph: CompiledStateGraph, thread_id: str) -> int:
    """Take `thread_id` to its end; how many lost connections it met."""
    for tried in range(TRIES):
        try:
            _child.finish_thread(graph, thread_id)
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
    started = time.monotonic()
    with _child.open_saver(url) as saver:
        graph = _child.builder().compile(checkpointer=saver)
        proxy.cut(COMMIT, COMMIT, EVERY, every=True)
        work = Clients(proxy, trials, trials * EVERY, lambda n: f"t{n}",
                       lambda thread_id: _finish(graph, thread_id))
        work.run(1 if trials < 50 else 4)
    assert proxy.cuts >= trials and work.lost == proxy.cuts, (proxy.cuts, work.lost)
    repeated = verify(pg_conninfo, len(work.thread_ids), ledger, tmp_path)
    print(f"\n{proxy.cuts} commits cut after reaching PostgreSQL ({len(work.thread_ids)} "
          f"threads, {time.monotonic() - started:.0f} s), each retried by its caller: 0 lost, "
          f"0 applied twice; {repeated} node runs repeated; history linear")
