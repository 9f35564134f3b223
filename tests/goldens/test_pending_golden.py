"""A database made before the index of open interrupts existed gets it built when first opened
(migration 3, from the latest checkpoints), and the index then follows the threads."""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from _review_graph import build

from hitlgraph.checkpoint.sqlite import SqliteSaver
from hitlgraph.checkpoint.sqlite._schema import MIGRATIONS
from hitlgraph.types import Command

GOLDEN = Path(__file__).parent / "sqlite_schema2_paused.sqlite"
ASKED = {"question": "ok?", "items": 9}


def _copy(tmp_path: Path) -> str:
    path = tmp_path / "paused.sqlite"
    shutil.copy(GOLDEN, path)
    return str(path)


def test_schema2_file_gets_the_index_of_its_open_interrupts(tmp_path: Path) -> None:
    with SqliteSaver.from_conn_string(_copy(tmp_path)) as saver:
        found = {(p.thread_id, p.node): p for p in saver.list_pending(limit=100)}
        assert set(found) == {("served", "ask"), ("from-cli", "ask"), ("plain", "ask"),
                              ("nested", "inner_ask"), ("nested", "ask_b")}
        assert [found[t, "ask"].graph_id for t in ("served", "from-cli", "plain")] == [
            "review", "golden:review", None]
        assert all(found[t, "ask"].value == ASKED for t in ("served", "from-cli", "plain"))
        inner = found["nested", "inner_ask"]
        assert inner.checkpoint_ns.startswith("sub:") and inner.value == "first?"
        assert found["nested", "ask_b"].checkpoint_ns == ""
        assert found["nested", "ask_b"].value == {"second": True}
        for item in found.values():  # asked when their checkpoint was made
            tup = saver.get_tuple({"configurable": {
                "thread_id": item.thread_id, "checkpoint_ns": item.checkpoint_ns,
                "checkpoint_id": item.checkpoint_id}})
            assert tup is not None and item.created_at == tup.checkpoint["ts"]
            assert any(getattr(i, "id", None) == item.interrupt_id
                       for _, channel, value in tup.pending_writes or ()
                       if channel == "__interrupt__" for i in value)


def test_the_index_built_from_schema2_closes_as_threads_resume(tmp_path: Path) -> None:
    path = _copy(tmp_path)
    with SqliteSaver.from_conn_string(path) as saver:
        app = build().compile(checkpointer=saver)
        app.invoke(Command(resume="yes"), {"configurable": {"thread_id": "served"}})
        assert {p.thread_id for p in saver.list_pending(graph_id="review")} == set()
        assert len(list(saver.list_pending())) == 4
    assert sqlite3.connect(path).execute(  # the index's migration (3) and those after it
        "SELECT MAX(v) FROM hitlgraph_checkpoint_migrations").fetchone() == (len(MIGRATIONS) - 1,)
