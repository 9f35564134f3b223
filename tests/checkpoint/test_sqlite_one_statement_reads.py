"""SQLite runs a read of one statement (a page of open interrupts with no metadata filter)
without a transaction around it: a statement is one snapshot by itself. A read that may take
several statements (a metadata filter only Python decides) keeps its transaction."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite.aio import AsyncSqliteSaver


def _traced(saver: SqliteSaver) -> list[str]:
    seen: list[str] = []
    saver.conn.set_trace_callback(seen.append)
    return seen


def test_a_page_of_open_interrupts_is_one_statement(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
        seen = _traced(saver)
        assert list(saver.list_pending(thread_id="t")) == []
        assert len(seen) == 1 and seen[0].startswith("SELECT")
        seen.clear()
        assert list(saver.list_pending(metadata={"k": "v"})) == []
        assert seen[0] == "BEGIN" and seen[-1] == "COMMIT"


def test_the_async_saver_too(tmp_path: Path) -> None:
    async def main() -> list[Any]:
        async with AsyncSqliteSaver.from_conn_string(str(tmp_path / "s.sqlite")) as saver:
            seen = _traced(saver)
            found = [item async for item in saver.alist_pending(thread_id="t")]
            assert len(seen) == 1 and seen[0].startswith("SELECT")
            return found

    assert asyncio.run(main()) == []
