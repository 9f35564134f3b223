"""`hitlgraph threads` a page at a time: plain threads by id from the savers' list_threads()
(never a walk over every checkpoint), paused threads from the index read lazily until the
page is full; both end a full page with the --after cursor of the next. A partial thread id
is resolved by one prefix lookup, its text taken literally."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from _cli_invoke import Invoke
from _two_questions import two_questions

from hitlgraph.checkpoint.conformance import chain
from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.cli import _threads
from hitlgraph.cli._errors import ExitCode
from hitlgraph.cli._threads import paused_threads

THREADS = [f"t{i:02}" for i in range(12)] + ["x%1", "x_1"]


@pytest.fixture
def no_walk(monkeypatch: pytest.MonkeyPatch) -> None:
    """list(None) (every checkpoint of every thread) fails the test."""
    listed = SqliteSaver.list

    def list_one_thread(self: SqliteSaver, config: Any, **kwargs: Any) -> Iterator[Any]:
        assert config is not None, "walked every checkpoint"
        return listed(self, config, **kwargs)

    monkeypatch.setattr(SqliteSaver, "list", list_one_thread)


@pytest.fixture
def threads_db(workdir: Path, no_walk: None) -> Path:
    path = workdir / "hitlgraph.sqlite"
    with SqliteSaver.from_conn_string(str(path)) as saver:
        for thread in reversed(THREADS):
            chain(saver, thread, 2)
    return path


def test_threads_pages_by_id_with_the_next_cursor(hitlgraph: Invoke, threads_db: Path) -> None:
    seen: list[str] = []
    after: list[str] = []
    for _ in THREADS:
        result = hitlgraph("threads", "--limit", "5", *after, "--json")
        assert result.exit_code == 0, result.stderr
        seen += [row["thread_id"] for row in _json(result.stdout)]
        if "--after" not in result.stderr:
            break
        after = ["--after", result.stderr.split("--after ")[1].split()[0].strip("'")]
    assert seen == sorted(THREADS)
    assert after == ["--after", "t09"]
    text = hitlgraph("threads", "--limit", "2").stdout
    assert "2 thread(s) in hitlgraph.sqlite, by id:" in text and "--after t01" in text
    assert [r["thread_id"] for r in hitlgraph.json("threads")] == sorted(THREADS)


def test_a_partial_thread_id_is_one_literal_prefix_lookup(hitlgraph: Invoke,
                                                         threads_db: Path) -> None:
    assert hitlgraph.json("state", "x%")["thread_id"] == "x%1"  # not x_1: % is no wildcard
    assert hitlgraph.json("state", "t11")["thread_id"] == "t11"
    result = hitlgraph("state", "x")
    assert result.exit_code == ExitCode.USAGE
    assert "Thread 'x' is ambiguous: 2 threads' ids start with it (x%1, x_1)" in result.stderr
    result = hitlgraph("state", "t")
    assert "more than 10 threads' ids start with it (t00, t01," in result.stderr
    assert "t09 and more)" in result.stderr
    assert hitlgraph("state", "y").exit_code == ExitCode.NOT_FOUND


def test_paused_threads_read_the_index_lazily_page_by_page(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_threads, "_INDEX_PAGE", 3)
    with SqliteSaver.from_conn_string(str(tmp_path / "cli.db")) as saver:
        app = two_questions(saver)
        for i in range(5):
            app.invoke({}, {"configurable": {"thread_id": f"p{i}"}})
        reads: list[str | None] = []
        read = saver.list_pending

        def counted(**kwargs: Any) -> Any:
            reads.append(kwargs["after"])
            return read(**kwargs)

        monkeypatch.setattr(saver, "list_pending", counted)
        first = paused_threads(saver, limit=2)
        assert [s.thread_id for s in first.threads] == ["p4", "p3"]
        assert [len(s.interrupts) for s in first.threads] == [2, 2]
        assert len(reads) == 2  # 5 records of 10 were needed: two pages of 3, not four
        pages, after = [first], first.more
        while after is not None:
            pages.append(paused_threads(saver, limit=2, after=after))
            after = pages[-1].more
        assert [s.thread_id for p in pages for s in p.threads] == ["p4", "p3", "p2", "p1", "p0"]
        assert [p.more is None for p in pages] == [False, False, True]


def test_threads_pending_pages_and_refuses_a_foreign_cursor(hitlgraph: Invoke) -> None:
    for thread in ("a", "b", "c"):
        hitlgraph.json("run", "flows:review_graph", "--input", '{"topic": "t"}', "--no-input",
                       "--thread", thread, code=ExitCode.PAUSED)
    result = hitlgraph("threads", "--pending", "--limit", "2", "--json")
    assert [r["thread_id"] for r in _json(result.stdout)] == ["c", "b"]
    cursor = result.stderr.split("--after ")[1].split()[0].strip("'")
    rest = hitlgraph.json("threads", "--pending", "--after", cursor)
    assert [r["thread_id"] for r in rest] == ["a"]
    result = hitlgraph("threads", "--pending", "--after", "t05")
    assert result.exit_code == ExitCode.USAGE
    assert "--after 't05' is not a cursor of this listing" in result.stderr


def _json(text: str) -> Any:
    import json

    return json.loads(text)
