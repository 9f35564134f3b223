"""A PostgreSQL outage seen through a loopback TCP proxy (_proxy.py): connection resets,
pg_terminate_backend of the server's connections, and a blackhole (connections held open,
nothing forwarded) of 5 s (30 s under -m reliability_full).

During each outage no request hangs: the server's store bounds every operation
(server/store/postgres.OP_SECONDS) and replaces connections that died while idle. After it,
the paused run resumes and completes with the expected state.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from _proxy import Proxy
from _reliability_graph import review_builder
from _servers import serve
from _tiers import tier

NO_HANG_SECONDS = 25.0
"""Longest answer allowed during an outage: the store's bound (5 s for a connection, 5 s
for the operation) plus psycopg's bound on cancelling a query (about 10 s)."""


def _terminate(proxy: Proxy, conninfo: str) -> None:
    """pg_terminate_backend of the connections through the proxy only (other tests share the
    database)."""
    import psycopg

    with psycopg.connect(conninfo, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                     "WHERE client_addr = '127.0.0.1' AND client_port = ANY(%s)",
                     (proxy.upstream_ports(),))


def _outages(proxy: Proxy, conninfo: str, blackhole: float
             ) -> list[tuple[str, Callable[[], None], float]]:
    """(name, start it, how long it lasts)."""
    def hole() -> None:
        proxy.mode = "blackhole"
    return [("reset", proxy.reset, 0.0), ("terminate", lambda: _terminate(proxy, conninfo), 0.0),
            ("blackhole", hole, blackhole)]


def _timed(http: httpx.Client, method: str, path: str, **kwargs: Any
           ) -> tuple[int | None, float]:
    started = time.monotonic()
    try:
        status: int | None = http.request(method, path, **kwargs).status_code
    except httpx.TransportError:
        status = None  # the server dropped the connection instead of answering
    return status, time.monotonic() - started


def _through_outages(proxy: tuple[Proxy, str], pg_conninfo: str, blackhole: float
                     ) -> list[tuple[str, str, int | None, float]]:
    """Each outage in turn on a thread paused at a question; the answers given meanwhile
    (outage, path, status or None if dropped, seconds). Asserts no hang, and that the run
    completes after each."""
    front, url = proxy
    answers: list[tuple[str, str, int | None, float]] = []
    with serve(db=url, graphs={"review": review_builder}) as base, \
            httpx.Client(base_url=base, timeout=NO_HANG_SECONDS + 10) as http:
        for name, start, lasts in _outages(front, pg_conninfo, blackhole):
            thread = http.post("/threads", json={}).json()["thread_id"]
            paused = http.post(f"/threads/{thread}/runs/wait", json={
                "assistant_id": "review", "input": {"topic": name}})
            assert paused.status_code == 200, paused.text
            start()
            ends = time.monotonic() + lasts
            while True:  # bounded: the outage's length, one request per route at least
                for method, path, body in (("GET", f"/threads/{thread}", None),
                                           ("POST", "/threads", {"thread_id": str(uuid.uuid4())})):
                    status, took = _timed(http, method, path, json=body)
                    answers.append((name, path, status, took))
                    assert took < NO_HANG_SECONDS, (name, path, took)
                if time.monotonic() >= ends:
                    break
            front.mode = "pass"
            done = http.post(f"/threads/{thread}/runs/wait", json={
                "assistant_id": "review", "command": {"resume": True}})
            assert done.status_code == 200, (name, done.text)
            assert done.json() == {"topic": name, "approved": True}
    return answers


@pytest.mark.parametrize("blackhole", tier(5.0, 30.0))
def test_an_outage_hangs_no_request_and_runs_complete_after(
        pg_proxy: tuple[Proxy, str], pg_conninfo: str, blackhole: float) -> None:
    answers = _through_outages(pg_proxy, pg_conninfo, blackhole)
    slowest = max(took for *_, took in answers)
    print(f"\n{len(answers)} requests during outages (blackhole {blackhole:.0f} s), slowest "
          f"{slowest:.1f} s; statuses {sorted({str(a[2]) for a in answers})}")


def test_a_request_failed_by_an_outage_is_503_with_retry_after(
        pg_proxy: tuple[Proxy, str], pg_conninfo: str) -> None:
    answers = _through_outages(pg_proxy, pg_conninfo, 2.0)
    assert {status for *_, status, _ in answers} <= {200, 503}, answers


def test_the_503_answer_says_when_to_retry() -> None:
    from fastapi import FastAPI
    from fastapi.testclient import TestClient

    from hitlgraph.server._errors import database_unavailable, unavailable_errors
    from hitlgraph.server.store import StoreUnavailable

    app = FastAPI()
    for kind in unavailable_errors():
        app.add_exception_handler(kind, database_unavailable)

    @app.get("/down")
    async def down() -> None:
        raise StoreUnavailable("The database did not answer.")

    answer = TestClient(app).get("/down")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "2"
    assert "try again" in answer.json()["detail"]
